// Embeddings through the tenant's own provider and key. Every model is wrapped in the outbound redaction
// middleware (every class strict, whatever the tenant relaxed), so an embedding provider never sees raw PII.
import { createHash } from 'node:crypto';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embedMany } from 'ai';
import type { Keyring } from '../crypto/keyring.js';
import type { Tx } from '../db/types.js';
import { normalise, type Embedder, type Embeddings } from '../knowledge/vectors/embed.js';
import { recordUsage } from './budget.js';
import type { PiiPolicy } from './pii/index.js';
import { asSent, guardedEmbeddings, type ProviderEmbeddingModel } from './pii/outbound.js';
import { tenantPolicy } from './pii/redactor.js';
import { resolveProviderCredentials, type ProviderCredentials } from './providers/service.js';

export type EmbeddingCredentials = ProviderCredentials & { embeddingModel: string };
export type EmbeddingModelFor = (creds: EmbeddingCredentials) => ProviderEmbeddingModel;

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

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function embedderFor(creds: EmbeddingCredentials, policy: PiiPolicy, model: ProviderEmbeddingModel): Embedder {
  return {
    modelKey: `${creds.provider}:${creds.embeddingModel}`,
    provider: creds.provider,
    model: creds.embeddingModel,
    async embed(values) {
      const started = performance.now();
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
          requestSha256: sha256(JSON.stringify(asSent(values, policy))),
          responseSha256: sha256(JSON.stringify(out.embeddings)),
        },
      };
    },
  };
}

/** Tenants' embedders from their own providers; `modelFor` builds the models (tests put the ai SDK's test model there). */
export function tenantEmbeddings(keyring: Keyring, modelFor: EmbeddingModelFor): Embeddings {
  const model = guardedEmbeddings(modelFor);
  return {
    async forTenant(tx: Tx, tenantId: string) {
      const creds = (await resolveProviderCredentials(tx, keyring, tenantId)).find(
        (c): c is EmbeddingCredentials => c.embeddingModel !== null && c.provider !== 'anthropic',
      );
      if (!creds) return null;
      const policy = await tenantPolicy(tx);
      return embedderFor(creds, policy, model(creds, policy));
    },
    recordUsage,
  };
}
