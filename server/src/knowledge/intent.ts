// What a question asks for, and whether a passage's heading says it answers that: "how do I …" meets
// "How to start a return" or "Resetting your password", "how long …" meets "Refund timing" or "Validity".
// Headings are written by the tenant to name what their passage answers, so they are strong evidence.
import { analyze } from './analyze.js';
import { boundedMemo } from './memo.js';
import type { WeightedTerm } from './expand.js';

// Two kinds of "how long": a deadline the visitor must meet ("how long do I have to return it?", "too late?",
// "is it still valid?") and a wait for something to happen ("how long do refunds take?", "still no refund").
// Help pages name them apart: "Return window", "Validity" against "Refund timing", "Delivery times".
export type QuestionType = 'procedure' | 'deadline' | 'wait' | 'cost' | 'yesno' | 'other';

/**
 * Words that frame a question rather than say what it is about ("how long does it take…", "I'd like…"):
 * they are no content of it, and their synonyms ("yearn" for "long") are noise in its expansion (expand.ts).
 */
export const FRAMING_WORDS = new Set(
  'long take much many often soon possible able way need want know tell help get got please thanks hello hi question like would could'.split(' '),
);
const FRAMING = new Set(analyze([...FRAMING_WORDS].join(' ')));

/** The question's (or a sentence's) content terms, analysed as the index analyses them. */
export function contentWords(text: string): string[] {
  return analyze(text).filter((w) => !FRAMING.has(w));
}

/** A message's sentences: split after . ! ? and at line breaks, trimmed, none empty. */
export const sentencesOf = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);

// A question that points back into the story ("How do I return them?") needs the story to be understood.
const POINTS_BACK = /\b(?:it|its|them|they|their|that|this|these|those|one|there)\b/i;

/**
 * What a message asks: its questions without the sentences around them that tell the visitor's case ("My
 * parcel went back to you on Monday. The tracking says it was delivered. When do I get my money?"), whose words
 * can draw search to passages about the case. The built-in answerer searches it alone as well, as a check. The
 * whole message where no sentence asks, where every sentence does, or where the questions name nothing or
 * point back into the case.
 */
export function askedPart(message: string): string {
  const parts = sentencesOf(message);
  const asks = parts.filter((s) => s.endsWith('?'));
  if (!asks.length || asks.length === parts.length) return message;
  const asked = asks.join(' ');
  return contentWords(asked).length && !POINTS_BACK.test(asked) ? asked : message;
}

export function questionType(q: string): QuestionType {
  const s = q.toLowerCase();
  if (
    !/\bwait/.test(s) &&
    /\bhow (long|much time|many (days|weeks|months)) (do|will) (i|we) have\b|\buntil when\b|\bdeadline\b|\btime limit\b|\btoo late\b|\bstill (valid|good|usable|works?)\b|\bexpir|\bhow long is (it|this|that|the|my|a|an)\b.*\bvalid\b/.test(
      s,
    )
  )
    return 'deadline';
  if (
    /\bhow (long|much time|soon|fast|quickly|many (days|weeks|hours))\b|\bwhen (will|do|does|is|can|should)\b|\bstill (no|not|nothing|waiting)\b|\bnot (arrived|received|here) yet\b|\bha(?:ve|s)n['’]?t (arrived|come|got|received)/.test(
      s,
    )
  )
    return 'wait';
  if (/\bhow much\b|\bcost|\bprice|\bfee\b|\bfees\b|\bcharge|\bfree\b/.test(s)) return 'cost';
  if (/\bhow (do|can|should|would|could) (i|we|you)\b|\bhow to\b|\bwhere (do|can|should) i\b|\bsteps?\b|\bway to\b|\bprocess\b|\bprocedure\b/.test(s))
    return 'procedure';
  if (/^\s*(can|could|do|does|is|are|will|may|am)\b/.test(s)) return 'yesno';
  return 'other';
}

const DEADLINE_WORDS = new Set(analyze('window validity valid deadline period expiry expiration limit'));
const WAIT_WORDS = new Set(analyze('time times timing days long processing'));
const COST_WORDS = new Set(analyze('cost costs price prices pricing fee fees charges free'));

/** The heading of a chunk title ("Returns and refunds › Refund timing" → "Refund timing"). */
export const headingOf = (title: string) => title.split('›').pop()!.trim();

/** The kinds of question a heading says its passage answers. */
export function headingTypes(heading: string): Set<QuestionType> {
  const out = new Set<QuestionType>();
  const terms = analyze(heading);
  if (/^\s*how to\b/i.test(heading) || /^\s*\p{L}+ing\b/iu.test(heading)) out.add('procedure');
  if (terms.some((t) => DEADLINE_WORDS.has(t))) out.add('deadline');
  if (terms.some((t) => WAIT_WORDS.has(t))) out.add('wait');
  if (terms.some((t) => COST_WORDS.has(t))) out.add('cost');
  return out;
}

export interface HeadingMatch {
  /** Share of the heading's words the (expanded) question has, weighted by the expansion weights (0..1). */
  coverage: number;
  /** The question is of a kind the heading names ("how long" ↔ "timing"). */
  intent: boolean;
}

/** The one action a heading in the -ing form names ("Resetting your password" → reset); none for "How to …". */
const actionOf = (heading: string): string | undefined =>
  /^\s*how to\b/i.test(heading) ? undefined : analyze(/^\s*(\p{L}+ing)\b/iu.exec(heading)?.[1] ?? '')[0];

interface HeadingFacts {
  terms: string[];
  types: Set<QuestionType>;
  action: string | undefined;
}
// A tenant has tens of headings, and every search and answer meets each of the ones it retrieves: what a
// heading says is worked out once (bounded, as headings come and go).
const headingFacts = boundedMemo(
  10_000,
  (heading: string): HeadingFacts => ({ terms: [...new Set(analyze(heading))], types: headingTypes(heading), action: actionOf(heading) }),
);

// One question's weighted terms are met against each retrieved heading in turn: their lookup is made once.
const WEIGHTS = new WeakMap<readonly WeightedTerm[], Map<string, number>>();
function weightsOf(terms: readonly WeightedTerm[]): Map<string, number> {
  let w = WEIGHTS.get(terms);
  if (!w) WEIGHTS.set(terms, (w = new Map(terms.map((t) => [t.term, t.weight]))));
  return w;
}

export function headingMatch(question: string, terms: readonly WeightedTerm[], title: string): HeadingMatch {
  const h = headingFacts(headingOf(title));
  const w = weightsOf(terms);
  const coverage = h.terms.length ? h.terms.reduce((n, t) => n + (w.get(t) ?? 0), 0) / h.terms.length : 0;
  const type = questionType(question);
  // "How do I …" asks for a procedure, but not for every one: a heading that names one action answers it only
  // where the question names that action too (or a synonym of it): "How do I turn on two-factor authentication for
  // my account?" is not "Deleting your account". A "How to …" heading is the page of steps for all it names.
  const action = type === 'procedure' ? h.action : undefined;
  return { coverage, intent: h.types.has(type) && (action === undefined || (w.get(action) ?? 0) > 0) };
}
