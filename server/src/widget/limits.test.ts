// Rate limits that fit real traffic: many visitors behind one address (an office, a carrier NAT) are
// counted per visitor session and per tenant, not per address; what is not authenticated — and every
// request that mints a session — still is counted per address.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
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
  // 100 config loads fit the address; each session gets 8 requests; the tenant 420 (see below).
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_RATE_LIMIT_PER_MINUTE: '150', PARLEY_WIDGET_SESSION_RATE_LIMIT: '8', PARLEY_WIDGET_TENANT_RATE_LIMIT: '420' });
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

    // The tenant: 300 + 5 + 1 requests of its sessions so far; 114 more fit under 420, then every
    // session of the tenant is refused, however fresh — and another tenant is not.
    const fresh = Array.from({ length: 20 }, () => new Visitor(t.url, acme.publishableKey, 'https://acme.example'));
    const tenantWide: Res[] = [];
    for (const v of fresh) {
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
