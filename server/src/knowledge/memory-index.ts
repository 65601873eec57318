// An instance's copy of a tenant's BM25 postings, so that a search scores in memory instead of reading
// every posting of its terms from the database twice (the query, then the feedback query). The database
// stays the truth: a search reads the tenant's index version in its own transaction (one row, which BM25
// needs for its statistics anyway) and uses the copy only when it is of exactly that version; otherwise it
// scores in SQL, as before, while the copy is rebuilt in the background. Texts are never held here: the
// passages found are read back under row-level security, like any other search's.
import type { Tx } from '../db/types.js';
import type { WeightedTerm } from './expand.js';
import type { Bm25Params } from './retrieve.js';

/** The tenant's statistics as this transaction sees them; null when it has no knowledge. */
export interface IndexStats {
  version: string;
  n: number;
  totalLength: number;
}

export async function indexStats(tx: Tx): Promise<IndexStats | null> {
  const { rows } = await tx.query<{ version: string; n: number; total: string }>(
    'SELECT version::text AS version, chunk_count AS n, total_length::text AS total FROM knowledge_stats',
  );
  const r = rows[0];
  return r ? { version: r.version, n: Number(r.n), totalLength: Number(r.total) } : null;
}

interface TermPostings {
  /** Chunk ordinals. */
  docs: Int32Array;
  /** Term frequency, with TITLE_BIT set when the term is in the chunk's title. */
  tf: Int32Array;
}
const TITLE_BIT = 1 << 30;

export interface TenantIndex {
  stats: IndexStats;
  /** Chunk ids by ordinal, and their analysed lengths. */
  ids: string[];
  lens: Int32Array;
  terms: Map<string, TermPostings>;
  bytes: number;
  /** Score accumulators and marks, one per chunk, cleared after each search (scoring is synchronous). */
  scratch: Float64Array;
  marks: Uint8Array;
}

/** A chunk found, by ordinal, with its exact BM25 score. */
export interface Scored {
  id: string;
  score: number;
}

/**
 * BM25 over weighted terms, as `bm25Weighted` computes it in SQL: Σ weight · idf · (tf-part + title bonus),
 * a weak expansion term in more than a tenth of a large tenant's chunks skipped, best first, ties by id.
 */
export function scoreIndex(ix: TenantIndex, terms: readonly WeightedTerm[], limit: number, p: Readonly<Bm25Params>, strongWeight: number): Scored[] {
  if (limit < 1) return [];
  const { n, totalLength } = ix.stats;
  const avgdl = Math.max(totalLength / Math.max(n, 1), 1);
  const common = Math.max(n * 0.1, 50);
  const acc = ix.scratch;
  const touched: number[] = [];
  for (const t of terms) {
    const post = ix.terms.get(t.term);
    if (!post) continue;
    const df = post.docs.length;
    if (!(t.weight >= strongWeight || df <= common)) continue;
    const idf = t.weight * Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (let i = 0; i < df; i++) {
      const d = post.docs[i]!;
      const packed = post.tf[i]!;
      const tf = packed & ~TITLE_BIT;
      const part = (tf * (p.k1 + 1)) / (tf + p.k1 * (1 - p.b + (p.b * ix.lens[d]!) / avgdl)) + (packed & TITLE_BIT ? p.titleBoost : 0);
      if (!ix.marks[d]) {
        ix.marks[d] = 1;
        touched.push(d);
      }
      acc[d]! += idf * part;
    }
  }
  // The best `limit`, kept sorted as they come (limit is small; most candidates fall below the last and
  // are passed over on their score alone).
  const best: Scored[] = [];
  for (const d of touched) {
    const score = acc[d]!;
    if (best.length === limit) {
      const last = best[limit - 1]!;
      if (score < last.score || (score === last.score && ix.ids[d]! > last.id)) continue;
    }
    const c = { id: ix.ids[d]!, score };
    let i = best.length === limit ? limit - 1 : best.length;
    while (i > 0 && (score > best[i - 1]!.score || (score === best[i - 1]!.score && c.id < best[i - 1]!.id))) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = c;
  }
  for (const d of touched) {
    acc[d] = 0;
    ix.marks[d] = 0;
  }
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
      bytes += 8;
    }
    if (bytes + building.size * 120 > maxBytes) return null;
    if (rows.length < LOAD_BATCH) break;
    const last = rows[rows.length - 1]!;
    after = [last.term, last.chunk_id];
  }
  const terms = new Map<string, TermPostings>();
  for (const [term, post] of building) terms.set(term, { docs: Int32Array.from(post.docs), tf: Int32Array.from(post.tf) });
  return {
    stats,
    ids,
    lens: Int32Array.from(lens),
    terms,
    bytes: bytes + terms.size * 120,
    scratch: new Float64Array(ids.length),
    marks: new Uint8Array(ids.length),
  };
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
