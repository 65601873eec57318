// Lexical retrieval as the answerer uses it: BM25 over the expanded query (expand.ts), then pseudo-relevance
// feedback in the manner of RM3 (Abdul-Jaleel et al. 2004) on the tenant's own top passages, then headings
// as evidence (intent.ts). Two SQL reads per search, or with an in-memory copy of the index
// (memory-index.ts) one at most, of the passages found that it does not keep; the rest is arithmetic on a few passages.
import type { Tx } from '../db/types.js';
import { analyze } from './analyze.js';
import { byWeight, expandQuery, type WeightedTerm } from './expand.js';
import { headingMatch } from './intent.js';
import { chunkTerms, type TenantIndex } from './memory-index.js';
import { atFourPlaces, BM25, bm25Weighted, type Bm25Params, documentFrequencies, rankIndexed, readRanked, type RetrievedChunk } from './retrieve.js';
import { editsOf, possibleSlips, withSpellingFixes } from './spelling.js';

export interface LexicalOptions {
  /** The tenant's synonym groups ("parcel = package = order"). */
  synonyms?: readonly string[];
  /** Pseudo-relevance feedback: on by default (FEEDBACK), off, or other parameters. */
  feedback?: boolean | FeedbackParams;
  /** WordNet expansion (on by default). */
  wordnet?: boolean;
  /** The built-in support vocabulary (on by default; the tenant's `retrieval.supportVocabulary`). */
  lexicon?: boolean;
  /** Typing slips read as the tenant's words (on by default). */
  spelling?: boolean;
  /** BM25's parameters (BM25 by default). */
  bm25?: Bm25Params;
  /** This instance's copy of the tenant's index, of the version the transaction sees: scored in memory. */
  index?: TenantIndex | null;
}

/**
 * Feedback: how many top passages feed back, how many of their terms join the query, and at what weight.
 * `scaled` (the default): the new terms only, the heaviest at `weight`, passages weighted by their share of
 * the top scores. `rm3`: RM3 proper (Abdul-Jaleel et al. 2004, as in Anserini): passages weighted by
 * exp(score) (BM25 read as a log-likelihood), the query's own terms take feedback mass too, and the
 * feedback model is interpolated with the query's at `weight` (λ).
 */
export interface FeedbackParams {
  docs: number;
  terms: number;
  weight: number;
  model?: 'scaled' | 'rm3';
}
export const FEEDBACK: FeedbackParams = { docs: 3, terms: 8, weight: 0.25 };
/**
 * Headings: a score multiplier of 1 + coverage·H + intent·I, chosen on the support bench's tuned-on splits
 * (tuning and dev). I = 0.5 is the least of 0.25, 0.4, 0.5 … 1 that puts a wait ("still no refund") on the
 * passage whose heading names it (dev's right citations 34 → 35 of 42, unsafe 1 → 0 of 56, before the refit).
 */
export const HEADING = { coverage: 0.6, intent: 0.5 };

/** A top passage as feedback reads it: its score, and its analysed terms counted. */
export interface FeedbackDoc {
  score: number;
  tf: ReadonlyMap<string, number>;
  length: number;
}

/** A passage's terms counted from its text, as its postings were when it was stored (store.ts). */
export function counted(c: RetrievedChunk): FeedbackDoc {
  const tf = new Map<string, number>();
  const terms = analyze(`${c.title}\n${c.text}`);
  for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
  return { score: c.score, tf, length: terms.length };
}

/**
 * Feedback terms from the top passages: P(t|D) weighted by each passage's share of the top scores. With
 * `scaled`, only terms new to the query, to be added to it; with `rm3`, the whole re-weighted query.
 */
export function feedbackTerms(query: readonly WeightedTerm[], top: readonly FeedbackDoc[], p: FeedbackParams = FEEDBACK): WeightedTerm[] {
  const rm3 = p.model === 'rm3';
  const own = new Set(query.map((t) => t.term));
  // Scores as SQL gives them (four places), so that the in-memory copy's weights are the same to the last bit.
  const scores = top.map((d) => atFourPlaces(d.score));
  const best0 = Math.max(...scores);
  const dw = scores.map((x) => (rm3 ? Math.exp(x - best0) : Math.max(x, 0)));
  const total = dw.reduce((s, w) => s + w, 0);
  if (!total) return [];
  const mass = new Map<string, number>();
  top.forEach((d, i) => {
    if (!d.length) return;
    for (const [t, c] of d.tf) if (rm3 || !own.has(t)) mass.set(t, (mass.get(t) ?? 0) + (c / d.length) * (dw[i]! / total));
  });
  const best = [...mass].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, p.terms);
  if (!rm3) {
    const max = best[0]?.[1] ?? 0;
    return max ? best.map(([term, m]) => ({ term, weight: Number(((p.weight * m) / max).toFixed(4)) })) : [];
  }
  // (1 - λ)·P(t|Q) + λ·P(t|F), scaled so that the query's own terms keep at least their weights.
  const sum = best.reduce((s, [, m]) => s + m, 0);
  const qsum = query.reduce((s, t) => s + t.weight, 0);
  if (!sum || p.weight >= 1) return [];
  const out = new Map(query.map((t) => [t.term, t.weight]));
  for (const [t, m] of best) out.set(t, (out.get(t) ?? 0) + (p.weight / (1 - p.weight)) * qsum * (m / sum));
  return [...out].map(([term, w]) => ({ term, weight: Number(w.toFixed(4)) })).sort(byWeight);
}

