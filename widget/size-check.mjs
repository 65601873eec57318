// The widget's size budget, gzip (Preact included): loader.js <= 1.5 KB, widget.js <= 20 KB.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const BUDGET = { 'loader.js': 1536, 'widget.js': 20480 };
let over = false;
for (const [name, budget] of Object.entries(BUDGET)) {
  const body = readFileSync(new URL(`./dist/${name}`, import.meta.url));
  const gz = gzipSync(body, { level: 9 }).length;
  const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const ok = gz <= budget;
  over ||= !ok;
  console.log(
    `${name.padEnd(10)} ${String(body.length).padStart(7)} B raw  ${String(gz).padStart(6)} B gzip  ${String(br).padStart(6)} B brotli  budget ${budget} B gzip  ${ok ? 'ok' : 'OVER'}`,
  );
}
process.exit(over ? 1 : 0);
