// The page-view cache: hits within the TTL, one read for concurrent misses, and an invalidation is never
// undone by a read that began before it. Then the app's cache and changes made elsewhere (straight in the
// database, as another instance, the CLI or a job would): with a TTL of a minute, only the database's
// notice can make them show within the second. On both databases.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parsePattern } from '../tenants/domains.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { Visitor } from '../test/widget.js';
import { ORIGIN_VERDICTS, WidgetFrontCache, allowsOrigin } from './front-cache.js';

const entry = (tenantId: string) => ({ tenantId, patterns: [], verdicts: new Map() });

describe('WidgetFrontCache', () => {
  test('keeps a key for the TTL, then reads again; unknown keys are never kept', async () => {
    let now = 0;
    const cache = new WidgetFrontCache(5000, 100, () => now);
    let reads = 0;
    const load = async () => (reads++, entry('t1'));
    await cache.key('pk', load);
    await cache.key('pk', load);
    expect(reads).toBe(1);
    now = 5000;
    await cache.key('pk', load);
    expect(reads).toBe(2);
    let misses = 0;
    await cache.key('pk_unknown', async () => (misses++, null));
    await cache.key('pk_unknown', async () => (misses++, null));
    expect(misses).toBe(2);
  });

  test('concurrent misses share one read', async () => {
    const cache = new WidgetFrontCache(5000);
    let reads = 0;
    const load = async () => (reads++, await new Promise((r) => setTimeout(r, 5)), { v: 1 });
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.widgetSettings('t1', load)));
    expect(reads).toBe(1);
    expect(all.every((x) => x === all[0])).toBe(true);
  });

  test("invalidating a tenant drops its keys and settings, not another tenant's", async () => {
    const cache = new WidgetFrontCache(5000);
    let reads = 0;
    const load = (t: string) => async () => (reads++, entry(t));
    await cache.key('pk1', load('t1'));
    await cache.key('pk2', load('t2'));
    await cache.widgetSettings('t1', async () => (reads++, 's1'));
    cache.invalidate('t1');
    await cache.key('pk1', load('t1'));
    await cache.key('pk2', load('t2'));
    await cache.widgetSettings('t1', async () => (reads++, 's1'));
    expect(reads).toBe(5);
  });

  test('a read that began before an invalidation is used once, never kept', async () => {
    const cache = new WidgetFrontCache(5000);
    let release!: () => void;
    const slow = cache.widgetSettings('t1', () => new Promise<string>((r) => (release = () => r('old'))));
    cache.invalidate('t1');
    release();
    expect(await slow).toBe('old');
    expect(await cache.widgetSettings('t1', async () => 'new')).toBe('new');
  });

  test('a TTL of 0 keeps nothing; the oldest entry leaves when full', async () => {
    let reads = 0;
    const off = new WidgetFrontCache(0);
    await off.widgetSettings('t1', async () => reads++);
    await off.widgetSettings('t1', async () => reads++);
    expect(reads).toBe(2);
    const small = new WidgetFrontCache(5000, 2);
    for (const t of ['a', 'b', 'c']) await small.widgetSettings(t, async () => (reads++, t));
    await small.widgetSettings('c', async () => (reads++, 'c'));
    await small.widgetSettings('a', async () => (reads++, 'a'));
    expect(reads).toBe(2 + 3 + 1);
  });

  test("an entry's origin verdicts match its domains, and strangers' origins cannot grow it past its bound", () => {
    const e = { ...entry('t1'), patterns: [parsePattern('shop.example', 'production')] };
    for (let round = 0; round < 2; round++) {
      expect(allowsOrigin(e, 'https://shop.example')).toBe(true);
      expect(allowsOrigin(e, 'http://shop.example')).toBe(false);
      expect(allowsOrigin(e, 'https://evil.example')).toBe(false);
    }
    for (let i = 0; i < 1000; i++) expect(allowsOrigin(e, `https://x${i}.evil.example`)).toBe(false);
    expect(e.verdicts.size).toBe(ORIGIN_VERDICTS);
    expect(allowsOrigin(e, 'https://shop.example')).toBe(true);
  });
});

describe('the page-view cache and changes made elsewhere', () => {
  let t: TestApp;
  let ten: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_WIDGET_CACHE_SECONDS: '60' });
    ten = await t.tenant('Acme', ['acme.example']);
  });
  afterAll(() => t.close());

  const owner = (sql: string, params: unknown[] = []) => t.runtime.db.withOwner((tx) => tx.query(sql, params));
  const page = (origin = 'https://acme.example', key = ten.publishableKey) => new Visitor(t.url, key, origin);
  /** Asks `ask` every 20 ms for up to a second, until `done` holds of its answer; the last answer. */
  async function within1s<T>(ask: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    const end = Date.now() + 1000;
    let v = await ask();
    while (!done(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      v = await ask();
    }
    return v;
  }
  const status = (v: Visitor) => async () => (await v.config()).status;

  test('a domain added or removed elsewhere is allowed, then refused, on the next page views', async () => {
    const shop = page('https://shop.acme.example');
    expect(await status(shop)()).toBe(403);
    expect(await status(page())()).toBe(200);
    const id = randomUUID();
    await owner('INSERT INTO tenant_domains (id, tenant_id, pattern) VALUES ($1, $2, $3)', [id, ten.tenant.id, 'shop.acme.example']);
    expect(await within1s(status(shop), (s) => s === 200)).toBe(200);
    await owner('DELETE FROM tenant_domains WHERE id = $1', [id]);
    expect(await within1s(status(shop), (s) => s === 403)).toBe(403);
  });

  test('a publishable key revoked elsewhere is refused on the next page views', async () => {
    const other = await owner(
      `INSERT INTO publishable_keys (id, tenant_id, key) VALUES ($1, $2, 'pk_test_' || substr(md5(random()::text), 1, 24)) RETURNING key`,
      [randomUUID(), ten.tenant.id],
    );
    const v = page('https://acme.example', (other.rows[0] as { key: string }).key);
    expect(await status(v)()).toBe(200);
    await owner('UPDATE publishable_keys SET revoked_at = now() WHERE key = $1', [v.key]);
    expect(await within1s(status(v), (s) => s === 401)).toBe(401);
  });

  test('Sign-In Pro required elsewhere shows on the next page views', async () => {
    const mode = async () => (await page().config()).body.settings.identityMode as string;
    expect(await mode()).toBe('optional');
    await owner("INSERT INTO identity_settings (tenant_id, mode) VALUES ($1, 'required')", [ten.tenant.id]);
    expect(await within1s(mode, (m) => m === 'required')).toBe('required');
    await owner('DELETE FROM identity_settings WHERE tenant_id = $1', [ten.tenant.id]);
    expect(await within1s(mode, (m) => m === 'optional')).toBe('optional');
  });

  test("the widget's settings changed elsewhere show on the next page views", async () => {
    const accent = async () => (await page().config()).body.settings.accentColor as string;
    expect(await accent()).toBe('#2f6feb');
    await owner(`UPDATE tenants SET settings = settings || '{"widget": {"accentColor": "#aa3300"}}' WHERE id = $1`, [ten.tenant.id]);
    expect(await within1s(accent, (a) => a === '#aa3300')).toBe('#aa3300');
  });
});
