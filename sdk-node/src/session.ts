// Sign-In Pro: your backend signs the logged-in user's session; the widget hands the token to Parley.
// The algorithm follows from the key, never from a caller's string, so `none`, HS256 with a public key
// or a weak key cannot be asked for. The token's `aud` names the tenant it is for (protocol's
// identityAudience): required with a private key, whose public half may be registered in several tenants.
import { createPrivateKey, KeyObject, randomBytes, type webcrypto, type JsonWebKey } from 'node:crypto';
import { types } from 'node:util';
import { IDENTITY_AUDIENCE, IDENTITY_MAX_LIFETIME_SECONDS, identityAudience, isSafeText } from '@parley/protocol';
import { SignJWT, type JWK } from 'jose';
import { z } from 'zod';

/** The user as your backend knows them. */
export interface SessionUser {
  /** Your stable user id (1 to 256 characters); becomes the token's `sub`. */
  id: string;
  /** Shown to support agents; must look like an email address. */
  email?: string;
  /** Display name, at most 200 characters. */
  name?: string;
  /** Extra facts for agents and answers (plan, account id, …): at most 50 keys, each value at most 1 KB. */
  traits?: Record<string, string | number | boolean | null>;
}

/** The asymmetric algorithms a private key can sign with. Each follows from the key's type. */
export type SessionAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

/**
 * A private key: a `KeyObject`, a Web Crypto `CryptoKey`, a private JWK or a PKCS#8/SEC1/PKCS#1 PEM string.
 * Ed25519 signs EdDSA, P-256 signs ES256, RSA of at least 2048 bits signs RS256.
 */
export type SessionPrivateKey = KeyObject | webcrypto.CryptoKey | JWK | string;

/** Sign with a shared secret (`idsec_…`) from the console or admin API. */
export interface SessionSecretOptions {
  /** `idsec_<kid>_<base64url of 32 bytes>`. */
  secret: string;
  /**
   * Your Parley tenant id (a UUID: the console's Sign-In Pro page, or `tenantId` of `GET /v1/admin/identity`).
   * Optional here, since the secret belongs to one tenant already; when given, the token names it in `aud`.
   */
  tenant?: string;
}

/** Sign with your own private key; register only the public key (or a JWKS URL) with Parley. */
export interface SessionKeyOptions {
  /** Your private key; see {@link SessionPrivateKey}. */
  privateKey: SessionPrivateKey;
  /**
   * Your Parley tenant id (a UUID: the console's Sign-In Pro page, or `tenantId` of `GET /v1/admin/identity`).
   * Required: the token names it in `aud`, so a tenant that registered the same public key (staging and
   * production, say) refuses it.
   */
  tenant: string;
  /** Put in the header so Parley picks the right public key; defaults to the JWK's own `kid`. */
  kid?: string;
  /** Asserts the algorithm the key implies; a mismatch throws rather than signing differently. */
  alg?: SessionAlgorithm;
}

/** Options of {@link signUserSession}: a shared secret or a private key, plus lifetime and issuer. */
export type SessionSigningOptions = (SessionSecretOptions | SessionKeyOptions) & {
  /** Whole seconds, or a string such as `'90s'` or `'5m'`. Default 5 minutes; at most 10 minutes. */
  expiresIn?: number | string;
  /** Optional `iss` claim, e.g. your app's URL. */
  issuer?: string;
};

export { IDENTITY_AUDIENCE, identityAudience };

const DEFAULT_LIFETIME_S = 300;
const MAX_TRAITS = 50;
const MAX_TRAIT_BYTES = 1024;
const Email = z.email().max(320);

function lifetime(v: number | string | undefined): number {
  if (v === undefined) return DEFAULT_LIFETIME_S;
  let s: number;
  if (typeof v === 'number') s = v;
  else {
    const m = /^(\d+)\s*(s|m)?$/.exec(typeof v === 'string' ? v.trim() : '');
    if (!m) throw new TypeError('expiresIn must be whole seconds or a string such as "90s" or "5m"');
    s = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  }
  if (!Number.isInteger(s) || s < 1 || s > IDENTITY_MAX_LIFETIME_SECONDS) {
    throw new TypeError('expiresIn must be between 1 second and 10 minutes');
  }
  return s;
}