/**
 * The top `k` of a ranking, as feedback reads them. Passages tied at the cut are read all or not at all: ties
 * fall by chunk id, which is random, and which of two equal passages were read must not change the answer.
 */
export function feedbackDocs<T extends { score: number }>(found: readonly T[], k: number): T[] {
  if (found.length <= k) return [...found];
  // Equal at the four places scores are given in: SQL rounds them there; the in-memory copy does not.
  const edge = atFourPlaces(found[k - 1]!.score);
  let end = k;
  while (end < found.length && atFourPlaces(found[end]!.score) === edge) end++;
  if (end < found.length) return found.slice(0, end);
  // The tie may run on below what was ranked: read only what is above it.
  let start = k - 1;
  while (start > 0 && atFourPlaces(found[start - 1]!.score) === edge) start--;
  return found.slice(0, start);
}

/** Ranks by the query's terms, then, with feedback from the top of that ranking, by the re-weighted query. */
async function withFeedback<T extends { score: number }>(
  terms: WeightedTerm[],
  fp: FeedbackParams | false,
  rank: (terms: WeightedTerm[]) => Promise<T[]>,
  doc: (found: T) => FeedbackDoc,
): Promise<T[]> {
  const found = await rank(terms);
  if (!fp || found.length < 2) return found;
  const fb = feedbackTerms(terms, feedbackDocs(found, fp.docs).map(doc), fp);
  return fb.length ? rank(fp.model === 'rm3' ? fb : [...terms, ...fb]) : found;
}

/** The question's expanded terms, as retrieval and the answerer both see them. */
export const queryTerms = (query: string, opts: LexicalOptions = {}) =>
  expandQuery(query, { synonyms: opts.synonyms, wordnet: opts.wordnet, lexicon: opts.lexicon });

/** The question's terms with its typing slips read as the tenant's own words (spelling.ts). */
async function spelled(tx: Tx, terms: WeightedTerm[], index: TenantIndex | null | undefined): Promise<WeightedTerm[]> {
  if (index) return withSpellingFixes(terms, (t) => index.terms.get(t)?.docs.length ?? 0);
  // In SQL: the words that may be slips, then the neighbours of those the knowledge lacks (most have none).
  const words = possibleSlips(terms);
  const known = await documentFrequencies(tx, words);
  const unknown = words.filter((w) => !known.has(w));
  if (!unknown.length) return terms;
  const near = await documentFrequencies(tx, unknown.flatMap(editsOf));
  return withSpellingFixes(terms, (t) => known.get(t) ?? near.get(t) ?? 0);
}

export async function lexicalSearch(tx: Tx, query: string, limit: number, opts: LexicalOptions = {}): Promise<RetrievedChunk[]> {
  const asked = queryTerms(query, opts);
  if (!asked.length) return [];
  const terms = opts.spelling === false ? asked : await spelled(tx, asked, opts.index);
  // Deeper than asked: headings may lift a passage from below the cut.
  const fp = opts.feedback === undefined || opts.feedback === true ? FEEDBACK : opts.feedback;
  const depth = Math.max(limit * 2, 10, fp ? fp.docs : 0);
  const bm25 = opts.bm25 ?? BM25;
  const { index } = opts;
  const found = index
    ? await readRanked(
        tx,
        await withFeedback(
          terms,
          fp,
          async (ts) => rankIndexed(index, ts, depth, bm25),
          (f) => ({ score: f.score, ...chunkTerms(index, f.doc) }),
        ),
        index.passages,
      )
    : await withFeedback(terms, fp, (ts) => bm25Weighted(tx, ts, depth, bm25), counted);
  return (
    found
      .map((c) => {
        const h = headingMatch(query, terms, c.title);
        return { ...c, score: atFourPlaces(c.score * (1 + HEADING.coverage * h.coverage + (h.intent ? HEADING.intent : 0))) };
      })
      // Equal scores fall by heading before the (random) chunk id, so that reseeding the same knowledge ranks it alike.
      .sort((a, b) => b.score - a.score || (a.title === b.title ? (a.chunkId < b.chunkId ? -1 : 1) : a.title < b.title ? -1 : 1))
      .slice(0, limit)
  );
}
