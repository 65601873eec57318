// Refits the built-in answerer's decision (server/src/ai/decide.ts): logistic regression from the decision
// features to "the answer cites the right passage", on the tuned-on splits only (bench/support-questions.json
// and bench/support-dev.json; the held-out set is never read here). Writes server/src/ai/decision-model.ts.
// The fit is deterministic: with --check it writes nothing and fails where the committed model is not what
// today's features fit (CI runs it, so a change to retrieval or the features cannot leave the model stale).
// Run: npx tsx --conditions=parley-source bench/fit-decision.ts [--check]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '@parley/protocol';
import { DECISION_MODEL, FEATURES, type DecisionFeatures, type DecisionModel } from '../server/src/ai/decide.js';
import { DEMO_SYNONYMS, seedDemo } from '../server/src/cli/demo.js';
import { startTestApp, Visitor } from '@parley/server/testing';
import { loadSet, runSet } from './support-lib.js';

/** L2-regularised logistic regression by Newton's method (a handful of features: exact and fast). */
export function fitLogistic(xs: number[][], ys: number[], l2 = 1): { bias: number; w: number[] } {
  const d = xs[0]!.length + 1;
  let beta = new Array(d).fill(0) as number[];
  const row = (x: number[]) => [1, ...x];
  for (let it = 0; it < 50; it++) {
    const g = new Array(d).fill(0) as number[];
    const h = Array.from({ length: d }, () => new Array(d).fill(0) as number[]);
    xs.forEach((x0, i) => {
      const x = row(x0);
      const p = 1 / (1 + Math.exp(-x.reduce((s, v, j) => s + v * beta[j]!, 0)));
      for (let j = 0; j < d; j++) {
        g[j]! += (p - ys[i]!) * x[j]!;
        for (let k = 0; k < d; k++) h[j]![k]! += p * (1 - p) * x[j]! * x[k]!;
      }
    });
    // The bias is not shrunk.
    for (let j = 1; j < d; j++) {
      g[j]! += l2 * beta[j]!;
      h[j]![j]! += l2;
    }
    const step = solve(h, g);
    beta = beta.map((b, j) => b - step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-9) break;
  }
  return { bias: beta[0]!, w: beta.slice(1) };
}

/** Gaussian elimination with partial pivoting. */
function solve(a0: number[][], b0: number[]): number[] {
  const n = b0.length;
  const a = a0.map((r, i) => [...r, b0[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c || !a[c]![c]) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((r, i) => (r[i] ? r[n]! / r[i]! : 0));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // About 100 questions in a few seconds: lift the per-minute limits they would otherwise hit.
  const t = await startTestApp({
    PARLEY_RATE_LIMIT_PER_MINUTE: '1000000000',
    PARLEY_WIDGET_SESSION_RATE_LIMIT: '1000000000',
    PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000000000',
  });
  try {
    const demo = await seedDemo(t.runtime, t.url);
    const visitor = new Visitor(t.url, demo.publishableKey, t.url);
    if ((await visitor.start()).status !== 200) throw new Error('the demo tenant refused the visitor');
    const recs = await runSet(
      { url: t.url, secretKey: demo.secretKey, synonyms: DEMO_SYNONYMS, thresholds: DEFAULT_SETTINGS.handoff },
      visitor,
      [...loadSet('support-questions.json'), ...loadSet('support-dev.json')],
      { decisions: true },
    );
    const rows = recs.filter((r) => r.decision);
    const xs = rows.map((r) => FEATURES.map((k) => r.decision!.features[k]));
    const ys = rows.map((r) => (r.decision!.correct ? 1 : 0));
    // The regularisation by leave-one-out log loss on the tuned-on splits (about 100 questions: the fit must not memorise them).
    const loo = (l2: number) =>
      xs.reduce((s, _x, i) => {
        const m = fitLogistic(
          xs.filter((_, j) => j !== i),
          ys.filter((_, j) => j !== i),
          l2,
        );
        const pr = 1 / (1 + Math.exp(-(m.bias + xs[i]!.reduce((a, v, k) => a + v * m.w[k]!, 0))));
        return s - Math.log(Math.min(1 - 1e-6, Math.max(1e-6, ys[i] ? pr : 1 - pr)));
      }, 0) / xs.length;
    const grid = [0.03, 0.1, 0.3, 1, 3];
    const losses = grid.map((l2) => ({ l2, loss: loo(l2) }));
    console.log(`leave-one-out log loss by L2: ${losses.map((l) => `${l.l2}: ${l.loss.toFixed(3)}`).join(', ')}`);
    const l2 = process.env.L2 ? Number(process.env.L2) : losses.reduce((a, b) => (b.loss < a.loss ? b : a)).l2;
    const { bias, w } = fitLogistic(xs, ys, l2);
    const model: DecisionModel = {
      bias: Number(bias.toFixed(4)),
      weights: Object.fromEntries(FEATURES.map((k, i) => [k, Number(w[i]!.toFixed(4))])) as Record<keyof DecisionFeatures, number>,
    };
    // What each answer threshold would do on the tuned-on splits: answered right, and answered wrongly (unsafe).
    const p = (x: number[]) => 1 / (1 + Math.exp(-(bias + x.reduce((s, v, i) => s + v * w[i]!, 0))));
    console.log('threshold   answered right   answered wrongly');
    for (const th of [0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]) {
      const answered = xs.map((x, i) => ({ p: p(x), y: ys[i]! })).filter((r) => r.p >= th);
      console.log(
        `${th.toFixed(2).padStart(9)}   ${String(answered.filter((r) => r.y).length).padStart(14)}   ${String(answered.filter((r) => !r.y).length).padStart(16)}`,
      );
    }
    console.log(`fitted with L2 ${l2} on ${rows.length} tuned-on questions (${ys.filter(Boolean).length} with a right candidate passage):`);
    console.log(JSON.stringify(model, null, 1));
    if (process.argv.includes('--check')) {
      if (JSON.stringify(model) === JSON.stringify(DECISION_MODEL)) console.log('the committed decision model is this fit');
      else {
        console.log(
          `the committed decision model is not this fit:\n${JSON.stringify(DECISION_MODEL)}\nrefit: npx tsx --conditions=parley-source bench/fit-decision.ts`,
        );
        process.exitCode = 1;
      }
    } else
      writeFileSync(
        join(import.meta.dirname, '../server/src/ai/decision-model.ts'),
        `// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).\nexport const FITTED = ${JSON.stringify(model)};\n`,
      );
  } finally {
    await t.close();
  }
}
