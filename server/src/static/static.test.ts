// What the server serves besides the API: the widget's files, the console, the docs and the demo page,
// each with its caching and its own strict Content-Security-Policy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { get, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Problem } from '@parley/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../app.js';
import { errorHandler } from '../http/errors.js';
import { requestId } from '../http/request-id.js';
import { wireRuntime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
// @ts-expect-error: a plain .mjs module without type declarations
import { fileFor } from '../../../docs-site/check-links.mjs';
import { chunkMarkdown, slug } from '../knowledge/chunk.js';
import { staticRoutes } from './routes.js';

const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const DEMO_KEY = `pk_test_${'Ab3'.repeat(8)}`;

const listen = (app: express.Express) =>
  new Promise<{ url: string; server: Server }>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }));
  });

let url: string;
let server: Server;
let testDb: TestDb;
beforeAll(async () => {
  // A fresh checkout has no builds yet; these are what `npm run build` produces.
  for (const [dir, output] of [
    ['widget', 'dist/loader.js.br'],
    ['docs-site', 'dist/index.html'],
    ['console', 'dist/index.html'],
  ]) {
    const cwd = fileURLToPath(new URL(`../../../${dir}/`, import.meta.url));
    if (!existsSync(cwd + output)) execFileSync(process.execPath, ['build.mjs'], { cwd });
  }
  const config = testConfig();
  testDb = await createTestDb();
  const runtime = wireRuntime(config, testDb.db);
  ({ url, server } = await listen(
    createApp({
      config,
      db: runtime.db,
      audit: runtime.audit,
      logger: pino({ level: 'silent' }),
      keyring: runtime.keyring,
      demoPublishableKey: DEMO_KEY,
    }),
  ));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await testDb.close();
});

