// Builds widget.js (Preact included) and loader.js (the script tag's target), plus content-hashed
// copies and a manifest for long caching. The loader, served with a short cache, names the hashed
// widget file, so a release reaches every page within minutes while the widget itself is immutable.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const out = new URL('./dist/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'safari14'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The browser SDK is read from its sources, like the tests do.
  conditions: ['parley-source'],
  define: { 'process.env.NODE_ENV': '"production"' },
  write: false,
  logLevel: 'warning',
};

const manifest = {};
async function emit(name, options) {
  const { outputFiles } = await build({ ...common, ...options, outfile: out + name });
  const body = outputFiles[0].contents;
  const hashed = name.replace('.js', `.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.js`);
  writeFileSync(out + name, body);
  writeFileSync(out + hashed, body);
  manifest[name] = hashed;
  return hashed;
}

const widget = await emit('widget.js', { entryPoints: ['src/main.tsx'] });
await emit('loader.js', { entryPoints: ['src/loader.ts'], define: { ...common.define, __WIDGET_FILE__: JSON.stringify(widget) } });
writeFileSync(`${out}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