function checkUser(u: SessionUser): void {
  if (typeof u !== 'object' || u === null) throw new TypeError('user must be an object with an id');
  if (typeof u.id !== 'string' || !u.id || u.id.length > 256) throw new TypeError('user.id must be a non-empty string of at most 256 characters');
  if (u.email !== undefined && (typeof u.email !== 'string' || !Email.safeParse(u.email).success))
    throw new TypeError('user.email is not an email address');
  if (u.name !== undefined && (typeof u.name !== 'string' || u.name.length > 200))
    throw new TypeError('user.name must be a string of at most 200 characters');
  // As the server reads them: no NUL and no unpaired surrogate, which it would refuse after signing.
  if (!isSafeText(u.id)) throw new TypeError('user.id must not contain NUL characters or unpaired surrogates');
  if (u.name !== undefined && !isSafeText(u.name)) throw new TypeError('user.name must not contain NUL characters or unpaired surrogates');
  if (u.traits === undefined) return;
  if (typeof u.traits !== 'object' || u.traits === null || Array.isArray(u.traits)) throw new TypeError('user.traits must be an object');
  const entries = Object.entries(u.traits);
  if (entries.length > MAX_TRAITS) throw new TypeError(`user.traits may hold at most ${MAX_TRAITS} keys`);
  for (const [k, v] of entries) {
    if (!k || k.length > 100 || !isSafeText(k))
      throw new TypeError('user.traits keys must be 1 to 100 characters, with no NUL or unpaired surrogate');
    const ok = v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new TypeError(`user.traits.${k} must be a string, a finite number, a boolean or null`);
    if (typeof v === 'string' && !isSafeText(v)) throw new TypeError(`user.traits.${k} must not contain NUL characters or unpaired surrogates`);
    if (typeof v === 'string' && Buffer.byteLength(v) > MAX_TRAIT_BYTES) throw new TypeError(`user.traits.${k} is larger than 1 KB`);
  }
}

function toKeyObject(key: SessionPrivateKey): KeyObject {
  if (types.isKeyObject(key)) return key;
  if (types.isCryptoKey(key)) return KeyObject.from(key);
  if (typeof key === 'string') {
    try {
      return createPrivateKey(key);
    } catch {
      throw new TypeError('privateKey is not a PEM private key');
    }
  }
  if (typeof key === 'object' && key !== null && typeof key.kty === 'string') {
    if (!['OKP', 'EC', 'RSA'].includes(key.kty))
      throw new TypeError(`a JWK of type ${key.kty} cannot be a Sign-In Pro private key: use Ed25519, P-256 or RSA`);
    if (typeof key.d !== 'string') throw new TypeError('privateKey is a public JWK: sign with the private key, register the public one');
    try {
      return createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
    } catch {
      throw new TypeError('privateKey is not a valid private JWK');
    }
  }
  throw new TypeError('privateKey must be a KeyObject, CryptoKey, private JWK or PEM string');
}

