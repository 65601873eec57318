// Embeddings through the tenant's own provider and key. Text is redacted exactly like a prompt before it
// leaves (every class strict, whatever the tenant relaxed), so an embedding provider never sees raw PII.
import { createHash } from 'node:crypto';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embedMany, type EmbeddingModel } from 'ai';
import { redactOutbound } from '../../ai/generative.js';
import type { PiiPolicy } from '../../ai/pii/index.js';
import { tenantPolicy } from '../../ai/pii/redactor.js';
import { resolveProviderCredentials, type ProviderCredentials } from '../../ai/providers/service.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { Tx } from '../../db/types.js';

export type EmbeddingCredentials = ProviderCredentials & { embeddingModel: string };
export type EmbeddingModelFor = (creds: EmbeddingCredentials) => EmbeddingModel;

/** Embedding models whose every request goes through `fetch` (the outbound module's, with PROVIDER_LIMITS). */
export function providerEmbeddings(fetch: typeof globalThis.fetch): EmbeddingModelFor {
  return (c) => {
    switch (c.provider) {
      case 'openai':
        return createOpenAI({ apiKey: c.apiKey, fetch }).embedding(c.embeddingModel);
      case 'openai-compatible':
        return createOpenAICompatible({ name: 'tenant', apiKey: c.apiKey, baseURL: c.baseUrl!, fetch }).embeddingModel(c.embeddingModel);
      case 'anthropic':
        // Refused when the provider is saved; kept exhaustive for the type checker.
        throw new Error('anthropic offers no embedding models');
    }
  };
}

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

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function normalise(v: readonly number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm > 0 ? v.map((x) => x / norm) : v.map(() => 0);
}

export function embedderFor(creds: EmbeddingCredentials, policy: PiiPolicy, modelFor: EmbeddingModelFor): Embedder {
  const model = modelFor(creds);
  return {
    modelKey: `${creds.provider}:${creds.embeddingModel}`,
    provider: creds.provider,
    model: creds.embeddingModel,
    async embed(texts) {
      const started = performance.now();
      const values = texts.map((t) => redactOutbound(t, policy));
      // No retries here: the caller keeps the chunks pending and tries again on the next sync.
      const out = await embedMany({ model, values, maxRetries: 0 });
      const vectors = out.embeddings.map(normalise);
      return {
        vectors,
        call: {
          provider: creds.provider,
          model: creds.embeddingModel,
          count: values.length,
          inputTokens: out.usage?.tokens ?? 0,
          latencyMs: Math.round(performance.now() - started),
          // Hashes of what was sent and received, never the payloads.
          requestSha256: sha256(JSON.stringify(values)),
          responseSha256: sha256(JSON.stringify(out.embeddings)),
        },
      };
    },
  };
}

/**
 * The tenant's embedder, or null when no provider has an embedding model. `tx` must be the tenant's
 * own transaction (credentials refuse to open anywhere else).
 */
export async function tenantEmbedder(tx: Tx, keyring: Keyring, tenantId: string, modelFor: EmbeddingModelFor): Promise<Embedder | null> {
  const creds = (await resolveProviderCredentials(tx, keyring, tenantId)).find((c): c is EmbeddingCredentials => c.embeddingModel !== null && c.provider !== 'anthropic');
  if (!creds) return null;
  return embedderFor(creds, await tenantPolicy(tx), modelFor);
}
