import { analyze } from '../knowledge/analyze.js';
import { expandQuery, type WeightedTerm } from '../knowledge/expand.js';
import { contentWords, questionType, type QuestionType } from '../knowledge/intent.js';

// The built-in answerer: no model, no network. It answers with the sentence(s) of one passage that best
// answer the question, so the product works offline and every sentence of an answer is a quotation of a
// cited source. The question's words may be met by their synonyms (expand.ts), at the synonym's weight.

export interface Passage {
  chunkId: string;
  title: string;
  url: string | null;
  text: string;
  score: number;
}

export interface ExtractiveAnswer {
  /** Markdown with a [1] citation marker. */
  text: string;
  /** Indexes into the passages, in citation order. */
  cited: number[];
  /** Share of the question's content words the answer (with its passage's heading) covers, 0..1, rarer words weighing more. */
  coverage: number;
  /** Share of the question's content words (rarity-weighted) that no retrieved passage has at all, 0..1. */
  missing: number;
  /** The largest share of the question (one word, rarity-weighted) the answer leaves unmet, 0..1: "Sunday" of "opening hours on Sunday". */
  unmet: number;
}

// Sentences that refer to what came before: opening with a pronoun for it, or "also" among the first words, or
// ending on a pronoun for it ("Your bank may take a few more days to show it.").
const LEANS_BACK = /^(?:(?:this|that|these|those|it|they|then|however|otherwise|instead)\b|(?:\S+\s+){0,3}also\b)|\b(?:it|them)[.!?]?$/i;

