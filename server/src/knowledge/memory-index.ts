// An instance's copy of a tenant's BM25 postings, so that a search scores in memory instead of reading
// every posting of its terms from the database twice (the query, then the feedback query). The database
// stays the truth: a search reads the tenant's index version in its own transaction (one row, which BM25
// needs for its statistics anyway) and uses the copy only when it is of exactly that version; otherwise it
// scores in SQL, as before, while the copy is rebuilt in the background. The passages found are read back
// under row-level security, like any other search's, and the copy keeps the latest of them (passage-cache.ts),
// within a budget counted in its size. Each chunk's terms are held too (the postings turned around), so that
// feedback reads the top passages' terms without their texts.
import { carryableRead, forgetInTx, oncePerTx } from '../db/tx-memo.js';
import type { Tx } from '../db/types.js';
import { skipsCommon, type WeightedTerm } from './expand.js';
import { PassageCache, passageBudget } from './passage-cache.js';
import type { Bm25Params } from './retrieve.js';

/** The tenant's statistics as this transaction sees them; null when it has no knowledge. */
export interface IndexStats {
  version: string;
  n: number;
  totalLength: number;
}

// Read once per transaction (the answerer asks for them with its own first reads); a write of them forgets them.
const STATS = carryableRead('knowledge-stats');
export const forgetIndexStats = (tx: Tx) => forgetInTx(tx, STATS);

export function indexStats(tx: Tx): Promise<IndexStats | null> {
  return oncePerTx(tx, STATS, async () => {
    const { rows } = await tx.query<{ version: string; n: number; total: string }>(
      'SELECT version::text AS version, chunk_count AS n, total_length::text AS total FROM knowledge_stats',
    );
    const r = rows[0];
    return r ? { version: r.version, n: Number(r.n), totalLength: Number(r.total) } : null;
  });
}

const TITLE_BIT = 1 << 30;

export interface TenantIndex {
  stats: IndexStats;
  /** Chunk ids by ordinal, and their analysed lengths. */
  ids: string[];
  lens: Int32Array;
  terms: Map<string, TermPostings>;
  bytes: number;
  /** The parameters every posting's tf-part was worked out for (`precompute`), if any. */
  precomputed?: string;
  /** The postings by chunk, worked out by `precompute` (or on first use): see `chunkTerms`. */
  byChunk?: ByChunk;
  /** The passages searches of this copy read lately (set by `loadIndex`); their budget is in `bytes`. */
  passages?: PassageCache;
}

/** Chunk d's terms are `names[term[i]]` with count `tf[i]`, for i from `from[d]` up to `from[d + 1]`. */
interface ByChunk {
  names: string[];
  from: Int32Array;
  term: Int32Array;
  tf: Int32Array;
}

/** A chunk found, with its exact BM25 score and its ordinal in the copy. */
export interface Scored {
  id: string;
  score: number;
  doc: number;
}

interface TermPostings {
  /** Chunk ordinals, ascending (ordinals follow chunk ids, so ties by id are ties by ordinal). */
  docs: Int32Array;
  /** Term frequency, with TITLE_BIT set when the term is in the chunk's title. */
  tf: Int32Array;
  /** The largest tf-part (title bonus included) of any posting, per BM25 parameter set: MaxScore's bound. */
  maxPart?: Map<string, number>;
  /** Each posting's tf-part under the copy's precomputed parameters: the very numbers `part` returns. */
  parts?: Float64Array;
}

/** A query term's postings as scored: its weighted idf, the most it can add to any chunk, and its tf-parts if worked out. */
interface Scoring {
  post: TermPostings;
  idf: number;
  bound: number;
  parts: Float64Array | undefined;
}

/** BM25's tf-part of one posting, title bonus included. */
function part(ix: TenantIndex, post: TermPostings, i: number, p: Readonly<Bm25Params>, avgdl: number): number {
  const packed = post.tf[i]!;
  const tf = packed & ~TITLE_BIT;
  return (tf * (p.k1 + 1)) / (tf + p.k1 * (1 - p.b + (p.b * ix.lens[post.docs[i]!]!) / avgdl)) + (packed & TITLE_BIT ? p.titleBoost : 0);
}

