// One tenant's crawls must not hold up another's. Found by an outside review: a worker claimed jobs by age
// across all tenants and ran each to its end, so a tenant with three queued crawls of 100 slow pages kept every
// other tenant waiting (about 50 minutes), and two instances ran two crawls of one tenant at once. Now a claim
// takes at most one job per tenant, the least recently served tenant first, and a job gives its worker back
// after PARLEY_CRAWL_SLICE_MS, to be resumed at its next page. Here two workers (the app's and one more, over
// the same database) share tenant A's three crawls of eight slow pages and tenant B's one-page crawl, queued last.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newHolderId } from '../jobs/lease.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { CrawlWorker } from './jobs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let site: Server;
let siteUrl: string;
/** Page requests in the order they arrived: [crawl, page]. */
const hits: [string, number][] = [];
let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;

beforeAll(async () => {
  site = createServer(async (req, res) => {
    const map = /^\/(\w+)\/sitemap\.xml$/.exec(req.url ?? '');
    if (map) {
      const n = map[1]!.startsWith('a') ? 8 : 1;
      const locs = Array.from({ length: n }, (_, i) => `<url><loc>${siteUrl}/${map[1]}/page${i}</loc></url>`).join('');
      return void res.writeHead(200, { 'content-type': 'application/xml' }).end(`<urlset>${locs}</urlset>`);
    }
    const page = /^\/(\w+)\/page(\d+)$/.exec(req.url ?? '');
    if (!page) return void res.writeHead(404).end();
    hits.push([page[1]!, Number(page[2])]);
    await sleep(40);
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1>${page[1]} page ${page[2]}</h1><p>Crawl ${page[1]}, page ${page[2]}.</p>`);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestApp({ PARLEY_CRAWL_SLICE_MS: '150' });
  a = await t.tenant('Busy', ['busy.example']);
  b = await t.tenant('Patient', ['patient.example']);
});
afterAll(async () => {
  site.close();
  await t.close();
});

async function finished(key: string, id: string) {
  for (let i = 0; i < 600; i++) {
    const job = (await call(t.url, 'GET', `/v1/admin/knowledge/jobs/${id}`, { key })).body.job;
    if (job.status === 'done' || job.status === 'failed') return job;
    await sleep(50);
  }
  throw new Error('the crawl job did not finish in time');
}

test("a tenant's queued crawls run one at a time, and another tenant's crawl is served within the first one's slice", async () => {
  const queue = async (key: string, name: string) =>
    (await call(t.url, 'POST', '/v1/admin/knowledge/sources', { key, body: { kind: 'sitemap', url: `${siteUrl}/${name}/sitemap.xml` } })).body.job
      .id as string;
  const ids = [await queue(a.secretKey, 'a1'), await queue(a.secretKey, 'a2'), await queue(a.secretKey, 'a3')];
  const bId = await queue(b.secretKey, 'b1');
  const other = new CrawlWorker({
    db: t.runtime.db,
    audit: t.runtime.audit,
    config: t.config,
    holder: newHolderId(),
    logger: pino({ level: 'silent' }),
  });
  const draining = other.drain();
  const jobsA = [];
  for (const id of ids) jobsA.push(await finished(a.secretKey, id));
  const jobB = await finished(b.secretKey, bId);
  await draining;
  for (const job of [...jobsA, jobB]) expect(job).toMatchObject({ status: 'done', pagesFailed: 0, error: null });
  expect(jobsA.map((j) => j.pagesDone)).toEqual([8, 8, 8]);
  // A's crawls never ran side by side: every page of a1 came before any of a2, and a2's before a3's.
  const orderA = hits.filter(([crawl]) => crawl.startsWith('a')).map(([crawl]) => crawl);
  expect(orderA).toEqual([...Array(8).fill('a1'), ...Array(8).fill('a2'), ...Array(8).fill('a3')]);
  // B, queued last, did not wait for A's first crawl to end.
  expect(Date.parse(jobB.finishedAt)).toBeLessThan(Date.parse(jobsA[0].finishedAt));
  // Giving the worker back is not a failed attempt (five of those end a crawl): a1 was taken more than once, and
  // each of A's crawls counts one attempt.
  expect(Date.parse(jobsA[0].finishedAt) - Date.parse(jobsA[0].startedAt)).toBeGreaterThan(150);
  const attempts = await t.runtime.db.withOwner((tx) =>
    tx.query<{ attempts: number }>('SELECT attempts FROM crawl_jobs WHERE id = ANY($1::uuid[]) ORDER BY created_at', [ids]),
  );
  expect(attempts.rows.map((r) => r.attempts)).toEqual([1, 1, 1]);
});
