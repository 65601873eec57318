// A sitemap crawl keeps to the site it was given. Found by an outside review: the site was read from where the
// sitemap's redirects ended, so a sitemap at A that redirected to B had B's pages accepted; a listed page could
// redirect to another site and be stored under that address; robots.txt was not read; and a <sitemapindex>
// was not expanded (the nested sitemap's XML was stored as a page). Two local sites (two ports: two origins)
// play A and B.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { crawlSitemap } from '../test/knowledge.js';
import { parseRobots } from './robots.js';

describe('robots.txt rules (RFC 9309)', () => {
  const robots = `
# a comment
User-agent: *
Disallow: /private
Allow: /private/open   # trailing comment
Disallow: /*.pdf$
Disallow: /search?q=

User-agent: OtherBot
User-agent: parleybot/2
Disallow: /not-for-parley
Allow: /not-for-parley/but-this
Disallow: /tie
Allow: /tie

user-agent: ParleyBot
disallow: /merged
`;
  const parley = parseRobots(robots, 'ParleyBot');
  const anyone = parseRobots(robots, 'SomeCrawler');

  test("the group naming our product token is ours (case aside, groups merged); another agent reads '*'", () => {
    expect(parley('/not-for-parley/page')).toBe(false);
    expect(parley('/merged')).toBe(false);
    expect(parley('/private')).toBe(true);
    expect(anyone('/private/page')).toBe(false);
    expect(anyone('/not-for-parley')).toBe(true);
  });

  test('the longest matching rule wins; an Allow wins a tie; no rule allows', () => {
    expect(parley('/not-for-parley/but-this/page')).toBe(true);
    expect(parley('/tie')).toBe(true);
    expect(anyone('/private/open/hours')).toBe(true);
    expect(anyone('/public')).toBe(true);
  });

  test('* matches any run of characters, $ ends the path, and the query is part of the path', () => {
    expect(anyone('/docs/manual.pdf')).toBe(false);
    expect(anyone('/docs/manual.pdf?v=2')).toBe(true);
    expect(anyone('/search?q=refunds')).toBe(false);
    expect(anyone('/search')).toBe(true);
  });

  test('an empty Disallow, an empty file and lines that are not rules allow everything', () => {
    expect(parseRobots('User-agent: *\nDisallow:\n', 'ParleyBot')('/anything')).toBe(true);
    expect(parseRobots('', 'ParleyBot')('/anything')).toBe(true);
    expect(parseRobots('<html>not a robots file</html>\nDisallow: /x', 'ParleyBot')('/x')).toBe(true);
    expect(parseRobots('User-agent: *\nDisallow: /', 'ParleyBot')('/anything')).toBe(false);
  });

  // Found by a ninth outside review: a path written with an encoded letter slipped past the rule for it.
  test('a path with an encoded unreserved character is the path it decodes to; an encoded reserved one is not', () => {
    const rules = parseRobots('User-agent: *\nDisallow: /private\nDisallow: /a%2fb\nDisallow: /%7Euser', 'ParleyBot');
    expect(rules('/%70rivate/b')).toBe(false);
    expect(rules('/PRIVATE/b')).toBe(true);
    expect(rules('/a%2Fb')).toBe(false);
    expect(rules('/a/b')).toBe(true);
    expect(rules('/~user/x')).toBe(false);
  });

  test('a rule written with raw UTF-8 matches the percent-encoded path', () => {
    const rules = parseRobots('User-agent: *\nDisallow: /café', 'ParleyBot');
    expect(rules(new URL('https://x.example/café/menu').pathname)).toBe(false);
  });
});

