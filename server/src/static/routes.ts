// The widget's scripts and the demo host page. Widget files are loaded by pages on other origins, so
// they are cross-origin resources; hashed names are immutable, the plain names short-lived.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';

// Same relative location from src/static and dist/static.
const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const WIDGET_DIST = repo('widget/dist/');
const DEMO = repo('examples/host-page/');
const DOCS = repo('docs-site/dist/');
const DOCS_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const notBuilt = () => new HttpProblem(404, 'not-found', 'The widget is not built: run `npm run build`.');

export function staticRoutes(opts: { demoPublishableKey?: string | undefined }): Router {
  const r = Router();
  const cache = new Map<string, Buffer>();
  const file = (name: string): Buffer | null => {
    if (!cache.has(name)) {
      const path = WIDGET_DIST + name;
      if (!existsSync(path)) return null;
      cache.set(name, readFileSync(path));
    }
    return cache.get(name)!;
  };

  route(r, /^\/(loader|widget)(\.[0-9a-f]{12})?\.js$/, {
    get: (req, res) => {
      const body = file(req.path.slice(1));
      if (!body) throw notBuilt();
      res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      res.setHeader('Cache-Control', /\.[0-9a-f]{12}\.js$/.test(req.path) ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
      res.send(body);
    },
  });

  route(r, '/demo/site.css', {
    get: (_req, res) => void res.type('text/css').send(readFileSync(`${DEMO}site.css`)),
  });
  // The hosted docs, built by docs-site; every problem `type` URI (/docs/problems/<slug>) resolves here.
  route(r, /^\/docs(\/[a-z0-9-]*(\.html|\.css)?|\/problems\/[a-z-]+)?$/, {
    get: (req, res) => {
      if (req.path === '/docs') return res.redirect(301, '/docs/');
      const rel = req.path.slice('/docs/'.length) || 'index.html';
      const file = `${DOCS}${/\.(html|css)$/.test(rel) ? rel : `${rel}.html`}`;
      if (!existsSync(DOCS)) throw new HttpProblem(404, 'not-found', 'The docs are not built: run `npm run build`.');
      if (!existsSync(file)) throw new HttpProblem(404, 'not-found', 'No such page.');
      res.setHeader('Content-Security-Policy', DOCS_CSP);
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type(file.endsWith('.css') ? 'text/css' : 'html').send(readFileSync(file));
    },
  });

  // The demo knowledge's pages, so citations in demo answers lead somewhere.
  route(r, '/demo/help/:slug', {
    get: (req, res) => {
      const slug = String(req.params.slug);
      const path = `${repo('examples/demo-knowledge/')}${slug}.md`;
      if (!/^[a-z-]+$/.test(slug) || !existsSync(path)) throw new HttpProblem(404, 'not-found', 'No such help page.');
      const esc = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const body = readFileSync(path, 'utf8')
        .split(/\n{2,}/)
        .map((block) => {
          const h = /^(#{1,3})\s+(.+)$/.exec(block.trim());
          if (!h) return `<p>${esc(block.trim())}</p>`;
          const id = h[2]!.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s+/g, '-');
          return `<h${h[1]!.length} id="${esc(id)}">${esc(h[2]!)}</h${h[1]!.length}>`;
        })
        .join('\n');
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'");
      res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Help</title><link rel="stylesheet" href="/demo/site.css"></head><body><main>${body}</main></body></html>`);
    },
  });

  route(r, '/demo/', {
    get: (_req, res) => {
      if (!opts.demoPublishableKey) throw new HttpProblem(404, 'not-found', 'No demo tenant: start with `parley serve --seed-demo`.');
      const nonce = randomBytes(16).toString('base64');
      const html = readFileSync(`${DEMO}index.html`, 'utf8').replaceAll('{{NONCE}}', nonce).replaceAll('{{PUBLISHABLE_KEY}}', opts.demoPublishableKey);
      // The strict policy the widget is built to live under.
      res.setHeader(
        'Content-Security-Policy',
        `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
      );
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(html);
    },
  });
  return r;
}
