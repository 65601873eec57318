// What the server serves besides the API: the widget's scripts, the console, the docs and the demo host
// page. Widget files are loaded by pages on other origins, so they are cross-origin resources; hashed
// names are immutable, the plain names short-lived. Each HTML surface carries its own strict CSP.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';
import { helpPage } from './help-page.js';

// The repository root: the same relative location from src/static and dist/static.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// The console and the docs: files from this origin only, no inline script or style, API calls to this
// origin only, and nothing may frame them.
const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const IMMUTABLE = 'public, max-age=31536000, immutable';
// A content-hashed widget file (a script, a part of it loaded when needed, or a language's strings): it never changes.
const HASHED = /\.[0-9a-f]{12}\.(js|json)$/;

const notBuilt = (what: string, pkg: string) =>
  new HttpProblem(404, 'not-found', `The ${what} is not built: run \`npm run build\` (or \`npm run build -w ${pkg}\`).`);

/**
 * The precompressed codings a client accepts (RFC 9110 Accept-Encoding with q-values), brotli before
 * gzip. No header, or only other codings, means the plain file.
 */
export function acceptedCodings(header: string | undefined): ('br' | 'gzip')[] {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(token, Number.isFinite(value) ? value : 0);
  }
  const weight = (coding: string) => q.get(coding) ?? (coding === 'gzip' ? q.get('x-gzip') : undefined) ?? q.get('*') ?? 0;
  return (['br', 'gzip'] as const).filter((c) => weight(c) > 0).sort((a, b) => weight(b) - weight(a));
}

export interface StaticOptions {
  /** The demo tenant's publishable key; without it there is no demo page. */
  demoPublishableKey?: string | undefined;
  /** Where the built packages are found (tests point it at an empty folder). */
  root?: string;
}

