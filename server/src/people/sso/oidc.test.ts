// OIDC sign-in against a real OpenID Provider (oidc-provider) on 127.0.0.1: the happy path, and each attack
// refused with its reason — a wrong nonce, a token for another client, an expired code, a replayed code, a
// callback from another browser, an address outside the allowed domains, an unverified address, an ID
// token whose signature does not verify, and an issuer on a private address in production.
import { OidcConnectionRequest } from '@parley/protocol';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { DomainError } from '../../errors.js';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../../outbound/outbound.js';
import type { CreatedTenant } from '../../tenants/service.js';
import { pino } from 'pino';
import { createApp } from '../../app.js';
import { wireRuntime } from '../../runtime.js';
import { createTenant } from '../../tenants/service.js';
import { startTestApp, testConfig, type TestApp } from '../../test/app.js';
import { createTestDb } from '../../test/db.js';
import { ConsoleClient, parseSetCookies, signedInMember, STRONG_PASSWORD } from '../../test/console.js';
import { call } from '../../test/http.js';
import { insertMember, linkSsoIdentity } from '../store.js';
import { finishOidcSignIn, OIDC_SECRET_CONTEXT, OidcRefusal, startOidcSignIn, type OidcDeps } from './oidc.js';
import { deleteOidcConnection, getOidcConnection, putOidcConnection } from './oidc-admin.js';

// ---------------------------------------------------------------------------------------------------------
// A real OpenID Provider, behind a front server that can tamper with token responses (a compromised or
// mixed-up IdP), with a test-only interaction route that signs in whichever account the test chose.

interface Account {
  email: string;
  email_verified?: boolean;
  /** Microsoft Entra ID's optional claim: the email's domain is verified by the account's directory. */
  xms_edov?: boolean;
  name: string;
  groups: string[];
}

interface Op {
  issuer: string;
  provider: any;
  accounts: Map<string, Account>;
  /** Which account the next interaction signs in. */
  signInAs: string;
  /** Lifetime of the next authorization codes, in seconds. */
  codeTtl: number;
  /** Paths of every request that reached the OP (browser and server alike). */
  seen: string[];
  /** Rewrites the next token endpoint responses (JSON body) while set. */
  tamperToken: ((body: Record<string, unknown>) => Record<string, unknown>) | null;
  close(): Promise<void>;
}

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

