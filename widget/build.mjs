// Builds loader.js (the script tag's target) and widget.js (Preact included), plus content-hashed
// copies and a manifest for long caching.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const out = new URL('./dist/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['src/loader.ts'], outfile: `${out}loader.js` });
await build({ ...common, entryPoints: ['src/main.tsx'], outfile: `${out}widget.js` });

const manifest = {};
for (const name of ['loader.js', 'widget.js']) {
  const body = readFileSync(out + name);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const hashed = name.replace('.js', `.${hash}.js`);
  writeFileSync(out + hashed, body);
  manifest[name] = hashed;
}
writeFileSync(`${out}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
