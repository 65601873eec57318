// Sign-In Pro: your backend signs the logged-in user's session; the widget hands the token to Parley.
import { createPrivateKey, randomBytes, type KeyObject, type webcrypto } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

/** The user as your backend knows them. `id` is your stable user id. */
export interface SessionUser {
  id: string;
  email?: string;
  name?: string;
  traits?: Record<string, string | number | boolean | null>;
}

/** Sign with a shared secret (`idsec_…`) or, preferably, your own private key. */
export type SessionSigningOptions = ({ secret: string } | { privateKey: KeyObject | JWK | string; kid?: string }) & {
  /** Seconds, or a string such as `'5m'`. Default 5 minutes; at most 10 minutes. */
  expiresIn?: number | string;
  issuer?: string;
};

export const IDENTITY_AUDIENCE = 'parley:identity';
const MAX_LIFETIME_S = 600;

function seconds(v: number | string | undefined): number {
  if (v === undefined) return 300;
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*(s|m)?$/.exec(v.trim());
  if (!m) throw new TypeError('expiresIn is a number of seconds or a string like "5m"');
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function checkUser(u: SessionUser): void {
  if (typeof u.id !== 'string' || !u.id || u.id.length > 256) throw new TypeError('user.id must be a non-empty string of at most 256 characters');
  if (u.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(u.email)) throw new TypeError('user.email is not an email address');
  if (u.name !== undefined && (typeof u.name !== 'string' || u.name.length > 200)) throw new TypeError('user.name must be a string of at most 200 characters');
  if (u.traits !== undefined) {
    const entries = Object.entries(u.traits);
    if (entries.length > 50) throw new TypeError('user.traits may hold at most 50 keys');
    for (const [k, v] of entries) {
      if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw new TypeError(`user.traits.${k} must be a string, number, boolean or null`);
      if (JSON.stringify(v).length > 1024) throw new TypeError(`user.traits.${k} is larger than 1 KB`);
    }
  }
}

async function asymmetric(key: KeyObject | JWK | string): Promise<{ key: KeyObject | webcrypto.CryptoKey | Uint8Array; alg: 'EdDSA' | 'ES256' | 'RS256' }> {
  const k: KeyObject | webcrypto.CryptoKey | Uint8Array =
    typeof key === 'string' ? createPrivateKey(key) : 'kty' in (key as JWK) ? await importJWK(key as JWK, algFor(key as JWK)) : (key as KeyObject);
  if (k instanceof Uint8Array) throw new TypeError('privateKey must be an asymmetric private key');
  const type = 'asymmetricKeyType' in k ? k.asymmetricKeyType : (k as webcrypto.CryptoKey).algorithm.name.toLowerCase();
  if (type === 'ed25519') return { key: k, alg: 'EdDSA' };
  if (type === 'ec' || type === 'ecdsa') return { key: k, alg: 'ES256' };
  if (type === 'rsa' || type === 'rsassa-pkcs1-v1_5') return { key: k, alg: 'RS256' };
  throw new TypeError(`unsupported private key type ${String(type)}: use Ed25519, P-256 or RSA`);
}

const algFor = (jwk: JWK) => (jwk.kty === 'OKP' ? 'EdDSA' : jwk.kty === 'EC' ? 'ES256' : 'RS256');

/**
 * Signs a short-lived Sign-In Pro token for a logged-in user: a JWT with `sub`, `aud`, `iat`, `exp`
 * (at most 10 minutes) and a unique `jti`, which Parley accepts exactly once.
 */
export async function signUserSession(user: SessionUser, opts: SessionSigningOptions): Promise<string> {
  checkUser(user);
  const lifetime = seconds(opts.expiresIn);
  if (!(lifetime > 0 && lifetime <= MAX_LIFETIME_S)) throw new TypeError('expiresIn must be between 1 second and 10 minutes');
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    ...(user.email ? { email: user.email } : {}),
    ...(user.name ? { name: user.name } : {}),
    ...(user.traits ? { traits: user.traits } : {}),
  })
    .setSubject(user.id)
    .setAudience(IDENTITY_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .setJti(randomBytes(16).toString('base64url'));
  if (opts.issuer) jwt.setIssuer(opts.issuer);
  if ('secret' in opts) {
    const m = /^idsec_([0-9a-f]+)_([A-Za-z0-9_-]{43})$/.exec(opts.secret);
    if (!m) throw new TypeError('secret must be an idsec_… secret from the Parley console or admin API');
    return jwt.setProtectedHeader({ alg: 'HS256', kid: m[1]!, typ: 'JWT' }).sign(Buffer.from(m[2]!, 'base64url'));
  }
  const { key, alg } = await asymmetric(opts.privateKey);
  const kid = opts.kid ?? (typeof opts.privateKey === 'object' && 'kid' in opts.privateKey ? (opts.privateKey as JWK).kid : undefined);
  return jwt.setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }).sign(key);
}
