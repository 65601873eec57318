// The public widget API under attack: wrong origins, wrong tenants, stolen and replayed tokens.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { LiveEventSchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deriveSeed } from '../crypto/derive.js';
import { ed25519FromSeed } from '../crypto/ed25519.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { secretBytes } from '../test/identity.js';
import { Visitor } from '../test/widget.js';
import { WidgetTokens } from './tokens.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const A_ORIGIN = 'https://shop.a.example';
const B_ORIGIN = 'https://b.example';

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['*.a.example', 'https://other.example']);
  b = await t.tenant('Tenant B', ['b.example']);
});
afterAll(() => t.close());

const auditActions = async (key: string) =>
  (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key })).body.entries.map((e: any) => e.action) as string[];

describe('config and the domain allow-list', () => {
  const visitorRows = () =>
    t.runtime.db.withOwner(async (tx) => {
      const { rows } = await tx.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM visitors) + (SELECT count(*) FROM widget_refresh_tokens) + (SELECT count(*) FROM audit_entries) AS n',
      );
      return Number(rows[0]!.n);
    });

  test('config is a pure read: settings and CORS for that origin only, no session, nothing written', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.config(); // the first read of a tenant may fill caches; then page views write nothing
    const before = await visitorRows();
    for (let i = 0; i < 3; i++) {
      const res = await v.config();
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(A_ORIGIN);
      expect(res.headers.get('vary')).toMatch(/Origin/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body.settings).toMatchObject({ tenantName: 'Tenant A', identityMode: 'optional' });
      expect(res.body).not.toHaveProperty('session');
    }
    expect(await visitorRows()).toBe(before);
  });

  test('POST /session (the widget opened) starts a visitor: a session, a refresh token and the secret, once', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    const res = await v.start();
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(A_ORIGIN);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.session).toMatchObject({
      token: expect.any(String),
      refreshToken: expect.stringMatching(/^rt_/),
      visitorRef: expect.stringMatching(/^v_/),
      visitorSecret: expect.stringMatching(/^pvs_/),
    });
    expect(new Date(res.body.session.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000);
    expect((await v.call('POST', '/conversations', {})).status).toBe(201);
    expect((await v.call('POST', '/session', { visitor: 'x' })).status).toBe(400);
  });

  test('older clients ask config for a session with ?session=1, resuming their visitor by its secret', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const old = await v.call('GET', '/config?session=1', undefined, { 'x-parley-visitor': v.secret });
    expect(old.status).toBe(200);
    expect(old.body.settings).toMatchObject({ tenantName: 'Tenant A' });
    expect(old.body.session.visitorRef).toBe(v.visitorRef);
    expect(old.body.session).not.toHaveProperty('visitorSecret');
    const fresh = await new Visitor(t.url, a.publishableKey, A_ORIGIN).config('?session=1');
    expect(fresh.body.session.visitorSecret).toMatch(/^pvs_/);
    expect(fresh.body.session.visitorRef).not.toBe(v.visitorRef);
    expect((await v.config('?session=yes')).status).toBe(400);
  });

  test('a domain removed (or a setting changed) through this instance applies at once despite the cache', async () => {
    const c = await t.tenant('Tenant Cached', ['cached.example', 'gone.example']);
    const gone = new Visitor(t.url, c.publishableKey, 'https://gone.example');
    expect((await gone.config()).status).toBe(200);
    const domains = await call(t.url, 'GET', '/v1/admin/domains', { key: c.secretKey });
    const id = domains.body.domains.find((d: { pattern: string }) => d.pattern === 'gone.example').id;
    expect((await call(t.url, 'DELETE', `/v1/admin/domains/${id}`, { key: c.secretKey })).status).toBe(204);
    expect((await gone.config()).status).toBe(403);
    expect((await gone.start()).status).toBe(403);
    const kept = new Visitor(t.url, c.publishableKey, 'https://cached.example');
    expect((await kept.config()).body.settings.theme).not.toBe('dark');
    expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: c.secretKey, body: { widget: { theme: 'dark' } } })).status).toBeLessThan(300);
    expect((await kept.config()).body.settings.theme).toBe('dark');
  });

  test("texts the tenant did not set are absent (the widget says them in the visitor's language); set ones are sent", async () => {
    const c = await t.tenant('Tenant Texts', ['texts.example']);
    const unset = (await new Visitor(t.url, c.publishableKey, 'https://texts.example').config()).body.settings;
    expect(unset).not.toHaveProperty('launcherText');
    expect(unset).not.toHaveProperty('greeting');
    const put = await call(t.url, 'PATCH', '/v1/admin/settings', {
      key: c.secretKey,
      body: { widget: { launcherText: 'Questions?', greeting: 'Welcome to Texts.' } },
    });
    expect(put.status).toBeLessThan(300);
    const set = (await new Visitor(t.url, c.publishableKey, 'https://texts.example').config()).body.settings;
    expect(set).toMatchObject({ launcherText: 'Questions?', greeting: 'Welcome to Texts.' });
  });

  test('a preflight with ?key= is answered for allowed origins only', async () => {
    const ok = await fetch(`${t.url}/v1/widget/config?key=${a.publishableKey}`, {
      method: 'OPTIONS',
      headers: { origin: A_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,x-parley-key' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(A_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const bad = await fetch(`${t.url}/v1/widget/config?key=${a.publishableKey}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  test.each([
    ['another site', 'https://evil.example'],
    ['a look-alike', 'https://a.example.evil.example'],
    ['the apex of a wildcard', 'https://a.example'],
    ['http instead of https', 'http://shop.a.example'],
    ['no origin at all', ''],
  ])('%s gets no widget and no tenant data, and is audited', async (_name, origin) => {
    const res = await new Visitor(t.url, a.publishableKey, origin).start();
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('/docs/problems/origin-not-allowed');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.text).not.toContain('Tenant A');
    expect(res.text).not.toMatch(/"token"/);
    expect(await auditActions(a.secretKey)).toContain('widget.origin_refused');
  });

  test('a same-origin page (no Origin header, Sec-Fetch-Site same-origin) is judged by its Host', async () => {
    const host = new URL(t.url).host;
    const local = await t.tenant('Local', [host]);
    const res = await call(t.url, 'GET', '/v1/widget/config', { headers: { 'x-parley-key': local.publishableKey, 'sec-fetch-site': 'same-origin' } });
    expect(res.status).toBe(200);
    const crossSite = await call(t.url, 'GET', '/v1/widget/config', {
      headers: { 'x-parley-key': local.publishableKey, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
  });

  test('an unknown or malformed publishable key is 401', async () => {
    expect((await new Visitor(t.url, 'pk_test_' + 'x'.repeat(24), A_ORIGIN).start()).status).toBe(401);
    expect((await new Visitor(t.url, 'nope', A_ORIGIN).start()).status).toBe(401);
  });
});

describe('widget session tokens', () => {
  test("tenant A's token is refused against tenant B, and audited", async () => {
    const va = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await va.start();
    const thief = new Visitor(t.url, b.publishableKey, B_ORIGIN);
    thief.token = va.token;
    const res = await thief.call('POST', '/conversations', {});
    expect(res.status).toBe(401);
    expect(res.body.type).toBe('/docs/problems/token-invalid');
    expect(await auditActions(b.secretKey)).toContain('widget.token_refused');
  });

  test('a token presented from another allowed origin is refused, and audited', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const moved = new Visitor(t.url, a.publishableKey, 'https://other.example');
    moved.token = v.token;
    expect((await moved.call('POST', '/conversations', {})).status).toBe(401);
  });

  test('an expired, forged or missing token is refused', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const keys = ed25519FromSeed(deriveSeed(t.config.signingSeed, 'widget-token'));
    const past = Math.floor(Date.now() / 1000) - 3600;
    v.token = await new SignJWT({ tid: a.tenant.id, org: A_ORIGIN })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(t.config.publicUrl)
      .setAudience('widget')
      .setSubject(v.visitorRef)
      .setIssuedAt(past - 900)
      .setExpirationTime(past)
      .sign(keys.privateKey);
    const expired = await v.call('POST', '/conversations', {});
    expect(expired.status).toBe(401);
    expect(expired.body.type).toBe('/docs/problems/token-expired');
    const other = ed25519FromSeed(Buffer.alloc(32, 7));
    v.token = (
      await new WidgetTokens(other, t.config.publicUrl).sign({ tenantId: a.tenant.id, visitorRef: v.visitorRef, origin: A_ORIGIN, subject: null })
    ).token;
    expect((await v.call('POST', '/conversations', {})).status).toBe(401);
    v.token = '';
    expect((await v.call('POST', '/conversations', {})).status).toBe(401);
  });

  test('refresh tokens are one-time; reuse revokes the whole family', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const first = v.refreshToken;
    const r1 = await v.call('POST', '/session/refresh', { refreshToken: first });
    expect(r1.status).toBe(200);
    const second = r1.body.session.refreshToken;
    expect(second).not.toBe(first);
    const replay = await v.call('POST', '/session/refresh', { refreshToken: first });
    expect(replay.status).toBe(401);
    expect(replay.body.type).toBe('/docs/problems/token-replayed');
    expect((await v.call('POST', '/session/refresh', { refreshToken: second })).status).toBe(401);
    expect(await auditActions(a.secretKey)).toContain('widget.refresh_reuse');
  });

  test('a refresh token only works from the origin it was issued to', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const moved = new Visitor(t.url, a.publishableKey, 'https://other.example');
    expect((await moved.call('POST', '/session/refresh', { refreshToken: v.refreshToken })).status).toBe(401);
  });
});

