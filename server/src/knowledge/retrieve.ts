// Retrieval, always inside a tenant transaction so row-level security scopes it. BM25 is computed
// in SQL from the per-tenant statistics, reading only the postings of the query's terms (a covering
// index scan); measured faster than fetching GIN candidates and scoring them in TypeScript.
import type { Tx } from '../db/types.js';
import { uniqueTerms } from './analyze.js';
import { COMMON_TERM, TENANT_SYNONYM_WEIGHT, type WeightedTerm } from './expand.js';
import { type Scored, scoreIndex, type TenantIndex } from './memory-index.js';
import type { Passage, PassageCache } from './passage-cache.js';

/** A passage found for a query: what an answerer cites and quotes. */
export interface RetrievedChunk {
  chunkId: string;
  sourceId: string;
  externalId: string | null;
  title: string;
  url: string | null;
  score: number;
  /** How strongly this passage matches, 0..1, when the retriever knows (dense and hybrid scores are not BM25's). */
  strength?: number;
  text: string;
}

/**
 * The answerer's retrieval: passages for the question, read in the answerer's transaction on the read
 * path (the tenant's). A call it made to a provider (the query's embedding) comes back as `record`, to
 * be written on the primary.
 */
export type Retrieve = (
  tx: Tx,
  query: string,
  limit: number,
  requestId: string | null,
) => Promise<{ results: RetrievedChunk[]; record?: (tx: Tx) => Promise<void> }>;

export interface Retriever {
  readonly name: string;
  search(tx: Tx, query: string, opts: { limit: number }): Promise<RetrievedChunk[]>;
}

/** BM25's term-frequency saturation (k1), length normalisation (b) and the bonus of a term in the passage's title. */
export interface Bm25Params {
  k1: number;
  b: number;
  titleBoost: number;
}
export const BM25: Readonly<Bm25Params> = { k1: 1.2, b: 0.75, titleBoost: 0.3 };

type Row = Passage & { score: number };

/** A score (or strength) to the four places search results give it: the precision SQL ranks at, and feedback reads. */
export const atFourPlaces = (x: number) => Number(x.toFixed(4));

/** A passage as a search result, its score to four places (a dense or hybrid result adds its strength). */
export const passageResult = (r: Passage, score: number): RetrievedChunk => ({
  chunkId: r.id,
  sourceId: r.source_id,
  externalId: r.external_id,
  title: r.title,
  url: r.anchor_url ?? r.url,
  score: atFourPlaces(Number(score)),
  text: r.text,
});
const toChunk = (r: Row) => passageResult(r, r.score);

/** The most terms a search scores (a question's own come first). */
const MAX_TERMS = 48;

/** BM25 over weighted terms (a query's own terms weigh 1, expansions less): Σ weight · idf · tf-part. */
export async function bm25Weighted(
  tx: Tx,
  terms: readonly WeightedTerm[],
  limit: number,
  params: Readonly<Bm25Params> = BM25,
): Promise<RetrievedChunk[]> {
  const ts = terms.slice(0, MAX_TERMS);
  if (!ts.length) return [];
  const { rows } = await tx.query<Row>(
    `WITH stats AS (
       SELECT chunk_count::float8 AS n, greatest(total_length::float8 / greatest(chunk_count, 1), 1) AS avgdl FROM knowledge_stats
     ), q AS (
       SELECT * FROM unnest($1::text[], $6::float8[]) AS q(term, w)
     ), idf AS (
       SELECT t.term, q.w * ln(1 + (s.n - t.df + 0.5) / (t.df + 0.5)) AS idf FROM q JOIN knowledge_terms t ON t.term = q.term, stats s
        -- skipsCommon (expand.ts): a weak added term in too many chunks.
        WHERE q.w >= $7::float8 OR t.df <= greatest(s.n * $8::float8, $9::float8)
     ), scored AS (
       SELECT p.chunk_id, sum(i.idf * (
                p.tf * ($3::float8 + 1) / (p.tf + $3::float8 * (1 - $4::float8 + $4::float8 * p.chunk_len / s.avgdl))
                + CASE WHEN p.in_title THEN $5::float8 ELSE 0 END)) AS score
         FROM idf i JOIN knowledge_postings p ON p.term = i.term CROSS JOIN stats s
        GROUP BY p.chunk_id
        ORDER BY score DESC, p.chunk_id
        LIMIT $2
     )
     SELECT c.id, c.source_id, src.external_id, c.title, c.anchor_url, src.url, c.text, sc.score
       FROM scored sc JOIN knowledge_chunks c ON c.id = sc.chunk_id JOIN knowledge_sources src ON src.id = c.source_id
      ORDER BY sc.score DESC, c.id`,
    [
      ts.map((t) => t.term),
      limit,
      params.k1,
      params.b,
      params.titleBoost,
      ts.map((t) => t.weight),
      TENANT_SYNONYM_WEIGHT,
      COMMON_TERM.share,
      COMMON_TERM.atLeast,
    ],
  );
  return rows.map(toChunk);
}

