// The decision to answer, as its own calibrated component: features of the retrieval and of the extracted
// answer → the probability that the answer cites the right passage (logistic regression, coefficients in
// decision-model.ts, fitted offline by bench/fit-decision.ts on the tuning and dev splits of the support bench).
// Two thresholds per tenant turn it into an action: answer; offer "Did you mean: <heading>?"; hand off.
import { bm25Strength } from '../knowledge/retrieval.js';
import { possibleSlips, withSpellingFixes } from '../knowledge/spelling.js';
import { analyze } from '../knowledge/analyze.js';
import { contentWords, headingMatch, headingOf, questionType } from '../knowledge/intent.js';
import type { WeightedTerm } from '../knowledge/expand.js';
import { FITTED } from './decision-model.js';
import { analysed, extractiveAnswer, type ExtractiveAnswer, type Passage } from './extractive.js';

/** What the decision looks at, each 0..1. */
export interface DecisionFeatures {
  /** How strongly the best passage matches (BM25 saturated, or the retriever's own strength). */
  strength: number;
  /** How far the best passage is ahead of the second: 1 − s₂/s₁. */
  margin: number;
  /** Share of the question's content words the chosen sentences (and their heading) meet, rarity-weighted. */
  coverage: number;
  /** Share of the question's content words no retrieved passage has at all. */
  missing: number;
  /** The largest share of the question one word the answer leaves unmet carries. */
  unmet: number;
  /** Share of the cited passage's heading words the question has. */
  heading: number;
  /** The question is of a kind the cited heading names ("how long" ↔ "timing"). */
  intent: number;
  /** The cited passage is retrieval's first. */
  first: number;
  /** A yes/no question ("can I …", "do you …"): the ones most often outside the knowledge. */
  yesno: number;
}

export const FEATURES = [
  'strength',
  'margin',
  'coverage',
  'missing',
  'unmet',
  'heading',
  'intent',
  'first',
  'yesno',
] as const satisfies readonly (keyof DecisionFeatures)[];

export interface DecisionModel {
  bias: number;
  weights: Record<keyof DecisionFeatures, number>;
}

export const DECISION_MODEL: DecisionModel = FITTED;

export function probability(f: DecisionFeatures, m: DecisionModel = DECISION_MODEL): number {
  const z = FEATURES.reduce((s, k) => s + m.weights[k] * f[k], m.bias);
  return 1 / (1 + Math.exp(-z));
}

export interface Decision {
  action: 'answer' | 'suggest' | 'handoff';
  /** Calibrated probability that the answer cites the right passage. */
  probability: number;
  features: DecisionFeatures;
  answer: ExtractiveAnswer;
  /** The passages to offer with "Did you mean": the one the answer would cite, then close runners-up. */
  suggestions?: { index: number; heading: string }[];
}

export interface Thresholds {
  /** At or above: answer. */
  threshold: number;
  /** At or above (and below `threshold`): offer "Did you mean: <heading>?". Below: hand off. */
  suggestThreshold: number;
}

/** Features of a question, its passages (best first) and the answer extracted from them. */
export function features(
  question: string,
  passages: readonly Passage[],
  terms: readonly WeightedTerm[],
  ex: ExtractiveAnswer,
  strength?: number,
): DecisionFeatures {
  const cited = ex.cited[0];
  const p = cited === undefined ? undefined : passages[cited];
  const s1 = passages[0]?.score ?? 0;
  const s2 = passages[1]?.score ?? 0;
  const h = p ? headingMatch(question, terms, p.title) : { coverage: 0, intent: false };
  return {
    strength: strength ?? bm25Strength(s1),
    margin: s1 > 0 ? Math.max(0, 1 - s2 / s1) : 0,
    coverage: ex.coverage,
    missing: ex.missing,
    unmet: ex.unmet,
    heading: Math.min(1, h.coverage),
    intent: h.intent ? 1 : 0,
    first: cited === 0 ? 1 : 0,
    yesno: questionType(question) === 'yesno' ? 1 : 0,
  };
}

/** At most this many headings in one "Did you mean", each passage scoring at least RUNNER_UP of the best. */
export const MAX_OFFERS = 3;
const RUNNER_UP = 0.6;

/** The cited passage first, then retrieval's next best with headings of their own. */
function offers(passages: readonly Passage[], cited: number): { index: number; heading: string }[] {
  const top = passages[0]?.score ?? 0;
  const out = [{ index: cited, heading: headingOf(passages[cited]!.title) }];
  passages.forEach((p, i) => {
    const heading = headingOf(p.title);
    if (out.length < MAX_OFFERS && i !== cited && p.score >= RUNNER_UP * top && !out.some((o) => o.heading === heading))
      out.push({ index: i, heading });
  });
  return out;
}

// Words that only point at what a question is about: "your returns policy", "return something".
const VAGUE = new Set(analyze('something anything thing things stuff policy policies info information'));

/**
 * A broad question: one subject and a word that only points at it ("What is your returns policy?", "Can I
 * return something?"). Which of the subject's passages is meant is the visitor's to say: they are offered.
 */
function broad(question: string): boolean {
  const words = new Set(contentWords(question));
  const subject = [...words].filter((w) => !VAGUE.has(w));
  return subject.length === 1 && subject.length < words.size;
}

/** How many of the passages have each term: the vocabulary a question's typing slips are read against. */
function passageFrequencies(passages: readonly Passage[]): Map<string, number> {
  const df = new Map<string, number>();
  for (const p of passages) for (const t of analysed(p).terms) df.set(t, (df.get(t) ?? 0) + 1);
  return df;
}

export function decide(question: string, passages: readonly Passage[], asked: readonly WeightedTerm[], t: Thresholds, strength?: number): Decision {
  // A slip ("retrun") meets the passage's word ("return") as a synonym would, as it did in search. Most
  // questions have no possible slip: their passages are not analysed for it.
  const df = possibleSlips(asked).length ? passageFrequencies(passages) : null;
  const terms = df ? withSpellingFixes(asked, (term) => df.get(term) ?? 0) : asked;
  const answer = extractiveAnswer(question, passages, terms);
  const f = features(question, passages, terms, answer, strength);
  const pr = answer.text ? Number(probability(f).toFixed(3)) : 0;
  const cited = answer.cited[0];
  if (answer.text && pr >= t.threshold) return { action: 'answer', probability: pr, features: f, answer };
  if (cited !== undefined && (pr >= t.suggestThreshold || broad(question)) && t.suggestThreshold < t.threshold)
    return { action: 'suggest', probability: pr, features: f, answer, suggestions: offers(passages, cited) };
  return { action: 'handoff', probability: pr, features: f, answer };
}
