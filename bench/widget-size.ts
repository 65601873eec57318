// Bytes the widget costs a page, as served compressed: loader.js (on every page), widget.js (Preact
// included, loaded on first interaction or when idle) and the parts loaded when a conversation first
// needs them (part-*.js, by their hashed names). Build first: npm run build -w widget.
// Run: npx tsx bench/widget-size.ts
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// The budget CI checks (widget/size-check.mjs).
const BUDGET_GZIP: Record<string, number> = JSON.parse(readFileSync(new URL('../widget/size-budget.json', import.meta.url), 'utf8'));

const dist = (name: string) => new URL(`../widget/dist/${name}`, import.meta.url);
const MANIFEST: Record<string, string> = JSON.parse(readFileSync(dist('manifest.json'), 'utf8'));

console.log('file              raw B   gzip B  brotli B  gzip budget');
for (const [name, budget] of Object.entries(BUDGET_GZIP)) {
  const body = readFileSync(dist(MANIFEST[name] ?? name));
  const gz = gzipSync(body, { level: 9 }).length;
  const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const pct = ((gz / budget) * 100).toFixed(0);
  console.log(`${name.padEnd(16)} ${String(body.length).padStart(6)} ${String(gz).padStart(8)} ${String(br).padStart(9)}  ${budget} (${pct}% used)`);
}
