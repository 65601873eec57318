// Kept secret keys (key-cache.ts): a key is kept only while its instance hears key notices, never past
// its own expiry, and a change made anywhere (here: straight in the database, as another instance, the
// CLI or a job would) ends its use on the next request. On both databases; the cache's TTL is set long
// so that only a notice or the expiry can end a kept key within a test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { SecretKeyCache, type ResolvedKey } from './key-cache.js';
import type { CreatedTenant } from './service.js';

const key = (tenantId: string, expiresAt: number | null = null): ResolvedKey => ({
  keyId: 'k',
  tenantId,
  capabilities: [],
  heldBack: null,
  makerId: null,
  makerDisabled: false,
  makerGone: false,
  expiresAt,
});

describe('SecretKeyCache', () => {
  test('keeps nothing until it hears key notices, and drops everything when it stops', async () => {
    const cache = new SecretKeyCache(60_000);
    let reads = 0;
    const load = async () => (reads++, key('t1'));
    const hash = Buffer.from('h1');
    await cache.resolve(hash, load);
    await cache.resolve(hash, load);
    expect(reads).toBe(2);
    cache.listening(true);
    await cache.resolve(hash, load);
    await cache.resolve(hash, load);
    expect(reads).toBe(3);
    cache.listening(false);
    await cache.resolve(hash, load);
    expect(reads).toBe(4);
  });

  test("a notice drops its tenant's keys only; an empty one drops all", async () => {
    const cache = new SecretKeyCache(60_000);
    cache.listening(true);
    let reads = 0;
    const load = (t: string) => async () => (reads++, key(t));
    await cache.resolve(Buffer.from('a'), load('t1'));
    await cache.resolve(Buffer.from('b'), load('t2'));
    cache.heard('t1');
    await cache.resolve(Buffer.from('a'), load('t1'));
    await cache.resolve(Buffer.from('b'), load('t2'));
    expect(reads).toBe(3);
    cache.heard('');
    await cache.resolve(Buffer.from('b'), load('t2'));
    expect(reads).toBe(4);
  });

  test('a key is never kept past its expiry, nor an unknown key at all', async () => {
    let now = 1_000;
    const cache = new SecretKeyCache(60_000, 100, () => now);
    cache.listening(true);
    let reads = 0;
    const load = async () => (reads++, key('t1', 2_000));
    await cache.resolve(Buffer.from('a'), load);
    now = 1_999;
    await cache.resolve(Buffer.from('a'), load);
    expect(reads).toBe(1);
    now = 2_000;
    await cache.resolve(Buffer.from('a'), load);
    expect(reads).toBe(2);
    let unknown = 0;
    await cache.resolve(Buffer.from('u'), async () => (unknown++, null));
    await cache.resolve(Buffer.from('u'), async () => (unknown++, null));
    expect(unknown).toBe(2);
  });
});

describe('a kept key and changes made elsewhere', () => {
  let t: TestApp;
  let ten: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_KEY_CACHE_SECONDS: '60' });
    ten = await t.tenant();
  });
  afterAll(() => t.close());

  const newKey = async () =>
    (
      await call(t.url, 'POST', '/v1/admin/api-keys', {
        key: ten.secretKey,
        body: { name: 'kept', capabilities: ['domains:read', 'knowledge:read'] },
      })
    ).body as {
      secret: string;
      apiKey: { id: string };
    };
  const use = async (secret: string) => (await call(t.url, 'GET', '/v1/admin/domains', { key: secret })).status;
  const owner = (sql: string, params: unknown[] = []) => t.runtime.db.withOwner((tx) => tx.query(sql, params));
  /** The status of `secret`'s requests over up to 1 s, until it is `expected`. */
  const statusWithin1s = async (secret: string, expected: number) => {
    const end = Date.now() + 1000;
    let status = await use(secret);
    while (status !== expected && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      status = await use(secret);
    }
    return status;
  };
  const refusedWithin1s = (secret: string) => statusWithin1s(secret, 401);

  test('the instance keeps a key it resolved, across a search (a POST that only reads): a change the database does not announce goes unseen', async () => {
    const k = await newKey();
    expect(await use(k.secret)).toBe(200);
    expect((await call(t.url, 'POST', '/v1/admin/knowledge/search', { key: k.secret, body: { query: 'refunds' } })).status).toBe(200);
    await owner('ALTER TABLE api_keys DISABLE TRIGGER api_keys_notify_change');
    try {
      await owner('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [k.apiKey.id]);
    } finally {
      await owner('ALTER TABLE api_keys ENABLE TRIGGER api_keys_notify_change');
    }
    expect(await use(k.secret)).toBe(200);
  });

  test('a key revoked outside this instance is refused on its next requests', async () => {
    const k = await newKey();
    expect(await use(k.secret)).toBe(200);
    expect(await use(k.secret)).toBe(200);
    await owner('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [k.apiKey.id]);
    expect(await refusedWithin1s(k.secret)).toBe(401);
  });

  test('a key whose capabilities are narrowed outside this instance loses them on its next requests', async () => {
    const k = await newKey();
    expect(await use(k.secret)).toBe(200);
    await owner("UPDATE api_keys SET capabilities = '{knowledge:read}' WHERE id = $1", [k.apiKey.id]);
    expect(await statusWithin1s(k.secret, 403)).toBe(403);
  });

  test('a key whose maker is demoted or disabled outside this instance follows them on its next requests', async () => {
    const maker = await signedInMember(t, ten.tenant.id, 'admin');
    const k = await newKey();
    await owner('UPDATE api_keys SET created_by_member = $2 WHERE id = $1', [k.apiKey.id, maker.memberId]);
    expect(await use(k.secret)).toBe(200); // kept from here on
    expect(await use(k.secret)).toBe(200);
    await owner("UPDATE members SET role = 'analyst' WHERE id = $1", [maker.memberId]); // an analyst reads no domains
    expect(await statusWithin1s(k.secret, 403)).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/knowledge/sources', { key: k.secret })).status).toBe(200);
    await owner("UPDATE members SET status = 'disabled' WHERE id = $1", [maker.memberId]);
    expect(await refusedWithin1s(k.secret)).toBe(401);
  });

  test("a key deleted outside this instance (as its tenant's deletion does) is refused", async () => {
    const k = await newKey();
    expect(await use(k.secret)).toBe(200);
    await owner('DELETE FROM api_keys WHERE id = $1', [k.apiKey.id]);
    expect(await refusedWithin1s(k.secret)).toBe(401);
  });

  test('a kept key ends at its expiry, though the cache would keep it longer', async () => {
    const k = await newKey();
    await owner("UPDATE api_keys SET expires_at = now() + interval '1500 milliseconds' WHERE id = $1", [k.apiKey.id]);
    expect(await use(k.secret)).toBe(200);
    const { rows } = await owner('SELECT expires_at FROM api_keys WHERE id = $1', [k.apiKey.id]);
    await new Promise((r) => setTimeout(r, Math.max(0, (rows[0] as { expires_at: Date }).expires_at.getTime() - Date.now() + 50)));
    expect(await use(k.secret)).toBe(401);
  });
});
