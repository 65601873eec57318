// Sign-in with OpenID Connect (openid-client v6): authorization code with PKCE (S256), state and nonce, the
// ID token's issuer, audience, authorized party, nonce, lifetime and signature (the issuer's JWKS) checked.
// Every request to the tenant's issuer (discovery, JWKS, token and userinfo endpoints) goes through the
// outbound module: public destinations only, bounded in size and time, each redirect refused.
import type { OidcRefusalReason } from '@parley/protocol';
import * as client from 'openid-client';
import type { AuditLog } from '../../audit/log.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { Db, Tx } from '../../db/types.js';
import { OutboundError, type Limits, type Outbound } from '../../outbound/outbound.js';
import { SsoRefused, type SsoProfile } from '../sso.js';
import { bindingFor, emailDomain, firstUse, readConnection, saveRequest, sha256, takeRequest, type SsoConnectionRow } from './connections.js';

export interface OidcDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  outbound: Outbound;
  /** The deployment's public base URL (redirect URIs are built from it). */
  publicUrl: string;
}

/** Discovery documents, JWKS and token responses are small; a person is waiting on each. */
export const OIDC_LIMITS: Partial<Limits> = { maxBytes: 256 * 1024, timeoutMs: 8000, connectTimeoutMs: 4000, redirect: 'error', maxRedirects: 0 };

/** The sealed client secret's context (crypto/sealed-columns.ts). */
export const OIDC_SECRET_CONTEXT = 'sso-secret/oidc';

/** What sso_connections.config holds for an OIDC connection. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
}

export const oidcRedirectUri = (publicUrl: string, tenantId: string) => `${publicUrl}/v1/auth/sso/oidc/${tenantId}/callback`;

/** Why a sign-in was refused: a stable code, audited and shown by the console (`/console/?sso_error=<code>`). */
export type { OidcRefusalReason };

export class OidcRefusal extends SsoRefused {
  constructor(override readonly reason: OidcRefusalReason) {
    super(reason, `OIDC sign-in refused: ${reason}`);
    this.name = 'OidcRefusal';
  }
}

/** A person the tenant's IdP vouched for, every check passed. */
export type OidcProfile = SsoProfile;

/**
 * The issuer's metadata, discovered through the outbound module, and the client to use with it.
 * Throws OutboundError (the URL was refused or did not answer) or openid-client's errors.
 */
export async function discover(
  outbound: Outbound,
  c: { issuer: string; clientId: string; clientSecret: string | null },
): Promise<client.Configuration> {
  const issuer = outbound.check(c.issuer);
  const auth = c.clientSecret ? client.ClientSecretBasic(c.clientSecret) : client.None();
  const config = await client.discovery(issuer, c.clientId, undefined, auth, {
    [client.customFetch]: outbound.fetcher(OIDC_LIMITS),
    // Plain http only reaches this far in development (outbound refuses it elsewhere).
    execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
  });
  // The ID token comes over the back channel, yet its signature is checked too, against the issuer's JWKS.
  client.enableNonRepudiationChecks(config);
  return config;
}

const DISCOVERY_TTL_MS = 10 * 60_000;
const DISCOVERY_CACHE_MAX = 500;
/** Per outbound module (its rules are part of the key), per issuer, client and secret. */
const discovered = new WeakMap<Outbound, Map<string, { at: number; config: Promise<client.Configuration> }>>();

/**
 * `discover`, remembered for ten minutes: a sign-in then costs the token exchange only, and the issuer's
 * JWKS stays cached with the configuration (refetched when a token names an unknown key). A failure is
 * not remembered.
 */
export function discoverCached(
  outbound: Outbound,
  c: { issuer: string; clientId: string; clientSecret: string | null },
): Promise<client.Configuration> {
  let cache = discovered.get(outbound);
  if (!cache) discovered.set(outbound, (cache = new Map()));
  const key = JSON.stringify([c.issuer, c.clientId, c.clientSecret === null ? null : sha256(c.clientSecret).toString('base64url')]);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
  const entry = { at: Date.now(), config: discover(outbound, c) };
  cache.delete(key);
  cache.set(key, entry);
  if (cache.size > DISCOVERY_CACHE_MAX) cache.delete(cache.keys().next().value!);
  entry.config.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return entry.config;
}

interface Loaded {
  conn: SsoConnectionRow;
  oidc: OidcConfig;
  secret: string | null;
}

async function load(deps: OidcDeps, tx: Tx, tenantId: string): Promise<Loaded | null> {
  const conn = await readConnection(tx, 'oidc');
  if (!conn) return null;
  const oidc = conn.config as unknown as OidcConfig;
  const secret = conn.secretSealed ? await deps.keyring.openString(tx, tenantId, conn.secretSealed, OIDC_SECRET_CONTEXT) : null;
  return { conn, oidc, secret };
}

