// The broken-link check of the built site: every internal href and src (and its #anchor) must reach a
// page the server serves from docs-site/dist, and that page must have the anchor. Links that leave the
// docs (other sites, /console/, /v1/…) are listed, never fetched. `node check-links.mjs [dist]` exits 1 on
// any broken link; the docs build test runs the same check.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeEntities } from './search.mjs';

const BASE = 'http://docs.invalid/docs/';

// The paths the server's docs route answers (server/src/static/routes.ts): pages at the top, and each
// problem at its type URI, /docs/problems/<slug>, with no extension.
const SERVED = /^\/docs(\/[a-z0-9-]*(\.html|\.css|\.js|\.json)?|\/problems\/[a-z-]+)?$/;

/** The file the docs route serves for a /docs/ path (`/docs/` is index.html, `/docs/x` is x.html), or null. */
export function fileFor(dist, pathname) {
  if (!pathname.startsWith('/docs/') || !SERVED.test(pathname)) return null;
  const rel = decodeURIComponent(pathname.slice('/docs/'.length)) || 'index.html';
  const candidates = /\.[a-z]+$/.test(rel) ? [rel] : [`${rel}.html`];
  const hit = candidates.map((c) => join(dist, c)).find((f) => existsSync(f) && statSync(f).isFile());
  return hit ?? null;
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Checks every page under `dist`: { pages, checked, broken: [{ page, href, reason }], external: [{ page, href }] }.
 * A link is internal when it resolves to this origin under /docs/; `outside` lists same-origin paths that
 * the server serves elsewhere (the console, the API).
 */
export function checkLinks(dist) {
  const pages = walk(dist).filter((f) => f.endsWith('.html'));
  const ids = new Map();
  const idsOf = (file) => {
    if (!ids.has(file)) ids.set(file, new Set([...readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => decodeEntities(m[1]))));
    return ids.get(file);
  };
  const broken = [];
  const external = [];
  const outside = [];
  let checked = 0;
  for (const file of pages) {
    const page = relative(dist, file);
    const url = new URL(page.replace(/\\/g, '/'), BASE);
    const html = readFileSync(file, 'utf8');
    for (const m of html.matchAll(/\s(href|src|action)="([^"]*)"/g)) {
      const href = decodeEntities(m[2]);
      if (/^(data|mailto|tel|javascript):/i.test(href)) continue;
      let target;
      try {
        target = new URL(href, url);
      } catch {
        broken.push({ page, href, reason: 'not a URL' });
        continue;
      }
      if (target.origin !== url.origin) {
        external.push({ page, href });
        continue;
      }
      if (!target.pathname.startsWith('/docs/')) {
        outside.push({ page, href });
        continue;
      }
      checked++;
      const dest = fileFor(dist, target.pathname);
      if (!dest) {
        broken.push({ page, href, reason: 'no such page' });
        continue;
      }
      const anchor = decodeURIComponent(target.hash.slice(1));
      if (anchor && dest.endsWith('.html') && !idsOf(dest).has(anchor))
        broken.push({ page, href, reason: `no id="${anchor}" on ${relative(dist, dest)}` });
    }
  }
  return { pages: pages.length, checked, broken, external, outside };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = process.argv[2] ?? new URL('./dist/', import.meta.url).pathname;
  if (!existsSync(join(dist, 'index.html'))) {
    console.error(`No built site in ${dist}: run npm run build -w docs-site first.`);
    process.exit(2);
  }
  const { pages, checked, broken, external, outside } = checkLinks(dist);
  const uniq = (list) => [...new Set(list.map((l) => l.href))].sort();
  console.log(`links: ${pages} pages, ${checked} internal links checked, ${broken.length} broken`);
  if (outside.length) console.log(`outside the docs (served by the server, not checked):\n  ${uniq(outside).join('\n  ')}`);
  if (external.length) console.log(`external (listed, not fetched):\n  ${uniq(external).join('\n  ')}`);
  for (const b of broken) console.error(`BROKEN ${b.page}: ${b.href} (${b.reason})`);
  process.exit(broken.length ? 1 : 0);
}