/** How many of the tenant's passages have each of `terms`; a term in none is absent. */
export async function documentFrequencies(tx: Tx, terms: readonly string[]): Promise<Map<string, number>> {
  if (!terms.length) return new Map();
  const { rows } = await tx.query<{ term: string; df: number }>('SELECT term, df FROM knowledge_terms WHERE term = ANY($1::text[]) AND df > 0', [
    terms,
  ]);
  return new Map(rows.map((r) => [r.term, Number(r.df)]));
}

/**
 * The same ranking as bm25Weighted, scored on an instance's in-memory copy of the tenant's index (of the
 * version this transaction sees), without the passages: `readRanked` reads them back. `score` is the
 * scorer (the benchmark sets the unpruned one beside it).
 */
export const rankIndexed = (
  index: TenantIndex,
  terms: readonly WeightedTerm[],
  limit: number,
  params: Readonly<Bm25Params> = BM25,
  score: typeof scoreIndex = scoreIndex,
): Scored[] => score(index, terms.slice(0, MAX_TERMS), limit, params);

/** The passages of the given chunks, read under row-level security: another tenant's ids are simply not visible. */
export async function readPassages(tx: Tx, ids: readonly string[]): Promise<Map<string, Passage>> {
  if (!ids.length) return new Map();
  const { rows } = await tx.query<Passage>(
    `SELECT c.id, c.source_id, src.external_id, c.title, c.anchor_url, src.url, c.text
       FROM knowledge_chunks c JOIN knowledge_sources src ON src.id = c.source_id WHERE c.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The passages of chunks ranked in memory: those the copy keeps (passage-cache.ts), the rest read and kept. */
export async function readRanked(tx: Tx, found: readonly Scored[], kept?: PassageCache): Promise<RetrievedChunk[]> {
  const cached = new Map<string, Passage>();
  for (const f of found) {
    const p = kept?.get(f.id);
    if (p) cached.set(f.id, p);
  }
  const read = await readPassages(
    tx,
    found.filter((f) => !cached.has(f.id)).map((f) => f.id),
  );
  for (const p of read.values()) kept?.add(p);
  return found.flatMap((f) => {
    const r = cached.get(f.id) ?? read.get(f.id);
    return r ? [passageResult(r, f.score)] : [];
  });
}

/** bm25Weighted on the in-memory copy: ranked there, then read back. */
export const bm25Indexed = async (
  tx: Tx,
  index: TenantIndex,
  terms: readonly WeightedTerm[],
  limit: number,
  params: Readonly<Bm25Params> = BM25,
  score: typeof scoreIndex = scoreIndex,
): Promise<RetrievedChunk[]> => readRanked(tx, rankIndexed(index, terms, limit, params, score), index.passages);

/** A query's own terms, each of weight 1: plain BM25, the baseline. */
export const plainTerms = (query: string): WeightedTerm[] =>
  uniqueTerms(query)
    .slice(0, 32)
    .map((term) => ({ term, weight: 1 }));

export const bm25Retriever: Retriever = {
  name: 'bm25',
  search: (tx, query, { limit }) => bm25Weighted(tx, plainTerms(query), limit),
};

/** Postgres' own ranking (no IDF), kept as a baseline for the benchmark. */
export const tsRankRetriever: Retriever = {
  name: 'ts_rank_cd',
  async search(tx, query, { limit }) {
    const { rows } = await tx.query<Row>(
      `SELECT c.id, c.source_id, src.external_id, c.title, c.anchor_url, src.url, c.text, ts_rank_cd(c.tsv, q) AS score
         FROM knowledge_chunks c JOIN knowledge_sources src ON src.id = c.source_id,
              plainto_tsquery('english', $1) q0,
              LATERAL (SELECT to_tsquery('english', replace(q0::text, ' & ', ' | ')) AS q) qq
        WHERE q0::text <> '' AND c.tsv @@ q
        ORDER BY score DESC, c.id LIMIT $2`,
      [query, limit],
    );
    return rows.map(toChunk);
  },
};