describe('a sitemap crawl keeps to its site', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let siteA: Server;
  let siteB: Server;
  let A = '';
  let B = '';
  const hitsA: string[] = [];
  const hitsB: string[] = [];
  const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });
  const crawledUrls = async () =>
    ((await admin('GET', '/knowledge/sources')).body.sources as { kind: string; url: string }[])
      .filter((s) => s.kind === 'sitemap')
      .map((s) => s.url);
  const crawl = (url: string) => crawlSitemap(admin, url);
  const urlset = (...urls: string[]) => `<urlset>${urls.map((u) => `<url><loc>${u}</loc></url>`).join('')}</urlset>`;
  const index = (...urls: string[]) => `<sitemapindex>${urls.map((u) => `<sitemap><loc>${u}</loc></sitemap>`).join('')}</sitemapindex>`;
  const page = (title: string) => `<h1>${title}</h1><p>This page is about ${title.toLowerCase()}.</p>`;

  beforeAll(async () => {
    siteA = createServer((req, res) => {
      const url = req.url ?? '/';
      hitsA.push(url);
      const xml = (body: string) => res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
      if (url === '/robots.txt') {
        return void res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('User-agent: *\nDisallow: /private\nAllow: /private/open\n\nUser-agent: GreedyBot\nDisallow: /\n');
      }
      if (url === '/to-b.xml') return void res.writeHead(302, { location: `${B}/sitemap.xml` }).end();
      if (url === '/hop.xml') return void xml(urlset(`${A}/leaves`, `${A}/stays`, `${A}/moves-within`));
      if (url === '/leaves') return void res.writeHead(302, { location: `${B}/page` }).end();
      if (url === '/moves-within') return void res.writeHead(301, { location: '/moved-here' }).end();
      if (url === '/into-private') return void res.writeHead(302, { location: '/private/c' }).end();
      if (url === '/robots-hop.xml') return void xml(urlset(`${A}/into-private`, `${A}/public`));
      if (url === '/robots.xml') return void xml(urlset(`${A}/private/secret`, `${A}/private/open/hours`, `${A}/public`));
      if (url === '/index.xml') return void xml(index(`${A}/sm1.xml`, `${B}/sm.xml`, `${A}/nested-index.xml`, `${A}/missing.xml`, `${A}/sm2.xml`));
      if (url === '/sm1.xml') return void xml(urlset(`${A}/p1`, `${A}/p2`));
      if (url === '/sm2.xml') return void xml(urlset(`${A}/p3`, `${A}/p4`));
      if (url === '/nested-index.xml') return void xml(index(`${A}/sm1.xml`));
      if (['/stays', '/moved-here', '/private/secret', '/private/open/hours', '/public', '/p1', '/p2', '/p3', '/p4'].includes(url)) {
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(page(`Page ${url.slice(1)}`));
      }
      res.writeHead(404).end();
    });
    siteB = createServer((req, res) => {
      const url = req.url ?? '/';
      hitsB.push(url);
      if (url === '/robots.txt') {
        return void res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('User-agent: *\nDisallow: /\n\nUser-agent: ParleyBot\nDisallow: /secret\n');
      }
      if (url === '/sitemap.xml') return void res.writeHead(200, { 'content-type': 'application/xml' }).end(urlset(`${B}/page`, `${B}/secret`));
      if (url === '/sm.xml') return void res.writeHead(200, { 'content-type': 'application/xml' }).end(urlset(`${B}/page`));
      if (url === '/page' || url === '/secret') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page(`B ${url}`));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => siteA.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => siteB.listen(0, '127.0.0.1', r));
    A = `http://127.0.0.1:${(siteA.address() as AddressInfo).port}`;
    B = `http://127.0.0.1:${(siteB.address() as AddressInfo).port}`;
    t = await startTestApp({ PARLEY_CRAWL_MAX_PAGES: '3' });
    a = await t.tenant('Scoped', ['scoped.example']);
  });
  afterAll(async () => {
    siteA.close();
    siteB.close();
    await t.close();
  });

  test("a sitemap at A that redirects to B is read against A's origin: none of B's pages is taken", async () => {
    const job = await crawl(`${A}/to-b.xml`);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/lists no page of .*127\.0\.0\.1:\d+.*redirected to/);
    expect((await crawledUrls()).filter((u) => u.startsWith(B))).toEqual([]);
    expect(hitsB.filter((h) => h === '/page' || h === '/secret')).toEqual([]);
  });

  test('a listed page that redirects to another site fails alone, and no request reaches that site; a redirect within the site is followed', async () => {
    const job = await crawl(`${A}/hop.xml`);
    expect(job).toMatchObject({ status: 'done', pagesTotal: 3, pagesDone: 3, pagesFailed: 1 });
    expect(job.errors).toEqual([{ url: `${A}/leaves`, message: expect.stringMatching(/redirect.*another site/) }]);
    expect(hitsB.filter((h) => h === '/page')).toEqual([]);
    const urls = await crawledUrls();
    expect(urls).toContain(`${A}/stays`);
    expect(urls).toContain(`${A}/moved-here`);
    expect(urls.filter((u) => u.startsWith(B))).toEqual([]);
  });

  test("robots.txt is honoured: A's '*' group disallows /private but allows /private/open", async () => {
    const job = await crawl(`${A}/robots.xml`);
    expect(job).toMatchObject({ status: 'done', pagesTotal: 2, pagesDone: 2, pagesFailed: 0 });
    expect(job.errors).toEqual([{ url: null, message: expect.stringMatching(/robots\.txt.*1 listed page.*\/private\/secret/) }]);
    const urls = await crawledUrls();
    expect(urls).toContain(`${A}/private/open/hours`);
    expect(urls).toContain(`${A}/public`);
    expect(urls).not.toContain(`${A}/private/secret`);
  });

  test('a listed page that redirects within the site to a path robots.txt disallows fails alone, and that path is never requested', async () => {
    const job = await crawl(`${A}/robots-hop.xml`);
    expect(job).toMatchObject({ status: 'done', pagesTotal: 2, pagesDone: 2, pagesFailed: 1 });
    expect(job.errors).toEqual([{ url: `${A}/into-private`, message: expect.stringMatching(/robots\.txt/) }]);
    expect(hitsA).not.toContain('/private/c');
  });

  test("robots.txt is honoured: B's group for ParleyBot wins over its '*' group", async () => {
    const before = hitsB.length;
    const job = await crawl(`${B}/sitemap.xml`);
    expect(job).toMatchObject({ status: 'done', pagesTotal: 1, pagesDone: 1, pagesFailed: 0 });
    expect(hitsB.slice(before)).not.toContain('/secret');
    expect(await crawledUrls()).toContain(`${B}/page`);
  });

  test("a sitemap index is expanded one level, its own site's sitemaps only, within the crawl's page limit", async () => {
    const before = hitsB.length;
    const job = await crawl(`${A}/index.xml`);
    expect(job).toMatchObject({ status: 'done', pagesTotal: 3, pagesDone: 3, pagesFailed: 0 });
    expect(hitsB.slice(before)).toEqual([]);
    expect(job.errors).toEqual(
      expect.arrayContaining([
        { url: `${B}/sm.xml`, message: expect.stringMatching(/not on the sitemap's site/) },
        { url: `${A}/nested-index.xml`, message: expect.stringMatching(/one level/) },
        { url: `${A}/missing.xml`, message: expect.stringMatching(/404/) },
        { url: null, message: expect.stringMatching(/lists 4 pages; the first 3 are crawled/) },
      ]),
    );
    const urls = await crawledUrls();
    for (const p of ['p1', 'p2', 'p3']) expect(urls).toContain(`${A}/${p}`);
    expect(urls).not.toContain(`${A}/p4`);
    expect(urls.filter((u) => u.endsWith('.xml'))).toEqual([]);
  });
});
