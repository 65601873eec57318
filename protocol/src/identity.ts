// Sign-In Pro token claims: what a host backend signs (with @parley/node) and the server verifies.
import { z } from 'zod';
import { isSafeText, text, UNSAFE_TEXT_MESSAGE } from './text.js';

/** The `aud` of every Sign-In Pro token, so a token minted for Parley is useless anywhere else. */
export const IDENTITY_AUDIENCE = 'parley:identity';

/** The longest a Sign-In Pro token may live (`exp - iat`), in seconds. */
export const IDENTITY_MAX_LIFETIME_SECONDS = 600;

/** One trait value: a scalar, so traits stay cheap to store, redact and display. */
export const IdentityTraitValue = z.union([text().max(1024), z.number(), z.boolean(), z.null()]);
/** One trait value: a string of at most 1 KB, a number, a boolean or null. */
export type IdentityTraitValue = z.infer<typeof IdentityTraitValue>;

/** Extra facts about the user (plan, account id, …): at most 50 keys. */
export const IdentityTraits = z
  .record(text().min(1).max(100), IdentityTraitValue)
  .refine((t) => Object.keys(t).length <= 50, { message: 'at most 50 traits' });
/** Extra facts about the user: at most 50 scalar values keyed by name. */
export type IdentityTraits = z.infer<typeof IdentityTraits>;

/**
 * The profile claims of a Sign-In Pro token: what the server keeps (sealed) and shows to agents. A token
 * whose signature is good but whose profile breaks these bounds is refused, however it was signed.
 */
export const IdentityProfileClaims = z.looseObject({
  email: z.email().max(320).refine(isSafeText, { message: UNSAFE_TEXT_MESSAGE }).optional(),
  name: text().max(200).optional(),
  traits: IdentityTraits.optional(),
});

/** The claims of a Sign-In Pro token. Unknown claims (such as `iss`) pass through untouched. */
export const IdentityClaims = IdentityProfileClaims.extend({
  /** The host application's stable user id. */
  sub: text().min(1).max(256),
  aud: z.union([z.literal(IDENTITY_AUDIENCE), z.array(text()).refine((a) => a.includes(IDENTITY_AUDIENCE))]),
  /** Seconds since the epoch. */
  iat: z.number().int().nonnegative(),
  /** Seconds since the epoch; at most {@link IDENTITY_MAX_LIFETIME_SECONDS} after `iat`. */
  exp: z.number().int().nonnegative(),
  /** Unique per token: the server accepts each jti once. */
  jti: text().min(16).max(256),
}).refine((c) => c.exp > c.iat && c.exp - c.iat <= IDENTITY_MAX_LIFETIME_SECONDS, {
  message: `exp must follow iat by at most ${IDENTITY_MAX_LIFETIME_SECONDS} seconds`,
  path: ['exp'],
});
/** The claims of a Sign-In Pro token. */
export type IdentityClaims = z.infer<typeof IdentityClaims>;