async function startOp(clients: { client_id: string; client_secret: string; redirect_uris: string[] }[]): Promise<Op> {
  const front = createServer();
  const frontPort = await listen(front);
  const issuer = `http://127.0.0.1:${frontPort}`;
  const op: Op = {
    issuer,
    provider: null,
    accounts: new Map(),
    signInAs: '',
    codeTtl: 60,
    seen: [],
    tamperToken: null,
    close: async () => undefined,
  };
  // A throwaway signing key for this OP's ID tokens (published at its JWKS endpoint).
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: `k-${frontPort}`, alg: 'RS256', use: 'sig' }] },
    clients: clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: () => op.codeTtl, AccessToken: 600, IdToken: 600, Grant: 600, Session: 600, Interaction: 600 },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => {
      const a = op.accounts.get(id);
      return a && { accountId: id, claims: async () => ({ sub: id, ...a }) };
    },
  });
  op.provider = provider;
  const opHandler = provider.callback();
  const inner = createServer(async (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      try {
        const details = await provider.interactionDetails(req, res);
        const accountId = op.signInAs;
        const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (err) {
        res.statusCode = 500;
        res.end(String(err));
      }
      return;
    }
    opHandler(req, res);
  });
  const innerPort = await listen(inner);
  // The front: forwards everything to the provider; token responses may be rewritten by the test.
  front.on('request', (req: IncomingMessage, res: ServerResponse) => {
    op.seen.push(new URL(req.url ?? '/', issuer).pathname);
    const upstream = httpRequest({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const tamper = op.tamperToken;
      if (req.url === '/token' && tamper && up.statusCode === 200) {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = JSON.stringify(tamper(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(body)) };
          delete headers['content-encoding'];
          res.writeHead(200, headers);
          res.end(body);
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  op.close = async () => {
    await closeServer(front);
    await closeServer(inner);
  };
  return op;
}

/** A browser, as far as the OP is concerned: a cookie jar and manual redirects. */
class Browser {
  cookies = new Map<string, string>();
  /** Follows redirects from `url` until one points at `stopAt`; returns that URL. */
  async follow(url: string, stopAt: string): Promise<URL> {
    let next = url;
    for (let i = 0; i < 15; i++) {
      if (next.startsWith(stopAt)) return new URL(next);
      const res = await fetch(next, { redirect: 'manual', headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq).trim();
        const value = pair!.slice(eq + 1).trim();
        if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`the OP stopped at ${res.status}: ${(await res.text()).slice(0, 300)}`);
      await res.body?.cancel();
      next = new URL(location, next).href;
    }
    throw new Error('too many redirects');
  }
}

// ---------------------------------------------------------------------------------------------------------

const PUBLIC_URL = 'https://parley.test';
const devOutbound = () => new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) });
const ctxFor = (tenantId: string) => ({ requestId: null, actor: { type: 'cli' as const, id: 'test' }, tenantId });
const callbackPrefix = (tenantId: string) => `${PUBLIC_URL}/v1/auth/sso/oidc/${tenantId}/callback`;

describe('OIDC sign-in (protocol)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let beta: CreatedTenant;
  let op: Op;
  let deps: OidcDeps;

  beforeAll(async () => {
    t = await startTestApp({ PARLEY_PUBLIC_URL: PUBLIC_URL });
    acme = await t.tenant('Acme', ['acme.example']);
    beta = await t.tenant('Beta', ['beta.example']);
    op = await startOp([
      { client_id: 'parley-acme', client_secret: 'acme-secret-0123456789', redirect_uris: [callbackPrefix(acme.tenant.id)] },
      { client_id: 'parley-beta', client_secret: 'beta-secret-0123456789', redirect_uris: [callbackPrefix(beta.tenant.id)] },
    ]);
    op.accounts.set('ada', { email: 'Ada@Acme.example', email_verified: true, name: 'Ada Lovelace', groups: ['eng', 'support-admins'] });
    op.accounts.set('bob', { email: 'bob@beta.example', email_verified: true, name: 'Bob', groups: [] });
    op.accounts.set('eve', { email: 'eve@evil.example', email_verified: true, name: 'Eve', groups: [] });
    op.accounts.set('una', { email: 'una@acme.example', email_verified: false, name: 'Una', groups: [] });
    op.accounts.set('ent', { email: 'ent@acme.example', xms_edov: true, name: 'Entra Person', groups: [] });
    op.accounts.set('enx', { email: 'enx@acme.example', xms_edov: false, name: 'Entra Unverified', groups: [] });
    deps = { db: t.runtime.db, audit: t.runtime.audit, keyring: t.runtime.keyring, outbound: devOutbound(), publicUrl: PUBLIC_URL };
    await putOidcConnection(deps, ctxFor(acme.tenant.id), {
      issuer: op.issuer,
      clientId: 'parley-acme',
      clientSecret: 'acme-secret-0123456789',
      allowedDomains: ['acme.example'],
      defaultRole: 'agent',
      groupsClaim: 'groups',
      groupRoles: [{ group: 'support-admins', role: 'admin' }],
    });
    await putOidcConnection(deps, ctxFor(beta.tenant.id), {
      issuer: op.issuer,
      clientId: 'parley-beta',
      clientSecret: 'beta-secret-0123456789',
      allowedDomains: ['beta.example'],
      defaultRole: 'analyst',
      groupsClaim: 'groups',
      groupRoles: [],
    });
  });
  afterAll(async () => {
    await op?.close();
    await t?.close();
  });

  /** Starts a sign-in for `tenantId` as `account` and returns the callback the OP sends the browser to. */
  async function atIdp(tenantId: string, account: string, binding?: string) {
    const started = await startOidcSignIn(deps, tenantId, { requestId: null, binding });
    op.signInAs = account;
    const callback = await new Browser().follow(started.url, callbackPrefix(tenantId));
    return { ...started, callback, state: callback.searchParams.get('state')! };
  }
  const finish = (tenantId: string, callback: URL, binding: string | null) =>
    finishOidcSignIn(deps, tenantId, { requestId: null, query: callback.searchParams, binding });
  async function refused(p: Promise<unknown>): Promise<string> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OidcRefusal);
    return (err as OidcRefusal).reason;
  }

  test('the authorization request carries PKCE S256, state, nonce and the scopes', async () => {
    const { url } = await startOidcSignIn(deps, acme.tenant.id, { requestId: null });
    const u = new URL(url);
    expect(u.origin).toBe(op.issuer);
    expect(u.searchParams.get('response_type')).toBe('code');
    expect(u.searchParams.get('client_id')).toBe('parley-acme');
    expect(u.searchParams.get('redirect_uri')).toBe(callbackPrefix(acme.tenant.id));
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(u.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(u.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(u.searchParams.get('scope')!.split(' ').sort()).toEqual(['email', 'groups', 'openid', 'profile']);
  });

  test('the happy path: a verified profile, email lower-cased, groups from the IdP', async () => {
    const { callback, bindingToken } = await atIdp(acme.tenant.id, 'ada');
    const profile = await finish(acme.tenant.id, callback, bindingToken);
    expect(profile).toEqual({ email: 'ada@acme.example', displayName: 'Ada Lovelace', groups: ['eng', 'support-admins'], subject: 'ada' });
  });

  test('the stored request is single use and bound to the browser: the binding is stored as a hash only', async () => {
    const { state, bindingToken } = await atIdp(acme.tenant.id, 'ada');
    const row = await t.runtime.db.withTenant(
      acme.tenant.id,
      { requestId: null },
      async (tx) => (await tx.query<{ binding: Buffer; data: object }>('SELECT binding, data FROM sso_requests WHERE id = $1', [state])).rows[0]!,
    );
    expect(Buffer.from(row.binding).equals(createHash('sha256').update(bindingToken).digest())).toBe(true);
    expect(JSON.stringify(row)).not.toContain(bindingToken);
  });

  test('a replayed callback (the same code and state twice) is refused: state_used', async () => {
    const { callback, bindingToken } = await atIdp(acme.tenant.id, 'ada');
    await finish(acme.tenant.id, callback, bindingToken);
    expect(await refused(finish(acme.tenant.id, callback, bindingToken))).toBe('state_used');
  });

  test('a replayed code under a fresh state of the same browser is refused: code_replayed', async () => {
    const first = await atIdp(acme.tenant.id, 'ada');
    await finish(acme.tenant.id, first.callback, first.bindingToken);
    const second = await atIdp(acme.tenant.id, 'ada', first.bindingToken);
    const forged = new URL(second.callback);
    forged.searchParams.set('code', first.callback.searchParams.get('code')!);
    expect(await refused(finish(acme.tenant.id, forged, first.bindingToken))).toBe('code_replayed');
  });

  test('state from another browser (binding cookie missing or different) is refused: binding_mismatch', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    expect(await refused(finish(acme.tenant.id, a.callback, null))).toBe('binding_mismatch');
    const b = await atIdp(acme.tenant.id, 'ada');
    const other = (await startOidcSignIn(deps, acme.tenant.id, { requestId: null })).bindingToken;
    expect(await refused(finish(acme.tenant.id, b.callback, other))).toBe('binding_mismatch');
    // …and the request is spent: the right browser cannot use it afterwards either.
    expect(await refused(finish(acme.tenant.id, b.callback, b.bindingToken))).toBe('state_used');
  });

  test('an unknown state is refused: state_unknown', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    const forged = new URL(a.callback);
    forged.searchParams.set('state', 'x'.repeat(43));
    expect(await refused(finish(acme.tenant.id, forged, a.bindingToken))).toBe('state_unknown');
    forged.searchParams.delete('state');
    expect(await refused(finish(acme.tenant.id, forged, a.bindingToken))).toBe('state_unknown');
  });

  test('state of one tenant presented at another tenant is unknown there', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    expect(await refused(finish(beta.tenant.id, a.callback, a.bindingToken))).toBe('state_unknown');
  });

  test('an expired request is refused: state_expired', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    await t.runtime.db.withOwner((tx) => tx.query("UPDATE sso_requests SET expires_at = now() - interval '1 second' WHERE id = $1", [a.state]));
    expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('state_expired');
  });

  test('a wrong nonce (the ID token answers another request) is refused: nonce_mismatch', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    await t.runtime.db.withOwner((tx) =>
      tx.query(`UPDATE sso_requests SET data = jsonb_set(data, '{nonce}', '"not-the-nonce-the-op-signed"') WHERE id = $1`, [a.state]),
    );
    expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('nonce_mismatch');
  });

  test("a code issued to another client (another tenant's) is refused by the issuer: code_invalid", async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    const b = await atIdp(beta.tenant.id, 'bob');
    const swapped = new URL(a.callback);
    swapped.searchParams.set('code', b.callback.searchParams.get('code')!);
    expect(await refused(finish(acme.tenant.id, swapped, a.bindingToken))).toBe('code_invalid');
  });

  test('an ID token for another client, slipped into the token response, is refused: audience_mismatch', async () => {
    // A genuine, correctly signed ID token of the same issuer, but for the other client.
    const b = await atIdp(beta.tenant.id, 'bob');
    let betaIdToken = '';
    op.tamperToken = (body) => {
      betaIdToken = String(body.id_token);
      return body;
    };
    await finish(beta.tenant.id, b.callback, b.bindingToken);
    const a = await atIdp(acme.tenant.id, 'ada');
    op.tamperToken = (body) => ({ ...body, id_token: betaIdToken });
    try {
      expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('audience_mismatch');
    } finally {
      op.tamperToken = null;
    }
  });

  test('an ID token whose signature does not verify against the JWKS is refused: signature_invalid', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    op.tamperToken = (body) => {
      const [h, p, s] = String(body.id_token).split('.');
      const sig = Buffer.from(s!, 'base64url');
      sig[0]! ^= 0xff;
      return { ...body, id_token: `${h}.${p}.${sig.toString('base64url')}` };
    };
    try {
      expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('signature_invalid');
    } finally {
      op.tamperToken = null;
    }
  });

  test('an ID token with changed claims (re-encoded payload, original signature) is refused', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    op.tamperToken = (body) => {
      const [h, p, s] = String(body.id_token).split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
      return { ...body, id_token: `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${s}` };
    };
    try {
      expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('signature_invalid');
    } finally {
      op.tamperToken = null;
    }
  });

  test('an authorization response naming another issuer (RFC 9207 mix-up) is refused: issuer_mismatch', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    expect(a.callback.searchParams.get('iss')).toBe(op.issuer);
    const mixed = new URL(a.callback);
    mixed.searchParams.set('iss', 'https://attacker.example');
    expect(await refused(finish(acme.tenant.id, mixed, a.bindingToken))).toBe('issuer_mismatch');
    const b = await atIdp(acme.tenant.id, 'ada');
    const stripped = new URL(b.callback);
    stripped.searchParams.delete('iss');
    expect(await refused(finish(acme.tenant.id, stripped, b.bindingToken))).toBe('issuer_mismatch');
  });

  test('an expired code is refused by the issuer: code_invalid', async () => {
    op.codeTtl = 1;
    let a: Awaited<ReturnType<typeof atIdp>>;
    try {
      a = await atIdp(acme.tenant.id, 'ada');
    } finally {
      op.codeTtl = 60;
    }
    const issued = Math.floor(Date.now() / 1000);
    // oidc-provider counts in whole seconds: wait until the code's second of expiry has passed.
    await vi.waitFor(() => expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(issued + 1), { timeout: 5000, interval: 100 });
    expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('code_invalid');
  });

  test('an address outside the allowed domains is refused: domain_not_allowed', async () => {
    const a = await atIdp(acme.tenant.id, 'eve');
    expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('domain_not_allowed');
  });

  test('an address the IdP has not verified is refused: email_unverified', async () => {
    const a = await atIdp(acme.tenant.id, 'una');
    expect(await refused(finish(acme.tenant.id, a.callback, a.bindingToken))).toBe('email_unverified');
    const x = await atIdp(acme.tenant.id, 'enx');
    expect(await refused(finish(acme.tenant.id, x.callback, x.bindingToken))).toBe('email_unverified');
  });

  test('Entra ID style: no email_verified, but xms_edov true (the directory owns the domain) is a verified address', async () => {
    const a = await atIdp(acme.tenant.id, 'ent');
    expect((await finish(acme.tenant.id, a.callback, a.bindingToken)).email).toBe('ent@acme.example');
  });

  test('an error answer of the IdP (the person declined) is refused: idp_error', async () => {
    const a = await atIdp(acme.tenant.id, 'ada');
    const denied = new URL(callbackPrefix(acme.tenant.id));
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('state', a.state);
    expect(await refused(finish(acme.tenant.id, denied, a.bindingToken))).toBe('idp_error');
  });

  test('discovery and the JWKS are fetched once and reused; every sign-in still exchanges its code', async () => {
    const from = op.seen.length;
    for (let i = 0; i < 2; i++) {
      const a = await atIdp(acme.tenant.id, 'ada');
      await finish(acme.tenant.id, a.callback, a.bindingToken);
    }
    const seen = op.seen.slice(from);
    expect(seen.filter((p) => p.startsWith('/.well-known') || p === '/jwks')).toEqual([]);
    expect(seen.filter((p) => p === '/token')).toHaveLength(2);
  });

  test("a domain is one tenant's: another tenant cannot list it, nor a mailbox provider anyone can use (the takeover attack)", async () => {
    const beta2 = {
      issuer: op.issuer,
      clientId: 'parley-beta',
      allowedDomains: ['beta.example', 'acme.example'],
      defaultRole: 'agent' as const,
      groupsClaim: 'groups',
      groupRoles: [],
    };
    // Listing Acme's domain would send Acme's people to Beta's IdP: refused, and Beta's connection unchanged.
    await expect(putOidcConnection(deps, ctxFor(beta.tenant.id), beta2)).rejects.toMatchObject({ code: 'conflict' });
    expect((await getOidcConnection(deps, ctxFor(beta.tenant.id)))?.allowedDomains).toEqual(['beta.example']);
    // Acme may list its own domain again (its own claim is no conflict).
    const ours = {
      ...beta2,
      clientId: 'parley-acme',
      allowedDomains: ['acme.example'],
      groupRoles: [{ group: 'support-admins', role: 'admin' as const }],
    };
    await expect(putOidcConnection(deps, ctxFor(acme.tenant.id), ours)).resolves.toBeTruthy();
    // Nor a shared mailbox provider, nor what is not a domain name (a trailing dot, a look-alike letter).
    for (const d of ['Gmail.com', 'yahoo.co.uk', 'gmail.com.', '@acme.example', 'acme .example', 'acme', '\u0430cme.example'])
      expect(OidcConnectionRequest.safeParse({ ...beta2, allowedDomains: ['beta.example', d] }).success, d).toBe(false);
    expect(OidcConnectionRequest.safeParse({ ...beta2, allowedDomains: ['xn--mnchen-3ya.example', 'sub.beta.example'] }).success).toBe(true);
  });

  test('a tenant without an OIDC connection: not_configured', async () => {
    const gamma = await t.tenant('Gamma', ['gamma.example']);
    expect(await refused(startOidcSignIn(deps, gamma.tenant.id, { requestId: null }))).toBe('not_configured');
  });
});

