// Rate limits that fit real traffic: many visitors behind one address (an office, a carrier NAT) are
// counted per visitor session and per tenant, not per address; what is not authenticated — and every
// request that mints a session — still is counted per address.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresLimitStores } from '../http/limit-store.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { call, type Res } from '../test/http.js';
import { Visitor } from '../test/widget.js';

function expectLimited(res: Res, limit: number) {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: '/docs/problems/rate-limited', status: 429, request_id: res.headers.get('x-request-id') });
  expect(res.body.detail).toContain(`at most ${limit} requests a minute`);
  const retry = Number(res.headers.get('retry-after'));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  expect(res.headers.get('ratelimit')).toBe(`limit=${limit}, remaining=0, reset=${retry}`);
  expect(res.headers.get('ratelimit-policy')).toBe(`${limit};w=60`);
}

describe('100 visitors behind one address', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  let other: CreatedTenant;
  // 100 config loads fit the address; each session gets 8 requests; the tenant 420 (see below), of which
  // the address's sessions may spend 320 (the ceiling is scaled down here, the address's share less so:
  // the share at the defaults is below).
  beforeAll(async () => {
    t = await startTestApp({
      PARLEY_TRUST_PROXY: 'true',
      PARLEY_RATE_LIMIT_PER_MINUTE: '150',
      PARLEY_WIDGET_SESSION_RATE_LIMIT: '8',
      PARLEY_WIDGET_TENANT_RATE_LIMIT: '420',
      PARLEY_WIDGET_ADDRESS_RATE_LIMIT: '320',
    });
    acme = await t.tenant('Acme', ['acme.example']);
    other = await t.tenant('Other', ['other.example']);
  });
  afterAll(() => t.close());

  test('normal widget traffic of 100 sessions from one address is never a 429; one session that floods is, alone; the tenant ceiling holds', async () => {
    const visitors = Array.from({ length: 100 }, () => new Visitor(t.url, acme.publishableKey, 'https://acme.example'));
    const statuses: number[] = [];
    // Each visitor: its browser's CORS preflights, the widget's config (a new session), a conversation,
    // reading it back twice.
    const preflight = (path: string, method: string) =>
      fetch(`${t.url}/v1/widget${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://acme.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type,x-parley-key',
        },
      });
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (const v of visitors.filter((_, i) => i % 4 === lane)) {
          for (const [path, method] of [
            ['/config', 'GET'],
            ['/conversations', 'POST'],
            ['/conversations/00000000-0000-4000-8000-000000000001', 'GET'],
          ] as const)
            statuses.push((await preflight(`${path}?key=${acme.publishableKey}`, method)).status);
          statuses.push((await v.start()).status);
          const created = await v.call('POST', '/conversations', {});
          statuses.push(created.status);
          const id = created.body.conversation.id as string;
          statuses.push((await v.call('GET', `/conversations/${id}`)).status);
          const read = await v.call('GET', `/conversations/${id}`);
          statuses.push(read.status);
          // The visitor's own headers: its session's window, not the address's.
          expect(read.headers.get('ratelimit')).toMatch(/^limit=8, remaining=5, reset=\d+$/);
        }
      }),
    );
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    expect([...new Set(statuses)].sort()).toEqual([200, 201, 204]);

    // One visitor floods: 5 more fit its session (3 used), then it is refused — and only it.
    const flooder = visitors[0]!;
    const flood: Res[] = [];
    for (let i = 0; i < 8; i++) flood.push(await flooder.call('POST', '/conversations', {}));
    expect(flood.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
    expectLimited(flood[5]!, 8);
    expect((await visitors[1]!.call('POST', '/conversations', {})).status).toBe(201);

    // The tenant: 300 + 5 + 1 requests of its sessions so far; 114 more fit under 420 (from other
    // addresses), then every session of the tenant is refused, however fresh — and another tenant is not.
    const fresh = Array.from({ length: 20 }, () => new Visitor(t.url, acme.publishableKey, 'https://acme.example'));
    const tenantWide: Res[] = [];
    for (const [i, v] of fresh.entries()) {
      v.headers = { 'x-forwarded-for': `198.51.100.${i + 1}` };
      expect((await v.start()).status).toBe(200);
      for (let i = 0; i < 6; i++) tenantWide.push(await v.call('POST', '/conversations', {}));
    }
    expect(tenantWide.slice(0, 114).every((r) => r.status === 201)).toBe(true);
    expect(tenantWide.slice(114).map((r) => r.status)).toEqual([429, 429, 429, 429, 429, 429]);
    expectLimited(tenantWide[114]!, 420);
    const elsewhere = new Visitor(t.url, other.publishableKey, 'https://other.example');
    expect((await elsewhere.start()).status).toBe(200);
    expect((await elsewhere.call('POST', '/conversations', {})).status).toBe(201);
  });
});

describe('100 visitors behind one address, at the default limits', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  beforeAll(async () => {
    // The defaults (the test app raises the per-address limit; set back here): 600 a minute for what an
    // address does unauthenticated or mints, 120 per session, 6000 per tenant, of which 1500 for one address.
    t = await startTestApp({ PARLEY_RATE_LIMIT_PER_MINUTE: '600' });
    expect(t.config).toMatchObject({ widgetSessionRateLimit: 120, widgetTenantRateLimit: 6000, widgetAddressRateLimit: 1500 });
    acme = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(() => t.close());

  test('a busy minute of each (a conversation, typing, reading it back: 10 requests) is never a 429', async () => {
    const visitors = Array.from({ length: 100 }, () => new Visitor(t.url, acme.publishableKey, 'https://acme.example'));
    const statuses: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (const v of visitors.filter((_, i) => i % 4 === lane)) {
          statuses.push((await v.config()).status, (await v.start()).status);
          const created = await v.call('POST', '/conversations', {});
          statuses.push(created.status);
          const id = created.body.conversation.id as string;
          for (let i = 0; i < 5; i++) statuses.push((await v.call('POST', `/conversations/${id}/typing`, { active: i < 4 })).status);
          for (let i = 0; i < 4; i++) statuses.push((await v.call('GET', `/conversations/${id}`)).status);
        }
      }),
    );
    expect(statuses).toHaveLength(1200);
    expect(statuses.filter((s) => s === 429)).toEqual([]);
  });
});

describe('what is not authenticated is counted per address (attack)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_RATE_LIMIT_PER_MINUTE: '6', PARLEY_WIDGET_SESSION_RATE_LIMIT: '100', PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000' });
    acme = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(() => t.close());

  test('forged credentials, sign-in attempts and session minting share one per-address window; valid sessions and keys do not count in it', async () => {
    const v = new Visitor(t.url, acme.publishableKey, 'https://acme.example');
    expect((await v.start()).status).toBe(200); // 1: a new session
    // A valid session's own requests are not the address's.
    for (let i = 0; i < 10; i++) expect((await v.call('POST', '/conversations', {})).status).toBe(201);
    // Nor a valid secret key's (it has its own window of 6).
    for (let i = 0; i < 5; i++) expect((await call(t.url, 'GET', '/v1/admin/domains', { key: acme.secretKey })).status).toBe(200);
    // A forged widget token, a guessed secret key, a password guess, a session minted with a valid
    // token in hand: each costs the address.
    const forged = new Visitor(t.url, acme.publishableKey, 'https://acme.example');
    forged.token = `${v.token.slice(0, -4)}AAAA`;
    expect((await forged.call('POST', '/conversations', {})).status).toBe(401); // 2
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: `sk_live_${'x'.repeat(40)}` })).status).toBe(401); // 3
    expect(
      (
        await call(t.url, 'POST', '/v1/auth/password', {
          body: { email: 'owner@acme.example', password: 'guess-1234567' },
          headers: { origin: t.url },
        })
      ).status,
    ).not.toBe(429); // 4
    expect((await v.call('GET', '/config')).status).toBe(200); // 5: minting, though it carries a valid token
    expect((await call(t.url, 'POST', '/v1/admin/domains', { raw: '{"pattern":', key: `sk_live_${'y'.repeat(40)}` })).status).toBe(400); // 6: never parsed
    // The seventh is refused, whichever door it knocks on.
    expectLimited(await v.call('GET', '/config'), 6);
    expectLimited(await forged.call('POST', '/conversations', {}), 6);
    expectLimited(
      await call(t.url, 'POST', '/v1/auth/password', {
        body: { email: 'owner@acme.example', password: 'guess-1234567' },
        headers: { origin: t.url },
      }),
      6,
    );
    expectLimited(await call(t.url, 'GET', '/v1/admin/domains', { key: `sk_live_${'x'.repeat(40)}` }), 6);
    // Authenticated traffic from the same address goes on.
    expect((await v.call('POST', '/conversations', {})).status).toBe(201);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: acme.secretKey })).status).toBe(200);
  });
});

describe.each([
  { store: 'memory', instances: 1 },
  { store: 'postgres', instances: 2 },
  { store: 'redis', instances: 2 },
] as const)('one address cannot lock a tenant out (attack; counters in $store, $instances instance(s))', ({ store, instances }) => {
  // A tenant ceiling of 96 a minute, 8 per session; an address's share of the tenant is left to its
  // default, a quarter: 24. (Limits under 100, so the PostgreSQL store waits for every count: exact.)
  const env: Record<string, string> = {
    PARLEY_TRUST_PROXY: 'true',
    PARLEY_RATE_LIMIT_PER_MINUTE: '1000',
    PARLEY_WIDGET_SESSION_RATE_LIMIT: '8',
    PARLEY_WIDGET_TENANT_RATE_LIMIT: '96',
    ...(store === 'redis' ? { REDIS_URL: 'redis://127.0.0.1:6379', PARLEY_REDIS_KEY_PREFIX: `parley-test-${randomBytes(6).toString('hex')}:` } : {}),
  };
  let db: TestDb | undefined;
  let apps: TestApp[] = [];
  let acme: CreatedTenant;
  let n = 0;
  beforeAll(async () => {
    if (store === 'memory') apps = [await startTestApp(env)];
    else {
      db = await createTestDb();
      const limits = () => (store === 'postgres' ? { limits: postgresLimitStores(db!.db) } : {});
      const a = await startTestApp(env, { shareDb: db, ...limits() });
      apps = [a, ...(instances > 1 ? [await startTestApp(env, { instanceOf: a, ...limits() })] : [])];
    }
    acme = await apps[0]!.tenant('Acme', ['acme.example']);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db?.close();
  });

  /** A new visitor session from `address`, through the next instance. */
  async function visitor(address: string): Promise<Visitor> {
    const v = new Visitor(apps[n++ % apps.length]!.url, acme.publishableKey, 'https://acme.example');
    v.headers = { 'x-forwarded-for': address };
    expect((await v.start()).status).toBe(200);
    return v;
  }
  /** `count` requests from `address` to a cheap route (a 404), each of its sessions spent in full. */
  async function spend(address: string, count: number): Promise<Res[]> {
    const out: Res[] = [];
    while (out.length < count) {
      const v = await visitor(address);
      for (let i = 0; i < 8 && out.length < count; i++) out.push(await v.call('GET', '/nothing-here'));
    }
    return out;
  }

  test("sessions minted from one address spend at most its share of the tenant's ceiling; what it is refused is not counted against the tenant; other visitors go on", async () => {
    // The attacker: 12 sessions from one address, each spending its whole allowance: the tenant's 96.
    const attack = await spend('203.0.113.7', 96);
    expect(attack.slice(0, 24).map((r) => r.status)).toEqual(Array(24).fill(404));
    expect(attack.slice(24).map((r) => r.status)).toEqual(Array(72).fill(429));
    const refused = attack[24]!;
    expect(refused.body).toMatchObject({ type: '/docs/problems/rate-limited', status: 429 });
    expect(refused.body.detail).toContain('at most 24 requests a minute');
    expect(refused.headers.get('ratelimit')).toMatch(/^limit=24, remaining=0, reset=\d+$/);

    // A visitor elsewhere is not locked out.
    const fresh = await visitor('198.51.100.20');
    expect((await fresh.call('POST', '/conversations', {})).status).toBe(201);

    // The attacker's 72 refused requests were not counted against the tenant: 24 + 1 so far, so 71 more
    // fit (from three addresses, within each one's share), and then the tenant's ceiling holds for all.
    const rest = [...(await spend('198.51.100.20', 23)), ...(await spend('198.51.100.21', 24)), ...(await spend('198.51.100.22', 24))];
    expect(rest.map((r) => r.status)).toEqual(Array(71).fill(404));
    const over = await (await visitor('198.51.100.23')).call('POST', '/conversations', {});
    expectLimited(over, 96);
  });
});

describe('a session-minting request refused by the address limit (attack)', () => {
  let t: TestApp;
  let acme: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({
      PARLEY_TRUST_PROXY: 'true',
      PARLEY_RATE_LIMIT_PER_MINUTE: '3',
      PARLEY_WIDGET_SESSION_RATE_LIMIT: '100',
      PARLEY_WIDGET_TENANT_RATE_LIMIT: '10',
    });
    acme = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(() => t.close());

  test("is not counted against the tenant's ceiling, though it carries a valid session token", async () => {
    const v = new Visitor(t.url, acme.publishableKey, 'https://acme.example');
    v.headers = { 'x-forwarded-for': '203.0.113.8' };
    expect((await v.start()).status).toBe(200); // the address's first
    // Config loads with the session's token: two fit the address, three are refused by it.
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) loads.push((await v.call('GET', '/config')).status);
    expect(loads).toEqual([200, 200, 429, 429, 429]);
    // The tenant counted the two it let through, not the three its address refused: 8 more fit.
    const w = new Visitor(t.url, acme.publishableKey, 'https://acme.example');
    w.headers = { 'x-forwarded-for': '198.51.100.30' };
    expect((await w.start()).status).toBe(200);
    const created: number[] = [];
    for (let i = 0; i < 8; i++) created.push((await w.call('POST', '/conversations', {})).status);
    expect(created).toEqual(Array(8).fill(201));
    expectLimited(await w.call('POST', '/conversations', {}), 10);
  });
});
