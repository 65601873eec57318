// Support-style quality on the demo tenant, end to end: the real app over HTTP, seeded as `npm start`
// seeds it, a widget visitor asking each question of eight sets side by side — bench/support-questions.json
// (the TUNING split: the decision's coefficients and the retrieval weights were fitted on it),
// bench/support-dev.json (new wordings written later, without reading the held-out split; tuned on too),
// bench/support-dev-2.json (unanswerable questions near the knowledge's topics, and new wordings; tuned on too),
// bench/support-heldout.json (new wordings written before tuning, never tuned on),
// bench/support-heldout-2.json (a second held-out set, written once the first had been reported on for
// many changes, before the changes it judges; never tuned on),
// bench/support-dev-3.json (a new user's questions handed off on a walk through the demo; read and tuned on),
// bench/support-heldout-3.json (short, plain first questions, written with dev 3 before the changes it
// judges; never tuned on), and
// bench/support-context.json (the visitor's case told before the question; two designs were judged on it). Reports, per set, how
// often answerable questions get an answer citing the right passage (beside the ceiling: the right passage
// in retrieval's top 5), "Did you mean" offers, handoffs, unsafe outcomes (a wrong passage, an
// unanswerable question answered, a request for a person answered), the time per answer, and the
// reliability curve of the decision's probability. Offline: the built-in answerer. With a provider key
// in the environment, the same sets again with that provider, in the same table:
//   OPENAI_API_KEY (model: PARLEY_BENCH_OPENAI_MODEL, default gpt-4o-mini)
//   ANTHROPIC_API_KEY (model: PARLEY_BENCH_ANTHROPIC_MODEL, default claude-3-5-haiku-latest)
//   OPENAI_COMPATIBLE_BASE_URL + OPENAI_COMPATIBLE_MODEL (+ OPENAI_COMPATIBLE_API_KEY), e.g. a local Ollama
// Run: npx tsx --conditions=parley-source bench/support.ts
import { DEFAULT_SETTINGS } from '@parley/protocol';
import { DEMO_SYNONYMS, seedDemo } from '../server/src/cli/demo.js';
import { call, startTestApp, Visitor } from '@parley/server/testing';
import { loadSet, runSet, UNSAFE, type Outcome, type Question, type Record_ } from './support-lib.js';

const SETS = [
  { name: 'tuning', file: 'support-questions.json' },
  { name: 'dev', file: 'support-dev.json' },
  { name: 'dev 2', file: 'support-dev-2.json' },
  { name: 'held-out', file: 'support-heldout.json' },
  { name: 'held-out 2', file: 'support-heldout-2.json' },
  { name: 'dev 3', file: 'support-dev-3.json' },
  { name: 'held-out 3', file: 'support-heldout-3.json' },
  { name: 'context', file: 'support-context.json' },
] as const;

const providers = [
  process.env.OPENAI_API_KEY && {
    provider: 'openai',
    apiKey: process.env.OPENAI_API_KEY,
    model: process.env.PARLEY_BENCH_OPENAI_MODEL ?? 'gpt-4o-mini',
  },
  process.env.ANTHROPIC_API_KEY && {
    provider: 'anthropic',
    apiKey: process.env.ANTHROPIC_API_KEY,
    model: process.env.PARLEY_BENCH_ANTHROPIC_MODEL ?? 'claude-3-5-haiku-latest',
  },
  process.env.OPENAI_COMPATIBLE_BASE_URL &&
    process.env.OPENAI_COMPATIBLE_MODEL && {
      provider: 'openai-compatible',
      apiKey: process.env.OPENAI_COMPATIBLE_API_KEY ?? 'none',
      model: process.env.OPENAI_COMPATIBLE_MODEL,
      baseUrl: process.env.OPENAI_COMPATIBLE_BASE_URL,
    },
].filter(Boolean) as { provider: string; apiKey: string; model: string; baseUrl?: string }[];

const pct = (a: number, b: number) => `${a}/${b} (${b ? ((100 * a) / b).toFixed(0) : '–'}%)`;
const count = (rs: Record_[], f: (r: Record_) => boolean) => rs.filter(f).length;
const answerable = (r: Record_) => Array.isArray(r.expect);
const is =
  (...o: Outcome[]) =>
  (r: Record_) =>
    o.includes(r.outcome);

function summary(rs: Record_[]): [string, string][] {
  const a = rs.filter(answerable);
  const u = rs.filter((r) => r.expect === 'unanswerable');
  const p = rs.filter((r) => r.expect === 'person');
  const ms = rs.map((r) => r.ms).sort((x, y) => x - y);
  return [
    ['answerable: right citation', pct(count(a, is('right')), a.length)],
    [
      '  ceiling: right passage in top 5',
      pct(
        count(a, (r) => r.rank > 0),
        a.length,
      ),
    ],
    [
      '  retrieval hit@1',
      pct(
        count(a, (r) => r.rank === 1),
        a.length,
      ),
    ],
    ['  wrong citation (unsafe)', pct(count(a, is('wrong')), a.length)],
    ['  "Did you mean" right / wrong', `${count(a, is('suggested-right'))} / ${count(a, is('suggested-wrong'))}`],
    ['  handed off', pct(count(a, is('handed-off')), a.length)],
    ['unanswerable: handed off', pct(count(u, is('handed-off')), u.length)],
    ['  "Did you mean" offered', pct(count(u, is('suggested-wrong', 'suggested-right')), u.length)],
    ['  answered (unsafe)', pct(count(u, is('answered-unanswerable')), u.length)],
    ['person requests: handed off', pct(count(p, is('handed-off')), p.length)],
    [
      'UNSAFE, all questions',
      pct(
        count(rs, (r) => UNSAFE.includes(r.outcome)),
        rs.length,
      ),
    ],
    [
      'time per answer mean / p95 (ms)',
      `${(ms.reduce((s, x) => s + x, 0) / ms.length).toFixed(0)} / ${ms[Math.floor(0.95 * ms.length)]!.toFixed(0)}`,
    ],
  ];
}