describe('OIDC connection (admin service)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let op: Op;
  let deps: OidcDeps;
  const base = { clientId: 'parley-acme', allowedDomains: ['acme.example'], defaultRole: 'agent' as const, groupsClaim: 'groups', groupRoles: [] };

  beforeAll(async () => {
    t = await startTestApp({ PARLEY_PUBLIC_URL: PUBLIC_URL });
    acme = await t.tenant('Acme', ['acme.example']);
    op = await startOp([{ client_id: 'parley-acme', client_secret: 'acme-secret-0123456789', redirect_uris: [callbackPrefix(acme.tenant.id)] }]);
    deps = { db: t.runtime.db, audit: t.runtime.audit, keyring: t.runtime.keyring, outbound: devOutbound(), publicUrl: PUBLIC_URL };
  });
  afterAll(async () => {
    await op?.close();
    await t?.close();
  });

  const invalidAt = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).details.errors?.map((e) => `${e.path} ${e.code}`);
  };

  test('the secret is sealed, never read back, and never in the audit log', async () => {
    const out = await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: op.issuer, clientSecret: 'acme-secret-0123456789' });
    expect(out).toEqual({ ...base, issuer: op.issuer, hasClientSecret: true, redirectUri: callbackPrefix(acme.tenant.id) });
    expect(JSON.stringify(await getOidcConnection(deps, ctxFor(acme.tenant.id)))).not.toContain('acme-secret');
    const stored = await t.runtime.db.withOwner(
      async (tx) => (await tx.query<{ config: object; secret_sealed: Buffer }>('SELECT config, secret_sealed FROM sso_connections')).rows,
    );
    expect(Buffer.from(stored[0]!.secret_sealed).toString('latin1')).not.toContain('acme-secret');
    expect(JSON.stringify(stored[0]!.config)).not.toContain('acme-secret');
    const audit = await t.runtime.db.withOwner(
      async (tx) =>
        (await tx.query<{ action: string; metadata: object }>("SELECT action, metadata FROM audit_entries WHERE action LIKE 'sso.%'")).rows,
    );
    expect(audit.map((a) => a.action)).toEqual(['sso.oidc_configured']);
    expect(audit[0]!.metadata).toMatchObject({
      issuer: op.issuer,
      clientId: 'parley-acme',
      allowedDomains: ['acme.example'],
      clientSecret: 'replaced',
    });
    expect(JSON.stringify(audit)).not.toContain('acme-secret');
  });

  test('a stored secret is never sent to another issuer or client: changing either needs the secret again', async () => {
    await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: op.issuer, clientSecret: 'acme-secret-0123456789' });
    const other = await startOp([{ client_id: 'parley-acme', client_secret: 'x', redirect_uris: [callbackPrefix(acme.tenant.id)] }]);
    try {
      expect(await invalidAt(putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: other.issuer }))).toEqual([
        '/clientSecret secret_required',
      ]);
      expect(await invalidAt(putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: op.issuer, clientId: 'other-client' }))).toEqual([
        '/clientSecret secret_required',
      ]);
    } finally {
      await other.close();
    }
    // Same issuer and client: the stored secret stays.
    expect((await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: op.issuer, defaultRole: 'analyst' })).hasClientSecret).toBe(
      true,
    );
  });

  test('the issuer is stored as its discovery document names it (a trailing slash is not kept)', async () => {
    expect((await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: `${op.issuer}/`, clientSecret: 's' })).issuer).toBe(op.issuer);
  });

  test('an issuer whose discovery document names another issuer is refused (a mix-up)', async () => {
    const doc = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    const mirror = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc)));
    const port = await listen(mirror);
    try {
      expect(
        await invalidAt(putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: `http://127.0.0.1:${port}`, clientSecret: 's' })),
      ).toEqual(['/issuer discovery_failed']);
    } finally {
      await closeServer(mirror);
    }
  });

  test('an issuer that is not an OpenID Provider is refused', async () => {
    const blank = createServer((_req, res) => res.writeHead(404).end());
    const port = await listen(blank);
    try {
      expect(
        await invalidAt(putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: `http://127.0.0.1:${port}`, clientSecret: 's' })),
      ).toEqual(['/issuer discovery_failed']);
    } finally {
      await closeServer(blank);
    }
  });

  test('removal is audited, and then nothing is configured', async () => {
    await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer: op.issuer, clientSecret: 'acme-secret-0123456789' });
    await deleteOidcConnection(deps, ctxFor(acme.tenant.id));
    await expect(getOidcConnection(deps, ctxFor(acme.tenant.id))).rejects.toMatchObject({ code: 'not_found' });
    await expect(deleteOidcConnection(deps, ctxFor(acme.tenant.id))).rejects.toMatchObject({ code: 'not_found' });
    const audit = await t.runtime.db.withOwner(
      async (tx) => (await tx.query<{ metadata: object }>("SELECT metadata FROM audit_entries WHERE action = 'sso.oidc_removed'")).rows,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.metadata).toEqual({ issuer: op.issuer, clientId: 'parley-acme', allowedDomains: ['acme.example'] });
  });
});

