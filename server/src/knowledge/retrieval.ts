// Retrieval as a tenant configures it: BM25 in Postgres (always available), dense (cosine over the
// tenant's embeddings) or hybrid (the two fused by reciprocal rank). Whatever store holds the vectors,
// chunk text is read back from Postgres inside the tenant's transaction, so row-level security has the
// last word on what a tenant can see. Without an embedding model, or when the provider fails, retrieval
// falls back to BM25 rather than failing the visitor.
import { inSpan } from '../telemetry/spans.js';
import { atFourPlaces, BM25, passageResult, readPassages, type Retrieve, type RetrievedChunk } from './retrieve.js';
import type { Passage } from './passage-cache.js';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import { txTenant } from '../db/tx-memo.js';
import type { Tx } from '../db/types.js';
import { withoutPlaceholders } from './analyze.js';
import { lexicalSearch } from './lexical.js';
import { indexStats, loadIndex, type MemoryIndexOptions, MemoryIndexes, precompute } from './memory-index.js';
import type { Embedder, EmbeddingCall, Embeddings } from './vectors/embed.js';
import type { VectorStore } from './vectors/store.js';
import type { EffectiveSettings } from '@parley/protocol';
import { tenantSettings } from '../tenants/settings.js';
import type { RetrievalInputs, RetrievalInputsCache } from './inputs-cache.js';

export type RetrievalMode = 'bm25' | 'dense' | 'hybrid';
export const RETRIEVAL_MODES = ['auto', 'bm25', 'dense', 'hybrid'] as const;

export interface RetrievalDeps {
  db: Db;
  audit: AuditLog;
  vectors: VectorStore;
  /** Tenants' embedders and their usage (implemented by ai/embeddings.ts). */
  embeddings: Embeddings;
  /** In-memory copies of tenants' BM25 indexes (memory-index.ts); unset, or 0 bytes, scores every search in SQL. */
  memory?: Omit<MemoryIndexOptions, 'load'>;
  /** What a search of the admin API reads before it scores, kept while this instance hears its notices (inputs-cache.ts). */
  inputs?: RetrievalInputsCache;
}

export interface SearchResult {
  mode: RetrievalMode;
  results: RetrievedChunk[];
}

// Reciprocal rank fusion (Cormack et al. 2009): k = 60 damps the weight of the very first ranks.
const RRF_K = 60;
const CHUNK_BATCH = 128;

/** Fuses ranked lists of ids: score(d) = Σ 1 / (k + rank). Best first, ties by id for stable output. */
export function reciprocalRankFusion(lists: string[][], k = RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists) list.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + i + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

// How strongly the best passage matches, 0..1, for the answer's confidence. BM25 saturates (a strong
// match scores ~10+, a weak one ~1); cosine similarity of related text sits roughly between 0.25 and 0.75.
export const bm25Strength = (score: number) => (score > 0 ? score / (score + 4) : 0);
export const cosineStrength = (cos: number) => Math.min(1, Math.max(0, (cos - 0.25) / 0.5));

const toChunk = (r: Passage, score: number, strength: number): RetrievedChunk => ({ ...passageResult(r, score), strength: atFourPlaces(strength) });

export interface SearchOptions {
  requestId?: string | null;
  /** Overrides the tenant's setting. */
  mode?: 'auto' | RetrievalMode;
}

/** A search's call to embed its query: what it cost, or how it failed. */
type QueryEmbedding = EmbeddingCall | { provider: string; model: string; error: string };

export class KnowledgeRetrieval {
  /** This instance's copies of tenants' BM25 postings (null: off). */
  readonly indexes: MemoryIndexes | null;

  constructor(private readonly deps: RetrievalDeps) {
    const { memory } = deps;
    this.indexes = memory?.maxBytes
      ? new MemoryIndexes({
          ...memory,
          load: async (tenantId, max) => {
            const index = await loadIndex((fn) => deps.db.withTenantRead(tenantId, { requestId: null }, fn), max);
            return index && precompute(index, BM25);
          },
        })
      : null;
  }

