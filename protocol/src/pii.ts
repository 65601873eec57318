// The PII policy: which kinds of personal data are recognised, and what happens to each before text
// reaches a model (the `pii` section of the tenant's settings). One definition for the server, which
// enforces it, the admin API, which validates it, and the reference, which documents it.
import { z } from 'zod';

/** The kinds of personal data the engine recognises. */
export const PII_CLASSES = [
  'person',
  'email',
  'phone',
  'address',
  'government_id',
  'payment_card',
  'bank_account',
  'ip_address',
  'date_of_birth',
  'credential',
  'health',
  'minor',
] as const;
export type PiiClass = (typeof PII_CLASSES)[number];

/**
 * strict: replaced by a numbered token, the original is dropped.
 * reversible: replaced by a numbered token, the original is sealed so an agent may reveal it (audited).
 * flag: left in place, reported as a match.
 */
export const PII_MODES = ['strict', 'reversible', 'flag'] as const;
export type PiiMode = (typeof PII_MODES)[number];
export const PiiModeSchema = z.enum(PII_MODES);

/** Where text comes from; a class may take another mode on one channel. */
export const PII_CHANNELS = ['widget', 'api', 'email'] as const;
export type PiiChannel = (typeof PII_CHANNELS)[number];
export const PiiChannelSchema = z.enum(PII_CHANNELS);

// Strict at every level: an unknown key is a mistake to report, never to drop (dropping `email` from
// `{email: 'strict'}` left an empty policy, which silently reset every class to its default).
export const PiiClassPolicySchema = z.strictObject({
  mode: PiiModeSchema,
  /** Matches scoring below this (0..1) are ignored. */
  minScore: z.number().min(0).max(1),
  /** Per-channel mode overrides; a channel not listed uses `mode`. */
  channels: z.partialRecord(PiiChannelSchema, PiiModeSchema).optional(),
});
export type PiiClassPolicy = z.infer<typeof PiiClassPolicySchema>;

export interface PiiPolicy {
  classes: Record<PiiClass, PiiClassPolicy>;
}

/**
 * Safe defaults. Anything that lets someone act as the person or move money (credentials, cards,
 * government ids, bank accounts) is never recoverable. Contact and identity details a human agent may
 * need to help (names, emails, phones, addresses, IPs, birth dates) are reversible. Health indicators
 * are special-category data, so they are kept away from the AI provider but recoverable by the agent.
 * Minor indicators are flagged rather than hidden: the signal matters for handoff and consent more
 * than the words themselves. Thresholds sit where the recognisers' context-free guesses fall below.
 */
export const DEFAULT_PII_POLICY: PiiPolicy = {
  classes: {
    person: { mode: 'reversible', minScore: 0.5 },
    email: { mode: 'reversible', minScore: 0.5 },
    phone: { mode: 'reversible', minScore: 0.5 },
    address: { mode: 'reversible', minScore: 0.5 },
    government_id: { mode: 'strict', minScore: 0.5 },
    payment_card: { mode: 'strict', minScore: 0.5 },
    bank_account: { mode: 'strict', minScore: 0.5 },
    ip_address: { mode: 'reversible', minScore: 0.5 },
    date_of_birth: { mode: 'reversible', minScore: 0.5 },
    credential: { mode: 'strict', minScore: 0.4 },
    health: { mode: 'reversible', minScore: 0.6 },
    minor: { mode: 'flag', minScore: 0.6 },
  },
};

/** A tenant's policy as sent to the admin API; classes left out take their safe default. */
export const PiiPolicySchema = z.strictObject({
  classes: z
    .strictObject(
      Object.fromEntries(PII_CLASSES.map((c) => [c, PiiClassPolicySchema.default(DEFAULT_PII_POLICY.classes[c])])) as {
        [K in PiiClass]: z.ZodDefault<typeof PiiClassPolicySchema>;
      },
    )
    .default(DEFAULT_PII_POLICY.classes),
}) satisfies z.ZodType<PiiPolicy, unknown>;

/** One span of personal data the PII engine found, and what the policy did with it. */
export const PiiMatchSchema = z.object({
  class: z.enum(PII_CLASSES),
  /** UTF-16 code unit offsets into the text, end exclusive. */
  start: z.number().int().min(0),
  end: z.number().int().min(0),
  /** Confidence in [0, 1]. */
  score: z.number().min(0).max(1),
  /** `strict` and `reversible` replaced it with a numbered token; `flag` left it in place. */
  action: PiiModeSchema,
});
export type PiiMatch = z.infer<typeof PiiMatchSchema>;

/**
 * POST /v1/admin/pii/scan: what the tenant's policy finds in a text, and the text as a model would see it.
 * Each match's span is what the policy replaces: a name's honorific ("Dr.") is in it unless the match is only flagged.
 */
export const PiiScanResponse = z.object({ matches: z.array(PiiMatchSchema), redacted: z.string() });
export type PiiScanResponse = z.infer<typeof PiiScanResponse>;
