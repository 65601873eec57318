// PII recognition quality and throughput on presidio-research's generated sentences (read from the
// shared data folder, never copied). Span-level: a predicted span counts when it overlaps a gold span of
// the same class; exact-boundary figures alongside. F2 weighs recall higher, as missed PII costs more.
// Run: npx tsx bench/pii.ts [--errors <class>]   (--errors prints misses and false alarms of one class)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detect, type Match, type PiiClass } from '../server/src/ai/pii/index.js';

interface Sample {
  full_text: string;
  spans: { entity_type: string; entity_value: string; start_position: number; end_position: number }[];
}

const DATA = fileURLToPath(new URL('../../shared/data/pii/presidio-generated-large.json', import.meta.url));
const samples = JSON.parse(readFileSync(DATA, 'utf8')) as Sample[];

const BIRTH = /\b(?:born|birth|dob|birthday)\b/i;
// Their entity types → our classes. null: out of scope (not personal data on its own, or not one of
// ours); predictions overlapping an out-of-scope span are neither right nor wrong.
const MAPPING: Record<string, PiiClass | null | ((text: string) => PiiClass | null)> = {
  PERSON: 'person',
  EMAIL_ADDRESS: 'email',
  PHONE_NUMBER: 'phone',
  ADDRESS: 'address',
  US_SSN: 'government_id',
  US_DRIVER_LICENSE: 'government_id',
  CREDIT_CARD: 'payment_card',
  IBAN_CODE: 'bank_account',
  IP_ADDRESS: 'ip_address',
  DATE_TIME: (text) => (BIRTH.test(text) ? 'date_of_birth' : null),
  LOCATION: null,
  ORGANIZATION: null,
  TITLE: null,
  PREFIX: null,
  DOMAIN_NAME: null,
};
const SCORED: PiiClass[] = ['person', 'email', 'phone', 'address', 'government_id', 'payment_card', 'bank_account', 'ip_address', 'date_of_birth'];

interface Gold {
  class: PiiClass | null;
  start: number;
  end: number;
}
interface Tally {
  gold: number;
  goldHit: number;
  goldExact: number;
  pred: number;
  predHit: number;
  predExact: number;
}
const tally = (): Tally => ({ gold: 0, goldHit: 0, goldExact: 0, pred: 0, predHit: 0, predExact: 0 });
const perClass = new Map<PiiClass, Tally>(SCORED.map((c) => [c, tally()]));
const unscored = new Map<PiiClass, number>();
const errorsFor = process.argv.includes('--errors') ? process.argv[process.argv.indexOf('--errors') + 1] : undefined;

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

const predictions: Match[][] = [];
let bytes = 0;
for (const s of samples) bytes += Buffer.byteLength(s.full_text, 'utf8');
detect('warm up the lazy name lexicon: Anna Smith');
const runs: number[] = [];
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < samples.length; i++) predictions[i] = detect(samples[i]!.full_text);
  runs.push(performance.now() - t0);
}
const seconds = Math.min(...runs) / 1000;

samples.forEach((s, i) => {
  const gold: Gold[] = s.spans.map((g) => {
    const m = MAPPING[g.entity_type];
    if (m === undefined) throw new Error(`unmapped entity type ${g.entity_type}`);
    return { class: typeof m === 'function' ? m(s.full_text) : m, start: g.start_position, end: g.end_position };
  });
  const preds = predictions[i]!;
  for (const g of gold) {
    if (!g.class) continue;
    const t = perClass.get(g.class)!;
    t.gold++;
    const hit = preds.some((p) => p.class === g.class && overlaps(p, g));
    if (hit) t.goldHit++;
    if (preds.some((p) => p.class === g.class && p.start === g.start && p.end === g.end)) t.goldExact++;
    if (!hit && errorsFor === g.class) console.log(`MISS  ${JSON.stringify(s.full_text.slice(g.start, g.end))}  in ${JSON.stringify(s.full_text)}`);
  }
  for (const p of preds) {
    const t = perClass.get(p.class);
    if (!t) {
      unscored.set(p.class, (unscored.get(p.class) ?? 0) + 1);
      continue;
    }
    const same = gold.some((g) => g.class === p.class && overlaps(p, g));
    if (!same && gold.some((g) => g.class === null && overlaps(p, g))) continue;
    t.pred++;
    if (same) t.predHit++;
    if (gold.some((g) => g.class === p.class && g.start === p.start && g.end === p.end)) t.predExact++;
    if (!same && errorsFor === p.class) console.log(`FALSE ${JSON.stringify(p.text)} (${p.score})  in ${JSON.stringify(s.full_text)}`);
  }
});

const f2 = (p: number, r: number) => (p + r === 0 ? 0 : (5 * p * r) / (4 * p + r));
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const fmt = (n: number) => n.toFixed(3);

console.log(`\nPII recognition on ${samples.length} sentences (presidio-research generated_large)\n`);
console.log('Entity mapping:');
for (const [k, v] of Object.entries(MAPPING)) {
  console.log(
    `  ${k.padEnd(18)} → ${typeof v === 'function' ? 'date_of_birth when the sentence speaks of birth, else out of scope' : (v ?? 'out of scope')}`,
  );
}
console.log(`\n${'class'.padEnd(15)} ${'gold'.padStart(5)} ${'pred'.padStart(5)}   P       R       F2    | exact P  exact R  exact F2`);
const total = tally();
for (const [c, t] of perClass) {
  if (t.gold === 0 && t.pred === 0) continue;
  for (const k of Object.keys(total) as (keyof Tally)[]) total[k] += t[k];
  const p = ratio(t.predHit, t.pred),
    r = ratio(t.goldHit, t.gold);
  const ep = ratio(t.predExact, t.pred),
    er = ratio(t.goldExact, t.gold);
  console.log(
    `${c.padEnd(15)} ${String(t.gold).padStart(5)} ${String(t.pred).padStart(5)}   ${fmt(p)}   ${fmt(r)}   ${fmt(f2(p, r))} | ${fmt(ep)}    ${fmt(er)}    ${fmt(f2(ep, er))}`,
  );
}
const P = ratio(total.predHit, total.pred),
  R = ratio(total.goldHit, total.gold);
const EP = ratio(total.predExact, total.pred),
  ER = ratio(total.goldExact, total.gold);
console.log(
  `${'overall'.padEnd(15)} ${String(total.gold).padStart(5)} ${String(total.pred).padStart(5)}   ${fmt(P)}   ${fmt(R)}   ${fmt(f2(P, R))} | ${fmt(EP)}    ${fmt(ER)}    ${fmt(f2(EP, ER))}`,
);
console.log(`\nReference (presidio-research, sibling set): default Presidio P 0.685 R 0.603 F2 0.618; tuned 0.870 / 0.839 / 0.845`);
console.log(`Classes the data set does not label (not scored), predictions: ${[...unscored].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`);
console.log(
  `Throughput: ${(bytes / 1e6 / seconds).toFixed(2)} MB/s (${(bytes / 1024).toFixed(0)} KiB in ${(seconds * 1000).toFixed(0)} ms, best of 3)`,
);