export function staticRoutes(opts: StaticOptions): Router {
  const repo = (path: string) => join(opts.root ?? REPO, path);
  const WIDGET_DIST = repo('widget/dist/');
  const DEMO = repo('examples/host-page/');
  const DOCS = repo('docs-site/dist/');
  const CONSOLE = repo('console/dist/');
  const r = Router();
  // Widget files are kept in memory with a strong ETag per representation (plain, .br, .gz, all made at
  // build time): hashed names for good, since they never change; plain names are checked against the
  // disk at most once a second, so a rebuild is picked up without a restart and without a read per request.
  const cache = new Map<string, { body: Buffer; etag: string; mtimeMs: number; checkedAt: number }>();
  const file = (name: string): { body: Buffer; etag: string } | null => {
    const hashed = HASHED.test(name);
    const hit = cache.get(name);
    const now = Date.now();
    if (hit && (hashed || now - hit.checkedAt < 1000)) return hit;
    const path = WIDGET_DIST + name;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) {
      cache.delete(name);
      return null;
    }
    if (hit && hit.mtimeMs === stat.mtimeMs) {
      hit.checkedAt = now;
      return hit;
    }
    const body = readFileSync(path);
    const entry = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, mtimeMs: stat.mtimeMs, checkedAt: now };
    cache.set(name, entry);
    return entry;
  };

  route(
    r,
    /^\/((loader|widget)(\.[0-9a-f]{12})?\.js|part-[a-z]+\.[0-9a-f]{12}\.js|locale-[a-z]{2}\.[0-9a-f]{12}\.json)$/,
    {
      get: (req, res) => {
        const name = req.path.slice(1);
        const plain = file(name);
        if (!plain) throw notBuilt('widget', '@parley/widget');
        // A copy the client accepts, best first; the plain file when none (or an older build without copies).
        let chosen = plain;
        for (const coding of acceptedCodings(req.get('accept-encoding'))) {
          const copy = file(`${name}${coding === 'br' ? '.br' : '.gz'}`);
          if (copy) {
            res.setHeader('Content-Encoding', coding);
            chosen = copy;
            break;
          }
        }
        res.vary('Accept-Encoding');
        if (name.endsWith('.json')) {
          // A language's strings, fetched by the widget from the host page's origin: public, no credentials.
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.setHeader('Access-Control-Allow-Origin', '*');
        } else res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
        res.setHeader('Cache-Control', HASHED.test(req.path) ? IMMUTABLE : 'public, max-age=300');
        // Each representation has its own strong validator; express answers a matching If-None-Match with a 304.
        res.setHeader('ETag', chosen.etag);
        res.send(chosen.body);
      },
    },
    ['/loader.js', '/widget.js', '/loader.{hash}.js', '/widget.{hash}.js', '/part-{name}.{hash}.js', '/locale-{lang}.{hash}.json'],
  );

  route(r, '/demo/site.css', {
    get: async (_req, res) => {
      const css = await readFile(`${DEMO}site.css`).catch(() => null);
      if (!css) throw new HttpProblem(404, 'not-found', 'No demo stylesheet.');
      res.type('text/css').send(css);
    },
  });
  // The hosted docs, built by docs-site; every problem `type` URI (/docs/problems/<slug>) resolves here.
  route(
    r,
    /^\/docs(\/[a-z0-9-]*(\.html|\.css|\.js|\.json)?|\/problems\/[a-z-]+)?$/,
    {
      get: (req, res) => {
        if (req.path === '/docs') return res.redirect(301, '/docs/');
        const rel = req.path.slice('/docs/'.length) || 'index.html';
        const file = `${DOCS}${/\.(html|css|js|json)$/.test(rel) ? rel : `${rel}.html`}`;
        if (!existsSync(DOCS)) throw notBuilt('documentation site', '@parley/docs-site');
        if (!existsSync(file)) throw new HttpProblem(404, 'not-found', 'No such page.');
        res.setHeader('Content-Security-Policy', APP_CSP);
        res.setHeader('Cache-Control', 'public, max-age=300');
        // The search script and its index, built with the site.
        const type = { css: 'text/css', js: 'text/javascript', json: 'application/json' }[file.slice(file.lastIndexOf('.') + 1)] ?? 'html';
        res.type(type).send(readFileSync(file));
      },
    },
    ['/docs', '/docs/', '/docs/{page}', '/docs/problems/{slug}'],
  );

  // The admin console: a single page whose script and stylesheet are named by their content hash.
  // Non-strict routing matches this path with and without the slash; the canonical URL has it.
  route(
    r,
    '/console/',
    {
      get: async (req, res) => {
        if (req.path === '/console') return res.redirect(301, '/console/');
        const html = await readFile(`${CONSOLE}index.html`).catch(() => null);
        if (!html) throw notBuilt('console', '@parley/console');
        res.setHeader('Content-Security-Policy', APP_CSP);
        res.setHeader('Cache-Control', 'no-cache');
        res.type('html').send(html);
      },
    },
    ['/console', '/console/'],
  );
  route(
    r,
    /^\/console\/console\.[0-9a-f]{12}\.(js|css)$/,
    {
      get: async (req, res) => {
        const body = await readFile(CONSOLE + req.path.slice('/console/'.length)).catch(() => null);
        if (!body) throw new HttpProblem(404, 'not-found', 'No such console file: reload the console.');
        res.setHeader('Cache-Control', IMMUTABLE);
        res.type(req.path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8').send(body);
      },
    },
    ['/console/console.{hash}.js', '/console/console.{hash}.css'],
  );

  // The demo knowledge's pages, so citations in demo answers lead somewhere.
  route(r, '/demo/help/:slug', {
    get: (req, res) => {
      const slug = String(req.params.slug);
      const path = `${repo('examples/demo-knowledge/')}${slug}.md`;
      if (!/^[a-z-]+$/.test(slug) || !existsSync(path)) throw new HttpProblem(404, 'not-found', 'No such help page.');
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'");
      res.type('html').send(helpPage(readFileSync(path, 'utf8')));
    },
  });

  route(
    r,
    '/demo/',
    {
      get: (req, res) => {
        if (req.path === '/demo') return res.redirect(301, '/demo/');
        if (!opts.demoPublishableKey) throw new HttpProblem(404, 'not-found', 'No demo tenant: start with `parley serve --seed-demo`.');
        const nonce = randomBytes(16).toString('base64');
        const html = readFileSync(`${DEMO}index.html`, 'utf8')
          .replaceAll('{{NONCE}}', nonce)
          .replaceAll('{{PUBLISHABLE_KEY}}', opts.demoPublishableKey);
        // The strict policy the widget is built to live under: scripts from here or carrying this response's
        // nonce, styles only with the nonce (the page's stylesheet link carries it), API calls to this origin.
        res.setHeader(
          'Content-Security-Policy',
          `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
        );
        res.setHeader('Cache-Control', 'no-store');
        res.type('html').send(html);
      },
    },
    ['/demo', '/demo/'],
  );
  return r;
}
