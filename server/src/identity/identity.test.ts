// Sign-In Pro JWKS URLs: refused when not public (at PUT, naming the field), and, should a bad URL reach the
// database anyway, never connected to when a visitor posts a token. Keys from a JWKS URL are fetched
// through the outbound module and cached per tenant and URL, bounded.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import { JwksCache } from './jwks.js';

const PRODUCTION = { PARLEY_ENV: 'production', PARLEY_PUBLIC_URL: 'https://api.example.com', DATABASE_URL: 'postgres://unused.invalid/parley' };
const ORIGIN = 'https://acme.example';

async function rsaToken(tenant: CreatedTenant, kid: string, sub = 'u-1') {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ name: 'Ada' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setSubject(sub)
    .setAudience(`parley:identity:${tenant.tenant.id}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(crypto.randomUUID())
    .sign(privateKey);
  return { token, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, privateKey };
}

describe('JWKS URL in production (the SSRF attack)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let listener: TcpServer;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    t = await startTestApp(PRODUCTION);
    acme = await t.tenant('Acme', ['acme.example']);
    // Stands in for an internal service: it only counts who connects.
    listener = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    listener.close();
    await t.close();
  });

  test.each([
    'https://127.0.0.1/jwks.json',
    'https://127.0.0.1:8443/jwks.json',
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://10.0.0.1/jwks.json',
    'https://192.168.1.1/jwks.json',
    'https://100.100.100.200/latest/meta-data/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://metadata.google.internal./computeMetadata/v1/',
    'https://localhost./jwks.json',
    'https://[::1]/jwks.json',
    'https://[::ffff:7f00:1]/jwks.json',
    'https://[::ffff:169.254.169.254]/',
    'https://[fd00:ec2::254]/latest/meta-data/',
    'https://2130706433/jwks.json',
    'https://0x7f.1/jwks.json',
    'http://example.com/jwks.json',
    'https://user:pass@example.com/jwks.json',
  ])('PUT /v1/admin/identity refuses jwksUrl %s with a problem naming the field', async (jwksUrl) => {
    const res = await call(t.url, 'PUT', '/v1/admin/identity', { key: acme.secretKey, body: { mode: 'optional', jwksUrl } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ type: '/docs/problems/validation-failed', errors: [expect.objectContaining({ path: '/jwksUrl' })] });
    expect(res.body.request_id).toBeTruthy();
    const stored = await call(t.url, 'GET', '/v1/admin/identity', { key: acme.secretKey });
    expect(stored.body.jwksUrl).toBeNull();
  });

  test('a public https JWKS URL is accepted', async () => {
    const res = await call(t.url, 'PUT', '/v1/admin/identity', {
      key: acme.secretKey,
      body: { mode: 'optional', jwksUrl: 'https://acme.example/.well-known/jwks.json' },
    });
    expect(res.status).toBe(204);
  });

  test('a private JWKS URL already in the database: a visitor posting an RS256 token makes no connection to it', async () => {
    for (const jwksUrl of [
      `https://127.0.0.1:${port}/jwks.json`,
      `https://localhost:${port}/jwks.json`,
      `https://[::ffff:127.0.0.1]:${port}/jwks.json`,
    ]) {
      await t.runtime.db.withTenant(acme.tenant.id, { requestId: null }, (tx) =>
        tx.query(
          `INSERT INTO identity_settings (tenant_id, mode, public_keys, jwks_url, updated_at) VALUES ($1, 'optional', '[]', $2, now())
           ON CONFLICT (tenant_id) DO UPDATE SET public_keys = '[]', jwks_url = EXCLUDED.jwks_url`,
          [acme.tenant.id, jwksUrl],
        ),
      );
      const v = new Visitor(t.url, acme.publishableKey, ORIGIN);
      expect((await v.start()).status).toBe(200);
      const res = await v.call('POST', '/identify', { token: (await rsaToken(acme, 'k1')).token });
      expect(res.status).toBe(401);
      expect(res.body.type).toBe('/docs/problems/token-invalid');
    }
    expect(connections).toBe(0);
  });
});