/** A scored term's tf-part at posting `i`: looked up when precomputed, else worked out. */
const partAt = (ix: TenantIndex, l: Scoring, i: number, p: Readonly<Bm25Params>, avgdl: number) =>
  l.parts ? l.parts[i]! : part(ix, l.post, i, p, avgdl);

/**
 * The query's terms as `bm25Weighted` scores them, in the query's order: Σ weight · idf · (tf-part + title
 * bonus), a weak added term in too many chunks skipped (skipsCommon).
 */
function scorings(ix: TenantIndex, terms: readonly WeightedTerm[], p: Readonly<Bm25Params>, avgdl: number): Scoring[] {
  const { n } = ix.stats;
  const key = paramsKey(p);
  const precomputed = ix.precomputed === key;
  const out: Scoring[] = [];
  for (const t of terms) {
    const post = ix.terms.get(t.term);
    if (!post) continue;
    const df = post.docs.length;
    if (skipsCommon(t.weight, df, n)) continue;
    const idf = t.weight * Math.log(1 + (n - df + 0.5) / (df + 0.5));
    out.push({ post, idf, bound: idf * maxPart(ix, post, p, key, avgdl), parts: precomputed ? post.parts : undefined });
  }
  return out;
}

/** A term's largest tf-part under these parameters, worked out once per copy. */
function maxPart(ix: TenantIndex, post: TermPostings, p: Readonly<Bm25Params>, key: string, avgdl: number): number {
  let max = post.maxPart?.get(key);
  if (max === undefined) {
    max = 0;
    for (let i = 0; i < post.docs.length; i++) max = Math.max(max, part(ix, post, i, p, avgdl));
    (post.maxPart ??= new Map()).set(key, max);
  }
  return max;
}

const paramsKey = (p: Readonly<Bm25Params>) => `${p.k1}/${p.b}/${p.titleBoost}`;

function byChunk(ix: TenantIndex): ByChunk {
  const names = [...ix.terms.keys()];
  const from = new Int32Array(ix.ids.length + 1);
  for (const post of ix.terms.values()) for (const d of post.docs) from[d + 1]!++;
  for (let d = 0; d < ix.ids.length; d++) from[d + 1]! += from[d]!;
  const next = from.slice(0, ix.ids.length);
  const term = new Int32Array(from[ix.ids.length]!);
  const tf = new Int32Array(term.length);
  let k = 0;
  for (const post of ix.terms.values()) {
    for (let i = 0; i < post.docs.length; i++) {
      const at = next[post.docs[i]!]!++;
      term[at] = k;
      tf[at] = post.tf[i]! & ~TITLE_BIT;
    }
    k++;
  }
  return { names, from, term, tf };
}

/**
 * Chunk `doc`'s analysed terms with their counts, and how many it has in all: the very counts its
 * postings were stored from (store.ts), which feedback would otherwise work out again from its text.
 */
export function chunkTerms(ix: TenantIndex, doc: number): { tf: Map<string, number>; length: number } {
  const c = (ix.byChunk ??= byChunk(ix));
  const tf = new Map<string, number>();
  for (let i = c.from[doc]!; i < c.from[doc + 1]!; i++) tf.set(c.names[c.term[i]!]!, c.tf[i]!);
  return { tf, length: ix.lens[doc]! };
}

/**
 * Works out, as the copy is built rather than on a search's time, every posting's tf-part and every term's
 * bound for these parameters (the ones searches use; a search with others works them out as it goes),
 * and the postings by chunk. loadIndex has already counted the bytes of both.
 */
