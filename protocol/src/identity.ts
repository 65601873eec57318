// Sign-In Pro token claims: what a host backend signs (with @parley/node) and the server verifies.
import { z } from 'zod';
import { isSafeText, text, UNSAFE_TEXT_MESSAGE } from './text.js';

/**
 * What every Sign-In Pro token's `aud` starts with, so a token minted for Parley is useless anywhere else.
 * Alone, it is the audience of a token that names no tenant: accepted only when a tenant's own shared
 * secret (`idsec_…`) signed it, since the secret binds the token to its tenant. A token verified by a
 * public key or a JWKS URL must carry {@link identityAudience} instead.
 */
export const IDENTITY_AUDIENCE = 'parley:identity';

const TENANT_AUDIENCE_PREFIX = `${IDENTITY_AUDIENCE}:`;
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The audience that binds a Sign-In Pro token to one tenant: `parley:identity:<tenant id>`, the tenant id
 * as the console's Sign-In Pro page, `GET /v1/admin/identity` (`tenantId`) and `GET /v1/admin/me`
 * (`tenant.id`) show it.
 *
 * @remarks
 * A company may register one public key (or JWKS URL) in several tenants, staging and production say;
 * nothing but `aud` can then tell which tenant a token is for (RFC 8725 §3.9: an issuer whose tokens go to
 * several relying parties names the one each is for). It is one value that names one tenant, rather than
 * `["parley:identity", "parley:tenant:<id>"]`: each value of an `aud` array is a recipient the token is for
 * (RFC 7519 §4.1.3), so a token that also listed the bare `parley:identity` would declare itself good for
 * every tenant, and for any verifier that checks that value alone. With one value the check is equality,
 * and the `parley:identity` prefix keeps what the token is for (Sign-In Pro) in the value itself.
 *
 * @param tenantId - the tenant's id, a UUID (any case; the audience has it in lower case)
 * @throws `TypeError` when `tenantId` is not a UUID
 */
export function identityAudience(tenantId: string): string {
  const id = typeof tenantId === 'string' ? tenantId.trim().toLowerCase() : '';
  if (!TENANT_ID.test(id)) throw new TypeError('the tenant must be a Parley tenant id (a UUID, as the console shows it under Sign-In Pro)');
  return `${TENANT_AUDIENCE_PREFIX}${id}`;
}

/**
 * The tenant an `aud` value names (what follows `parley:identity:`, as written), or null for a value that
 * names none (the bare {@link IDENTITY_AUDIENCE}, or another audience altogether).
 */
export function identityAudienceTenant(aud: string): string | null {
  return typeof aud === 'string' && aud.startsWith(TENANT_AUDIENCE_PREFIX) ? aud.slice(TENANT_AUDIENCE_PREFIX.length) : null;
}

const isTenantAudience = (a: string) => {
  const id = identityAudienceTenant(a);
  return id !== null && TENANT_ID.test(id);
};
const isIdentityAudience = (a: string) => a === IDENTITY_AUDIENCE || isTenantAudience(a);

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
  /**
   * {@link identityAudience} of the tenant (required when a public key signs), or {@link IDENTITY_AUDIENCE}
   * alone for a shared secret's token; as an array, it holds one of these and names at most one tenant.
   */
  aud: z.union([
    z.string().refine(isIdentityAudience, { message: 'must be parley:identity:<tenant id> (or parley:identity for a shared secret)' }),
    z
      .array(text())
      .refine((a) => a.some(isIdentityAudience), { message: 'must hold parley:identity:<tenant id> (or parley:identity for a shared secret)' })
      .refine((a) => new Set(a.filter((x) => identityAudienceTenant(x) !== null)).size <= 1, { message: 'names at most one tenant' }),
  ]),
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
