// Where chunk embeddings live: pgvector in the tenant's own database (the default) or a Pinecone index
// with one namespace per tenant. A store only maps chunk ids to vectors; chunk text is always read back
// from Postgres under row-level security, so a store can never hand one tenant another tenant's text.
import type { Tx } from '../../db/types.js';

export interface VectorItem {
  chunkId: string;
  sourceId: string;
  /** The embedding model that produced the vector: vectors of different models are never compared. */
  model: string;
  /** Unit length (normalised by the caller), so cosine similarity is the dot product. */
  vector: number[];
}

export interface VectorMatch {
  chunkId: string;
  /** Cosine similarity, -1..1. */
  score: number;
}

export interface VectorStore {
  readonly name: 'pgvector' | 'pinecone';
  /** Stores or replaces the vectors of some chunks. `tx` is the tenant's own transaction. */
  upsert(tx: Tx, tenantId: string, items: VectorItem[]): Promise<void>;
  /** Forgets the vectors of deleted or replaced chunks; unknown ids are ignored. */
  remove(tx: Tx, tenantId: string, chunkIds: string[]): Promise<void>;
  /**
   * Forgets every vector of a tenant being deleted. pgvector's rows go with the tenant's other rows, so
   * only an external store has work to do; safe to repeat.
   */
  dropTenant(tenantId: string): Promise<void>;
  /** The nearest chunks of this tenant for vectors of `model`, best first. */
  query(tx: Tx, tenantId: string, model: string, vector: number[], limit: number): Promise<VectorMatch[]>;
}