/** The scope and `claims` request: the groups claim is asked for only in a way the IdP says it understands. */
function authorizationParameters(config: client.Configuration, conn: SsoConnectionRow): Record<string, string> {
  const meta = config.serverMetadata();
  const scopes = ['openid', 'email', 'profile'];
  const wantGroups = conn.groupRoles.length > 0;
  if (wantGroups && meta.scopes_supported?.includes(conn.groupsClaim)) scopes.push(conn.groupsClaim);
  const params: Record<string, string> = { scope: scopes.join(' ') };
  if (wantGroups && meta.claims_parameter_supported) {
    params.claims = JSON.stringify({ id_token: { [conn.groupsClaim]: null }, userinfo: { [conn.groupsClaim]: null } });
  }
  return params;
}

/**
 * Starts a sign-in: the authorization URL to send the browser to, and the binding token the caller sets
 * as the `__Host-parley_sso` cookie. State, nonce and PKCE verifier are kept in sso_requests (state is the
 * id), single use, for ten minutes, with the SHA-256 of the binding token.
 */
export async function startOidcSignIn(
  deps: OidcDeps,
  tenantId: string,
  opts: { requestId: string | null; binding?: string | null },
): Promise<{ url: string; bindingToken: string }> {
  const loaded = await deps.db.withTenant(tenantId, { requestId: opts.requestId }, (tx) => load(deps, tx, tenantId));
  if (!loaded) throw new OidcRefusal('not_configured');
  let config: client.Configuration;
  try {
    config = await discoverCached(deps.outbound, { ...loaded.oidc, clientSecret: loaded.secret });
  } catch (err) {
    throw new OidcRefusal(refusalReason(err));
  }
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: oidcRedirectUri(deps.publicUrl, tenantId),
    response_type: 'code',
    ...authorizationParameters(config, loaded.conn),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const binding = bindingFor(opts.binding);
  await deps.db.withTenant(tenantId, { requestId: opts.requestId }, (tx) =>
    saveRequest(tx, tenantId, {
      id: state,
      kind: 'oidc',
      binding: binding.hash,
      data: { nonce, verifier, issuer: loaded.oidc.issuer, clientId: loaded.oidc.clientId },
    }),
  );
  return { url: url.href, bindingToken: binding.token };
}

const CODE_REPLAY_SECONDS = 60 * 60;

/**
 * Completes a sign-in from the IdP's redirect (`query`: the callback's query string). Refuses, with an
 * OidcRefusal, anything short of a fresh, single-use, browser-bound request whose code the issuer
 * exchanges for an ID token that passes every check, for a verified email at an allowed domain.
 */
export async function finishOidcSignIn(
  deps: OidcDeps,
  tenantId: string,
  opts: { requestId: string | null; query: URLSearchParams; binding: string | null | undefined },
): Promise<OidcProfile> {
  const state = opts.query.get('state');
  if (!state) throw new OidcRefusal('state_unknown');
  const code = opts.query.get('code');

  const taken = await deps.db.withTenant(tenantId, { requestId: opts.requestId }, async (tx) => {
    const req = await takeRequest(tx, 'oidc', state, opts.binding);
    if (!req.ok) return req;
    if (code && !(await firstUse(tx, tenantId, 'oidc', `code:${code}`, new Date(Date.now() + CODE_REPLAY_SECONDS * 1000)))) {
      return { ok: false as const, reason: 'code_replayed' as const };
    }
    return { ok: true as const, data: req.data, loaded: await load(deps, tx, tenantId) };
  });
  if (!taken.ok) throw new OidcRefusal(taken.reason);
  const { loaded } = taken;
  const data = taken.data as { nonce: string; verifier: string; issuer: string; clientId: string };
  if (!loaded) throw new OidcRefusal('not_configured');
  if (loaded.oidc.issuer !== data.issuer || loaded.oidc.clientId !== data.clientId) throw new OidcRefusal('config_changed');
  if (opts.query.has('error')) throw new OidcRefusal('idp_error');
  if (!code) throw new OidcRefusal('code_invalid');

  let claims: Record<string, unknown>;
  let idToken: string;
  let exp: number;
  try {
    const config = await discoverCached(deps.outbound, { ...loaded.oidc, clientSecret: loaded.secret });
    const current = new URL(oidcRedirectUri(deps.publicUrl, tenantId));
    current.search = opts.query.toString();
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: data.verifier,
      expectedState: state,
      expectedNonce: data.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims || !tokens.id_token) throw new OidcRefusal('token_invalid');
    // openid-client checked iss, aud, azp, nonce, exp and iat; the same again here, so that no option of
    // the library can quietly turn one off.
    const aud = Array.isArray(idClaims.aud) ? idClaims.aud : [idClaims.aud];
    if (idClaims.iss !== config.serverMetadata().issuer || idClaims.iss !== loaded.oidc.issuer) throw new OidcRefusal('issuer_mismatch');
    if (!aud.includes(loaded.oidc.clientId) || (aud.length > 1 && idClaims.azp !== loaded.oidc.clientId)) throw new OidcRefusal('audience_mismatch');
    if (idClaims.azp !== undefined && idClaims.azp !== loaded.oidc.clientId) throw new OidcRefusal('audience_mismatch');
    if (idClaims.nonce !== data.nonce) throw new OidcRefusal('nonce_mismatch');
    if (typeof idClaims.exp !== 'number' || idClaims.exp * 1000 <= Date.now() - 30_000) throw new OidcRefusal('token_expired');
    claims = { ...idClaims };
    idToken = tokens.id_token;
    exp = idClaims.exp;
    // Claims the ID token leaves out (IdPs that keep them for userinfo): from userinfo, for the same subject.
    const needGroups = loaded.conn.groupRoles.length > 0 && claims[loaded.conn.groupsClaim] === undefined;
    if (
      (claims.email === undefined || (claims.email_verified === undefined && claims.xms_edov === undefined) || needGroups) &&
      config.serverMetadata().userinfo_endpoint
    ) {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      for (const k of ['email', 'email_verified', 'xms_edov', 'name', 'given_name', 'family_name', loaded.conn.groupsClaim]) {
        if (claims[k] === undefined && info[k] !== undefined) claims[k] = info[k];
      }
    }
  } catch (err) {
    throw err instanceof OidcRefusal ? err : new OidcRefusal(refusalReason(err));
  }

  const replayKey = typeof claims.jti === 'string' ? `jti:${String(claims.iss)}:${claims.jti}` : `id_token:${idToken}`;
  const fresh = await deps.db.withTenant(tenantId, { requestId: opts.requestId }, (tx) =>
    firstUse(tx, tenantId, 'oidc', replayKey, new Date(Math.max(exp * 1000, Date.now()) + 5 * 60_000)),
  );
  if (!fresh) throw new OidcRefusal('token_replayed');

  return profileFrom(claims, loaded.conn);
}

