// Kept search inputs (inputs-cache.ts): kept only while the instance hears retrieval notices, and a change
// made anywhere (another instance, straight in the database as a job or the CLI would) is seen by the next
// searches; a warm search of a tenant without an embedder asks the database nothing. On both databases; the
// cache's TTL is set long so that only a notice can end what is kept within a test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { serverUrl } from '../test/db.js';
import { call } from '../test/http.js';
import { watchRoundTrips } from '../test/round-trips.js';
import type { CreatedTenant } from '../tenants/service.js';
import { RetrievalInputsCache, type RetrievalInputs } from './inputs-cache.js';

const inputs = (tenantId: string): RetrievalInputs => ({
  tenantId,
  settings: { mode: 'auto', synonyms: [], supportVocabulary: true },
  stats: null,
  embedder: false,
});

describe('RetrievalInputsCache', () => {
  test('keeps nothing until it hears retrieval notices, and drops everything when it stops', async () => {
    const cache = new RetrievalInputsCache(60_000);
    let reads = 0;
    const load = async () => (reads++, inputs('t1'));
    await cache.get('t1', load);
    await cache.get('t1', load);
    expect(reads).toBe(2);
    cache.listening(true);
    await cache.get('t1', load);
    await cache.get('t1', load);
    expect(reads).toBe(3);
    cache.listening(false);
    await cache.get('t1', load);
    expect(reads).toBe(4);
  });

  test("a notice drops its tenant's inputs only; an empty one drops all", async () => {
    const cache = new RetrievalInputsCache(60_000);
    cache.listening(true);
    let reads = 0;
    const load = (t: string) => async () => (reads++, inputs(t));
    await cache.get('t1', load('t1'));
    await cache.get('t2', load('t2'));
    cache.heard('t1');
    await cache.get('t1', load('t1'));
    await cache.get('t2', load('t2'));
    expect(reads).toBe(3);
    cache.heard('');
    await cache.get('t2', load('t2'));
    expect(reads).toBe(4);
  });
});

const RETURNS = '# Returns\n\nRefunds go back to the original payment method within 5 business days.';
const SHIPPING = '# Shipping\n\nParcels leave the warehouse within two days, by tracked courier.';

describe('kept search inputs and changes made elsewhere', () => {
  let a: TestApp;
  let b: TestApp;
  let ten: CreatedTenant;
  beforeAll(async () => {
    a = await startTestApp({ PARLEY_KEY_CACHE_SECONDS: '60' });
    // Another instance of the same deployment, on the same database.
    b = await startTestApp({}, { instanceOf: a });
    ten = await a.tenant();
    const res = await call(a.url, 'POST', '/v1/admin/knowledge/sources', {
      key: ten.secretKey,
      body: { kind: 'markdown', content: RETURNS, url: 'https://help.a.example/returns' },
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const titles = async (query: string, key = ten.secretKey) => {
    const res = await call(a.url, 'POST', '/v1/admin/knowledge/search', { key, body: { query, limit: 5 } });
    expect(res.status).toBe(200);
    return (res.body as { results: { title: string }[] }).results.map((r) => r.title);
  };
  const owner = (sql: string, params: unknown[] = []) => a.runtime.db.withOwner((tx) => tx.query(sql, params));
  /** The titles `query` finds on instance a over up to 1 s, until `done` holds. */
  const within1s = async (query: string, done: (titles: string[]) => boolean) => {
    const end = Date.now() + 1000;
    let found = await titles(query);
    while (!done(found) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      found = await titles(query);
    }
    return found;
  };
  const synonyms = (groups: string[]) =>
    owner(`UPDATE tenants SET settings = jsonb_set(settings, '{retrieval}', $2::jsonb) WHERE id = $1`, [
      ten.tenant.id,
      JSON.stringify({ synonyms: groups }),
    ]);

  test('a search keeps the settings it read: a change the database does not announce goes unseen', async () => {
    expect(await titles('quokka')).toEqual([]);
    await owner('ALTER TABLE tenants DISABLE TRIGGER tenants_notify_retrieval');
    try {
      await synonyms(['quokka = refunds']);
    } finally {
      await owner('ALTER TABLE tenants ENABLE TRIGGER tenants_notify_retrieval');
    }
    expect(await titles('quokka')).toEqual([]);
    // The same change, announced: seen on the next searches.
    await synonyms(['quokka = refunds']);
    expect(await within1s('quokka', (t) => t.length > 0)).toEqual(['Returns']);
    await synonyms([]);
    expect(await within1s('quokka', (t) => t.length === 0)).toEqual([]);
  });

  test('a source added and removed through another instance is found, then not, by the next searches here', async () => {
    expect(await titles('parcels courier')).toEqual([]);
    const added = await call(b.url, 'POST', '/v1/admin/knowledge/sources', {
      key: ten.secretKey,
      body: { kind: 'markdown', content: SHIPPING, url: 'https://help.a.example/shipping' },
    });
    expect(added.status).toBe(201);
    expect(await within1s('parcels courier', (t) => t.includes('Shipping'))).toContain('Shipping');
    const id = (added.body as { sources: { id: string }[] }).sources[0]!.id;
    expect((await call(b.url, 'DELETE', `/v1/admin/knowledge/sources/${id}`, { key: ten.secretKey })).status).toBe(204);
    expect(await within1s('parcels courier', (t) => !t.includes('Shipping'))).not.toContain('Shipping');
  });

  test('a source added through this instance is found by its very next search', async () => {
    const added = await call(a.url, 'POST', '/v1/admin/knowledge/sources', {
      key: ten.secretKey,
      body: { kind: 'markdown', content: '# Gift cards\n\nGift cards never expire and work online.', url: 'https://help.a.example/gifts' },
    });
    expect(added.status).toBe(201);
    expect(await titles('gift cards expire')).toContain('Gift cards');
  });

  test.runIf(serverUrl)('a warm search of a tenant without an embedding model asks the database nothing', async () => {
    // A tenant of its own, whose index copy is not waiting out a rebuild after the changes above.
    const fresh = await a.tenant('Fresh', ['fresh.example']);
    const added = await call(a.url, 'POST', '/v1/admin/knowledge/sources', {
      key: fresh.secretKey,
      body: { kind: 'markdown', content: RETURNS, url: 'https://help.fresh.example/returns' },
    });
    expect(added.status).toBe(201);
    // The fewest of up to twenty tries: the tenant's index copy loads in the background after its first
    // search (searches meanwhile score in SQL), and the rate limits' counts go on a timer of their own.
    let fewest = Infinity;
    for (let i = 0; i < 20 && fewest > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const trips = watchRoundTrips({ except: /parley_rate_limit/ });
      try {
        expect(await titles('refunds', fresh.secretKey)).toEqual(['Returns']);
      } finally {
        trips.stop();
      }
      fewest = Math.min(fewest, trips.count());
    }
    expect(fewest).toBe(0);
  });
});
