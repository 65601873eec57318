// Attack: HTML whose elements never close. The parser's work grows with the square of the nesting depth
// (20,000 unclosed <div>s read in 78 ms, 80,000 in 1.3 s; 150,000 held /healthz for 7 s in a review), all of
// it on the event loop, so one page sent inline, by URL or in a sitemap froze every tenant's requests. A document nesting deeper than a browser
// builds (Chromium stops at 512) is refused before that work; a crawl notes the page and goes on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { htmlToText, MAX_HTML_DEPTH } from './html.js';

const DEEP = '<div>'.repeat(100_000) + 'buried';

describe('htmlToText', () => {
  test('reads a document nested as deep as allowed, and refuses one level deeper', () => {
    const at = (n: number) => `${'<div>'.repeat(n)}<p>Deep text</p>`;
    expect(htmlToText(at(MAX_HTML_DEPTH - 1)).text).toBe('Deep text');
    expect(() => htmlToText(at(MAX_HTML_DEPTH))).toThrow(/nests elements more than/);
  });

  test('many elements side by side are not depth: 100,000 closed paragraphs read in full', () => {
    const { text } = htmlToText('<p>x</p>'.repeat(100_000));
    expect(text.split('\n\n')).toHaveLength(100_000);
  });
});

describe('over HTTP', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let site: Server;
  let siteUrl: string;
  const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });
  const sourceCount = async () => (await admin('GET', '/knowledge/sources')).body.sources.length as number;

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('Shop A', ['shop.a.example']);
    site = createServer((req, res) => {
      res.setHeader('content-type', req.url === '/sitemap.xml' ? 'application/xml' : 'text/html');
      if (req.url === '/sitemap.xml') res.end(`<urlset><url><loc>${siteUrl}/deep</loc></url><url><loc>${siteUrl}/returns</loc></url></urlset>`);
      else if (req.url === '/deep') res.end(DEEP);
      else if (req.url === '/returns') res.end('<h1>Returns</h1><p>Returns are free within 30 days.</p>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    site.close();
    await t.close();
  });

  test('inline or by URL, the page is refused with a problem naming why, and nothing is stored', async () => {
    const before = await sourceCount();
    // The problem names the field the request sent: the content inline, the URL of a fetched page.
    for (const [body, path] of [
      [{ kind: 'html', content: DEEP }, '/content'],
      [{ kind: 'url', url: `${siteUrl}/deep` }, '/url'],
    ] as const) {
      const res = await admin('POST', '/knowledge/sources', body);
      expect(res.status, body.kind).toBe(400);
      expect(res.body.errors).toEqual([{ path, code: 'too_deep', message: expect.stringMatching(/nests elements more than 1000 deep/) }]);
      expect(res.body.request_id).toEqual(expect.any(String));
    }
    expect(await sourceCount()).toBe(before);
  });

  test('in a sitemap, the page fails on its own and the crawl goes on', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/sitemap.xml` });
    expect(res.status).toBe(202);
    let job = res.body.job;
    for (let i = 0; i < 200 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await admin('GET', `/knowledge/jobs/${job.id}`)).body.job;
    }
    expect(job).toMatchObject({ status: 'done', pagesTotal: 2, pagesDone: 2, pagesFailed: 1 });
    expect(job.errors).toEqual([{ url: `${siteUrl}/deep`, message: expect.stringMatching(/nests elements more than/) }]);
    const urls = (await admin('GET', '/knowledge/sources')).body.sources.map((s: { url: string }) => s.url);
    expect(urls).toContain(`${siteUrl}/returns`);
    expect(urls).not.toContain(`${siteUrl}/deep`);
  });
});
