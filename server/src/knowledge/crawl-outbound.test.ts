// Knowledge crawls go through the outbound module: a URL (or a redirect) to a destination the operator did
// not allow is refused with a 422 naming the field, and no connection is made to it. Here 127.0.0.2 is an
// allowed host (PARLEY_OUTBOUND_ALLOW) and 127.0.0.1, which records connections, plays the private network.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';

describe('knowledge crawl through the outbound module', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let site: Server;
  let secret: Server;
  let siteUrl = '';
  let secretUrl = '';
  let secretConnections = 0;
  const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });

  beforeAll(async () => {
    secret = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('internal secrets'));
    secret.on('connection', () => secretConnections++);
    await new Promise<void>((r) => secret.listen(0, '127.0.0.1', r));
    secretUrl = `http://127.0.0.1:${(secret.address() as AddressInfo).port}`;
    site = createServer((req, res) => {
      if (req.url === '/to-secret') return void res.writeHead(302, { location: `${secretUrl}/admin` }).end();
      if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (req.url === '/big') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.alloc(3 * 1024 * 1024, 97));
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Opening hours</h1><p>We are open from nine to five on weekdays.</p>');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.2', r));
    siteUrl = `http://127.0.0.2:${(site.address() as AddressInfo).port}`;
    t = await startTestApp({ PARLEY_OUTBOUND_ALLOW: '127.0.0.2/32' });
    a = await t.tenant('Crawler', ['crawl.example']);
  });
  afterAll(async () => {
    site.close();
    secret.close();
    await t.close();
  });

  test('an allowed page is crawled', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/hours` });
    expect(res.status).toBe(201);
    expect(res.body.sources[0].url).toBe(`${siteUrl}/hours`);
  });

  test.each(['direct', 'localhost', 'redirect', 'metadata redirect'])(
    'a %s request to a private address is refused, without a connection',
    async (how) => {
      const url = {
        direct: `${secretUrl}/admin`,
        localhost: secretUrl.replace('127.0.0.1', 'localhost'),
        redirect: `${siteUrl}/to-secret`,
        'metadata redirect': `${siteUrl}/to-metadata`,
      }[how]!;
      const res = await admin('POST', '/knowledge/sources', { kind: 'url', url });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ path: '/url', code: 'fetch_failed', message: expect.stringMatching(/public host/) });
      expect(secretConnections).toBe(0);
    },
  );

  test('a page over 2 MB is refused', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/big` });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].message).toBe('The page is larger than 2 MB.');
  });
});
