// Attack: what a fetched page carries is not checked as the API checks a string. A page whose body holds a raw
// NUL byte reached PostgreSQL (invalid byte sequence for encoding "UTF8": 0x00): a 500 for kind:url, and in a
// sitemap crawl the whole job failed on it, the later pages never crawled. A <loc> of 8,000 characters became
// the page's externalId and failed the job on the unique index's row size. Now control characters other than
// tab and line breaks are dropped from what is fetched, and an address longer than the API's URL limit (2000)
// is skipped and recorded: only that page fails, and the crawl goes on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { crawlSitemap } from '../test/knowledge.js';

const LONG = `/landing?q=${'a'.repeat(2100)}`;

describe('fetched pages pass the checks API strings get', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let site: Server;
  let siteUrl: string;
  const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });
  const sources = async () => (await admin('GET', '/knowledge/sources')).body.sources as { url: string; title: string; kind: string }[];
  const crawl = (sitemap: string) => crawlSitemap(admin, `${siteUrl}${sitemap}`);

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('Fetched', ['fetched.example']);
    site = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/sitemap.xml') {
        res.setHeader('content-type', 'application/xml');
        return void res.end(
          `<urlset><url><loc>${siteUrl}/nul</loc></url><url><loc>${siteUrl}/x?${'b'.repeat(8000)}</loc></url>` +
            `<url><loc>${siteUrl}/long</loc></url><url><loc>${siteUrl}/after</loc></url></urlset>`,
        );
      }
      if (url === '/nul') {
        res.setHeader('content-type', 'text/html');
        return void res.end('<title>Opening\u0000 hours\u0007</title><h1>Hours</h1><p>We open at nine\u0000 and close\u001b at five.\tDaily.</p>');
      }
      if (url === '/nul-text') {
        res.setHeader('content-type', 'text/plain');
        return void res.end('Parcels\u0000 leave the depot\u0001 at noon.\r\nEvery day.');
      }
      if (url === '/long-title') {
        res.setHeader('content-type', 'text/html');
        return void res.end(`<title>${'Shipping '.repeat(600)}</title><p>Parcels ship daily.</p>`);
      }
      if (url === '/long') return void res.writeHead(302, { location: LONG }).end();
      if (url.startsWith('/landing')) {
        res.setHeader('content-type', 'text/html');
        return void res.end('<h1>Landing</h1><p>A page at a very long address.</p>');
      }
      if (url === '/after') {
        res.setHeader('content-type', 'text/html');
        return void res.end('<h1>Returns</h1><p>Returns are free within thirty days.</p>');
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    site.close();
    await t.close();
  });

  test('kind:url: a page holding NUL and other control characters is stored without them', async () => {
    const html = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/nul` });
    expect(html.status, JSON.stringify(html.body)).toBe(201);
    expect(html.body.sources[0].title).toBe('Opening hours');
    const text = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/nul-text` });
    expect(text.status, JSON.stringify(text.body)).toBe(201);
    const hits = (await admin('POST', '/knowledge/search', { query: 'when do parcels leave the depot', limit: 3 })).body.results;
    expect(hits[0].text).toBe('Parcels leave the depot at noon.\nEvery day.');
    const open = (await admin('POST', '/knowledge/search', { query: 'what time do you open', limit: 3 })).body.results;
    expect(open[0].text).toBe('We open at nine and close at five. Daily.');
  });

  test("kind:url: a page's <title> is held to the API's bound for a title (300 characters)", async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/long-title` });
    expect(res.status).toBe(201);
    expect(res.body.sources[0].title).toBe('Shipping '.repeat(34).slice(0, 300));
  });

  test('kind:url: a page whose redirects end at an address longer than 2000 characters is refused with a 422', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/long` });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.errors[0]).toMatchObject({ path: '/url', code: 'fetch_failed', message: expect.stringMatching(/longer than 2000/) });
  });

  test('in a sitemap, the NUL page is stored, an overlong <loc> and final address fail alone, and the crawl goes on', async () => {
    const job = await crawl('/sitemap.xml');
    expect(job).toMatchObject({ status: 'done', error: null, pagesTotal: 3, pagesDone: 3, pagesFailed: 1 });
    expect(job.errors).toEqual([
      { url: null, message: expect.stringMatching(/^A listed address of 8\d{3} characters was skipped \(longer than 2000\)/) },
      { url: `${siteUrl}/long`, message: expect.stringMatching(/longer than 2000/) },
    ]);
    const crawled = (await sources()).filter((s) => s.kind === 'sitemap').map((s) => s.url);
    expect(crawled.sort()).toEqual([`${siteUrl}/after`, `${siteUrl}/nul`]);
  });
});