function algorithmOf(k: KeyObject): SessionAlgorithm {
  if (k.type !== 'private') throw new TypeError('privateKey must be a private key: a public key or secret cannot sign');
  const d = k.asymmetricKeyDetails;
  if (k.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (k.asymmetricKeyType === 'ec') {
    if (d?.namedCurve !== 'prime256v1') throw new TypeError(`EC keys must be on P-256 (ES256), not ${String(d?.namedCurve)}`);
    return 'ES256';
  }
  if (k.asymmetricKeyType === 'rsa') {
    if ((d?.modulusLength ?? 0) < 2048) throw new TypeError('RSA keys must have at least 2048 bits');
    return 'RS256';
  }
  throw new TypeError(`unsupported private key type ${String(k.asymmetricKeyType)}: use Ed25519, P-256 or RSA`);
}

/**
 * Signs a short-lived Sign-In Pro token for a logged-in user. Parley accepts each token once.
 *
 * @remarks
 * The token is a JWT with `sub` (the user id), `aud: "parley:identity:<tenant>"` (see
 * `identityAudience`), `iat`, `exp` (5 minutes by default, at most 10), a random 128-bit `jti`, and
 * `email`, `name`, `traits` when given. With a shared secret it is HS256 with the secret's id as `kid`,
 * so Parley can tell rotated secrets apart; without a `tenant` its `aud` is the bare `"parley:identity"`,
 * which Parley accepts only from a shared secret (the secret binds the token to its tenant). With a
 * private key the algorithm follows from the key: Ed25519 → EdDSA, P-256 → ES256, RSA ≥ 2048 → RS256,
 * and `tenant` is required, since the same public key may be registered in several tenants.
 * Prefer a private key: it never leaves your servers, and Parley only ever holds the public half.
 *
 * @param user - the logged-in user
 * @param opts - a shared `secret`, or a `privateKey` (with optional `kid`) and the `tenant`, plus
 *   `expiresIn` and `issuer`
 * @returns the compact JWT to hand to the widget
 * @throws `TypeError` when the user, the key, the tenant or the lifetime is invalid
 */
export async function signUserSession(user: SessionUser, opts: SessionSigningOptions): Promise<string> {
  checkUser(user);
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options with a secret or a privateKey are required');
  const hasSecret = 'secret' in opts && opts.secret !== undefined;
  const hasKey = 'privateKey' in opts && opts.privateKey !== undefined;
  if (hasSecret === hasKey) throw new TypeError('pass exactly one of secret and privateKey');
  const ttl = lifetime(opts.expiresIn);
  if (opts.issuer !== undefined && (typeof opts.issuer !== 'string' || !opts.issuer || opts.issuer.length > 256)) {
    throw new TypeError('issuer must be a non-empty string of at most 256 characters');
  }
  const { tenant } = opts as { tenant?: unknown };
  if (hasKey && tenant === undefined)
    throw new TypeError(
      'tenant is required with a privateKey: your Parley tenant id (the console shows it under Sign-In Pro), so that no other tenant accepts the token',
    );
  const audience = tenant === undefined ? IDENTITY_AUDIENCE : identityAudience(tenant as string);
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    ...(user.email !== undefined ? { email: user.email } : {}),
    ...(user.name !== undefined ? { name: user.name } : {}),
    ...(user.traits !== undefined ? { traits: user.traits } : {}),
  })
    .setSubject(user.id)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(randomBytes(16).toString('base64url'));
  if (opts.issuer !== undefined) jwt.setIssuer(opts.issuer);

  if (hasSecret) {
    const { secret } = opts as SessionSecretOptions;
    const m = typeof secret === 'string' ? /^idsec_([0-9a-f]{1,64})_([A-Za-z0-9_-]{43})$/.exec(secret) : null;
    if (!m) throw new TypeError('secret must be an idsec_… secret from the Parley console or admin API');
    return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: m[1]! }).sign(Buffer.from(m[2]!, 'base64url'));
  }
  const { privateKey, alg: wanted, kid: givenKid } = opts as SessionKeyOptions;
  const key = toKeyObject(privateKey);
  const alg = algorithmOf(key);
  if (wanted !== undefined && wanted !== alg) throw new TypeError(`the private key signs ${alg}, not ${String(wanted)}`);
  const kid = givenKid ?? (typeof privateKey === 'object' && 'kty' in privateKey ? privateKey.kid : undefined);
  if (kid !== undefined && (typeof kid !== 'string' || !kid || kid.length > 256))
    throw new TypeError('kid must be a non-empty string of at most 256 characters');
  return jwt.setProtectedHeader({ alg, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) }).sign(key);
}