describe('widget files', () => {
  test('cross-origin resources: short cache unhashed, immutable hashed; nothing else is served', async () => {
    const loader = await fetch(`${url}/loader.js`);
    expect(loader.status).toBe(200);
    expect(loader.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(loader.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(loader.headers.get('cache-control')).toBe('public, max-age=300');
    const manifest = await import('../../../widget/dist/manifest.json', { with: { type: 'json' } });
    const hashed = await fetch(`${url}/${manifest.default['widget.js']}`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(hashed.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect((await fetch(`${url}/widget.0123456789ab.js`)).status).toBe(404);
    expect((await fetch(`${url}/manifest.json`)).status).toBe(404);
    expect((await fetch(`${url}/../package.json`)).status).toBe(404);
  });

  test("the widget's lazily loaded parts: scripts served like the widget, immutable, only by their hashed names", async () => {
    const manifest = (await import('../../../widget/dist/manifest.json', { with: { type: 'json' } })).default as Record<string, string>;
    for (const part of ['actions', 'rating', 'away']) {
      const name = manifest[`part-${part}.js`]!;
      expect(name).toMatch(new RegExp(`^part-${part}\\.[0-9a-f]{12}\\.js$`));
      const res = await fetch(`${url}/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect((await raw(`/${name}`, { 'accept-encoding': 'br' })).headers['content-encoding']).toBe('br');
      expect((await fetch(`${url}/part-${part}.js`)).status).toBe(404);
    }
    expect((await fetch(`${url}/part-actions.0123456789ab.js`)).status).toBe(404);
  });

  test("a language's strings: hashed JSON any page may fetch without credentials, immutable; only by its hashed name", async () => {
    const manifest = (await import('../../../widget/dist/manifest.json', { with: { type: 'json' } })).default as Record<string, string>;
    const name = manifest['locale-fr.json']!;
    expect(name).toMatch(/^locale-fr\.[0-9a-f]{12}\.json$/);
    const res = await fetch(`${url}/${name}`, { headers: { origin: 'https://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(((await res.json()) as { send: string }).send).toBe('Envoyer');
    const br = await raw(`/${name}`, { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect((await fetch(`${url}/locale-fr.json`)).status).toBe(404);
    expect((await fetch(`${url}/locale-fr.0123456789ab.json`)).status).toBe(404);
  });
});

/** A GET whose body is read as sent: fetch would decompress it. */
const raw = (path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    get(url + path, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });

describe('widget files, compressed', () => {
  test.each([
    ['br', 'br'],
    ['br, gzip', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip;q=0.8', 'gzip'],
    ['deflate', 'identity'],
    ['', 'identity'],
    ['*', 'br'],
    ['gzip;q=0, br;q=0, *;q=0', 'identity'],
  ])('Accept-Encoding %j gets %s, precompressed, with Vary and the real length', async (accept, coding) => {
    const encoding = coding === 'identity' ? null : coding;
    const manifest = await import('../../../widget/dist/manifest.json', { with: { type: 'json' } });
    const plain = await raw('/loader.js', { 'accept-encoding': '' });
    for (const path of ['/loader.js', `/${manifest.default['widget.js']}`]) {
      const res = await raw(path, accept ? { 'accept-encoding': accept } : {});
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(encoding ?? undefined);
      expect(res.headers.vary).toMatch(/Accept-Encoding/);
      expect(res.headers['content-type']).toMatch(/^text\/javascript/);
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(res.headers['cache-control']).toBe(path === '/loader.js' ? 'public, max-age=300' : 'public, max-age=31536000, immutable');
      const body = encoding === 'br' ? brotliDecompressSync(res.body) : encoding === 'gzip' ? gunzipSync(res.body) : res.body;
      if (path === '/loader.js') expect(body.equals(plain.body)).toBe(true);
      if (encoding) expect(res.body.length).toBeLessThan(body.length * 0.6);
    }
  });
});

describe('widget files, validators', () => {
  test('each representation has its own strong ETag; a matching If-None-Match is a 304 that still says Vary', async () => {
    const tags = new Map<string, string>();
    for (const accept of ['br', 'gzip', '']) {
      const res = await raw('/widget.js', { 'accept-encoding': accept });
      const etag = String(res.headers.etag);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect((await raw('/widget.js', { 'accept-encoding': accept })).headers.etag).toBe(etag);
      tags.set(accept, etag);
      const again = await raw('/widget.js', { 'accept-encoding': accept, 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.vary).toMatch(/Accept-Encoding/);
      expect(again.headers['cache-control']).toBe('public, max-age=300');
    }
    expect(new Set(tags.values()).size).toBe(3);
    // A validator of one coding does not validate another: the gzip client gets the gzip body.
    const other = await raw('/widget.js', { 'accept-encoding': 'gzip', 'if-none-match': tags.get('br')! });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(other.body).length).toBeGreaterThan(other.body.length);
  });

  test('HEAD gives the length of the representation without a body', async () => {
    const head = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      request(`${url}/loader.js`, { method: 'HEAD', headers: { 'accept-encoding': 'br' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      })
        .on('error', reject)
        .end();
    });
    const full = await raw('/loader.js', { 'accept-encoding': 'br' });
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('br');
    expect(Number(head.headers['content-length'])).toBe(full.body.length);
    expect(head.headers.etag).toBe(full.headers.etag);
  });
});

describe('console', () => {
  test('the page, its hashed script and stylesheet, under the strict CSP with no inline code', async () => {
    expect((await fetch(`${url}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
    const page = await fetch(`${url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(page.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<style|style=/);
    const js = /src="(\/console\/console\.[0-9a-f]{12}\.js)"/.exec(html)![1]!;
    const css = /href="(\/console\/console\.[0-9a-f]{12}\.css)"/.exec(html)![1]!;
    for (const [path, type] of [
      [js, /^text\/javascript/],
      [css, /^text\/css/],
    ] as const) {
      const res = await fetch(url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('cache-control')).toContain('immutable');
    }
    expect((await fetch(`${url}/console/console.0123456789ab.js`)).status).toBe(404);
    expect((await fetch(`${url}/console/index.html`)).status).toBe(404);
  });
});

describe('docs', () => {
  test('served under the strict CSP, and every problem type resolves', async () => {
    const index = await fetch(`${url}/docs/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(await index.text()).toContain('Quick start');
    const problem = await fetch(`${url}/v1/admin/domains`);
    const { type } = (await problem.json()) as Problem;
    expect((await fetch(`${url}${type}`)).status).toBe(200);
    expect((await fetch(`${url}/docs/nope.html`)).status).toBe(404);
  });

  test("the docs' link check finds a page exactly where this route serves one", async () => {
    const dist = fileURLToPath(new URL('../../../docs-site/dist/', import.meta.url));
    for (const path of [
      '/docs/',
      '/docs/api.html',
      '/docs/api',
      '/docs/docs.css',
      '/docs/problems/forbidden',
      '/docs/problems/forbidden.html',
      '/docs/nope',
    ]) {
      const served = (await fetch(`${url}${path}`)).status === 200;
      expect({ path, linkCheck: fileFor(dist, path) !== null }).toEqual({ path, linkCheck: served });
    }
  });
});

describe('demo help pages', () => {
  test("render the knowledge's Markdown, with an anchor for every section a citation links to", async () => {
    const dir = fileURLToPath(new URL('../../../examples/demo-knowledge/', import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
      const res = await fetch(`${url}/demo/help/${file.slice(0, -3)}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      const markdown = readFileSync(join(dir, file), 'utf8');
      const title = /^# (.+)$/m.exec(markdown)![1]!;
      expect(html).toContain(`<title>${title}</title>`);
      expect(html).toContain(`<h1 id="${slug(title)}">${title}</h1>`);
      // Citations link to the section's anchor, as the knowledge chunker computes it.
      for (const c of chunkMarkdown(markdown, { title, url: null }).filter((c) => c.anchor)) {
        const heading = c.title.split(' › ').at(-1)!;
        expect(html).toContain(`<h2 id="${c.anchor}">${heading}</h2>`);
      }
      // No Markdown left in the text.
      expect(html).not.toMatch(/>\s*#/);
    }
    const returns = await (await fetch(`${url}/demo/help/returns`)).text();
    expect(returns).toContain('<h2 id="refund-timing">Refund timing</h2>\n<p>Refunds go back to the original payment method');
  });
});

describe('demo host page', () => {
  test('carries the demo key and a fresh nonce per response, under the strict policy the widget needs', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/demo/`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy')!;
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
      nonces.add(nonce);
      expect(csp).toBe(
        `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
      );
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toContain(`<script src="/loader.js" data-key="${DEMO_KEY}" async nonce="${nonce}"></script>`);
      expect(html).not.toContain('{{');
    }
    expect(nonces.size).toBe(2);
    expect((await fetch(`${url}/demo/site.css`)).status).toBe(200);
  });
});

describe('before anything is built', () => {
  test('each surface is a 404 problem naming what to build', async () => {
    const app = express();
    app.use(requestId);
    app.use(staticRoutes({ root: mkdtempSync(join(tmpdir(), 'parley-empty-')) }));
    app.use(errorHandler(pino({ level: 'silent' })));
    const bare = await listen(app);
    try {
      for (const [path, pkg] of [
        ['/console/', '@parley/console'],
        ['/docs/', '@parley/docs-site'],
        ['/loader.js', '@parley/widget'],
      ]) {
        const res = await fetch(bare.url + path);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await res.json()) as Problem).detail).toContain(`npm run build -w ${pkg}`);
      }
      const demo = await fetch(`${bare.url}/demo/`);
      expect(((await demo.json()) as Problem).detail).toContain('--seed-demo');
    } finally {
      bare.server.closeAllConnections();
      bare.server.close();
    }
  });
});
