// The short-lived EdDSA tokens Parley signs (widget sessions, console sessions, the MFA step): one shape,
// each with its own audience and key, a fresh jti, issued-at and expiry.
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export interface TokenSpec {
  issuer: string;
  audience: string;
  subject: string;
  ttlSeconds: number;
  claims: Record<string, unknown>;
}

/** The token and its expiry (seconds since the epoch). */
export async function signToken(privateKey: KeyObject, t: TokenSpec): Promise<{ token: string; exp: number }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT(t.claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(t.issuer)
    .setAudience(t.audience)
    .setSubject(t.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + t.ttlSeconds)
    .setJti(randomUUID())
    .sign(privateKey);
  return { token, exp: now + t.ttlSeconds };
}
