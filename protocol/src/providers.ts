// Admin API: bring-your-own AI provider keys. Keys are write-only: requests carry them, no response does.
import { z } from 'zod';
import { PROVIDERS } from './constants.js';
import { text } from './text.js';

export const ProviderNameSchema = z.enum(PROVIDERS);
export type ProviderName = z.infer<typeof ProviderNameSchema>;

// Printable ASCII without spaces: a pasted key with a stray newline or space is refused, not stored.
const apiKey = text()
  .min(8)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const modelName = text()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, 'must be a model identifier');

export const SetProviderRequest = z.strictObject({
  apiKey,
  model: modelName,
  /** `openai-compatible` only: the API root, e.g. `https://llm.example.com/v1` (https in production). */
  baseUrl: text().min(1).max(2048).optional(),
  embeddingModel: modelName.optional(),
});
export type SetProviderRequest = z.infer<typeof SetProviderRequest>;

export const ProviderSchema = z.object({
  provider: ProviderNameSchema,
  model: z.string(),
  embeddingModel: z.string().nullable(),
  baseUrl: z.string().nullable(),
  /** The last four characters of the key, to tell keys apart; the key itself is never returned. */
  last4: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type Provider = z.infer<typeof ProviderSchema>;
export const ProviderResponse = z.object({ provider: ProviderSchema });
/** The path of /v1/admin/providers/:provider. */
export const ProviderParams = z.object({ provider: ProviderNameSchema });

export const ProviderListResponse = z.object({ providers: z.array(ProviderSchema) });