export function precompute(ix: TenantIndex, p: Readonly<Bm25Params>): TenantIndex {
  const avgdl = Math.max(ix.stats.totalLength / Math.max(ix.stats.n, 1), 1);
  const key = paramsKey(p);
  for (const post of ix.terms.values()) {
    const parts = Float64Array.from(post.docs, (_, i) => part(ix, post, i, p, avgdl));
    // The bound from the parts just worked out, not by working every one out again.
    let max = 0;
    for (const v of parts) max = Math.max(max, v);
    post.parts = parts;
    (post.maxPart ??= new Map()).set(key, max);
  }
  ix.precomputed = key;
  ix.byChunk = byChunk(ix);
  return ix;
}

/** Keeps `best` (at most `limit`, best first, ties by id) with one more candidate. */
function offer(best: Scored[], limit: number, c: Scored): void {
  const before = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.id < b.id);
  if (best.length === limit && !before(c, best[limit - 1]!)) return;
  let i = best.length === limit ? limit - 1 : best.length;
  while (i > 0 && before(c, best[i - 1]!)) {
    best[i] = best[i - 1]!;
    i--;
  }
  best[i] = c;
}

/** The first position at or after `from` whose chunk is at least `d` (galloping, then binary search). */
function seek(docs: Int32Array, from: number, d: number): number {
  let lo = from;
  let step = 1;
  let hi = from;
  while (hi < docs.length && docs[hi]! < d) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = Math.min(hi, docs.length);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (docs[mid]! < d) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Partial sums are compared with the threshold with this much room: a chunk is passed over only when it
// cannot reach the threshold by more than floating-point noise.
const SLACK = 1e-9;

/**
 * The best `limit` chunks by BM25, exactly as `scoreAll` ranks and scores them, without scoring every
 * posting: MaxScore (Turtle and Flood 1995). Chunks are visited in order from the postings of the terms
 * that could still lift a chunk into the top `limit` alone; the other terms' postings are only looked up,
 * and not at all once a chunk cannot reach the current `limit`-th score. A chunk that can is scored again
 * term by term in the query's order, so its score is the same number `scoreAll` adds up.
 */
export function scoreIndex(ix: TenantIndex, terms: readonly WeightedTerm[], limit: number, p: Readonly<Bm25Params>): Scored[] {
  if (limit < 1) return [];
  const avgdl = Math.max(ix.stats.totalLength / Math.max(ix.stats.n, 1), 1);
  const inQueryOrder = scorings(ix, terms, p, avgdl);
  const lists = [...inQueryOrder].sort((a, b) => a.bound - b.bound);
  // upTo[i]: the most lists[0..i] can add together.
  const upTo = new Float64Array(lists.length);
  lists.forEach((l, i) => (upTo[i] = (i ? upTo[i - 1]! : 0) + l.bound));
  const at = new Int32Array(lists.length);
  const exact = (d: number) => {
    let score = 0;
    for (const l of inQueryOrder) {
      const i = seek(l.post.docs, 0, d);
      if (i < l.post.docs.length && l.post.docs[i] === d) score += l.idf * partAt(ix, l, i, p, avgdl);
    }
    return score;
  };
  const best: Scored[] = [];
  let threshold = Number.NEGATIVE_INFINITY;
  // Lists before `essential` cannot lift a chunk to the threshold on their own.
  let essential = 0;
  for (;;) {
    let d = Number.POSITIVE_INFINITY;
    for (let i = essential; i < lists.length; i++) if (at[i]! < lists[i]!.post.docs.length) d = Math.min(d, lists[i]!.post.docs[at[i]!]!);
    if (d === Number.POSITIVE_INFINITY) break;
    let score = 0;
    for (let i = essential; i < lists.length; i++) {
      const l = lists[i]!;
      if (at[i]! < l.post.docs.length && l.post.docs[at[i]!] === d) score += l.idf * partAt(ix, l, at[i]!++, p, avgdl);
    }
    let reachable = true;
    for (let i = essential - 1; i >= 0; i--) {
      if (score + upTo[i]! < threshold - SLACK) {
        reachable = false;
        break;
      }
      const l = lists[i]!;
      at[i] = seek(l.post.docs, at[i]!, d);
      if (at[i]! < l.post.docs.length && l.post.docs[at[i]!] === d) score += l.idf * partAt(ix, l, at[i]!, p, avgdl);
    }
    if (!reachable || score < threshold - SLACK) continue;
    offer(best, limit, { id: ix.ids[d]!, score: exact(d), doc: d });
    if (best.length === limit) {
      threshold = best[limit - 1]!.score;
      while (essential < lists.length && upTo[essential]! < threshold - SLACK) essential++;
    }
  }
  return best;
}

/** Every posting of every term scored: the reference `scoreIndex` is held to (tests and benchmarks). */
export function scoreAll(ix: TenantIndex, terms: readonly WeightedTerm[], limit: number, p: Readonly<Bm25Params>): Scored[] {
  if (limit < 1) return [];
  const avgdl = Math.max(ix.stats.totalLength / Math.max(ix.stats.n, 1), 1);
  const acc = new Float64Array(ix.ids.length);
  const seen = new Uint8Array(ix.ids.length);
  const touched: number[] = [];
  for (const l of scorings(ix, terms, p, avgdl))
    for (let i = 0; i < l.post.docs.length; i++) {
      const d = l.post.docs[i]!;
      if (!seen[d]) {
        seen[d] = 1;
        touched.push(d);
      }
      acc[d]! += l.idf * partAt(ix, l, i, p, avgdl);
    }
  const best: Scored[] = [];
  for (const d of touched)
    if (best.length < limit || acc[d]! >= best[limit - 1]!.score) offer(best, limit, { id: ix.ids[d]!, score: acc[d]!, doc: d });
  return best;
}

const LOAD_BATCH = 20_000;

/** Runs `fn` in a short read transaction of the tenant's. */
export type TenantRead = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Reads the tenant's postings into memory, a batch per transaction so that no request waits behind the
 * whole load (the embedded database has one connection). Each batch also reads the version after its
 * postings: when every one is the version read first, no write committed during the load. Null when one
 * did (the copy would mix two indexes), or when the copy would outgrow `maxBytes`.
 */
export async function loadIndex(read: TenantRead, maxBytes: number): Promise<TenantIndex | null> {
  const stats = await read(indexStats);
  if (!stats) return null;
  const ordinal = new Map<string, number>();
  const ids: string[] = [];
  const lens: number[] = [];
  const building = new Map<string, { docs: number[]; tf: number[] }>();
  let bytes = 0;
  let after: [string, string] | null = null;
  for (;;) {
    const { rows, version } = await read(async (tx) => {
      const { rows } = await tx.query<{ term: string; chunk_id: string; tf: number; chunk_len: number; in_title: boolean }>(
        `SELECT term, chunk_id, tf, chunk_len, in_title FROM knowledge_postings
          ${after ? 'WHERE (term, chunk_id) > ($2, $3::uuid)' : ''} ORDER BY term, chunk_id LIMIT $1`,
        after ? [LOAD_BATCH, ...after] : [LOAD_BATCH],
      );
      return { rows, version: (await indexStats(tx))?.version };
    });
    if (version !== stats.version) return null;
    for (const r of rows) {
      let d = ordinal.get(r.chunk_id);
      if (d === undefined) {
        d = ids.length;
        ordinal.set(r.chunk_id, d);
        ids.push(r.chunk_id);
        lens.push(r.chunk_len);
        bytes += 100;
      }
      let post = building.get(r.term);
      if (!post) building.set(r.term, (post = { docs: [], tf: [] }));
      post.docs.push(d);
      post.tf.push(r.tf | (r.in_title ? TITLE_BIT : 0));
      // Its chunk and tf (4 bytes each), then what `precompute` adds: the tf-part (8), and the posting by chunk (8).
      bytes += 24;
    }
    if (bytes + building.size * 120 > maxBytes) return null;
    if (rows.length < LOAD_BATCH) break;
    const last = rows[rows.length - 1]!;
    after = [last.term, last.chunk_id];
  }
  // Ordinals in chunk id order, so that each term's postings (read by chunk id) ascend and a tie by id
  // is a tie by ordinal.
  const byId = ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));
  const renumber = new Int32Array(ids.length);
  byId.forEach((old, i) => (renumber[old] = i));
  const terms = new Map<string, TermPostings>();
  for (const [term, post] of building) {
    const order = post.docs.map((_, i) => i).sort((a, b) => renumber[post.docs[a]!]! - renumber[post.docs[b]!]!);
    terms.set(term, { docs: Int32Array.from(order, (i) => renumber[post.docs[i]!]!), tf: Int32Array.from(order, (i) => post.tf[i]!) });
  }
  const postings = bytes + terms.size * 120;
  const passages = new PassageCache(passageBudget(postings));
  if (postings + passages.maxBytes > maxBytes) return null;
  return { stats, ids: byId.map((i) => ids[i]!), lens: Int32Array.from(byId, (i) => lens[i]!), terms, bytes: postings + passages.maxBytes, passages };
}

