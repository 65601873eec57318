// The tenant's settings document as the admin API reads and writes it (/v1/admin/settings): PUT replaces
// the document, PATCH merges a JSON merge patch (RFC 7396) into it, and GET shows it with the settings in
// effect (every default applied).
import { z } from 'zod';
import { SettingsSchema } from './admin.js';
import { ApprovalSettingsSchema } from './approvals.js';
import type { AdminOperation } from './constants.js';
import { DEFAULT_RETENTION } from './lifecycle.js';
import { DEFAULT_PII_POLICY, PiiPolicySchema } from './pii.js';
import { SignInPolicySchema } from './people.js';
import { jsonValue } from './text.js';
import { WidgetSettingsSchema } from './widget.js';
import { BusinessHoursSchema } from './workspace.js';

/**
 * PUT /v1/admin/settings: the whole document. A section left out is removed (its defaults apply again);
 * `businessHours: null` is the same as leaving it out. Every level is strict: an unknown or misspelt field
 * is a 400 naming it, never dropped. The sign-in policy has its own endpoint and is kept.
 */
export const PutSettingsRequest = SettingsSchema.extend({
  /** Per-class PII policy; classes left out take their safe default. */
  pii: PiiPolicySchema.optional(),
});
export type PutSettingsRequest = z.input<typeof PutSettingsRequest>;

/**
 * PATCH /v1/admin/settings (`application/merge-patch+json`): merged into the stored document per RFC 7396
 * (objects merge, `null` removes a member, anything else replaces it), then the result is validated as a
 * whole document, with errors at the field's path.
 */
export const SettingsMergePatch = z.record(z.string(), jsonValue());
export type SettingsMergePatch = z.infer<typeof SettingsMergePatch>;

/** The stored document: the sections a tenant has set (a missing section means its defaults apply). */
export const SettingsDocumentSchema = z.looseObject({ ...SettingsSchema.shape, pii: PiiPolicySchema.optional() });
export type SettingsDocument = z.infer<typeof SettingsDocumentSchema>;

/** What applies when a tenant has set nothing. The widget's greeting and launcher text have no default: the widget says them in the visitor's language. */
export const DEFAULT_SETTINGS = {
  widget: { locale: 'auto', theme: 'auto', accentColor: '#2f6feb', position: 'bottom-right' },
  handoff: { threshold: 0.7, suggestThreshold: 0.4, sensitiveTopics: [] as string[] },
  budget: { requestsPerMinute: 30, tokensPerDay: 200_000 },
  retrieval: { mode: 'auto', synonyms: [] as string[], supportVocabulary: true },
  retention: DEFAULT_RETENTION,
  businessHours: null,
  pii: DEFAULT_PII_POLICY,
  approvals: { operations: [] as AdminOperation[] },
} as const;

/** The settings in effect: the document with every default applied (and the sign-in policy, set at its own endpoint). */
export const EffectiveSettingsSchema = z.object({
  widget: WidgetSettingsSchema.omit({ tenantName: true, identityMode: true }),
  handoff: z.object({ threshold: z.number().min(0).max(1), suggestThreshold: z.number().min(0).max(1), sensitiveTopics: z.array(z.string()) }),
  budget: z.object({ requestsPerMinute: z.number().int(), tokensPerDay: z.number().int() }),
  retrieval: z.object({ mode: z.enum(['auto', 'bm25', 'dense', 'hybrid']), synonyms: z.array(z.string()), supportVocabulary: z.boolean() }),
  retention: z.object({ messages: z.number().int(), webhookBodies: z.number().int(), verifiedProfiles: z.number().int() }),
  businessHours: BusinessHoursSchema.nullable(),
  pii: PiiPolicySchema,
  approvals: ApprovalSettingsSchema,
  signIn: SignInPolicySchema,
});
export type EffectiveSettings = z.infer<typeof EffectiveSettingsSchema>;

export const SettingsResponse = z.object({
  settings: SettingsDocumentSchema,
  /** Every setting as it applies now, defaults included. */
  effective: EffectiveSettingsSchema,
  /** Bumped by every change to settings or identity configuration; audit entries record it. */
  policyVersion: z.number().int(),
});
export type SettingsResponse = z.infer<typeof SettingsResponse>;
export const PutSettingsResponse = z.object({ policyVersion: z.number().int() });
export type PutSettingsResponse = z.infer<typeof PutSettingsResponse>;
