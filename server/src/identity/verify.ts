// Verification of Sign-In Pro tokens signed by a tenant's backend. The algorithm follows from the key,
// never from the token: shared secrets verify only HS256, public keys only their own asymmetric
// algorithm, so `none` and HS/RS confusion are impossible. Each jti is accepted once. A token is bound to
// its tenant by its `aud` (protocol's identityAudience, parley:identity:<tenant id>): one that names another
// tenant is refused whatever signed it, and one verified by a public key or the JWKS URL must name this
// tenant, since a company may register one key in several tenants (a shared secret is this tenant's own).
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Tx } from '../db/types.js';
import type { Keyring } from '../crypto/keyring.js';
import {
  IDENTITY_AUDIENCE,
  IDENTITY_MAX_LIFETIME_SECONDS,
  identityAudience,
  identityAudienceTenant,
  IdentityProfileClaims,
  isSafeText,
  UNSAFE_TEXT_MESSAGE,
} from '@parley/protocol';
import { DomainError } from '../errors.js';
import { fieldErrors } from '../http/validate.js';
import type { JwksCache } from './jwks.js';
import * as store from './store.js';

const SKEW_S = 60;
const ASYMMETRIC = ['EdDSA', 'ES256', 'RS256'];

export interface VerifiedIdentity {
  subject: string;
  profile: { name?: string; email?: string; traits?: Record<string, unknown> };
  jti: string;
  expiresAt: Date;
  /**
   * What proved it, kept on the session's refresh family so that taking it away ends the identity
   * (identity/service.ts): `secret:<kid>` for a shared secret, `key:<thumbprint>` for a registered public
   * key, `jwks:<thumbprint>` for a key from the JWKS URL (RFC 7638 thumbprints).
   */
  proof: string;
}

/** The proof a registered public key (or a key from the JWKS URL) gives: its RFC 7638 thumbprint. */
export const keyProof = async (source: 'key' | 'jwks', jwk: JWK): Promise<string> => `${source}:${await calculateJwkThumbprint(jwk)}`;

/** Proofs of verified sessions from before proofs were kept (migration 115): any change of keys ends them. */
export const LEGACY_PROOF = 'legacy';

function invalid(detail: string): DomainError {
  return new DomainError('token_invalid', detail);
}

// Claims that reach the database (kid in a lookup, sub and jti stored) obey protocol's text rule.
function unsafeClaim(claim: 'sub' | 'jti' | 'kid'): DomainError {
  return new DomainError('invalid_input', `The identity token's ${claim} claim is not valid.`, {
    errors: [{ path: '/token', message: `the token's ${claim} claim ${UNSAFE_TEXT_MESSAGE}`, code: 'invalid_claim' }],
  });
}

export const secretContext = (kid: string) => `identity-secret/${kid}`;

/**
 * A key without a kid is picked by a token without one: where such a key is registered (at most one, see
 * protocol's PutIdentityRequest), a kid-less token is verified by it alone, not by every key of its type.
 */
const keysFor = (keys: JWK[], kid: unknown): JWK[] => {
  if (kid !== undefined) return keys;
  const kidless = keys.filter((k) => k.kid === undefined);
  return kidless.length ? kidless : keys;
};

/**
 * Checks the tenant binding of a verified token's `aud` (jose has already required one of the two
 * audiences this tenant answers to): a token naming another tenant is refused for every kind of key, and
 * one verified by a public key or the JWKS URL must name this tenant. The details say what to change,
 * naming this tenant's audience (its id is no secret from a visitor: the widget's own tokens carry it).
 */
function checkTenantAudience(aud: JWTPayload['aud'], tenantId: string, byPublicKey: boolean): void {
  const ours = identityAudience(tenantId);
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  const named = values.filter((a) => typeof a === 'string' && identityAudienceTenant(a) !== null);
  if (named.some((a) => a !== ours))
    throw invalid(`The identity token is for another workspace: its aud must name this one, "${ours}", and no other.`);
  if (byPublicKey && !named.length)
    throw invalid(
      `A token signed with a public key must name its workspace: set its aud to "${ours}" ` +
        `(with @parley/node, pass signUserSession the option tenant: "${tenantId}"). ` +
        `The bare "${IDENTITY_AUDIENCE}" is accepted only from a shared secret.`,
    );
}

