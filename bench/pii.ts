// PII recognition quality and throughput on presidio-research's generated sentences (read from the
// shared data folder, never copied) and on our own hand-written support-chat sets: bench/pii-support-chat.json
// (written before the recognisers' rework; its misses were read and mended on 2026-12-06, so it is tuned on
// from then) and bench/pii-support-chat-2.json (written on 2026-12-06 before those mends and judged them; then
// its misses were read too, and one mend came of them: it is tuned on from then as well), and
// bench/pii-support-chat-3.json (written on 2026-12-06 in a later session, before any change, and scored
// as it was written: a team's chat, office addresses, signatures, and sentences with no personal data; then
// its misses were read and mended: tuned on from then too). Judges never read remain the held-out split.
// Span-level: a predicted span counts when it overlaps a gold span of the same class; exact-boundary figures
// alongside. F2 weighs recall higher, as missed PII costs more.
//
// The generated set is split by template (a hash of template_id, fixed salt chosen for class balance before
// any scoring) into a tuning split and a held-out split. Recognisers are tuned on the tuning split only;
// `--errors` lists misses, wrong edges and false alarms from the tuning split only.
//
// Address gold: some templates label an address's parts separately (building number, street, unit, postcode
// as ADDRESS; city and country as LOCATION). We score one address as one span, street number through postcode:
// ADDRESS parts joined only by spaces, punctuation and LOCATION parts merge into one gold span.
//
// Run: npx tsx bench/pii.ts [--errors <class>]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detect, type Match, type PiiClass } from '../server/src/ai/pii/index.js';

interface Sample {
  full_text: string;
  spans: { entity_type: string; entity_value: string; start_position: number; end_position: number }[];
  template_id: number;
}
interface ChatSample {
  text: string;
  pii: { class: PiiClass; value: string }[];
}

// The data sits beside the main checkout (../shared); a worktree elsewhere points at it with PARLEY_PII_DATA.
const DATA = process.env.PARLEY_PII_DATA ?? fileURLToPath(new URL('../../shared/data/pii/presidio-generated-large.json', import.meta.url));
const samples = JSON.parse(readFileSync(DATA, 'utf8')) as Sample[];
const readChat = (file: string) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as ChatSample[];
const chat = readChat('./pii-support-chat.json');
const chat2 = readChat('./pii-support-chat-2.json');
const chat3 = readChat('./pii-support-chat-3.json');

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
const argOf = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const errorsFor = argOf('--errors');

// Overlap asks "was it masked?", so a prediction counts over all it masks: an honorific is masked with its name
// (Match.maskStart) though outside the name's span, and some templates label a bare "Mr." as a PERSON span.
// Exact boundaries ask "was the name found?" and use the name's span alone.
const overlaps = (a: { start: number; end: number; maskStart?: number }, b: { start: number; end: number }) =>
  (a.maskStart ?? a.start) < b.end && b.start < a.end;

/** FNV-1a, 32 bits: a stable split that does not depend on the data's order. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
const heldOut = (s: Sample) => fnv(`pii-split-1:${s.template_id}`) % 10 < 3;

/** Gold spans of one generated sample, address parts merged (see the header). */
function goldOf(s: Sample): Gold[] {
  const spans = s.spans
    .map((g) => {
      const m = MAPPING[g.entity_type];
      if (m === undefined) throw new Error(`unmapped entity type ${g.entity_type}`);
      return { class: typeof m === 'function' ? m(s.full_text) : m, start: g.start_position, end: g.end_position, type: g.entity_type };
    })
    .sort((a, b) => a.start - b.start);
  const out: Gold[] = [];
  for (let i = 0; i < spans.length; i++) {
    const g = spans[i]!;
    if (g.class !== 'address') {
      out.push(g);
      continue;
    }
    let end = g.end;
    let j = i;
    // Walk over LOCATION parts and further ADDRESS parts separated by nothing but spaces and punctuation.
    for (let k = i + 1; k < spans.length; k++) {
      const n = spans[k]!;
      if (!/^[\s,.;>?]*$/.test(s.full_text.slice(end, n.start))) break;
      if (n.type !== 'ADDRESS' && n.type !== 'LOCATION') break;
      if (n.type === 'ADDRESS') j = k;
      end = n.end;
      if (n.type === 'ADDRESS') end = n.end;
    }
    const last = spans[j]!;
    out.push({ class: 'address', start: g.start, end: last.end });
    // The LOCATION parts inside the merged span are part of the address now.
    i = j;
  }
  return out;
}

function chatGold(s: ChatSample): Gold[] {
  let from = 0;
  return s.pii.map((p) => {
    const start = s.text.indexOf(p.value, from);
    if (start < 0) throw new Error(`chat set: ${JSON.stringify(p.value)} not in ${JSON.stringify(s.text)}`);
    from = start + p.value.length;
    return { class: p.class, start, end: start + p.value.length };
  });
}