describe('OIDC issuer in production (outbound refuses private destinations)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let op: Op;

  beforeAll(async () => {
    t = await startTestApp({ PARLEY_PUBLIC_URL: PUBLIC_URL });
    acme = await t.tenant('Acme', ['acme.example']);
    op = await startOp([{ client_id: 'parley-acme', client_secret: 'acme-secret-0123456789', redirect_uris: [callbackPrefix(acme.tenant.id)] }]);
  });
  afterAll(async () => {
    await op?.close();
    await t?.close();
  });

  test('at configuration: a private address or a name resolving to one is refused, naming the field', async () => {
    const prod = new Outbound({ env: 'production', allow: parseAllowList(''), resolve: async () => [{ address: '10.1.2.3', family: 4 }] });
    const deps = { db: t.runtime.db, audit: t.runtime.audit, keyring: t.runtime.keyring, outbound: prod, publicUrl: PUBLIC_URL };
    const base = {
      clientId: 'c',
      clientSecret: 's',
      allowedDomains: ['acme.example'],
      defaultRole: 'agent' as const,
      groupsClaim: 'groups',
      groupRoles: [],
    };
    for (const issuer of ['https://127.0.0.1:8443', 'https://169.254.169.254', op.issuer, 'https://idp.internal.example']) {
      const err = await putOidcConnection(deps, ctxFor(acme.tenant.id), { ...base, issuer }).then(
        () => null,
        (e: unknown) => e as DomainError,
      );
      expect(err?.details.errors?.[0]?.path).toBe('/issuer');
    }
  });

  test('at sign-in: a stored issuer now resolving to a private address is never contacted: issuer_refused', async () => {
    // Saved while it resolved publicly (here: development allows 127.0.0.1), then production refuses it.
    const dev = { db: t.runtime.db, audit: t.runtime.audit, keyring: t.runtime.keyring, outbound: devOutbound(), publicUrl: PUBLIC_URL };
    await putOidcConnection(dev, ctxFor(acme.tenant.id), {
      issuer: op.issuer,
      clientId: 'parley-acme',
      clientSecret: 'acme-secret-0123456789',
      allowedDomains: ['acme.example'],
      defaultRole: 'agent',
      groupsClaim: 'groups',
      groupRoles: [],
    });
    const contacted = op.seen.length;
    const prod = { ...dev, outbound: new Outbound({ env: 'production', allow: parseAllowList('') }) };
    const err = await startOidcSignIn(prod, acme.tenant.id, { requestId: null }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as OidcRefusal).reason).toBe('issuer_refused');
    expect(op.seen.length).toBe(contacted);
  });
});

// ---------------------------------------------------------------------------------------------------------
// End to end over HTTP: the admin API configures the connection, "Sign in with SSO" starts at the
// foundation's route, the browser goes through the OP and lands on the callback, and comes out signed in
// with the role from the group mapping. Each refusal: a redirect naming the reason, an audit entry, no session.