  private async audit(tx: Tx, tenantId: string, requestId: string | null, call: 'index' | 'query', m: Partial<EmbeddingCall> & { error?: string }) {
    await this.deps.audit.append(tx, {
      tenantId,
      requestId,
      actor: { type: 'system', id: 'retrieval' },
      action: 'ai.embed',
      metadata: { call, ...m },
    });
  }

  /** Audits a search's embedding calls and counts their usage (on the primary: the search may have read a replica). */
  private async record(tx: Tx, tenantId: string, requestId: string | null, spent: QueryEmbedding[]) {
    for (const s of spent) {
      await this.audit(tx, tenantId, requestId, 'query', s);
      if (!('error' in s)) await this.deps.embeddings.recordUsage(tx, tenantId, s.inputTokens);
    }
  }

  private async embedder(tx: Tx, tenantId: string): Promise<Embedder | null> {
    return this.deps.embeddings.forTenant(tx, tenantId);
  }

  /** The tenant's configured mode (`auto` is hybrid once an embedding model is configured) and vocabulary. */
  private async settings(tx: Tx): Promise<EffectiveSettings['retrieval']> {
    return (await tenantSettings(tx)).retrieval;
  }

  /**
   * Searches `tenantId`'s knowledge on the read path (the read replica when there is one, see db/replica.ts);
   * the query's embedding call, if any, is then audited and counted on the primary.
   */
  async searchTenant(tenantId: string, query: string, limit: number, opts: SearchOptions = {}): Promise<SearchResult> {
    const requestId = opts.requestId ?? null;
    // Outside the transaction: a read retried on the primary after a replica failure records both calls.
    const spent: QueryEmbedding[] = [];
    const known = await this.keptInputs(tenantId, requestId);
    const result = await this.deps.db.withTenantRead(tenantId, { requestId }, (tx) => this.read(tx, query, limit, opts, spent, known));
    if (spent.length) await this.deps.db.withTenant(tenantId, { requestId }, (tx) => this.record(tx, tenantId, requestId, spent));
    return result;
  }

  /**
   * The tenant's kept inputs (inputs-cache.ts) when this instance keeps them and the tenant has no embedding
   * model (whose credentials a search reads as before); undefined: the search reads them itself. A miss reads
   * them on the primary, read-only: a replica behind a change just announced would keep it unseen for the TTL.
   */
  private async keptInputs(tenantId: string, requestId: string | null): Promise<RetrievalInputs | undefined> {
    const { inputs, db } = this.deps;
    if (!inputs?.keeping) return undefined;
    const kept = await inputs.get(tenantId, () =>
      db.withTenantRead(
        tenantId,
        { requestId },
        async (tx) => {
          const [settings, stats, embedder] = await Promise.all([this.settings(tx), indexStats(tx), this.embedder(tx, tenantId)]);
          return { tenantId, settings, stats, embedder: embedder !== null };
        },
        { tenantId, reads: new Map() },
      ),
    );
    return kept.embedder ? undefined : kept;
  }

  /** Searches the tenant set on `tx`, a writable transaction (its embedding call is recorded there too). */
  async search(tx: Tx, query: string, limit: number, opts: SearchOptions = {}): Promise<SearchResult> {
    const spent: QueryEmbedding[] = [];
    const result = await this.read(tx, query, limit, opts, spent);
    const tenantId = spent.length ? await txTenant(tx) : null;
    if (tenantId) await this.record(tx, tenantId, opts.requestId ?? null, spent);
    return result;
  }

  /** Starts the reads a search in `tx` makes first, so that a caller can ask for them with its own (db/postgres.ts). */
  prefetch(tx: Tx): Promise<unknown> {
    return this.indexes ? indexStats(tx) : Promise.resolve(null);
  }