describe('JWKS URL in development: keys fetched through the outbound module, cached per tenant and URL', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let b: CreatedTenant;
  let jwksServer: Server;
  let jwksUrl = '';
  const fetches: string[] = [];
  let keys: object[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('A', ['acme.example']);
    b = await t.tenant('B', ['acme.example']);
    jwksServer = createHttpServer((req, res) => {
      fetches.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    jwksServer.close();
    await t.close();
  });

  test('an RS256 token verifies against the JWKS; later tokens use the cache; each tenant has its own entry', async () => {
    const first = await rsaToken(a, 'k1', 'ada');
    keys = [first.jwk];
    for (const tenant of [a, b]) {
      expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: tenant.secretKey, body: { mode: 'optional', jwksUrl } })).status).toBe(204);
    }
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const res = await v.call('POST', '/identify', { token: first.token });
    expect(res.status).toBe(200);
    expect(res.body.visitor).toMatchObject({ verified: true, id: 'ada' });
    expect(fetches).toEqual(['/jwks.json']);

    const now = Math.floor(Date.now() / 1000);
    const again = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('ada')
      .setAudience(`parley:identity:${a.tenant.id}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(crypto.randomUUID())
      .sign(first.privateKey);
    expect((await v.call('POST', '/identify', { token: again })).status).toBe(200);
    expect(fetches).toHaveLength(1);

    // Tenant B names the same URL: its keys are fetched for it, not shared.
    const vb = new Visitor(t.url, b.publishableKey, ORIGIN);
    await vb.start();
    const forB = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('bea')
      .setAudience(`parley:identity:${b.tenant.id}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(crypto.randomUUID())
      .sign(first.privateKey);
    expect((await vb.call('POST', '/identify', { token: forB })).status).toBe(200);
    expect(fetches).toHaveLength(2);

    // An unknown kid within the cooldown does not make visitors trigger fetches.
    for (let i = 0; i < 5; i++) expect((await v.call('POST', '/identify', { token: (await rsaToken(a, `rotated-${i}`)).token })).status).toBe(401);
    expect(fetches).toHaveLength(2);
  });

  test('development allows only loopback by default: a private JWKS URL is refused', async () => {
    const res = await call(t.url, 'PUT', '/v1/admin/identity', {
      key: a.secretKey,
      body: { mode: 'optional', jwksUrl: 'http://10.0.0.1/jwks.json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ path: '/jwksUrl', code: 'invalid_url' });
  });
});

describe('the JWKS cache', () => {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k' };

  function harness(opts: { maxEntries?: number } = {}) {
    let clock = 1_000_000;
    const calls: string[] = [];
    let fail = false;
    const fetch = (async (input: string | URL) => {
      calls.push(String(input));
      if (fail) throw new Error('unreachable');
      return new Response(JSON.stringify({ keys: [jwk] }), { headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const cache = new JwksCache(fetch, { ttlMs: 600_000, cooldownMs: 30_000, now: () => clock, ...opts });
    return {
      cache,
      calls,
      advance: (ms: number) => (clock += ms),
      setFail: (f: boolean) => (fail = f),
    };
  }

  test('size-capped (least recently used goes), with a TTL and a refresh cooldown', async () => {
    const h = harness({ maxEntries: 2 });
    await h.cache.keys('t1', 'https://a.example/jwks');
    await h.cache.keys('t2', 'https://a.example/jwks');
    await h.cache.keys('t1', 'https://a.example/jwks'); // t1 is now the most recent
    expect(h.calls).toHaveLength(2);
    await h.cache.keys('t3', 'https://b.example/jwks'); // evicts t2
    expect(h.cache.size).toBe(2);
    await h.cache.keys('t1', 'https://a.example/jwks');
    expect(h.calls).toHaveLength(3);
    await h.cache.keys('t2', 'https://a.example/jwks');
    expect(h.calls).toHaveLength(4);

    // A refresh (unknown kid) within the cooldown is served from the cache; after it, fetched.
    await h.cache.keys('t2', 'https://a.example/jwks', { refresh: true });
    expect(h.calls).toHaveLength(4);
    h.advance(30_001);
    await h.cache.keys('t2', 'https://a.example/jwks', { refresh: true });
    expect(h.calls).toHaveLength(5);
    // Past the TTL, fetched again.
    h.advance(600_001);
    await h.cache.keys('t2', 'https://a.example/jwks');
    expect(h.calls).toHaveLength(6);
  });

  test('a failing JWKS URL is asked at most once per cooldown, however many visitors post tokens', async () => {
    const h = harness();
    h.setFail(true);
    for (let i = 0; i < 10; i++) await expect(h.cache.keys('t1', 'https://down.example/jwks')).rejects.toThrow();
    expect(h.calls).toHaveLength(1);
    h.advance(30_001);
    h.setFail(false);
    expect(await h.cache.keys('t1', 'https://down.example/jwks')).toEqual([jwk]);
    expect(h.calls).toHaveLength(2);
  });

  test('concurrent requests for one entry share a single fetch', async () => {
    const h = harness();
    await Promise.all(Array.from({ length: 20 }, () => h.cache.keys('t1', 'https://a.example/jwks')));
    expect(h.calls).toHaveLength(1);
  });
});
