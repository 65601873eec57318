// The page-view cache: hits within the TTL, one read for concurrent misses, and an invalidation is never
// undone by a read that began before it.
import { describe, expect, test } from 'vitest';
import { parsePattern } from '../tenants/domains.js';
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
