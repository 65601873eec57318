// Serves this folder on http://localhost:3000 (PORT), with no dependencies. When PARLEY_URL or
// PARLEY_PUBLISHABLE_KEY is set, the script tag in index.html is pointed at them as it is served, so the
// page runs against your Parley without editing the file.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const PORT = Number(process.env.PORT ?? 3000);
const PARLEY_URL = process.env.PARLEY_URL;
const PUBLISHABLE_KEY = process.env.PARLEY_PUBLISHABLE_KEY;
// Only these files: nothing else in the folder (or above it) is reachable.
const FILES = { '/': 'index.html', '/index.html': 'index.html', '/page.js': 'page.js', '/page.css': 'page.css' };
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

const attr = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer(async (req, res) => {
  const name = FILES[new URL(req.url ?? '/', 'http://x').pathname];
  if (!name || (req.method !== 'GET' && req.method !== 'HEAD')) return void res.writeHead(404).end();
  let body = await readFile(new URL(name, import.meta.url), 'utf8');
  if (name === 'index.html') {
    if (PARLEY_URL) body = body.replace(/src="[^"]*\/loader\.js"/, `src="${attr(PARLEY_URL.replace(/\/$/, ''))}/loader.js"`);
    if (PUBLISHABLE_KEY) body = body.replace(/data-key="[^"]*"/, `data-key="${attr(PUBLISHABLE_KEY)}"`);
  }
  res.writeHead(200, { 'content-type': TYPES[name.split('.').pop()], 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
}).listen(PORT, () => console.log(`static page on http://localhost:${PORT}`));