// A sentence that says no.
const REFUSES = /\b(?:not|no|never|cannot)\b|n['’]t\b/i;

// A sentence that gives the kind of answer the question asks for: a time for "how long" or "when", an
// amount (or "free") for "how much".
const DURATION =
  /\b\d+(?:\s*(?:to|-|–)\s*\d+)?\s+(?:business\s+|working\s+)?(?:minutes?|hours?|days?|weeks?|months?|years?)\b|\b(?:next|same)\s+(?:business\s+)?day\b|\btomorrow\b/i;
const GIVES: Partial<Record<QuestionType, RegExp>> = {
  deadline: DURATION,
  wait: DURATION,
  cost: /[€$£]\s?\d|\d(?:[.,]\d+)?\s?(?:€|\$|£|euros?|dollars?|pounds?)\b|\bfree\b/i,
};

export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(])|\n+/u)
    .map((s) => s.replace(/^[-*•#>\s]+/, '').trim())
    .filter((s) => s.length >= 12 && s.length <= 600);
}

/** What the answerer reads of a passage: its terms, its heading's, and each sentence with its own. */
interface Analysed {
  title: string;
  text: string;
  terms: ReadonlySet<string>;
  titleTerms: ReadonlySet<string>;
  sentences: { s: string; terms: ReadonlySet<string> }[];
}

// The same for every question a passage answers, and most of an answer's work when analysed again each time:
// kept by chunk (bounded: emptied when full), and used only while the chunk's words are the same.
const ANALYSED = new Map<string, Analysed>();
const MAX_ANALYSED = 2_000;

export function analysed(p: Passage): Analysed {
  const kept = ANALYSED.get(p.chunkId);
  if (kept && kept.text === p.text && kept.title === p.title) return kept;
  const a: Analysed = {
    title: p.title,
    text: p.text,
    terms: new Set(analyze(`${p.title} ${p.text}`)),
    titleTerms: new Set(analyze(p.title)),
    sentences: sentences(p.text).map((s) => ({ s, terms: new Set(analyze(s)) })),
  };
  if (ANALYSED.size >= MAX_ANALYSED) ANALYSED.clear();
  ANALYSED.set(p.chunkId, a);
  return a;
}

/** How well a set of terms meets each of the question's words: 1 for the word itself, a synonym's weight for a synonym. */
function meets(words: readonly string[], terms: readonly WeightedTerm[], have: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of words) if (have.has(w)) out.set(w, 1);
  for (const t of terms) {
    if (!t.from || !have.has(t.term) || !words.includes(t.from)) continue;
    out.set(t.from, Math.max(out.get(t.from) ?? 0, t.weight));
  }
  return out;
}

export function extractiveAnswer(
  question: string,
  passages: readonly Passage[],
  terms?: readonly WeightedTerm[],
  maxSentences = 2,
): ExtractiveAnswer {
  const q = [...new Set(contentWords(question))];
  const ts = (terms ?? expandQuery(question)).filter((t) => !t.from || q.includes(t.from));
  const empty = { text: '', cited: [], coverage: 0, missing: q.length ? 1 : 0, unmet: q.length ? 1 : 0 };
  if (!q.length || !passages.length) return empty;
  const read = passages.map(analysed);
  const passageMeets = read.map((a) => meets(q, ts, a.terms));
  // Rarer question words (in fewer passages) weigh more, as in IDF.
  const df = new Map(q.map((w) => [w, passageMeets.filter((m) => (m.get(w) ?? 0) > 0).length]));
  const weight = (w: string) => Math.log(1 + (passages.length + 1) / (1 + (df.get(w) ?? 0)));
  const total = q.reduce((n, w) => n + weight(w), 0);
  // A word met only by a synonym is partly missing: the synonym may be of another sense.
  const bestMeet = (w: string) => Math.max(0, ...passageMeets.map((m) => m.get(w) ?? 0));
  const missing = q.reduce((n, w) => n + weight(w) * (1 - bestMeet(w)), 0) / total;

  // Giving the kind of answer asked for ("within 5 business days" for "when will my refund show up") counts
  // as much as the question's weightiest word: it decides between sentences of the passage, never the passage.
  const gives = GIVES[questionType(question)];
  const answersType = Math.max(...q.map(weight));
  const candidates = read.flatMap((a, pi) => {
    const title = meets(q, ts, a.titleTerms);
    return a.sentences.map(({ s, terms: have }, si) => {
      const own = meets(q, ts, have);
      const score =
        q.reduce((n, w) => n + weight(w) * Math.max(own.get(w) ?? 0, 0.5 * (title.get(w) ?? 0)), 0) + (gives?.test(s) ? answersType : 0) - 0.01 * si;
      return { pi, si, s, score, own, title, inSentence: own.size };
    });
  });
  // The passage is retrieval's (BM25 with expansion, feedback and headings weighs the whole passage and its
  // heading, which one sentence's words cannot): its first passage with a sentence that meets the question
  // in its own words (a heading alone is not support). The sentence is that passage's best.
  const supported = candidates.filter((c) => c.inSentence > 0);
  const pi = Math.min(...supported.map((c) => c.pi));
  const inPassage = supported.filter((c) => c.pi === pi).sort((a, b) => b.score - a.score || a.si - b.si);
  const best = inPassage[0];
  if (!best) return { ...empty, missing };
  // The answer is the best sentence, and another of the same passage only when it meets question words the
  // first leaves unmet: a second sentence that repeats the first dilutes the answer.
  const chosen = [best];
  const covered = new Map<string, number>();
  const cover = (c: (typeof candidates)[number]) => {
    for (const w of q) covered.set(w, Math.max(covered.get(w) ?? 0, c.own.get(w) ?? 0, c.title.get(w) ?? 0));
  };
  cover(best);
  for (const c of inPassage) {
    if (chosen.length >= maxSentences || c === best) continue;
    const adds = q.reduce((n, w) => n + weight(w) * Math.max(0, (c.own.get(w) ?? 0) - (covered.get(w) ?? 0)), 0);
    if (adds >= 0.2 * total) {
      chosen.push(c);
      cover(c);
    }
  }
  // A lone refusal ("We do not offer direct exchanges.") is no help without what to do instead, which is
  // what the passage says next.
  if (chosen.length === 1 && chosen.length < maxSentences && REFUSES.test(best.s)) {
    const next = candidates.find((c) => c.pi === pi && c.si === best.si + 1);
    if (next) {
      chosen.push(next);
      cover(next);
    }
  }
  chosen.sort((a, b) => a.si - b.si);
  // A first sentence that leans on the one before it ("You can also …", "This …") is no answer alone.
  const lead = chosen[0]!;
  if (lead.si > 0 && LEANS_BACK.test(lead.s)) {
    const before = candidates.find((c) => c.pi === pi && c.si === lead.si - 1);
    if (before) {
      chosen.unshift(before);
      cover(before);
    }
  }
  const coverage = q.reduce((n, w) => n + weight(w) * (covered.get(w) ?? 0), 0) / total;
  const unmet = Math.max(...q.map((w) => (weight(w) * (1 - (covered.get(w) ?? 0))) / total));
  return { text: `${chosen.map((c) => c.s).join(' ')} [1]`, cited: [best.pi], coverage, missing, unmet };
}
