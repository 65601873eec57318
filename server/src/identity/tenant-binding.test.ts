// Sign-In Pro tokens are bound to the tenant they are for. A company that registers one public key (or one
// JWKS URL) in two tenants, say staging and production or two brands, must not have a token minted by one
// backend signed in as that user on the other: the key alone cannot tell them apart, so the token's `aud`
// names the tenant (parley:identity:<tenant id>), and a token verified by a public key must name this one.
// Shared secrets are per tenant already (the secret binds the token), but a token naming another tenant is
// refused whatever signed it.
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { secretBytes } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://acme.example';
let t: TestApp;
let jwksServer: Server;
let jwksUrl = '';
let served: object[] = [];

beforeAll(async () => {
  t = await startTestApp();
  // The company's own JWKS, served on this machine (development allows a loopback JWKS URL).
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served })));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  jwksServer.close();
  await t.close();
});

/** The audience that binds a token to a tenant. */
const tenantAud = (tenant: CreatedTenant) => `parley:identity:${tenant.tenant.id}`;

/** A token as a host's backend signs it: five minutes, a fresh jti, the given `aud`. */
async function token(signing: { alg: string; kid: string; key: CryptoKey | Uint8Array }, sub: string, aud: string | string[]) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: 'Ada Staging' })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid })
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(crypto.randomUUID())
    .sign(signing.key);
}

/** What a tenant holds of a subject or a token: its verified profile, the spent jti, its identity.verify entries. */
async function held(tenant: CreatedTenant, sub: string, jti: string) {
  return t.runtime.db.withOwner(async (tx) => {
    const count = async (sql: string, args: unknown[]) => Number((await tx.query<{ n: string }>(sql, args)).rows[0]!.n);
    return {
      profiles: await count('SELECT count(*) AS n FROM verified_visitors WHERE tenant_id = $1 AND subject = $2', [tenant.tenant.id, sub]),
      jtis: await count('SELECT count(*) AS n FROM identity_token_uses WHERE tenant_id = $1 AND jti = $2', [tenant.tenant.id, jti]),
      verifications: await count("SELECT count(*) AS n FROM audit_entries WHERE tenant_id = $1 AND action = 'identity.verify'", [tenant.tenant.id]),
    };
  });
}

/** POST /identify with `tok` as a new visitor of `tenant`. */
async function identify(tenant: CreatedTenant, tok: string) {
  const v = new Visitor(t.url, tenant.publishableKey, ORIGIN);
  expect((await v.start()).status).toBe(200);
  return v.call('POST', '/identify', { token: tok });
}

/** A refusal with the identity problem for bad tokens, and nothing kept for the token by `tenant`. */
async function expectRefusedAndNothingKept(tenant: CreatedTenant, tok: string, detail: RegExp) {
  const { sub, jti } = decodeJwt(tok) as { sub: string; jti: string };
  const before = await held(tenant, sub, jti);
  const res = await identify(tenant, tok);
  expect(res.status, res.text).toBe(401);
  expect(res.body).toMatchObject({ type: '/docs/problems/token-invalid', request_id: expect.any(String) });
  expect(res.body.detail).toMatch(detail);
  expect(res.body.visitor).toBeUndefined();
  expect(await held(tenant, sub, jti)).toEqual({ ...before, profiles: 0, jtis: 0 });
  return res;
}

test('GET /v1/admin/identity shows the tenant id to sign for and the audience its tokens carry', async () => {
  const tenant = await t.tenant('Shown', ['acme.example']);
  const res = await call(t.url, 'GET', '/v1/admin/identity', { key: tenant.secretKey });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ tenantId: tenant.tenant.id, audience: tenantAud(tenant) });
});

describe.each([
  ['the same public key', 'EdDSA', 'key'],
  ['the same JWKS URL', 'ES256', 'jwks'],
] as const)('two tenants that register %s', (_name, alg, how) => {
  let staging: CreatedTenant;
  let production: CreatedTenant;
  let signing: { alg: string; kid: string; key: CryptoKey };

  beforeAll(async () => {
    staging = await t.tenant(`Staging (${how})`, ['acme.example']);
    production = await t.tenant(`Production (${how})`, ['acme.example']);
    const pair = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: `company-${how}` };
    signing = { alg, kid: jwk.kid, key: pair.privateKey };
    if (how === 'jwks') served = [jwk];
    for (const tenant of [staging, production]) {
      const body = how === 'key' ? { mode: 'optional', publicKeys: [jwk] } : { mode: 'optional', jwksUrl };
      expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: tenant.secretKey, body })).status).toBe(204);
    }
  });

  test("a token staging's backend signed for user X does not sign X in on production, and production keeps nothing of it", async () => {
    const forStaging = await token(signing, 'user-x', tenantAud(staging));
    await expectRefusedAndNothingKept(production, forStaging, /another workspace/);
    // Naming production beside staging does not help: a token names one tenant.
    await expectRefusedAndNothingKept(production, await token(signing, 'user-x', [tenantAud(staging), tenantAud(production)]), /another workspace/);
    // Staging, which it was signed for, takes it.
    const ok = await identify(staging, forStaging);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.visitor).toMatchObject({ verified: true, id: 'user-x' });
  });

  test('a token signed without a tenant (aud parley:identity alone) is refused by both, its detail saying what to add', async () => {
    for (const tenant of [staging, production]) {
      const legacy = await token(signing, 'user-y', 'parley:identity');
      const res = await expectRefusedAndNothingKept(tenant, legacy, /public key must name/);
      expect(res.body.detail).toContain(`"${tenantAud(tenant)}"`);
      expect(res.body.detail).toContain('tenant');
    }
  });

  test('a token naming the tenant it is presented to verifies there', async () => {
    const res = await identify(production, await token(signing, 'user-z', tenantAud(production)));
    expect(res.status, res.text).toBe(200);
    expect(res.body.visitor).toMatchObject({ verified: true, id: 'user-z' });
  });
});

describe('a shared secret binds its tenant already', () => {
  let a: CreatedTenant;
  let b: CreatedTenant;
  let signing: { alg: string; kid: string; key: Uint8Array };

  beforeAll(async () => {
    a = await t.tenant('Secret A', ['acme.example']);
    b = await t.tenant('Secret B', ['acme.example']);
    const created = await call(t.url, 'POST', '/v1/admin/identity/secrets', { key: b.secretKey });
    expect(created.status).toBe(201);
    signing = { alg: 'HS256', kid: created.body.kid, key: secretBytes(created.body.secret) };
  });

  test("without a tenant, or naming its own, B's secret signs in at B", async () => {
    for (const aud of ['parley:identity', tenantAud(b), ['parley:identity', tenantAud(b)]]) {
      const res = await identify(b, await token(signing, 'user-s', aud));
      expect(res.status, res.text).toBe(200);
    }
  });

  test("B's own secret signing a token that names tenant A is refused at B", async () => {
    await expectRefusedAndNothingKept(b, await token(signing, 'user-t', tenantAud(a)), /another workspace/);
    await expectRefusedAndNothingKept(b, await token(signing, 'user-t', ['parley:identity', tenantAud(a)]), /another workspace/);
  });
});
