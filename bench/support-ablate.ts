// Retrieval ablation on the TUNING split of the support bench (hit@1/hit@3 of each part of lexical.ts on and off,
// and the heading and feedback weights it was tuned with). Run: npx tsx --conditions=parley-source bench/support-ablate.ts
import { seedDemo, DEMO_SYNONYMS } from '../server/src/cli/demo.js';
import { startTestApp } from '@parley/server/testing';
import { lexicalSearch, HEADING, FEEDBACK, queryTerms, type LexicalOptions } from '../server/src/knowledge/lexical.js';
import { loadSet, matches } from './support-lib.js';
const t = await startTestApp();
const demo = await seedDemo(t.runtime, t.url);
const qs = loadSet('support-questions.json').filter((x) => Array.isArray(x.expect));
const run = async (label: string, opts: LexicalOptions, h?: [number, number], fbw?: number) => {
  const saved = { ...HEADING };
  const sfb = FEEDBACK.weight;
  if (h) {
    HEADING.coverage = h[0];
    HEADING.intent = h[1];
  }
  if (fbw !== undefined) FEEDBACK.weight = fbw;
  let h1 = 0,
    h3 = 0;
  const bad: string[] = [];
  for (const { q, expect } of qs) {
    const r = await t.runtime.db.withTenant(demo.tenantId, { requestId: null }, (tx) => lexicalSearch(tx, q, 5, opts));
    const rank = r.findIndex((c) => matches(expect, c)) + 1;
    if (rank === 1) h1++;
    else
      bad.push(
        `${q} rank=${rank} top=${r[0]?.title} ${r
          .slice(0, 3)
          .map((c) => c.score)
          .join(',')}`,
      );
    if (rank && rank <= 3) h3++;
  }
  Object.assign(HEADING, saved);
  FEEDBACK.weight = sfb;
  console.log(label.padEnd(40), `hit@1 ${h1}/${qs.length} hit@3 ${h3}/${qs.length}`);
  if (process.env.V) console.log('   ' + bad.join('\n   '));
};
const syn = { synonyms: DEMO_SYNONYMS };
await run('plain', { wordnet: false, feedback: false }, [0, 0]);
await run('+tenant syn', { ...syn, wordnet: false, feedback: false }, [0, 0]);
await run('+wordnet', { ...syn, feedback: false }, [0, 0]);
await run('+feedback', { ...syn }, [0, 0]);
await run('+heading (all)', { ...syn });
await run('all, no feedback', { ...syn, feedback: false });
await run('all, no wordnet', { ...syn, wordnet: false });
for (const hc of [0.3, 0.6, 1.0]) for (const hi of [0, 0.25, 0.5]) await run(`heading ${hc}/${hi}`, syn, [hc, hi]);
for (const f of [0.1, 0.25, 0.5]) await run(`fb ${f}`, syn, undefined, f);
if (process.env.Q) {
  for (const q of process.env.Q.split('|')) {
    console.log(q, JSON.stringify(queryTerms(q, syn)));
    const r = await t.runtime.db.withTenant(demo.tenantId, { requestId: null }, (tx) => lexicalSearch(tx, q, 5, syn));
    for (const c of r) console.log('   ', c.score, c.title);
  }
}
await t.close();
