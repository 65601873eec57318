// Vectors in a Pinecone index, one namespace per tenant. Pinecone holds only chunk ids, vectors and the
// model name; chunk text is read back from Postgres under row-level security, so an id that strayed
// into the wrong namespace could still never show one tenant another tenant's text.
import type { Pinecone } from '@pinecone-database/pinecone';
import type { VectorStore } from './store.js';

// Pinecone's limits per upsert request: 1,000 vectors and 2 MB; deletes take up to 1,000 ids.
const MAX_UPSERT_VECTORS = 1000;
const MAX_UPSERT_BYTES = 1_800_000;
const MAX_DELETE_IDS = 1000;
const MAX_TOP_K = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class VectorStoreError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'VectorStoreError';
  }
}

/** The tenant's namespace, from the authenticated tenant id only. */
export function namespaceFor(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new VectorStoreError('a tenant id is required to choose a namespace');
  return `tenant-${tenantId.toLowerCase()}`;
}

// The client's error classes, by name, and the HTTP status each stands for.
const STATUS_OF: Record<string, number> = {
  PineconeBadRequestError: 400,
  PineconeAuthorizationError: 401,
  PineconeNotFoundError: 404,
  PineconeConflictError: 409,
  PineconeUnprocessableEntityError: 422,
  PineconeInternalServerError: 500,
  PineconeNotImplementedError: 501,
  PineconeUnavailableError: 503,
};

type Metadata = { sourceId: string; model: string };

export function pineconeStore(opts: { apiKey: string; indexHost: string; fetchApi?: typeof fetch }): VectorStore {
  // The client loads on first use: an instance that never touches vectors never pays for it.
  let client: Promise<Pinecone> | undefined;
  const index = async (tenantId: string) => {
    client ??= import('@pinecone-database/pinecone').then(
      ({ Pinecone }) => new Pinecone({ apiKey: opts.apiKey, maxRetries: 2, ...(opts.fetchApi ? { fetchApi: opts.fetchApi } : {}) }),
    );
    return (await client).index<Metadata>({ host: opts.indexHost, namespace: namespaceFor(tenantId) });
  };
  // The client's errors can quote request details; only a status and a fixed message leave here.
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const status = STATUS_OF[err instanceof Error ? err.name : ''];
      throw new VectorStoreError(`Pinecone ${what} failed${status ? ` (HTTP ${status})` : ''}`, status);
    }
  };

  // `tx` is unused: the caller reads chunk text back from Postgres inside the tenant's transaction.
  return {
    name: 'pinecone',
    async upsert(_tx, tenantId, items) {
      const idx = await index(tenantId);
      let batch: typeof items = [];
      let bytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        const records = batch.map((i) => ({ id: i.chunkId, values: i.vector, metadata: { sourceId: i.sourceId, model: i.model } }));
        batch = [];
        bytes = 0;
        await guard('upsert', () => idx.upsert({ records }));
      };
      for (const item of items) {
        // JSON numbers average ~20 bytes each, plus ids and metadata.
        const size = item.vector.length * 22 + 200;
        if (batch.length >= MAX_UPSERT_VECTORS || bytes + size > MAX_UPSERT_BYTES) await flush();
        batch.push(item);
        bytes += size;
      }
      await flush();
    },
    async remove(_tx, tenantId, chunkIds) {
      const idx = await index(tenantId);
      for (let i = 0; i < chunkIds.length; i += MAX_DELETE_IDS) {
        const ids = chunkIds.slice(i, i + MAX_DELETE_IDS);
        await guard('delete', () => idx.deleteMany({ ids }));
      }
    },
    async dropTenant(tenantId) {
      // The whole namespace: ids the database no longer lists (a crash between the two) go too.
      await guard('delete', async () => (await index(tenantId)).deleteAll());
    },
    async query(_tx, tenantId, model, vector, limit) {
      const res = await guard('query', async () =>
        (await index(tenantId)).query({
          vector,
          topK: Math.min(limit, MAX_TOP_K),
          filter: { model: { $eq: model } },
          includeValues: false,
          includeMetadata: false,
        }),
      );
      return (res.matches ?? []).map((m) => ({ chunkId: m.id, score: m.score ?? 0 }));
    },
  };
}
