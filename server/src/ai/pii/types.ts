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

export const MODES = ['strict', 'reversible', 'flag'] as const;
/**
 * strict: replaced by a numbered token, the original is dropped.
 * reversible: replaced by a numbered token, the original is handed back in `vault` for the caller to seal.
 * flag: left in place, reported as a match.
 */
export type Mode = (typeof MODES)[number];

export const CHANNELS = ['widget', 'api', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A recognised span. `start`/`end` are UTF-16 code unit offsets (JavaScript string indices), end exclusive. */
export interface Match {
  class: PiiClass;
  start: number;
  end: number;
  /** Confidence in [0, 1]. */
  score: number;
  text: string;
}

export interface ClassPolicy {
  mode: Mode;
  /** Matches scoring below this are ignored. */
  minScore: number;
  /** Per-channel mode overrides; a channel not listed uses `mode`. */
  channels?: Partial<Record<Channel, Mode>>;
}

export interface PiiPolicy {
  classes: Record<PiiClass, ClassPolicy>;
}

/**
 * Safe defaults. Anything that lets someone act as the person or move money (credentials, cards,
 * government ids, bank accounts) is never recoverable. Contact and identity details a human agent may
 * need to help (names, emails, phones, addresses, IPs, birth dates) are reversible. Health indicators
 * are special-category data, so they are kept away from the AI provider but recoverable by the agent.
 * Minor indicators are flagged rather than hidden: the signal matters for handoff and consent more
 * than the words themselves. Thresholds sit where the recognisers' context-free guesses fall below.
 */
export const defaultPolicy: PiiPolicy = {
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

const ModeSchema = z.enum(MODES);

// Strict at every level: an unknown key is a mistake to report, never to drop (dropping `email` from
// `{email: 'strict'}` left an empty policy, which silently reset every class to its default).
export const ClassPolicySchema = z.strictObject({
  mode: ModeSchema,
  minScore: z.number().min(0).max(1),
  channels: z.partialRecord(z.enum(CHANNELS), ModeSchema).optional(),
});

/** A tenant's policy as sent to the admin API; classes left out take their safe default. */
export const PiiPolicySchema = z.strictObject({
  classes: z
    .object(
      Object.fromEntries(PII_CLASSES.map((c) => [c, ClassPolicySchema.default(defaultPolicy.classes[c])])) as {
        [K in PiiClass]: z.ZodDefault<typeof ClassPolicySchema>;
      },
    )
    .strict()
    .default(defaultPolicy.classes),
}) satisfies z.ZodType<PiiPolicy, unknown>;

/** The mode a class gets on a channel under a policy. */
export function modeFor(policy: PiiPolicy, cls: PiiClass, channel: Channel): Mode {
  const p = policy.classes[cls];
  return p.channels?.[channel] ?? p.mode;
}