  /** Searches the tenant set on `tx`, which may be on the read path: see {@link Retrieve}. */
  async searchIn(tx: Tx, query: string, limit: number, requestId: string | null): ReturnType<Retrieve> {
    const spent: QueryEmbedding[] = [];
    const { results } = await this.read(tx, query, limit, {}, spent);
    const tenantId = spent.length ? await txTenant(tx) : null;
    return tenantId ? { results, record: (w) => this.record(w, tenantId, requestId, spent) } : { results };
  }

  /** The search itself: reads only; the embedding call it makes is pushed onto `spent`. */
  private read(tx: Tx, query: string, limit: number, opts: SearchOptions, spent: QueryEmbedding[], known?: RetrievalInputs): Promise<SearchResult> {
    // The span says how, and how much: never the query.
    return inSpan('knowledge.retrieve', { 'parley.retrieval.limit': limit }, async (span) => {
      const found = await this.readIn(tx, query, limit, opts, spent, known);
      span.setAttributes({ 'parley.retrieval.mode': found.mode, 'parley.retrieval.results': found.results.length });
      return found;
    });
  }

  private async readIn(
    tx: Tx,
    query: string,
    limit: number,
    opts: SearchOptions,
    spent: QueryEmbedding[],
    known?: RetrievalInputs,
  ): Promise<SearchResult> {
    const tenantId = await txTenant(tx);
    // Asked together, these reads go to the database in one message (db/postgres.ts): the settings, the
    // copy's version (which only BM25 uses) and the embedder (which a search the caller asked to be BM25
    // does not, nor one of a tenant whose setting is BM25). Kept inputs, of a tenant without an embedder,
    // stand for all three.
    const [settings, stats, embedder] = known
      ? [known.settings, this.indexes ? known.stats : null, null]
      : await Promise.all([
          this.settings(tx),
          tenantId && this.indexes ? indexStats(tx) : null,
          tenantId && opts.mode !== 'bm25' ? this.embedder(tx, tenantId) : null,
        ]);
    const configured = opts.mode ?? settings.mode;
    const bm25 = async (n: number) => {
      const index = stats && tenantId ? this.indexes!.current(tenantId, stats) : null;
      return (await lexicalSearch(tx, query, n, { synonyms: settings.synonyms, lexicon: settings.supportVocabulary, index })).map((c) => ({
        ...c,
        strength: atFourPlaces(bm25Strength(c.score)),
      }));
    };
    // A message of placeholders alone leaves nothing to embed (and nothing for BM25 to find).
    const text = withoutPlaceholders(query).trim();
    if (!tenantId || configured === 'bm25' || !embedder || !text) return { mode: 'bm25', results: await bm25(limit) };
    let vector: number[];
    try {
      const { vectors, call } = await embedder.embed([text]);
      vector = vectors[0]!;
      spent.push(call);
    } catch (err) {
      spent.push({ provider: embedder.provider, model: embedder.model, error: err instanceof Error ? err.name : 'Error' });
      return { mode: 'bm25', results: await bm25(limit) };
    }

    const mode: RetrievalMode = configured === 'auto' ? 'hybrid' : configured;
    // Fusion needs depth: a passage ranked 12th by both lists can beat one ranked 1st by only one.
    const depth = mode === 'hybrid' ? Math.max(limit * 4, 40) : limit;
    const dense = await this.deps.vectors.query(tx, tenantId, embedder.modelKey, vector, depth);
    const denseScore = new Map(dense.map((m) => [m.chunkId, m.score]));
    if (mode === 'dense') {
      const rows = await readPassages(
        tx,
        dense.map((m) => m.chunkId),
      );
      return {
        mode,
        results: dense.flatMap((m) => {
          const r = rows.get(m.chunkId);
          return r ? [toChunk(r, m.score, cosineStrength(m.score))] : [];
        }),
      };
    }

    const lexical = await bm25(depth);
    const lexicalById = new Map(lexical.map((c) => [c.chunkId, c]));
    const fused = reciprocalRankFusion([lexical.map((c) => c.chunkId), dense.map((m) => m.chunkId)]);
    const rows = await readPassages(
      tx,
      fused
        .slice(0, limit * 2)
        .map((f) => f.id)
        .filter((id) => !lexicalById.has(id)),
    );
    const results: RetrievedChunk[] = [];
    for (const f of fused) {
      if (results.length >= limit) break;
      const lex = lexicalById.get(f.id);
      const strength = Math.max(lex ? bm25Strength(lex.score) : 0, cosineStrength(denseScore.get(f.id) ?? 0));
      if (lex) results.push({ ...lex, score: atFourPlaces(f.score), strength: atFourPlaces(strength) });
      else {
        const r = rows.get(f.id);
        if (r) results.push(toChunk(r, f.score, strength));
      }
    }
    return { mode, results };
  }