describe('OIDC end to end over HTTP', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let op: Op;
  let owner: Awaited<ReturnType<typeof signedInMember>>;
  const callbackPath = () => `/v1/auth/sso/oidc/${acme.tenant.id}/callback`;
  const SECRET = 'acme-http-secret-0123456789';

  beforeAll(async () => {
    t = await startTestApp();
    acme = await t.tenant('Acme', ['acme.example']);
    op = await startOp([{ client_id: 'parley-acme', client_secret: SECRET, redirect_uris: [`${t.url}${callbackPath()}`] }]);
    op.accounts.set('ada', { email: 'ada@acme.example', email_verified: true, name: 'Ada Lovelace', groups: ['eng', 'support-admins'] });
    op.accounts.set('cal', { email: 'cal@acme.example', email_verified: true, name: 'Cal', groups: ['eng'] });
    op.accounts.set('dan', { email: 'dan@acme.example', email_verified: true, name: 'Dan', groups: [] });
    op.accounts.set('eve', { email: 'eve@evil.example', email_verified: true, name: 'Eve', groups: ['support-admins'] });
    op.accounts.set('una', { email: 'una@acme.example', email_verified: false, name: 'Una', groups: [] });
    owner = await signedInMember(t, acme.tenant.id, 'owner', 'owner@acme.example');
  });
  afterAll(async () => {
    await op?.close();
    await t?.close();
  });

  const connection = () => ({
    issuer: op.issuer,
    clientId: 'parley-acme',
    clientSecret: SECRET,
    allowedDomains: ['acme.example'],
    defaultRole: 'analyst',
    groupsClaim: 'groups',
    groupRoles: [
      { group: 'support-admins', role: 'admin' },
      { group: 'eng', role: 'agent' },
    ],
  });
  const refusalsOf = async (reason: string) =>
    Number(
      (
        await t.runtime.db.withOwner((tx) =>
          tx.query<{ n: number }>(
            `SELECT coalesce(sum(count), 0)::int AS n FROM audit_refusals WHERE tenant_id = $1 AND action = 'sso.oidc_refused' AND metadata->>'reason' = $2`,
            [acme.tenant.id, reason],
          ),
        )
      ).rows[0]!.n,
    );
  const auditEntries = async (action: string) =>
    (
      await t.runtime.db.withOwner((tx) =>
        tx.query<{ actor_type: string; actor_id: string | null; metadata: Record<string, unknown> }>(
          'SELECT actor_type, actor_id, metadata FROM audit_entries WHERE tenant_id = $1 AND action = $2 ORDER BY id',
          [acme.tenant.id, action],
        ),
      )
    ).rows;

  /** "Sign in with SSO" in a fresh browser, through the OP as `account`; returns the browser and the callback. */
  async function toCallback(account: string, email = 'someone@acme.example', browser = new ConsoleClient(t.url)) {
    const start = await browser.call('POST', '/v1/auth/sso/start', { email });
    expect(start.status, start.text).toBe(200);
    op.signInAs = account;
    const callback = await new Browser().follow(start.body.redirectUrl, `${t.url}${callbackPath()}`);
    return { browser, callback, start };
  }
  /** The browser arrives at the callback (a top-level navigation from the IdP: cookies, no Origin). */
  async function land(browser: ConsoleClient, callback: URL) {
    const res = await fetch(callback, {
      redirect: 'manual',
      headers: browser.jar.size ? { cookie: browser.cookieHeader(), 'sec-fetch-site': 'cross-site' } : {},
    });
    const cookies = parseSetCookies(res.headers);
    for (const c of cookies) {
      if (c.attributes.some((a) => /^max-age=0$/i.test(a))) browser.jar.delete(c.name);
      else browser.jar.set(c.name, c.value);
    }
    return { status: res.status, location: res.headers.get('location'), cookies };
  }
  const sessionCookies = (cookies: { name: string }[]) =>
    cookies.filter((c) => c.name === '__Host-parley_access' || c.name === '__Host-parley_refresh');

  test('admin API: configure (signin:write), read back without the secret (settings:read), audited without it', async () => {
    const agent = await signedInMember(t, acme.tenant.id, 'agent');
    expect((await agent.client.call('PUT', '/v1/admin/sso/oidc', connection())).status).toBe(403);
    expect((await agent.client.call('GET', '/v1/admin/sso/oidc')).status).toBe(403);
    expect((await owner.client.call('GET', '/v1/admin/sso/oidc')).status).toBe(404);

    const put = await owner.client.call('PUT', '/v1/admin/sso/oidc', connection());
    expect(put.status, put.text).toBe(200);
    const { clientSecret: _secret, ...shown } = connection();
    expect(put.body).toEqual({ ...shown, hasClientSecret: true, redirectUri: `${t.url}${callbackPath()}` });
    const got = await owner.client.call('GET', '/v1/admin/sso/oidc');
    expect(got.body).toEqual(put.body);
    expect(got.text).not.toContain(SECRET);

    const configured = await auditEntries('sso.oidc_configured');
    expect(configured).toHaveLength(1);
    expect(configured[0]).toMatchObject({
      actor_type: 'member',
      actor_id: owner.memberId,
      metadata: { issuer: op.issuer, clientId: 'parley-acme', allowedDomains: ['acme.example'] },
    });
    expect(JSON.stringify(configured)).not.toContain(SECRET);

    // A key without a secret field keeps the stored one; a bad body names the field.
    const { clientSecret: _s, ...noSecret } = connection();
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', noSecret)).body.hasClientSecret).toBe(true);
    const bad = await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...connection(), issuer: 'not a url' });
    expect(bad.status).toBe(400);
    // Ownership is never granted by an IdP.
    const owners = await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...connection(), groupRoles: [{ group: 'root', role: 'owner' }] });
    expect(owners.status).toBe(400);
    expect(owners.body.errors[0].path).toMatch(/^\/groupRoles/);
    expect((await owner.client.call('GET', '/v1/admin/sso/oidc')).body.groupRoles).toEqual(connection().groupRoles);
  });

  test('sign in: start, the OP, the callback; signed in with the role from the group mapping', async () => {
    const { browser, start, callback } = await toCallback('ada', 'ada@acme.example');
    const binding = parseSetCookies(start.headers).find((c) => c.name === '__Host-parley_sso');
    expect(binding?.attributes.map((a) => a.toLowerCase())).toEqual(expect.arrayContaining(['path=/', 'secure', 'httponly', 'samesite=lax']));
    expect(new URL(start.body.redirectUrl).origin).toBe(op.issuer);

    const landed = await land(browser, callback);
    expect(landed.status).toBe(303);
    expect(landed.location).toBe('/console/');
    expect(
      sessionCookies(landed.cookies)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['__Host-parley_access', '__Host-parley_refresh']);

    const me = await browser.call('GET', '/v1/admin/me');
    expect(me.status).toBe(200);
    expect(me.body.member).toMatchObject({ email: 'ada@acme.example', displayName: 'Ada Lovelace', role: 'admin' });
    const signIns = await auditEntries('member.sign_in');
    expect(signIns.at(-1)).toMatchObject({ actor_id: me.body.member.id, metadata: { method: 'oidc' } });
    expect(JSON.stringify(await auditEntries('member.join'))).not.toContain(callback.searchParams.get('code')!);
  });

  test('the role follows the groups: first match wins, default role without a match', async () => {
    const cal = await toCallback('cal');
    expect((await land(cal.browser, cal.callback)).location).toBe('/console/');
    expect((await cal.browser.call('GET', '/v1/admin/me')).body.member.role).toBe('agent');
    const dan = await toCallback('dan');
    expect((await land(dan.browser, dan.callback)).location).toBe('/console/');
    expect((await dan.browser.call('GET', '/v1/admin/me')).body.member.role).toBe('analyst');
  });

  test("an admin cannot set the IdP; an IdP identity vouching for the owner's address opens nothing; the owner links theirs with their password", async () => {
    // The attack: an admin points the tenant's SSO at an IdP they control. Only an owner sets the IdP.
    const admin = await signedInMember(t, acme.tenant.id, 'admin');
    expect((await admin.client.call('PUT', '/v1/admin/sso/oidc', connection())).status).toBe(403);
    expect((await call(t.url, 'PUT', '/v1/admin/sso/oidc', { key: acme.secretKey, body: connection() })).status).toBe(403);
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', connection())).status).toBe(200);
    // Whoever else the IdP vouches for with the owner's address (another account there) opens nothing.
    op.accounts.set('mallory', { email: 'owner@acme.example', email_verified: true, name: 'Not the owner', groups: [] });
    const attempt = await toCallback('mallory', 'owner@acme.example');
    const landed = await land(attempt.browser, attempt.callback);
    expect(landed.location).toBe('/console/?sso_error=link_required');
    expect(sessionCookies(landed.cookies)).toEqual([]);
    expect((await attempt.browser.call('GET', '/v1/admin/me')).status).toBe(401);
    expect((await auditEntries('sso.oidc_refused')).filter((e) => e.metadata.reason === 'link_required')).toHaveLength(1);
    // Without the owner's password the waiting link is worth nothing, and guessing is a failed sign-in.
    expect((await attempt.browser.call('POST', '/v1/auth/password', { email: 'owner@acme.example', password: 'not the password' })).status).toBe(401);
    expect(await auditEntries('member.sso_link')).toEqual([]);

    // The owner, in their own browser: SSO says link_required, their password links it, and from then on
    // the IdP's identity (not the address) signs them in.
    op.accounts.set('owner-at-idp', { email: 'owner@acme.example', email_verified: true, name: 'Owner', groups: [] });
    const mine = await toCallback('owner-at-idp', 'owner@acme.example');
    expect((await land(mine.browser, mine.callback)).location).toBe('/console/?sso_error=link_required');
    const confirmed = await mine.browser.call('POST', '/v1/auth/password', { email: 'owner@acme.example', password: STRONG_PASSWORD });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body.status).toBe('signed_in');
    expect(await auditEntries('member.sso_link')).toMatchObject([
      { actor_id: owner.memberId, metadata: { via: 'oidc', issuer: op.issuer, confirmedBy: 'password' } },
    ]);
    const again = await toCallback('owner-at-idp', 'owner@acme.example');
    expect((await land(again.browser, again.callback)).location).toBe('/console/');
    expect((await again.browser.call('GET', '/v1/admin/me')).body.member).toMatchObject({ id: owner.memberId, role: 'owner' });
    // Mallory's identity is still not the owner's.
    const later = await toCallback('mallory', 'owner@acme.example');
    expect((await land(later.browser, later.callback)).location).toBe('/console/?sso_error=link_required');
  });

  // Attack (third review): a member without a password, linked at their first SSO sign-in, was moved to
  // whichever other account at the IdP carried their address next, and back again.
  test('a linked member is not re-linked to another account carrying their address: identity_mismatch, until an admin resets the link', async () => {
    op.accounts.set('ivy', { email: 'ivy@acme.example', email_verified: true, name: 'Ivy', groups: ['eng'] });
    op.accounts.set('ivy-too', { email: 'ivy@acme.example', email_verified: true, name: 'Also Ivy', groups: ['eng'] });
    const first = await toCallback('ivy', 'ivy@acme.example');
    expect((await land(first.browser, first.callback)).location).toBe('/console/');
    const ivy = (await first.browser.call('GET', '/v1/admin/me')).body.member as { id: string };

    const other = await toCallback('ivy-too', 'ivy@acme.example');
    const landed = await land(other.browser, other.callback);
    expect(landed.location).toBe('/console/?sso_error=identity_mismatch');
    expect(sessionCookies(landed.cookies)).toEqual([]);
    expect((await auditEntries('sso.oidc_refused')).filter((e) => e.metadata.reason === 'identity_mismatch')).toHaveLength(1);
    const again = await toCallback('ivy', 'ivy@acme.example');
    expect((await land(again.browser, again.callback)).location).toBe('/console/');
    expect((await again.browser.call('GET', '/v1/admin/me')).body.member.id).toBe(ivy.id);

    // Their IdP account was replaced: an admin resets the link, and the next sign-in links afresh.
    const agent = await signedInMember(t, acme.tenant.id, 'agent');
    expect((await agent.client.call('DELETE', `/v1/admin/members/${ivy.id}/sso-link`)).status).toBe(403);
    expect((await again.browser.call('DELETE', `/v1/admin/members/${ivy.id}/sso-link`)).status).toBe(403); // not their own
    expect((await owner.client.call('DELETE', `/v1/admin/members/${ivy.id}/sso-link`)).status).toBe(204);
    expect((await again.browser.call('GET', '/v1/admin/me')).status).toBe(401); // the reset ends their sessions
    expect(await auditEntries('member.sso_unlink')).toMatchObject([{ actor_id: owner.memberId, metadata: { links: 1, sessionsEnded: 2 } }]);
    const relinked = await toCallback('ivy-too', 'ivy@acme.example');
    expect((await land(relinked.browser, relinked.callback)).location).toBe('/console/');
    expect((await relinked.browser.call('GET', '/v1/admin/me')).body.member.id).toBe(ivy.id);
    const old = await toCallback('ivy', 'ivy@acme.example');
    expect((await land(old.browser, old.callback)).location).toBe('/console/?sso_error=identity_mismatch');
  });

  test('a domain two tenants listed before claims were exclusive sends nobody to either IdP', async () => {
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', connection())).status).toBe(200);
    const start = () => new ConsoleClient(t.url).call('POST', '/v1/auth/sso/start', { email: 'someone@acme.example' });
    expect((await start()).status).toBe(200);
    // A second tenant's connection listing acme.example, written as an older version could (no claim check).
    const other = await t.tenant('Older claim', ['older.example']);
    await t.runtime.db.withOwner((tx) =>
      tx.query(
        `INSERT INTO sso_connections (tenant_id, kind, config, allowed_domains, default_role) VALUES ($1, 'oidc', $2, ARRAY['acme.example'], 'agent')`,
        [other.tenant.id, JSON.stringify({ issuer: 'https://idp.older.example', clientId: 'x' })],
      ),
    );
    const refused = await start();
    expect(refused.status).toBe(409);
    expect(refused.body.redirectUrl).toBeUndefined();
    expect(refused.body.detail).toContain('More than one organisation uses single sign-on for acme.example');
    await t.runtime.db.withOwner((tx) => tx.query('DELETE FROM sso_connections WHERE tenant_id = $1', [other.tenant.id]));
  });

  test('a replayed callback: refused (state_used), audited, no session', async () => {
    const { browser, callback } = await toCallback('ada');
    expect((await land(browser, callback)).location).toBe('/console/');
    const again = await land(browser.clone(), callback);
    expect(again.location).toBe('/console/?sso_error=state_used');
    expect(sessionCookies(again.cookies)).toEqual([]);
    expect(await refusalsOf('state_used')).toBe(1);
  });

  test('the callback in another browser (no binding cookie, or another one): binding_mismatch, audited, no session', async () => {
    const a = await toCallback('ada');
    const thief = await land(new ConsoleClient(t.url), a.callback);
    expect(thief.location).toBe('/console/?sso_error=binding_mismatch');
    expect(sessionCookies(thief.cookies)).toEqual([]);

    const b = await toCallback('ada');
    const other = (await toCallback('ada')).browser; // a browser with a binding of its own
    const swapped = await land(other, b.callback);
    expect(swapped.location).toBe('/console/?sso_error=binding_mismatch');
    expect(sessionCookies(swapped.cookies)).toEqual([]);
    expect(await refusalsOf('binding_mismatch')).toBe(2);
  });

  test('a wrong nonce: nonce_mismatch, audited, no session', async () => {
    const { browser, callback } = await toCallback('ada');
    await t.runtime.db.withOwner((tx) =>
      tx.query(`UPDATE sso_requests SET data = jsonb_set(data, '{nonce}', '"forged"') WHERE id = $1`, [callback.searchParams.get('state')]),
    );
    const landed = await land(browser, callback);
    expect(landed.location).toBe('/console/?sso_error=nonce_mismatch');
    expect(sessionCookies(landed.cookies)).toEqual([]);
    expect(await refusalsOf('nonce_mismatch')).toBe(1);
    const entry = (await auditEntries('sso.oidc_refused')).find((e) => e.metadata.reason === 'nonce_mismatch');
    expect(entry?.metadata).toMatchObject({ reason: 'nonce_mismatch', count: 1 });
    expect(JSON.stringify(entry)).not.toContain(callback.searchParams.get('code')!);
  });

  test('an expired code: code_invalid, audited, no session', async () => {
    op.codeTtl = 1;
    let at: Awaited<ReturnType<typeof toCallback>>;
    try {
      at = await toCallback('ada');
    } finally {
      op.codeTtl = 60;
    }
    const issued = Math.floor(Date.now() / 1000);
    await vi.waitFor(() => expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(issued + 1), { timeout: 5000, interval: 100 });
    const landed = await land(at.browser, at.callback);
    expect(landed.location).toBe('/console/?sso_error=code_invalid');
    expect(sessionCookies(landed.cookies)).toEqual([]);
    expect(await refusalsOf('code_invalid')).toBe(1);
  });

  test('an address outside the allowed domains, and an unverified one: refused, audited, nobody provisioned', async () => {
    const eve = await toCallback('eve');
    const e = await land(eve.browser, eve.callback);
    expect(e.location).toBe('/console/?sso_error=domain_not_allowed');
    expect(sessionCookies(e.cookies)).toEqual([]);
    const una = await toCallback('una');
    const u = await land(una.browser, una.callback);
    expect(u.location).toBe('/console/?sso_error=email_unverified');
    expect(sessionCookies(u.cookies)).toEqual([]);
    expect(await refusalsOf('domain_not_allowed')).toBe(1);
    expect(await refusalsOf('email_unverified')).toBe(1);
    const members = await t.runtime.db.withOwner((tx) =>
      tx.query<{ email: string }>("SELECT email FROM members WHERE email IN ('eve@evil.example', 'una@acme.example')"),
    );
    expect(members.rows).toEqual([]);
  });

  test('a disabled member is refused by the sign-in rules: member_disabled, no session', async () => {
    const dan = await toCallback('dan');
    await land(dan.browser, dan.callback);
    await t.runtime.db.withOwner((tx) => tx.query("UPDATE members SET status = 'disabled' WHERE email = 'dan@acme.example'"));
    const again = await toCallback('dan');
    const landed = await land(again.browser, again.callback);
    expect(landed.location).toBe('/console/?sso_error=member_disabled');
    expect(sessionCookies(landed.cookies)).toEqual([]);
  });

  test('a callback for a tenant id that is not one, or with no state: refused without a 500', async () => {
    const browser = new ConsoleClient(t.url);
    expect((await land(browser, new URL(`${t.url}/v1/auth/sso/oidc/not-a-tenant/callback?code=x&state=y`))).location).toBe(
      '/console/?sso_error=state_unknown',
    );
    expect(
      (await land(browser, new URL(`${t.url}/v1/auth/sso/oidc/00000000-0000-4000-8000-000000000000/callback?code=x&state=${'y'.repeat(43)}`)))
        .location,
    ).toBe('/console/?sso_error=state_unknown');
    expect((await land(browser, new URL(`${t.url}${callbackPath()}`))).location).toBe('/console/?sso_error=state_unknown');
  });

  test('removal (signin:write) is audited; "Sign in with SSO" then finds nothing', async () => {
    expect((await owner.client.call('DELETE', '/v1/admin/sso/oidc')).status).toBe(204);
    expect(await auditEntries('sso.oidc_removed')).toHaveLength(1);
    expect((await new ConsoleClient(t.url).call('POST', '/v1/auth/sso/start', { email: 'ada@acme.example' })).status).toBe(404);
  });
});