/** `jwks` fetches a tenant's JWKS URL (through the outbound module) and caches it per tenant and URL. */
export async function verifyIdentityToken(tx: Tx, keyring: Keyring, jwks: JwksCache, tenantId: string, token: string): Promise<VerifiedIdentity> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid('The identity token is not a JWT.');
  }
  if (typeof header.kid === 'string' && !isSafeText(header.kid)) throw unsafeClaim('kid');
  // Either audience gets past jose; checkTenantAudience then decides which this key may use.
  const options = { audience: [IDENTITY_AUDIENCE, identityAudience(tenantId)], clockTolerance: SKEW_S, requiredClaims: ['sub', 'exp', 'iat', 'jti'] };
  let payload: JWTPayload;
  let proof: string;
  try {
    if (header.alg === 'HS256') {
      if (typeof header.kid !== 'string') throw invalid('A shared-secret token needs the kid of its secret.');
      const sealed = await store.activeSecret(tx, header.kid);
      if (!sealed) throw invalid('The token was signed with an unknown or revoked secret.');
      const secret = await keyring.open(tx, tenantId, sealed, secretContext(header.kid));
      ({ payload } = await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
      proof = `secret:${header.kid}`;
    } else if (typeof header.alg === 'string' && ASYMMETRIC.includes(header.alg)) {
      const s = (await store.settings(tx)) as { public_keys: JWK[]; jwks_url: string | null } | null;
      if (!s || (!s.public_keys.length && !s.jwks_url)) throw invalid('No public key is registered for Sign-In Pro.');
      const verify = (keys: JWK[]) =>
        jwtVerify(token, createLocalJWKSet({ keys: keysFor(keys, header.kid) }), { ...options, algorithms: [header.alg as string] });
      let verified: Awaited<ReturnType<typeof verify>>;
      if (s.public_keys.length) verified = await verify(s.public_keys);
      else {
        try {
          verified = await verify(await jwks.keys(tenantId, s.jwks_url!));
        } catch (err) {
          // The host may have rotated its keys: ask the URL again (the cache bounds how often).
          if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
          verified = await verify(await jwks.keys(tenantId, s.jwks_url!, { refresh: true }));
        }
      }
      payload = verified.payload;
      // The key that verified it (public keys are always exportable), named as the settings' keys are.
      proof = await keyProof(s.public_keys.length ? 'key' : 'jwks', await exportJWK(verified.key!));
    } else {
      throw invalid('The token algorithm is not accepted.');
    }
  } catch (err) {
    if (err instanceof DomainError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new DomainError('token_expired', 'The identity token expired.');
    // Claims are checked only once the signature verified, so this names nothing to a forger.
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
      checkTenantAudience(err.payload.aud, tenantId, false);
      throw invalid(`The identity token is for another audience: its aud must be "${identityAudience(tenantId)}".`);
    }
    if (err instanceof joseErrors.JWKSMultipleMatchingKeys)
      throw invalid("Several registered keys could verify this token, which names no kid: sign it with its key's kid.");
    throw invalid('The identity token failed verification.');
  }
  checkTenantAudience(payload.aud, tenantId, !proof.startsWith('secret:'));
  const { sub, iat, exp, jti } = payload as Required<Pick<JWTPayload, 'sub' | 'iat' | 'exp' | 'jti'>>;
  // jose checks the types of the time claims only; a host's bug may send a number as sub or jti.
  if (typeof sub !== 'string' || typeof jti !== 'string') throw invalid("The identity token's sub and jti claims must be strings.");
  if (exp - iat > IDENTITY_MAX_LIFETIME_SECONDS) throw invalid('Identity tokens may live at most 10 minutes.');
  if (iat > Date.now() / 1000 + SKEW_S) throw invalid('The identity token was issued in the future.');
  if (sub.length > 256 || jti.length > 256) throw invalid('The identity token claims are too long.');
  if (!isSafeText(sub)) throw unsafeClaim('sub');
  if (!isSafeText(jti)) throw unsafeClaim('jti');
  // The profile is sealed and shown to agents: it obeys the claims contract @parley/node signs by.
  const profile = IdentityProfileClaims.safeParse(payload);
  if (!profile.success) {
    throw new DomainError('invalid_input', "The identity token's profile claims are not valid.", { errors: fieldErrors(profile.error, ['token']) });
  }
  if (!(await store.spendJti(tx, tenantId, jti, new Date((exp + SKEW_S) * 1000))))
    throw new DomainError('token_replayed', 'This identity token was already used.');
  const { name, email, traits } = profile.data;
  return {
    subject: sub,
    jti,
    expiresAt: new Date(exp * 1000),
    proof,
    profile: { ...(name !== undefined ? { name } : {}), ...(email !== undefined ? { email } : {}), ...(traits !== undefined ? { traits } : {}) },
  };
}
