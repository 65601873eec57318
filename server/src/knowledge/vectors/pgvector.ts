// Vectors in the tenant's own database, under the same row-level security as the chunks: pgvector's
// cosine distance where the extension exists, an exact dot product over real[] where it does not.
import type { Tx } from '../../db/types.js';
import type { VectorItem, VectorMatch, VectorStore } from './store.js';

const BATCH = 500;
// Vectors travel as text literals: '[…]' for pgvector, '{…}' for real[] (both parse the same numbers).
const literal = (v: number[], pgvector: boolean) => (pgvector ? `[${v.join(',')}]` : `{${v.join(',')}}`);

export function pgVectorStore(): VectorStore {
  // Fixed by migration 060 for the life of the database.
  let native: boolean | undefined;
  const usesPgvector = async (tx: Tx): Promise<boolean> => {
    if (native === undefined) {
      const { rows } = await tx.query<{ type: string }>(
        "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'knowledge_vectors'::regclass AND attname = 'embedding'",
      );
      native = rows[0]?.type === 'vector';
    }
    return native;
  };

  return {
    name: 'pgvector',
    async upsert(tx, tenantId, items: VectorItem[]) {
      const pgvector = await usesPgvector(tx);
      for (let i = 0; i < items.length; i += BATCH) {
        const b = items.slice(i, i + BATCH);
        await tx.query(
          `INSERT INTO knowledge_vectors (chunk_id, tenant_id, model, dims, embedding)
           SELECT u.c, $1, u.m, u.d, u.v::${pgvector ? 'vector' : 'real[]'}
             FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[]) AS u(c, m, d, v)
           ON CONFLICT (chunk_id) DO UPDATE SET model = EXCLUDED.model, dims = EXCLUDED.dims, embedding = EXCLUDED.embedding`,
          [tenantId, b.map((x) => x.chunkId), b.map((x) => x.model), b.map((x) => x.vector.length), b.map((x) => literal(x.vector, pgvector))],
        );
      }
    },
    async remove(tx, _tenantId, chunkIds) {
      // Deleting a chunk cascades to its vector; this covers vectors dropped while their chunk stays.
      if (chunkIds.length) await tx.query('DELETE FROM knowledge_vectors WHERE chunk_id = ANY($1::uuid[])', [chunkIds]);
    },
    async dropTenant() {
      // knowledge_vectors rows carry tenant_id: the tenant deletion removes them with its other rows.
    },
    async query(tx, tenantId, model, vector, limit): Promise<VectorMatch[]> {
      const pgvector = await usesPgvector(tx);
      const { rows } = await tx.query<{ chunk_id: string; score: number }>(
        pgvector
          ? `SELECT chunk_id, 1 - (embedding <=> $4::vector) AS score FROM knowledge_vectors
              WHERE tenant_id = $1 AND model = $2 AND dims = $3 ORDER BY embedding <=> $4::vector, chunk_id LIMIT $5`
          : `SELECT chunk_id, parley_dot(embedding, $4::real[]) AS score FROM knowledge_vectors
              WHERE tenant_id = $1 AND model = $2 AND dims = $3 ORDER BY score DESC, chunk_id LIMIT $5`,
        [tenantId, model, vector.length, literal(vector, pgvector), limit],
      );
      return rows.map((r) => ({ chunkId: r.chunk_id, score: Number(r.score) }));
    },
  };
}