export interface MemoryIndexOptions {
  /** The most all tenants' copies may take together; a tenant whose copy alone would not fit is searched in SQL. */
  maxBytes: number;
  /** Reads a tenant's index in a transaction of that tenant's. */
  load: (tenantId: string, maxBytes: number) => Promise<TenantIndex | null>;
  /**
   * The least time between two builds of one tenant's copy (10 s by default): a tenant whose knowledge is
   * being written all the time is searched in SQL meanwhile, rather than reloaded on every change.
   */
  minRebuildMs?: number;
  onError?: (tenantId: string, err: unknown) => void;
}

/** The copies this instance holds, least recently used first out; one build at a time. */
export class MemoryIndexes {
  private readonly held = new Map<string, TenantIndex>();
  private building: string | null = null;
  /** Versions that could not be held (too large, or changed while read): not tried again until they move. */
  private readonly skipped = new Map<string, string>();
  private readonly started = new Map<string, number>();
  private closed = false;

  constructor(private readonly opts: MemoryIndexOptions) {}

  /** The tenant's copy if it is of `stats.version`; otherwise starts building one and returns null. */
  current(tenantId: string, stats: IndexStats): TenantIndex | null {
    const ix = this.held.get(tenantId);
    if (ix && ix.stats.version === stats.version) {
      this.held.delete(tenantId);
      this.held.set(tenantId, ix);
      return ix;
    }
    // Out of date: its postings wait for the rebuild, but no passage is kept that the tenant may have removed.
    ix?.passages?.clear();
    const since = Date.now() - (this.started.get(tenantId) ?? Number.NEGATIVE_INFINITY);
    if (!this.closed && this.building === null && this.skipped.get(tenantId) !== stats.version && since >= (this.opts.minRebuildMs ?? 10_000))
      void this.build(tenantId, stats.version);
    return null;
  }

  /** Resolves once no build is running (for tests and benchmarks). */
  async settled(): Promise<void> {
    while (this.building !== null) await new Promise((r) => setTimeout(r, 5));
  }

  close(): void {
    this.closed = true;
    this.held.clear();
  }

  private async build(tenantId: string, version: string): Promise<void> {
    this.building = tenantId;
    this.started.set(tenantId, Date.now());
    try {
      const ix = await this.opts.load(tenantId, this.opts.maxBytes);
      if (this.closed) return;
      if (!ix) {
        this.skipped.set(tenantId, version);
        return;
      }
      this.held.delete(tenantId);
      let total = ix.bytes;
      for (const h of this.held.values()) total += h.bytes;
      for (const [t, h] of this.held) {
        if (total <= this.opts.maxBytes) break;
        this.held.delete(t);
        total -= h.bytes;
      }
      this.held.set(tenantId, ix);
      this.skipped.delete(tenantId);
    } catch (err) {
      this.skipped.set(tenantId, version);
      this.opts.onError?.(tenantId, err);
    } finally {
      this.building = null;
    }
  }
}