describe('Sign-In Pro', () => {
  let secret: string;
  let kid: string;
  const hsToken = async (
    claims: Record<string, unknown>,
    opts: { lifetime?: number; aud?: string; alg?: string; key?: Uint8Array; kidOverride?: string } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: opts.alg ?? 'HS256', kid: opts.kidOverride ?? kid })
      .setSubject(String(claims.sub ?? 'user-1'))
      .setAudience(opts.aud ?? 'parley:identity')
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.lifetime ?? 300))
      .setJti(crypto.randomUUID())
      .sign(opts.key ?? secretBytes(secret));
  };

  /** Signs raw claims (any JSON types) with the tenant's secret, as a buggy host might. */
  const signedClaims = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ aud: 'parley:identity', iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(secretBytes(secret));
  };

  beforeAll(async () => {
    const res = await call(t.url, 'POST', '/v1/admin/identity/secrets', { key: a.secretKey });
    expect(res.status).toBe(201);
    secret = res.body.secret;
    kid = res.body.kid;
    expect(secret).toMatch(/^idsec_[0-9a-f]{16}_/);
  });

  test('a valid token verifies the visitor; the same token again is a replay', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const unverified = v.token;
    const token = await hsToken({ sub: 'user-42', name: 'Ada', email: 'ada@example.com' });
    const res = await v.call('POST', '/identify', { token });
    expect(res.status).toBe(200);
    expect(res.body.visitor).toMatchObject({ verified: true, id: 'user-42', name: 'Ada' });
    v.adopt(res.body.session);
    const conv = await v.call('POST', '/conversations', {});
    expect(conv.body.conversation.verified).toBe(true);
    // The same visitor's session from before it was verified is not that identity: it neither reads nor
    // writes the verified conversation.
    const verified = v.token;
    v.token = unverified;
    const id = conv.body.conversation.id;
    expect((await v.call('GET', `/conversations/${id}`)).status).toBe(404);
    expect((await v.call('POST', `/conversations/${id}/messages`, { text: 'Hello?', clientMessageId: 'unverified-1' })).status).toBe(404);
    v.token = verified;
    expect((await v.call('GET', `/conversations/${id}`)).body.messages).toEqual([]);
    const replay = await v.call('POST', '/identify', { token });
    expect(replay.status).toBe(401);
    expect(replay.body.type).toBe('/docs/problems/token-replayed');
    expect(await auditActions(a.secretKey)).toEqual(expect.arrayContaining(['identity.verify', 'identity.refused']));
  });

  test.each([
    ['tampered', async () => (await hsToken({ sub: 'u' })).replace(/\.([^.]+)\./, (_m, p: string) => `.${p.slice(0, -2)}AA.`)],
    [
      'expired',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', kid })
          .setSubject('u')
          .setAudience('parley:identity')
          .setIssuedAt(now - 900)
          .setExpirationTime(now - 120)
          .setJti('x1')
          .sign(secretBytes(secret));
      },
    ],
    ['longer than 10 minutes', () => hsToken({ sub: 'u' }, { lifetime: 3600 })],
    ['for another audience', () => hsToken({ sub: 'u' }, { aud: 'someone-else' })],
    ['signed with another secret', () => hsToken({ sub: 'u' }, { key: Buffer.alloc(32, 1) })],
    ['with an unknown kid', () => hsToken({ sub: 'u' }, { kidOverride: 'ffffffffffffffff' })],
    // Correctly signed, but claims that are not strings: refused as invalid, not a 500 with a stack in the log.
    ['whose sub is a number', () => signedClaims({ sub: 123, jti: crypto.randomUUID() })],
    ['whose jti is a number', () => signedClaims({ sub: 'u', jti: 5 })],
    [
      'alg none',
      async () => {
        const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${enc({ alg: 'none', kid })}.${enc({ sub: 'u', aud: 'parley:identity', iat: now, exp: now + 60, jti: 'n1' })}.`;
      },
    ],
  ])('a token %s is refused', async (_name, make) => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const res = await v.call('POST', '/identify', { token: await make() });
    expect(res.status).toBe(401);
    expect(res.body.type).toMatch(/token-(invalid|expired)/);
  });

  // A host that signs without @parley/node is held to the same claims contract: a profile the SDK would
  // refuse to sign is not stored (sealed, shown to agents) just because its signature is good.
  test.each([
    ['traits nested objects', { traits: { plan: { tier: 'pro', seats: [1, 2] } } }, '/token/traits/plan'],
    ['traits of 51 keys', { traits: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, '/token/traits'],
    ['a trait of 2 KB', { traits: { note: 'x'.repeat(2048) } }, '/token/traits/note'],
    ['a name of 201 characters', { name: 'n'.repeat(201) }, '/token/name'],
    ['a name that is a number', { name: 42 }, '/token/name'],
    ['an email that is not one', { email: 'not an address' }, '/token/email'],
  ])('a signed token whose profile has %s is refused, and nothing is stored', async (_name, profile, path) => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const res = await v.call('POST', '/identify', { token: await signedClaims({ sub: 'over-sharer', jti: crypto.randomUUID(), ...profile }) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: '/docs/problems/validation-failed', request_id: expect.any(String) });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    const stored = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query("SELECT 1 FROM verified_visitors WHERE subject = 'over-sharer'"),
    );
    expect(stored.rows).toEqual([]);
  });

  test('public keys: the tenant keeps its private key; HS256 signed with the public key is refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'host-1' };
    const priv = await exportJWK(privateKey);
    expect(
      (await call(t.url, 'PUT', '/v1/admin/identity', { key: b.secretKey, body: { mode: 'optional', publicKeys: [{ ...priv, kid: 'x' }] } })).status,
    ).toBe(400);
    // A key that is not one (a truncated x) is refused when saved, not at every visitor's sign-in later.
    const broken = await call(t.url, 'PUT', '/v1/admin/identity', {
      key: b.secretKey,
      body: { mode: 'optional', publicKeys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'broken' }] },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0]).toMatchObject({ path: '/publicKeys/0', code: 'invalid_key' });
    expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: b.secretKey, body: { mode: 'optional', publicKeys: [jwk] } })).status).toBe(204);
    const v = new Visitor(t.url, b.publishableKey, B_ORIGIN);
    await v.start();
    const now = Math.floor(Date.now() / 1000);
    const good = await new SignJWT({ name: 'Grace' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'host-1' })
      .setSubject('g-1')
      .setAudience(`parley:identity:${b.tenant.id}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    expect((await v.call('POST', '/identify', { token: good })).body.visitor).toMatchObject({ verified: true, id: 'g-1' });
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'host-1' })
      .setSubject('g-2')
      .setAudience(`parley:identity:${b.tenant.id}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(crypto.randomUUID())
      .sign(Buffer.from(jwk.x!, 'base64url'));
    expect((await v.call('POST', '/identify', { token: confused })).status).toBe(401);
  });

  test('mode required refuses anonymous chats; a different identity never sees the old conversation', async () => {
    expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: a.secretKey, body: { mode: 'required' } })).status).toBe(204);
    try {
      const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
      expect((await v.config()).body.settings.identityMode).toBe('required');
      await v.start();
      const anon = await v.call('POST', '/conversations', {});
      expect(anon.status).toBe(403);
      expect(anon.body.type).toBe('/docs/problems/identity-required');
      v.adopt((await v.call('POST', '/identify', { token: await hsToken({ sub: 'alice', email: 'shared@example.com' }) })).body.session);
      const convA = (await v.call('POST', '/conversations', {})).body.conversation;
      v.adopt((await v.call('POST', '/identify', { token: await hsToken({ sub: 'mallory', email: 'shared@example.com' }) })).body.session);
      expect((await v.call('GET', `/conversations/${convA.id}`)).status).toBe(404);
      expect((await v.call('POST', '/conversations', {})).status).toBe(201);
    } finally {
      await call(t.url, 'PUT', '/v1/admin/identity', { key: a.secretKey, body: { mode: 'optional' } });
    }
  });
});

describe('conversations', () => {
  test("one visitor cannot read another visitor's conversation", async () => {
    const v1 = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v1.start();
    const conv = (await v1.call('POST', '/conversations', {})).body.conversation;
    const v2 = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v2.start();
    expect((await v2.call('GET', `/conversations/${conv.id}`)).status).toBe(404);
    expect((await v2.call('POST', `/conversations/${conv.id}/handoff`, {})).status).toBe(404);
    // A turn locks the conversation and reads its history before checking whose it is: nothing of it
    // comes back, and nothing is stored.
    await v1.say(conv.id, 'How long do refunds take?');
    const sent = await v2.call('POST', `/conversations/${conv.id}/messages`, { text: 'What did they ask?', clientMessageId: 'intruder-1' });
    expect(sent.status).toBe(404);
    expect(JSON.stringify(sent.body)).not.toMatch(/refund/i);
    // Asked for as a stream, the refusal is the same plain problem: no stream is opened for it.
    const streamed = await v2.call(
      'POST',
      `/conversations/${conv.id}/messages`,
      { text: 'And now?', clientMessageId: 'intruder-2' },
      { accept: 'text/event-stream' },
    );
    expect(streamed.status).toBe(404);
    expect(streamed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(streamed.body.request_id).toMatch(/^req_/);
    const own = await v1.call('GET', `/conversations/${conv.id}`);
    expect(own.status).toBe(200);
    expect(own.body.messages.map((m: { text: string }) => m.text)).not.toContain('What did they ask?');
  });

  test('messages are stored redacted; the visitor sees their own values back', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const events = await v.say(conv.id, 'Hi, I am Jane Miller, email jane.miller@example.com, card 4111 1111 1111 1111');
    expect(events[0]!.event).toBe('message');
    expect(events[0]!.data.message.text).toContain('jane.miller@example.com');
    expect(events[0]!.data.message.text).not.toContain('4111 1111 1111 1111');
    const stored = await t.runtime.db.withOwner((tx) =>
      tx.query<{ text: string }>("SELECT text FROM messages WHERE role = 'visitor' AND conversation_id = $1", [conv.id]),
    );
    expect(stored.rows[0]!.text).toMatch(/\[EMAIL_1\]/);
    expect(stored.rows[0]!.text).not.toMatch(/jane|4111/i);
    const dump = await t.runtime.db.withOwner((tx) => tx.query("SELECT encode(sealed, 'escape') AS s FROM pii_vault"));
    expect(JSON.stringify(dump.rows)).not.toContain('jane.miller@example.com');
    const back = await v.call('GET', `/conversations/${conv.id}`);
    expect(back.body.messages[0].text).toContain('jane.miller@example.com');
  });

  test('asking for a person hands off, visible live on the events stream', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const events = await v.say(conv.id, 'Can I talk to a human please?');
    expect(events.map((e) => e.event)).toEqual(['message', ...events.slice(1, -2).map(() => 'delta'), 'done', 'handoff']);
    expect(events.at(-1)!.data.handoff).toMatchObject({ reason: 'visitor_request', status: 'pending' });
    // The assistant's notice carries its code, so the widget can say it in the visitor's language.
    expect(events.at(-2)!.data.message).toMatchObject({ role: 'assistant', notice: 'handoff' });
    expect((await v.call('GET', `/conversations/${conv.id}`)).body.messages.map((m: { notice?: string }) => m.notice ?? null)).toEqual([
      null,
      'handoff',
    ]);

    const { text } = await v.events(conv.id, (events) => events.some((e) => e.event === 'handoff'));
    expect(text).toMatch(/id: \d+\nevent: message/);
    expect(await auditActions(a.secretKey)).toContain('handoff.create');
  });

  test("a visitor's message on the events stream names the clientMessageId it was sent with: the sending tab knows its own", async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const sent = await v.call('POST', `/conversations/${conv.id}/messages`, { text: 'Do you ship abroad?', clientMessageId: 'tab-a-1' });
    expect(sent.status, sent.text).toBe(200);
    const { events } = await v.events(conv.id, (events) => events.filter((e) => e.event === 'message').length >= 2);
    const [question, answer] = events.filter((e) => e.event === 'message');
    expect(question!.data).toMatchObject({ message: { role: 'visitor', id: sent.body.events[0].message.id }, clientMessageId: 'tab-a-1' });
    expect(LiveEventSchema.parse(question).data).toHaveProperty('clientMessageId', 'tab-a-1');
    expect(answer!.data.message.role).toBe('assistant');
    expect(answer!.data).not.toHaveProperty('clientMessageId');
  });

  test('bad message bodies are problems and store nothing', async () => {
    const v = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    for (const body of [
      { text: '' },
      { text: 'x'.repeat(4001), clientMessageId: 'a' },
      { text: 'hi', clientMessageId: 'a', role: 'agent' },
      // A picked "Did you mean" offer is a passage's id.
      { text: 'hi', clientMessageId: 'a', pick: 'not-a-passage-id' },
    ]) {
      const res = await v.call('POST', `/conversations/${conv.id}/messages`, body);
      expect(res.status).toBe(400);
      expect(res.body.request_id).toMatch(/^req_/);
    }
    expect((await v.call('GET', `/conversations/${conv.id}`)).body.messages).toEqual([]);
  });
});
