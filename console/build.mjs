// Builds the console into dist/: index.html, one script and one stylesheet, each named by its content
// hash so they can be cached for good. No inline script or style, so the strict CSP the server sends holds.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const here = new URL('./', import.meta.url).pathname;
const out = `${here}dist/`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const { outputFiles } = await build({
  entryPoints: [`${here}src/main.tsx`],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  conditions: ['parley-source'],
  define: { 'process.env.NODE_ENV': '"production"' },
  write: false,
  logLevel: 'warning',
});

const hashed = (name, body) => {
  const file = name.replace(/\.(\w+)$/, `.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.$1`);
  writeFileSync(out + file, body);
  return file;
};
const js = hashed('console.js', outputFiles[0].contents);
const css = hashed('console.css', readFileSync(`${here}src/styles.css`));
writeFileSync(`${out}index.html`, readFileSync(`${here}index.html`, 'utf8').replace('{{JS}}', js).replace('{{CSS}}', css));
console.log(`console: ${js} (${outputFiles[0].contents.length} bytes), ${css}`);