function table(columns: { name: string; rows: [string, string][] }[]) {
  const labels = columns[0]!.rows.map((r) => r[0]);
  const w0 = Math.max(...labels.map((l) => l.length)) + 2;
  const widths = columns.map((c) => Math.max(c.name.length, ...c.rows.map((r) => r[1].length)) + 2);
  console.log(''.padEnd(w0) + columns.map((c, i) => c.name.padEnd(widths[i]!)).join(''));
  labels.forEach((l, j) => console.log(l.padEnd(w0) + columns.map((c, i) => (c.rows[j]?.[1] ?? '').padEnd(widths[i]!)).join('')));
}

/** Predicted probability against how often the candidate passage was right, in bins of 0.2. */
function reliability(name: string, rs: Record_[]) {
  const d = rs.flatMap((r) => (r.decision ? [r.decision] : []));
  const brier = d.reduce((s, x) => s + (x.probability - (x.correct ? 1 : 0)) ** 2, 0) / d.length;
  console.log(`\nreliability of the answer decision, ${name} (${d.length} questions; Brier ${brier.toFixed(3)}):`);
  console.log('  predicted     n   mean predicted   observed right');
  for (let b = 0; b < 5; b++) {
    const inBin = d.filter((x) => Math.min(4, Math.floor(x.probability * 5)) === b);
    const mean = inBin.reduce((s, x) => s + x.probability, 0) / (inBin.length || 1);
    const obs = inBin.filter((x) => x.correct).length / (inBin.length || 1);
    console.log(
      `  ${(b / 5).toFixed(1)}–${((b + 1) / 5).toFixed(1)}   ${String(inBin.length).padStart(3)}   ${inBin.length ? mean.toFixed(2).padStart(14) : '             –'}   ${inBin.length ? obs.toFixed(2).padStart(14) : '             –'}   ${'#'.repeat(Math.round(obs * 20) * (inBin.length ? 1 : 0))}`,
    );
  }
}

// The bench asks ~100 questions in a few seconds: lift the per-minute limits it would otherwise hit.
const t = await startTestApp({
  PARLEY_RATE_LIMIT_PER_MINUTE: '1000000000',
  PARLEY_WIDGET_SESSION_RATE_LIMIT: '1000000000',
  PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000000000',
});
try {
  const demo = await seedDemo(t.runtime, t.url);
  const visitor = new Visitor(t.url, demo.publishableKey, t.url);
  if ((await visitor.start()).status !== 200) throw new Error('the demo tenant refused the visitor');
  const ctx = { url: t.url, secretKey: demo.secretKey, synonyms: DEMO_SYNONYMS, thresholds: DEFAULT_SETTINGS.handoff };
  const sets = SETS.map((s) => ({ ...s, questions: loadSet(s.file) as Question[] }));
  const offline = [];
  for (const s of sets) offline.push({ set: s, recs: await runSet(ctx, visitor, s.questions, { decisions: true }) });
  const withProvider: { name: string; recs: Record_[] }[] = [];
  for (const p of providers) {
    const { provider, ...body } = p;
    const put = await call(t.url, 'PUT', `/v1/admin/providers/${provider}`, { key: demo.secretKey, body });
    if (put.status >= 300) {
      console.log(`${provider}: could not configure (${put.status}); skipped`);
      continue;
    }
    for (const s of sets) withProvider.push({ name: `${s.name}, ${provider}`, recs: await runSet(ctx, visitor, s.questions, { decisions: false }) });
    await call(t.url, 'DELETE', `/v1/admin/providers/${provider}`, { key: demo.secretKey });
  }

  const h = DEFAULT_SETTINGS.handoff;
  console.log(
    `Demo tenant; built-in answerer: answer at p ≥ ${h.threshold}, "Did you mean" at p ≥ ${h.suggestThreshold}, else hand off. Sets: ${sets.map((s) => `${s.name} ${s.questions.length}`).join(', ')}\n`,
  );
  table([
    ...offline.map((o) => ({ name: `${o.set.name}, offline`, rows: summary(o.recs) })),
    ...withProvider.map((w) => ({ name: w.name, rows: summary(w.recs) })),
  ]);
  if (!providers.length)
    console.log('\nno provider key set (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENAI_COMPATIBLE_BASE_URL + _MODEL): provider columns skipped');
  for (const o of offline) reliability(o.set.name, o.recs);
  // The held-out sets' misses stay hidden unless asked for (SHOW_HELDOUT=1): reading them is how a set gets tuned on.
  for (const o of offline.filter((x) => !x.set.name.startsWith('held-out') || process.env.SHOW_HELDOUT)) {
    const bad = o.recs.filter(
      (r) =>
        r.outcome !== 'right' &&
        !(r.expect !== 'person' && !Array.isArray(r.expect) && r.outcome === 'handed-off') &&
        !(r.expect === 'person' && r.outcome === 'handed-off'),
    );
    if (!bad.length) continue;
    console.log(`\n${o.set.name}, offline — not right:`);
    for (const r of bad)
      console.log(
        `  ${r.outcome.padEnd(22)} ${JSON.stringify(r.q)} p=${r.confidence ?? '–'} rank=${r.rank} → ${r.citations.join('; ') || r.text.slice(0, 60)}`,
      );
  }
} finally {
  await t.close();
}