describe('OIDC in production over HTTP', () => {
  let t: TestApp;
  let acme: CreatedTenant;

  beforeAll(async () => {
    t = await startTestApp({
      PARLEY_ENV: 'production',
      PARLEY_PUBLIC_URL: 'https://api.example.com',
      DATABASE_URL: 'postgres://unused.invalid/parley',
    });
    acme = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(async () => {
    await t?.close();
  });

  test('an issuer on a private or loopback address is refused at PUT by outbound, naming the field; nothing stored', async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner', undefined, undefined, 'https://api.example.com');
    for (const issuer of [
      'https://127.0.0.1:8443',
      'https://10.0.0.7',
      'https://[::1]',
      'https://169.254.169.254/latest',
      'http://idp.example.com',
    ]) {
      const res = await owner.client.call('PUT', '/v1/admin/sso/oidc', {
        issuer,
        clientId: 'c',
        clientSecret: 's',
        allowedDomains: ['acme.example'],
      });
      expect(res.status, issuer).toBe(400);
      expect(res.body.errors[0].path).toBe('/issuer');
    }
    expect((await owner.client.call('GET', '/v1/admin/sso/oidc')).status).toBe(404);
  });
});

describe('OIDC: nothing secret reaches the server log', () => {
  test('a sign-in and a refusal log neither the code, the tokens, the binding cookie, the client secret nor the email', async () => {
    const lines: string[] = [];
    const server = createServer();
    const port = await listen(server);
    const url = `http://127.0.0.1:${port}`;
    const config = testConfig({ PARLEY_PUBLIC_URL: url, LOG_LEVEL: 'debug' });
    const testDb = await createTestDb();
    const runtime = wireRuntime(config, testDb.db);
    const app = createApp({
      config,
      db: runtime.db,
      audit: runtime.audit,
      logger: pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) }),
      keyring: runtime.keyring,
    });
    server.on('request', app);
    const SECRET = 'log-test-secret-0123456789';
    let op: Op | undefined;
    try {
      const acme = await createTenant(
        { db: runtime.db, audit: runtime.audit, env: config.env },
        { name: 'Acme', domains: ['acme.example'] },
        { requestId: null, actor: { type: 'cli', id: 'test' } },
      );
      const path = `/v1/auth/sso/oidc/${acme.tenant.id}/callback`;
      op = await startOp([{ client_id: 'parley-acme', client_secret: SECRET, redirect_uris: [`${url}${path}`] }]);
      op.accounts.set('ada', { email: 'ada.secretive@acme.example', email_verified: true, name: 'Ada', groups: [] });
      await putOidcConnection(
        { db: runtime.db, audit: runtime.audit, keyring: runtime.keyring, outbound: devOutbound(), publicUrl: url },
        ctxFor(acme.tenant.id),
        {
          issuer: op.issuer,
          clientId: 'parley-acme',
          clientSecret: SECRET,
          allowedDomains: ['acme.example'],
          defaultRole: 'agent',
          groupsClaim: 'groups',
          groupRoles: [],
        },
      );
      const seen: string[] = [SECRET, 'ada.secretive'];
      op.tamperToken = (body) => {
        seen.push(String(body.id_token), String(body.access_token));
        return body;
      };
      for (const forge of [false, true]) {
        const browser = new ConsoleClient(url);
        const start = await browser.call('POST', '/v1/auth/sso/start', { email: 'ada.secretive@acme.example' });
        op.signInAs = 'ada';
        const callback = await new Browser().follow(start.body.redirectUrl, `${url}${path}`);
        seen.push(callback.searchParams.get('code')!, browser.jar.get('__Host-parley_sso')!);
        if (forge)
          await runtime.db.withOwner((tx) =>
            tx.query(`UPDATE sso_requests SET data = jsonb_set(data, '{nonce}', '"x"') WHERE id = $1`, [callback.searchParams.get('state')]),
          );
        const res = await fetch(callback, { redirect: 'manual', headers: { cookie: browser.cookieHeader() } });
        expect(res.headers.get('location')).toBe(forge ? '/console/?sso_error=nonce_mismatch' : '/console/');
      }
      expect(seen.filter((s) => s.length > 10)).toHaveLength(10); // the secret, the email, and per sign-in: code, binding, ID and access token
      // The refusal's code is ours (never the IdP's words), so operators see why: it is not redacted.
      expect(lines.filter((l) => l.includes('oidc sign-in refused')).map((l) => JSON.parse(l).refusal)).toContain('nonce_mismatch');
      const all = lines.join('\n');
      for (const s of seen) expect(all.includes(s), 'a secret value is in the log').toBe(false);
    } finally {
      await op?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await testDb.close();
    }
  });
});

