// The tenant's own provider as an `ai` SDK model. Keys come from the tenant's sealed credentials only.
import { lookup } from 'node:dns/promises';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { isInternalHost } from './providers/base-url.js';
import type { ProviderCredentials } from './providers/service.js';

export type ModelFor = (creds: ProviderCredentials) => LanguageModel;

/**
 * Requests to a tenant-chosen base URL. The URL was checked when it was saved, but a public name can
 * later resolve to an internal address, and a redirect can point anywhere; neither may carry the key
 * into our network. A host that was internal when saved (only possible in development) stays allowed.
 */
export const tenantFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input);
  if (!isInternalHost(url.hostname)) {
    const addresses = await lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true });
    if (!addresses.length || addresses.some((a) => isInternalHost(a.address))) throw new TypeError('provider host resolves to an internal address');
  }
  return fetch(input, { ...init, redirect: 'error' });
};

export const modelFor: ModelFor = (c) => {
  switch (c.provider) {
    case 'openai':
      return createOpenAI({ apiKey: c.apiKey })(c.model);
    case 'anthropic':
      return createAnthropic({ apiKey: c.apiKey })(c.model);
    case 'openai-compatible':
      return createOpenAICompatible({ name: 'tenant', apiKey: c.apiKey, baseURL: c.baseUrl!, fetch: tenantFetch })(c.model);
  }
};