  /**
   * Embeds the tenant's chunks that have no vector from its current model, in batches, each written in
   * its own transaction once the provider answered (no transaction waits on the network). A provider
   * error stops the run and leaves the rest pending for the next sync; retrieval meanwhile uses what is
   * embedded, plus BM25.
   */
  async embedPending(
    tenantId: string,
    requestId: string | null,
  ): Promise<{ model: string | null; embedded: number; pending: number; error?: string }> {
    const { db } = this.deps;
    let embedded = 0;
    for (;;) {
      const next = await db.withTenant(tenantId, { requestId }, async (tx) => {
        const embedder = await this.embedder(tx, tenantId);
        if (!embedder) return null;
        const { rows } = await tx.query<{ id: string; source_id: string; title: string; text: string }>(
          'SELECT id, source_id, title, text FROM knowledge_chunks WHERE embedded_model IS DISTINCT FROM $1 ORDER BY id LIMIT $2',
          [embedder.modelKey, CHUNK_BATCH],
        );
        return { embedder, rows };
      });
      if (!next) return { model: null, embedded, pending: 0 };
      const { embedder, rows } = next;
      if (!rows.length) return { model: embedder.modelKey, embedded, pending: 0 };
      let result: Awaited<ReturnType<Embedder['embed']>>;
      try {
        result = await embedder.embed(rows.map((r) => `${r.title}\n${r.text}`));
        if (result.vectors.length !== rows.length) throw new Error('the provider returned a different number of embeddings');
      } catch (err) {
        const error = err instanceof Error ? err.name : 'Error';
        const pending = await db.withTenant(tenantId, { requestId }, async (tx) => {
          await this.audit(tx, tenantId, requestId, 'index', { provider: embedder.provider, model: embedder.model, count: rows.length, error });
          const { rows: n } = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM knowledge_chunks WHERE embedded_model IS DISTINCT FROM $1',
            [embedder.modelKey],
          );
          return n[0]!.n;
        });
        return { model: embedder.modelKey, embedded, pending, error };
      }
      await db.withTenant(tenantId, { requestId }, async (tx) => {
        // Chunks replaced or deleted while the provider was working are skipped.
        const { rows: alive } = await tx.query<{ id: string }>('SELECT id FROM knowledge_chunks WHERE id = ANY($1::uuid[]) FOR UPDATE', [
          rows.map((r) => r.id),
        ]);
        const keep = new Set(alive.map((r) => r.id));
        const items = rows.flatMap((r, i) =>
          keep.has(r.id) ? [{ chunkId: r.id, sourceId: r.source_id, model: embedder.modelKey, vector: result.vectors[i]! }] : [],
        );
        await this.deps.vectors.upsert(tx, tenantId, items);
        await tx.query('UPDATE knowledge_chunks SET embedded_model = $2 WHERE id = ANY($1::uuid[])', [
          items.map((i) => i.chunkId),
          embedder.modelKey,
        ]);
        await this.audit(tx, tenantId, requestId, 'index', result.call);
        await this.deps.embeddings.recordUsage(tx, tenantId, result.call.inputTokens);
        embedded += items.length;
      });
    }
  }
}
