// Ingestion bounds: per-tenant quotas (sources, bytes, chunks) stored and enforced in the database,
// sitemaps crawled as leased background jobs with progress, pages cut at the byte bound, and a page
// bound per crawl. Pages are served by a local site on 127.0.0.1 (allowed in development).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { newHolderId } from '../jobs/lease.js';
import { CrawlWorker } from './jobs.js';
import { openDb, type ParleyDb } from '../db/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const word = (i: number) => `topic${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`;

let site: Server;
let siteUrl: string;
const hits = new Map<string, number>();
let gate: Promise<void> | null = null;

beforeAll(async () => {
  site = createServer(async (req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const map = /^\/(\w+)\/sitemap\.xml$/.exec(path);
    if (map) {
      const n = Number(/\d+/.exec(map[1]!)?.[0] ?? 3);
      res.setHeader('content-type', 'application/xml');
      res.end(`<urlset>${Array.from({ length: n }, (_, i) => `<url><loc>${siteUrl}/${map[1]}/page${i}</loc></url>`).join('')}</urlset>`);
      return;
    }
    const page = /^\/(\w+)\/page(\d+)$/.exec(path);
    if (page) {
      if (page[1]!.startsWith('gated') && page[2] === '1' && gate) await gate;
      res.setHeader('content-type', 'text/html');
      if (page[1]!.startsWith('big')) {
        // About 20 KB: a marker word at the start, filler, and another marker at the very end.
        res.end(`<h1>Big page ${page[2]}</h1><p>headmarker${page[2]} ${'filler words about nothing much. '.repeat(600)} tailmarker${page[2]}</p>`);
      } else res.end(`<h1>Page ${page[2]} of ${page[1]}</h1><p>This page explains ${word(Number(page[2]))} in some detail for ${page[1]}.</p>`);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => site.close(() => r())));

async function waitForJob(t: TestApp, key: string, id: string, until = (j: any) => j.status === 'done' || j.status === 'failed') {
  for (let i = 0; i < 300; i++) {
    const res = await call(t.url, 'GET', `/v1/admin/knowledge/jobs/${id}`, { key });
    expect(res.status).toBe(200);
    if (until(res.body.job)) return res.body.job;
    await sleep(50);
  }
  throw new Error('the crawl job did not get there in time');
}

describe('per-tenant quotas', () => {
  let t: TestApp;
  let a: CreatedTenant;
  const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin${path}`, { key, body });
  const count = async () => (await admin('GET', '/knowledge/sources')).body.sources.length;

  beforeAll(async () => {
    t = await startTestApp({ PARLEY_KNOWLEDGE_MAX_SOURCES: '3', PARLEY_KNOWLEDGE_MAX_CHUNKS: '6', PARLEY_KNOWLEDGE_MAX_BYTES: '4096' });
    a = await t.tenant('Quota', ['quota.example']);
  });
  afterAll(() => t.close());

  test('usage and limits are visible', async () => {
    const res = await admin('GET', '/knowledge/usage');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ usage: { sources: 0, bytes: 0, chunks: 0 }, limits: { sources: 3, bytes: 4096, chunks: 6 } });
  });

  test('a tenant at its source quota adding a source gets a quota problem, and nothing is stored', async () => {
    for (let i = 0; i < 3; i++)
      expect(
        (await admin('POST', '/knowledge/sources', { kind: 'text', content: `Fact ${i}: parcels ship daily.`, externalId: `f${i}` })).status,
      ).toBe(201);
    const res = await admin('POST', '/knowledge/sources', { kind: 'text', content: 'One more fact.', externalId: 'f3' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: '/docs/problems/quota-exceeded',
      status: 409,
      request_id: expect.any(String),
      quota: { limit: 'sources', max: 3, used: 3 },
    });
    expect(res.body.detail).toMatch(/sources/);
    expect(await count()).toBe(3);
    // Replacing an existing source within the quota still works; a sitemap crawl is refused before any job exists.
    expect((await admin('POST', '/knowledge/sources', { kind: 'text', content: 'Fact 0: parcels ship twice daily.', externalId: 'f0' })).status).toBe(
      200,
    );
    const crawl = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/quota3/sitemap.xml` });
    expect(crawl.status).toBe(409);
    expect(hits.get('/quota3/sitemap.xml')).toBeUndefined();
    expect((await admin('GET', '/knowledge/jobs')).body.jobs).toEqual([]);
  });

  test('at its limit, an inline write that adds a source is refused before the work, as kind:url and sitemaps are', async () => {
    // Refused up front, the problem names the usage at the limit; refused after the inserts, what the write would add.
    const one = await admin('POST', '/knowledge/sources', { kind: 'markdown', content: '# More\n\nMore facts about parcels.' });
    expect(one.status).toBe(409);
    expect(one.body.quota).toEqual({ limit: 'sources', max: 3, used: 3 });
    const bulk = await admin('POST', '/knowledge/sources/bulk', {
      sources: [
        { kind: 'text', content: 'Fact 0: parcels ship twice daily.', externalId: 'f0' },
        { kind: 'text', content: 'A new fact.', externalId: 'new' },
      ],
    });
    expect(bulk.status).toBe(409);
    expect(bulk.body.quota).toEqual({ limit: 'sources', max: 3, used: 3 });
    expect(await count()).toBe(3);
    // A write that only replaces sources adds none, so it is not refused up front.
    const replace = await admin('POST', '/knowledge/sources', { kind: 'text', content: 'Fact 1: parcels ship at noon.', externalId: 'f1' });
    expect(replace.status).toBe(200);
  });

  test('a bulk request that would pass the chunk or byte quota is refused whole', async () => {
    for (const s of (await admin('GET', '/knowledge/sources')).body.sources) await admin('DELETE', `/knowledge/sources/${s.id}`);
    const sections = Array.from({ length: 8 }, (_, i) => `## Section ${i}\nSection ${i} covers ${word(i)}.`).join('\n\n');
    const res = await admin('POST', '/knowledge/sources/bulk', {
      sources: [
        { kind: 'markdown', content: '# Small\n\nsmall words', externalId: 's' },
        { kind: 'markdown', content: sections, externalId: 'many' },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.quota).toMatchObject({ limit: 'chunks', max: 6, used: 0 });
    expect(await count()).toBe(0);
    const big = await admin('POST', '/knowledge/sources', { kind: 'text', content: 'x'.repeat(5000) });
    expect(big.status).toBe(409);
    expect(big.body.quota).toMatchObject({ limit: 'bytes', max: 4096 });
    expect(await admin('GET', '/knowledge/usage')).toMatchObject({ body: { usage: { sources: 0, bytes: 0, chunks: 0 } } });
  });
});

describe('sitemap crawls as background jobs', () => {
  let t: TestApp;
  let a: CreatedTenant;
  const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin${path}`, { key, body });
  const search = async (query: string) => (await admin('POST', '/knowledge/search', { query, limit: 5 })).body.results as any[];

  beforeAll(async () => {
    t = await startTestApp({ PARLEY_CRAWL_MAX_PAGES: '4', PARLEY_CRAWL_MAX_PAGE_BYTES: '4096' });
    a = await t.tenant('Crawler', ['crawl.example']);
  });
  afterAll(() => t.close());

  test('POST answers 202 with the job and its Location; progress is visible while it runs; it finishes', async () => {
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const res = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/gated3/sitemap.xml` });
    expect(res.status).toBe(202);
    const job = res.body.job;
    expect(job).toMatchObject({ id: expect.any(String), kind: 'sitemap', url: `${siteUrl}/gated3/sitemap.xml` });
    expect(['queued', 'running']).toContain(job.status);
    expect(res.headers.get('location')).toBe(`/v1/admin/knowledge/jobs/${job.id}`);
    const midway = await waitForJob(t, a.secretKey, job.id, (j) => j.pagesDone === 1);
    expect(midway).toMatchObject({ status: 'running', pagesTotal: 3, pagesDone: 1 });
    // A tenant has at most three crawls queued or running; a fourth is a quota problem, and no job.
    for (const n of [1, 2])
      expect((await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/extra${n}/sitemap.xml` })).status).toBe(202);
    const fourth = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/extra3/sitemap.xml` });
    expect(fourth.status).toBe(409);
    expect(fourth.body.quota).toEqual({ limit: 'crawls', max: 3, used: 3, adding: 1 });
    expect((await admin('GET', '/knowledge/jobs')).body.jobs).toHaveLength(3);
    open();
    gate = null;
    const done = await waitForJob(t, a.secretKey, job.id);
    expect(done).toMatchObject({ status: 'done', pagesTotal: 3, pagesDone: 3, pagesFailed: 0, errors: [] });
    expect(done.bytes).toBeGreaterThan(0);
    expect((await search(word(2)))[0].title).toContain('Page 2 of gated3');
    // Another tenant cannot see the job.
    const b = await t.tenant('Other', ['other.example']);
    expect((await admin('GET', `/knowledge/jobs/${job.id}`, undefined, b.secretKey)).status).toBe(404);
  });

  test('a crawl takes at most the page bound; oversized pages are cut at the byte bound', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/big6/sitemap.xml` });
    const done = await waitForJob(t, a.secretKey, res.body.job.id);
    expect(done).toMatchObject({ status: 'done', pagesTotal: 4, pagesDone: 4 });
    expect(done.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/lists 6 pages; the first 4/) })]);
    expect(hits.get('/big6/page4')).toBeUndefined();
    expect(done.bytes).toBeLessThanOrEqual(4 * 4096);
    expect((await search('headmarker1'))[0].title).toContain('Big page 1');
    expect(await search('tailmarker1')).toEqual([]);
  });

  test("a dead instance's job is resumed at the next page by another instance; two instances never fetch a page twice", async () => {
    // A job a crashed instance held: sitemap read, page 0 stored, lease lapsed.
    const id = randomUUID();
    const urls = [0, 1, 2, 3].map((i) => `${siteUrl}/resume4/page${i}`);
    await t.runtime.db.withOwner((tx) =>
      tx.query(
        `INSERT INTO crawl_jobs (id, tenant_id, kind, url, status, urls, pages_total, pages_done, holder, lease_until, attempts, started_at)
         VALUES ($1, $2, 'sitemap', $3, 'running', $4, 4, 1, 'dead-instance', now() - interval '1 second', 1, now())`,
        [id, a.tenant.id, `${siteUrl}/resume4/sitemap.xml`, urls],
      ),
    );
    const dbs: ParleyDb[] = [t.runtime.db];
    if (t.testDb.url) {
      const u = new URL(t.testDb.url);
      u.username = 'parley_app';
      dbs.push(await openDb({ url: u.toString(), ownerUrl: t.testDb.url }));
    } else dbs.push(t.runtime.db);
    const workers = dbs.map(
      (db) => new CrawlWorker({ db, audit: t.runtime.audit, config: t.config, holder: newHolderId(), logger: pino({ level: 'silent' }) }),
    );
    try {
      await Promise.all(workers.map((w) => w.drain()));
    } finally {
      if (dbs[1] !== t.runtime.db) await dbs[1]!.close();
    }
    const done = await waitForJob(t, a.secretKey, id);
    expect(done).toMatchObject({ status: 'done', pagesDone: 4, pagesTotal: 4 });
    expect(hits.get('/resume4/page0')).toBeUndefined();
    for (const i of [1, 2, 3]) expect(hits.get(`/resume4/page${i}`)).toBe(1);
  });
});
