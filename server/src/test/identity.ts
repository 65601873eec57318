// Sign-In Pro as a host's backend does it in tests: identity tokens for the tenant's audience
// (parley:identity:<tenant id>, or parley:identity alone for a shared secret that names no tenant), five
// minutes, a fresh jti each unless one is given, signed with a shared secret (HS256) or a host's key.
import { IDENTITY_AUDIENCE, identityAudience } from '@parley/protocol';
import { type CryptoKey, type KeyObject, SignJWT } from 'jose';
import { call } from './http.js';

export interface IdentityKey {
  alg: string;
  /** Omitted from the header when undefined. */
  kid: string | undefined;
  key: CryptoKey | KeyObject | Uint8Array;
  /** The tenant the token is for (its `aud`); required by the server when a public key signs. */
  tenant?: string;
}

/** The key bytes of a shared secret as the admin API shows it once (`idsec_<kid>_<base64url>`). */
export const secretBytes = (secret: string): Uint8Array => Buffer.from(secret.split('_').slice(2).join('_'), 'base64url');

export function identityToken(
  signing: IdentityKey,
  sub: string,
  claims: Record<string, unknown> = {},
  jti: string = crypto.randomUUID(),
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signing.alg, ...(signing.kid !== undefined ? { kid: signing.kid } : {}) })
    .setSubject(sub)
    .setAudience(signing.tenant !== undefined ? identityAudience(signing.tenant) : IDENTITY_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(jti)
    .sign(signing.key);
}

/** A new shared secret from the admin API, and a signer for it. */
export async function identitySigner(url: string, secretKey: string): Promise<(sub: string, claims?: Record<string, unknown>) => Promise<string>> {
  const created = await call(url, 'POST', '/v1/admin/identity/secrets', { key: secretKey });
  if (created.status !== 201) throw new Error(`identity secret: ${created.status} ${created.text}`);
  const signing = { alg: 'HS256', kid: created.body.kid, key: secretBytes(String(created.body.secret)) };
  return (sub, claims = {}) => identityToken(signing, sub, claims);
}
