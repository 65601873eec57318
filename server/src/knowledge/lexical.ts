// Lexical retrieval as the answerer uses it: BM25 over the expanded query (expand.ts), then pseudo-relevance
// feedback in the manner of RM3 (Abdul-Jaleel et al. 2004) on the tenant's own top passages, then headings
// as evidence (intent.ts). Two SQL reads per search; the rest is arithmetic on a few passages.
import type { Tx } from '../db/types.js';
import { analyze } from './analyze.js';
import { expandQuery, type WeightedTerm } from './expand.js';
import { headingMatch } from './intent.js';
import { bm25Weighted, type RetrievedChunk } from './retrieve.js';

export interface LexicalOptions {
  /** The tenant's synonym groups ("parcel = package = order"). */
  synonyms?: readonly string[];
  /** Pseudo-relevance feedback (on by default). */
  feedback?: boolean;
  /** WordNet expansion (on by default). */
  wordnet?: boolean;
}

/** RM3: how many top passages feed back, how many of their terms join the query, and at what weight. */
export const FEEDBACK = { docs: 3, terms: 8, weight: 0.25 };
/** Headings: a score multiplier of 1 + coverage·H + intent·I (tuned on the tuning split of the support bench). */
export const HEADING = { coverage: 0.6, intent: 0.25 };

/** Feedback terms from the top passages: P(t|D) weighted by each passage's share of the top score. */
export function feedbackTerms(query: readonly WeightedTerm[], top: readonly RetrievedChunk[], n = FEEDBACK.terms): WeightedTerm[] {
  const own = new Set(query.map((t) => t.term));
  const total = top.reduce((s, d) => s + Math.max(d.score, 0), 0);
  if (!total) return [];
  const mass = new Map<string, number>();
  for (const d of top) {
    const terms = analyze(`${d.title} ${d.text}`);
    if (!terms.length) continue;
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, c] of tf) if (!own.has(t)) mass.set(t, (mass.get(t) ?? 0) + (c / terms.length) * (d.score / total));
  }
  const best = [...mass].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  const max = best[0]?.[1] ?? 0;
  return max ? best.map(([term, m]) => ({ term, weight: Number(((FEEDBACK.weight * m) / max).toFixed(4)) })) : [];
}

/** The question's expanded terms, as retrieval and the answerer both see them. */
export const queryTerms = (query: string, opts: LexicalOptions = {}) => expandQuery(query, { synonyms: opts.synonyms, wordnet: opts.wordnet });

export async function lexicalSearch(tx: Tx, query: string, limit: number, opts: LexicalOptions = {}): Promise<RetrievedChunk[]> {
  const terms = queryTerms(query, opts);
  if (!terms.length) return [];
  // Deeper than asked: headings may lift a passage from below the cut.
  const depth = Math.max(limit * 2, 10);
  let found = await bm25Weighted(tx, terms, depth);
  if (opts.feedback !== false && found.length > 1) {
    const fb = feedbackTerms(terms, found.slice(0, FEEDBACK.docs));
    if (fb.length) found = await bm25Weighted(tx, [...terms, ...fb], depth);
  }
  return found
    .map((c) => {
      const h = headingMatch(query, terms, c.title);
      return { ...c, score: Number((c.score * (1 + HEADING.coverage * h.coverage + (h.intent ? HEADING.intent : 0))).toFixed(4)) };
    })
    .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1))
    .slice(0, limit);
}
