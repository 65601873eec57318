// What knowledge needs of an embedding model: an Embedder per tenant, and where its usage is counted.
// The AI layer implements it (ai/embeddings.ts: the tenant's provider and key, redaction as middleware),
// so knowledge never imports ai.
import type { Tx } from '../../db/types.js';

export interface EmbeddingCall {
  provider: string;
  model: string;
  count: number;
  inputTokens: number;
  latencyMs: number;
  requestSha256: string;
  responseSha256: string;
}

export interface Embedder {
  /** Names the provider and model: vectors are only ever compared with vectors of the same key. */
  readonly modelKey: string;
  readonly provider: string;
  readonly model: string;
  embed(texts: string[]): Promise<{ vectors: number[][]; call: EmbeddingCall }>;
}

export interface Embeddings {
  /**
   * The tenant's embedder, or null when no provider has an embedding model. `tx` must be the tenant's
   * own transaction (credentials refuse to open anywhere else).
   */
  forTenant(tx: Tx, tenantId: string): Promise<Embedder | null>;
  /** Counts an embedding call's tokens against the tenant's AI budget. */
  recordUsage(tx: Tx, tenantId: string, tokens: number): Promise<void>;
}

export function normalise(v: readonly number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm > 0 ? v.map((x) => x / norm) : v.map(() => 0);
}
