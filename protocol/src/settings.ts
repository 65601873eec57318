// The tenant's settings document as the admin API reads and writes it (GET / PUT /v1/admin/settings).
import { z } from 'zod';
import { SettingsSchema } from './admin.js';
import { PiiPolicySchema } from './pii.js';

/**
 * PUT /v1/admin/settings: the sections to replace. Each section sent replaces that section whole; a
 * section left out is kept; `null` (where allowed) removes it. Every level is strict: an unknown or
 * misspelt field is a 400 naming it, never dropped.
 */
export const PutSettingsRequest = SettingsSchema.extend({
  /** Per-class PII policy; classes left out take their safe default. */
  pii: PiiPolicySchema.optional(),
});
export type PutSettingsRequest = z.input<typeof PutSettingsRequest>;

/** The stored document: the sections a tenant has set (a missing section means its defaults apply). */
export const SettingsDocumentSchema = z.looseObject({ ...SettingsSchema.shape, pii: PiiPolicySchema.optional() });
export type SettingsDocument = z.infer<typeof SettingsDocumentSchema>;

export const SettingsResponse = z.object({
  settings: SettingsDocumentSchema,
  /** Bumped by every change to settings or identity configuration; audit entries record it. */
  policyVersion: z.number().int(),
});
export type SettingsResponse = z.infer<typeof SettingsResponse>;
export const PutSettingsResponse = z.object({ policyVersion: z.number().int() });
export type PutSettingsResponse = z.infer<typeof PutSettingsResponse>;