function profileFrom(claims: Record<string, unknown>, conn: SsoConnectionRow): OidcProfile {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  const domain = emailDomain(email);
  if (!email || !domain || email.length > 254) throw new OidcRefusal('email_missing');
  // Only an address the IdP itself verified: anything else could be any address the person typed in.
  // Microsoft Entra ID sends no email_verified; its optional claim xms_edov says the email's domain is
  // verified by the directory that owns the account.
  const yes = (v: unknown) => v === true || v === 'true' || v === 1 || v === '1';
  if (!yes(claims.email_verified) && !(claims.email_verified === undefined && yes(claims.xms_edov))) throw new OidcRefusal('email_unverified');
  if (!conn.allowedDomains.includes(domain)) throw new OidcRefusal('domain_not_allowed');
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const name = str(claims.name) || [str(claims.given_name), str(claims.family_name)].filter(Boolean).join(' ') || email.slice(0, email.indexOf('@'));
  const raw = claims[conn.groupsClaim];
  const groups = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [])
    .filter((g): g is string => typeof g === 'string' && g.length <= 200)
    .slice(0, 500);
  return { email, displayName: Array.from(name).slice(0, 100).join(''), groups, subject: String(claims.sub) };
}

/** The refusal code for an error thrown by openid-client or the outbound module (never its message). */
export function refusalReason(err: unknown): OidcRefusalReason {
  const chain: Record<string, unknown>[] = [];
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 6; e = (e as { cause?: unknown }).cause, i++)
    chain.push(e as Record<string, unknown>);
  for (const e of chain) {
    if (e instanceof OidcRefusal) return e.reason;
    if (e instanceof OutboundError)
      return e.code === 'not_public' || e.code === 'scheme' || e.code === 'credentials' || e.code === 'invalid_url'
        ? 'issuer_refused'
        : 'idp_unreachable';
    if (e instanceof client.ResponseBodyError) return e.error === 'invalid_grant' ? 'code_invalid' : 'idp_error';
    if (e instanceof client.AuthorizationResponseError) return 'idp_error';
  }
  const codes = new Set(chain.map((e) => e.code).filter((c): c is string => typeof c === 'string'));
  const field = (name: string) => chain.map((e) => e[name]).find((v) => typeof v === 'string') as string | undefined;
  if (codes.has('OAUTH_JWT_CLAIM_COMPARISON_FAILED')) {
    const claim = field('claim');
    if (claim === 'nonce') return 'nonce_mismatch';
    if (claim === 'aud' || claim === 'azp') return 'audience_mismatch';
    if (claim === 'iss') return 'issuer_mismatch';
    return 'token_invalid';
  }
  if (codes.has('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED')) {
    const attribute = field('attribute');
    if (attribute === 'issuer' || attribute === 'iss') return 'issuer_mismatch';
    if (attribute === 'state') return 'state_unknown';
    return 'idp_error';
  }
  // The authorization response's `iss` parameter (RFC 9207), wrong or missing where the issuer sends it.
  if (codes.has('OAUTH_INVALID_RESPONSE') && chain.some((e) => typeof e.message === 'string' && e.message.includes('"iss" (issuer)')))
    return 'issuer_mismatch';
  if (codes.has('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')) return 'token_expired';
  if (codes.has('OAUTH_KEY_SELECTION_FAILED')) return 'signature_invalid';
  if (chain.some((e) => typeof e.message === 'string' && /signature/i.test(e.message))) return 'signature_invalid';
  if (chain.some((e) => e instanceof TypeError && /fetch failed/.test(String(e.message)))) return 'idp_unreachable';
  return 'idp_error';
}
