// The tenant's own provider as an `ai` SDK model. Keys come from the tenant's sealed credentials only.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import type { ProviderCredentials } from './providers/service.js';

export type ModelFor = (creds: ProviderCredentials) => LanguageModel;

export const modelFor: ModelFor = (c) => {
  switch (c.provider) {
    case 'openai':
      return createOpenAI({ apiKey: c.apiKey })(c.model);
    case 'anthropic':
      return createAnthropic({ apiKey: c.apiKey })(c.model);
    case 'openai-compatible':
      return createOpenAICompatible({ name: 'tenant', apiKey: c.apiKey, baseURL: c.baseUrl! })(c.model);
  }
};
