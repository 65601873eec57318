// The tenant's own provider as an `ai` SDK model. Keys come from the tenant's sealed credentials only.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { Limits } from '../outbound/outbound.js';
import type { ProviderLanguageModel } from './pii/outbound.js';
import type { ProviderCredentials } from './providers/service.js';

/** Builds a provider's model; the server only ever uses one through guardedModels (ai/pii/outbound.ts). */
export type ModelFor = (creds: ProviderCredentials) => ProviderLanguageModel;

/**
 * Limits for provider calls through the outbound module. A tenant's base URL was checked when it was
 * saved, but a public name can later resolve to an internal address and a redirect can point anywhere;
 * the module checks the address it connects to, and redirects are refused so the key goes nowhere else.
 * Large enough for a batch of embeddings, long enough for a generation.
 */
export const PROVIDER_LIMITS: Partial<Limits> = { redirect: 'error', maxBytes: 32 * 1024 * 1024, timeoutMs: 120_000, connectTimeoutMs: 10_000 };

/** Models whose every request goes through `fetch` (the outbound module's, with PROVIDER_LIMITS). */
export function providerModels(fetch: typeof globalThis.fetch): ModelFor {
  return (c) => {
    switch (c.provider) {
      case 'openai':
        return createOpenAI({ apiKey: c.apiKey, fetch })(c.model);
      case 'anthropic':
        return createAnthropic({ apiKey: c.apiKey, fetch })(c.model);
      case 'openai-compatible':
        return createOpenAICompatible({ name: 'tenant', apiKey: c.apiKey, baseURL: c.baseUrl!, fetch })(c.model);
    }
  };
}
