// Support-style quality on the demo tenant, end to end: the real app over HTTP, seeded as `npm start`
// seeds it, a widget visitor asking each question of bench/support-questions.json (hand-written shopper
// questions). Reports retrieval hit@1/hit@3, how often answerable questions get an answer citing the
// right passage, how often unanswerable ones and requests for a person are handed off instead of
// answered, and the time per answer. Offline: the built-in extractive answerer, no provider.
// Run: npx tsx --conditions=parley-source bench/support.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HANDOFF } from '../server/src/ai/answerer.js';
import { seedDemo } from '../server/src/cli/demo.js';
import { startTestApp, call, Visitor } from '@parley/server/testing';

type Expect = { source: string; heading: string }[] | 'unanswerable' | 'person';
const set = JSON.parse(readFileSync(join(import.meta.dirname, 'support-questions.json'), 'utf8')) as { questions: { q: string; expect: Expect }[] };

const t = await startTestApp();
try {
  const demo = await seedDemo(t.runtime, t.url);
  const matches = (expect: Expect, r: { externalId?: string | null; title: string; url?: string | null }) =>
    Array.isArray(expect) &&
    expect.some((e) => (r.externalId === e.source || (r.url ?? '').includes(`/demo/help/${e.source}#`)) && r.title.includes(e.heading));

  let hit1 = 0;
  let hit3 = 0;
  const outcome = {
    rightCitation: 0,
    otherCitation: 0,
    answerableHandedOff: 0,
    unansweredHandedOff: 0,
    invented: 0,
    personHandedOff: 0,
    personAnswered: 0,
  };
  const failures: string[] = [];
  const times: number[] = [];
  const visitor = new Visitor(t.url, demo.publishableKey, t.url);
  if ((await visitor.start()).status !== 200) throw new Error('the demo tenant refused the visitor');

  for (const { q, expect } of set.questions) {
    if (Array.isArray(expect)) {
      const { body } = await call(t.url, 'POST', '/v1/admin/knowledge/search', { key: demo.secretKey, body: { query: q, limit: 3 } });
      const ranks = (body.results as { externalId: string | null; title: string }[]).map((r) => matches(expect, r));
      if (ranks[0]) hit1++;
      if (ranks.some(Boolean)) hit3++;
    }
    // A fresh conversation per question: a handed-off conversation belongs to a person.
    const id = (await visitor.call('POST', '/conversations', {})).body.conversation.id as string;
    const started = performance.now();
    const events = await visitor.say(id, q);
    times.push(performance.now() - started);
    const done = events.find((e) => e.event === 'done')?.data.message as {
      text: string;
      citations: { title: string; url: string | null }[];
      confidence?: number;
    };
    const handedOff = events.some((e) => e.event === 'handoff');
    const label = `${JSON.stringify(q)} (confidence ${done?.confidence ?? '–'})`;
    if (expect === 'person') {
      if (handedOff) outcome.personHandedOff++;
      else outcome.personAnswered++, failures.push(`person request answered: ${label}`);
    } else if (expect === 'unanswerable') {
      if (handedOff) outcome.unansweredHandedOff++;
      else outcome.invented++, failures.push(`unanswerable, answered: ${label} → ${done.text.slice(0, 90)}`);
    } else if (handedOff) {
      outcome.answerableHandedOff++;
      failures.push(`answerable, handed off: ${label}`);
    } else if (done.citations.some((c) => matches(expect, c))) outcome.rightCitation++;
    else outcome.otherCitation++, failures.push(`answered citing another passage: ${label} → ${done.citations.map((c) => c.title).join('; ')}`);
  }

  const n = (k: Expect | 'answerable') => set.questions.filter((x) => (k === 'answerable' ? Array.isArray(x.expect) : x.expect === k)).length;
  const pct = (a: number, b: number) => `${a}/${b} (${((100 * a) / b).toFixed(0)}%)`;
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`Demo tenant, ${set.questions.length} questions; extractive answerer, handoff threshold ${DEFAULT_HANDOFF.threshold}\n`);
  console.log(`retrieval (BM25), answerable questions   hit@1 ${pct(hit1, n('answerable'))}   hit@3 ${pct(hit3, n('answerable'))}`);
  console.log(
    `answerable: answered citing the right passage ${pct(outcome.rightCitation, n('answerable'))}, citing another ${pct(outcome.otherCitation, n('answerable'))}, handed off ${pct(outcome.answerableHandedOff, n('answerable'))}`,
  );
  console.log(
    `unanswerable: handed off ${pct(outcome.unansweredHandedOff, n('unanswerable'))}, answered anyway ${pct(outcome.invented, n('unanswerable'))}`,
  );
  console.log(`requests for a person: handed off ${pct(outcome.personHandedOff, n('person'))}`);
  console.log(
    `time per answer (visitor send → done, streamed over HTTP): mean ${(times.reduce((s, x) => s + x, 0) / times.length).toFixed(1)} ms, p95 ${sorted[Math.floor(0.95 * sorted.length)]!.toFixed(1)} ms`,
  );
  if (failures.length) console.log(`\n${failures.join('\n')}`);
} finally {
  await t.close();
}