// Attack (eleventh review): one PUT moved the connection to issuer X with X's secret while another PUT of
// issuer Y without a secret ("not moved": keep the stored one) was still in discovery; the second decided
// `moved` from its read before discovery but kept the secret current at its write, so issuer Y held X's.
describe('OIDC connection saves over HTTP: racing, and the approval rail', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  const servers: Server[] = [];
  /** A discovery document for an issuer on 127.0.0.1, answered after `delay.ms`. */
  async function slowIssuer(delay: { ms: number }): Promise<string> {
    const server = createServer((_req, res) => {
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/auth`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
          }),
        );
      }, delay.ms);
    });
    servers.push(server);
    const issuer = `http://127.0.0.1:${await listen(server)}`;
    return issuer;
  }

  beforeAll(async () => {
    t = await startTestApp();
    acme = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(async () => {
    for (const s of servers) await closeServer(s);
    await t?.close();
  });

  test("a stored secret stays with its issuer: a save keeping it while another moves the connection does not keep the other's", async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const yDelay = { ms: 0 };
    const X = await slowIssuer({ ms: 0 });
    const Y = await slowIssuer(yDelay);
    const common = { clientId: 'parley-acme', allowedDomains: ['acme.example'], defaultRole: 'agent', groupsClaim: 'groups', groupRoles: [] };
    const stored = async () =>
      (
        await t.runtime.db.withTenant(acme.tenant.id, { requestId: null }, (tx) =>
          tx.query<{ issuer: string; secret_sealed: Buffer | null }>(
            "SELECT config->>'issuer' AS issuer, secret_sealed FROM sso_connections WHERE kind = 'oidc'",
          ),
        )
      ).rows[0]!;
    const secretOf = async (sealed: Buffer | null) =>
      sealed &&
      (await t.runtime.db.withTenant(acme.tenant.id, { requestId: null }, (tx) =>
        t.runtime.keyring.openString(tx, acme.tenant.id, Buffer.from(sealed), OIDC_SECRET_CONTEXT),
      ));
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...common, issuer: Y, clientSecret: 'secret-for-Y-0123456789' })).status).toBe(
      200,
    );
    yDelay.ms = 1500;
    // Y again, keeping its secret, its discovery slow; meanwhile the connection moves to X with X's secret.
    const keepY = owner.client.call('PUT', '/v1/admin/sso/oidc', { ...common, issuer: Y });
    await new Promise((r) => setTimeout(r, 300));
    const toX = await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...common, issuer: X, clientSecret: 'secret-for-X-0123456789' });
    expect(toX.status, toX.text).toBe(200);
    const kept = await keepY;
    const after = await stored();
    // Either order of the two saves is X with X's secret, or the save keeping a secret is refused.
    expect({ issuer: after.issuer, secret: await secretOf(after.secret_sealed) }).toEqual({ issuer: X, secret: 'secret-for-X-0123456789' });
    expect(kept.status, kept.text).toBe(400);
    expect(kept.body.errors).toEqual([expect.objectContaining({ path: '/clientSecret', code: 'secret_required' })]);
  });
  // Attack (eleventh review), through OIDC: an owner pointing the connection at an issuer they control signs
  // in as the members linked through it, approvers among them. Held when the approval list holds keys.privileged.
  test('another issuer, while a member is linked through OIDC, waits for another admin; approved, their link at the old one is released', async () => {
    const rail = await t.tenant('Rail', ['rail-oidc.example']);
    const owner = await signedInMember(t, rail.tenant.id, 'owner');
    const admin2 = await signedInMember(t, rail.tenant.id, 'admin');
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: rail.secretKey, body: { approvals: { operations: ['keys.privileged'] } } })).status,
    ).toBe(200);
    const Y = await slowIssuer({ ms: 0 });
    const X = await slowIssuer({ ms: 0 });
    const common = { clientId: 'parley-rail', allowedDomains: ['rail-oidc.example'], defaultRole: 'agent', groupsClaim: 'groups', groupRoles: [] };
    // Nobody to sign in as yet: at once.
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...common, issuer: Y, clientSecret: 'secret-for-Y-0123456789' })).status).toBe(
      200,
    );
    // Sam joined through it (no password, linked at Y) and is an admin.
    const samId = randomUUID();
    await t.runtime.db.withTenant(rail.tenant.id, { requestId: null }, async (tx) => {
      await insertMember(tx, {
        tenantId: rail.tenant.id,
        id: samId,
        email: 'sam@rail-oidc.example',
        displayName: 'Sam',
        role: 'admin',
        passwordHash: null,
        createdBy: 'sso:oidc',
      });
      await linkSsoIdentity(tx, rail.tenant.id, samId, { kind: 'oidc', issuer: Y, subject: 'sam' });
    });
    const moved = await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...common, issuer: X, clientSecret: 'secret-for-X-0123456789' });
    expect(moved.status, moved.text).toBe(202);
    expect(moved.body.proposal).toMatchObject({ operation: 'keys.privileged', arguments: { issuer: X, clientSecret: '[secret]' } });
    expect((await owner.client.call('GET', '/v1/admin/sso/oidc')).body.issuer).toBe(Y);
    // The same issuer with another domain where nobody is: at once.
    const wider = { ...common, allowedDomains: ['rail-oidc.example', 'rail-two.example'] };
    expect((await owner.client.call('PUT', '/v1/admin/sso/oidc', { ...wider, issuer: Y })).status).toBe(200);
    // Approved by another admin, the move runs and releases sam's link at Y.
    expect((await admin2.client.call('POST', `/v1/admin/approvals/${moved.body.proposal.id}/approve`, {})).status).toBe(200);
    const ran = await owner.client.call(
      'PUT',
      '/v1/admin/sso/oidc',
      { ...common, issuer: X, clientSecret: 'secret-for-X-0123456789' },
      { 'parley-approval': moved.body.proposal.id },
    );
    expect(ran.status, ran.text).toBe(200);
    const links = await t.runtime.db.withTenant(rail.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM member_sso_links WHERE member_id = $1', [samId]),
    );
    expect(links.rows[0]!.n).toBe(0);
    const configured = await t.runtime.db.withOwner((tx) =>
      tx.query<{ metadata: Record<string, unknown> }>(
        "SELECT metadata FROM audit_entries WHERE tenant_id = $1 AND action = 'sso.oidc_configured' ORDER BY id DESC LIMIT 1",
        [rail.tenant.id],
      ),
    );
    expect(configured.rows[0]!.metadata).toMatchObject({ issuer: X, linksReleased: 1 });
  });
});