function score(set: { text: string; gold: Gold[]; preds: Match[] }[], errors?: string): Map<PiiClass, Tally> {
  const perClass = new Map<PiiClass, Tally>(SCORED.map((c) => [c, tally()]));
  for (const { text, gold, preds } of set) {
    for (const g of gold) {
      if (!g.class) continue;
      const t = perClass.get(g.class)!;
      t.gold++;
      const hit = preds.some((p) => p.class === g.class && overlaps(p, g));
      const exact = preds.some((p) => p.class === g.class && p.start === g.start && p.end === g.end);
      if (hit) t.goldHit++;
      if (exact) t.goldExact++;
      if (errors === g.class && !exact)
        console.log(
          `${hit ? 'EDGE' : 'MISS'}  ${JSON.stringify(text.slice(g.start, g.end))}${hit ? ` got ${JSON.stringify(preds.filter((p) => p.class === g.class && overlaps(p, g)).map((p) => p.text))}` : ''}  in ${JSON.stringify(text)}`,
        );
    }
    for (const p of preds) {
      const t = perClass.get(p.class);
      if (!t) continue;
      const same = gold.some((g) => g.class === p.class && overlaps(p, g));
      if (!same && gold.some((g) => g.class === null && overlaps(p, g))) continue;
      t.pred++;
      if (same) t.predHit++;
      if (gold.some((g) => g.class === p.class && g.start === p.start && g.end === p.end)) t.predExact++;
      if (!same && errors === p.class) console.log(`FALSE ${JSON.stringify(p.text)} (${p.score})  in ${JSON.stringify(text)}`);
    }
  }
  return perClass;
}

const f2 = (p: number, r: number) => (p + r === 0 ? 0 : (5 * p * r) / (4 * p + r));
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const fmt = (n: number) => n.toFixed(3);

function report(title: string, perClass: Map<PiiClass, Tally>) {
  console.log(`\n${title}`);
  console.log(`${'class'.padEnd(15)} ${'gold'.padStart(5)} ${'pred'.padStart(5)}   P       R       F2    | exact P  exact R  exact F2`);
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
}

// Throughput: every sentence through detect(), one call each as messages arrive, best of 5 once warm; beside
// it the ceilings from the same run over the same sentences: String.prototype.toLowerCase, and one pass of a
// plain regex scan (words and digit runs), the least any recogniser must do. Warm: a server scans every
// message with the same code all day, so the passes before V8 has compiled its functions and patterns are
// not what it sees (the first, which also loads the name lexicon, is twenty times slower than the
// twentieth, the tenth still a tenth slower).
const texts = samples.map((s) => s.full_text);
let bytes = 0;
for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
const WARM_UP = 20;
const bestOf = (n: number, fn: () => void) => {
  for (let r = 0; r < WARM_UP; r++) fn();
  const runs: number[] = [];
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  return Math.min(...runs) / 1000;
};
const mbps = (s: number) => (bytes / 1e6 / s).toFixed(2);
const predictions: Match[][] = [];
const seconds = bestOf(5, () => {
  for (let i = 0; i < texts.length; i++) predictions[i] = detect(texts[i]!);
});
let sink = 0;
const lowerSeconds = bestOf(5, () => {
  for (const t of texts) sink += t.toLowerCase().length;
});
const SCAN = /\p{L}+|\d+/gu;
const scanSeconds = bestOf(5, () => {
  for (const t of texts) for (const _ of t.matchAll(SCAN)) sink++;
});

const generated = samples.map((s, i) => ({ text: s.full_text, gold: goldOf(s), preds: predictions[i]!, held: heldOut(s) }));
const tuning = generated.filter((g) => !g.held);
const held = generated.filter((g) => g.held);
const chatSet = chat.map((s) => ({ text: s.text, gold: chatGold(s), preds: detect(s.text) }));
const chatSet2 = chat2.map((s) => ({ text: s.text, gold: chatGold(s), preds: detect(s.text) }));
const chatSet3 = chat3.map((s) => ({ text: s.text, gold: chatGold(s), preds: detect(s.text) }));

console.log(
  `PII recognition: presidio-research generated_large, ${samples.length} sentences from ${new Set(samples.map((s) => s.template_id)).size} templates`,
);
console.log(
  `  split by template: tuning ${tuning.length} sentences, held-out ${held.length}; chat sets ${chatSet.length}, ${chatSet2.length} and ${chatSet3.length} sentences (bench/pii-support-chat*.json)`,
);
console.log('Entity mapping:');
for (const [k, v] of Object.entries(MAPPING)) {
  console.log(
    `  ${k.padEnd(18)} → ${typeof v === 'function' ? 'date_of_birth when the sentence speaks of birth, else out of scope' : (v ?? 'out of scope (inside a merged address: part of it)')}`,
  );
}
report('Generated set, all sentences', score(generated));
report('Generated set, tuning split', score(tuning, errorsFor));
report('Generated set, HELD-OUT split (never tuned on)', score(held));
report('Support-chat set (hand-written; its misses read and mended on 2026-12-06: tuned on)', score(chatSet));
report('Support-chat set 2 (hand-written before the mends of 2026-12-06; its misses read after them: tuned on)', score(chatSet2));
report('Support-chat set 3 (hand-written on 2026-12-06 before any change; F2 0.917 then; its misses read and mended: tuned on)', score(chatSet3));
console.log(`\nReference (presidio-research, sibling set): default Presidio P 0.685 R 0.603 F2 0.618; tuned 0.870 / 0.839 / 0.845`);
console.log(`\nThroughput, one core, ${(bytes / 1024).toFixed(0)} KiB in ${texts.length} calls, best of 5 after ${WARM_UP} passes:`);
console.log(`  detect()                      ${mbps(seconds).padStart(8)} MB/s  (${(seconds * 1000).toFixed(1)} ms)`);
console.log(`  ceiling: toLowerCase          ${mbps(lowerSeconds).padStart(8)} MB/s`);
console.log(`  ceiling: one regex word scan  ${mbps(scanSeconds).padStart(8)} MB/s`);
console.log(`  detect() / regex scan = ${((scanSeconds / seconds) * 100).toFixed(0)} %${sink < 0 ? '' : ''}`);
