// The widget as a visitor meets it, in headless Chromium on localhost: bytes on the wire (gzip and
// brotli), time from navigation to the launcher, and to the first answer token and the full answer.
// Run: npx tsx --conditions=parley-source bench/widget.ts   (needs Debian's chromium)
import { readFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { page as hostHtml, world } from '../e2e/tests/harness.js';

const RUNS = Number(process.env.RUNS ?? 10);
const w = await world();
try {
  for (const name of ['loader.js', 'widget.js']) {
    const body = readFileSync(new URL(`../widget/dist/${name}`, import.meta.url));
    console.log(
      `${name.padEnd(10)} ${body.length} B raw, ${gzipSync(body, { level: 9 }).length} B gzip, ${brotliCompressSync(body).length} B brotli`,
    );
  }
  w.allowed.set(hostHtml(w.app.url, w.publishableKey));
  const launcher: number[] = [];
  const firstToken: number[] = [];
  const answer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await w.browser.newContext();
    const p = await ctx.newPage();
    const t0 = Date.now();
    await p.goto(w.allowed.origin);
    await p.locator('[data-parley] >> css=button.l').waitFor();
    launcher.push(Date.now() - t0);
    await p.locator('[data-parley] >> css=button.l').click();
    await p.locator('[data-parley] >> css=textarea').fill('How long do refunds take?');
    const t1 = Date.now();
    await p.locator('[data-parley] >> css=textarea').press('Enter');
    await p.locator('[data-parley] >> css=.m.visitor').waitFor();
    await p.waitForFunction(() => document.querySelector('[data-parley]')!.shadowRoot!.querySelectorAll('.m.assistant').length >= 2);
    firstToken.push(Date.now() - t1);
    await p.locator('[data-parley] >> css=a.cite').first().waitFor();
    answer.push(Date.now() - t1);
    await ctx.close();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nheadless Chromium, localhost, ${RUNS} fresh visits (median, min–max ms):`);
  for (const [label, xs] of [
    ['navigation → launcher visible', launcher],
    ['send → first answer text', firstToken],
    ['send → full cited answer', answer],
  ] as const) {
    console.log(`  ${label.padEnd(32)} ${String(med(xs)).padStart(5)}  (${Math.min(...xs)}–${Math.max(...xs)})`);
  }
} finally {
  await w.close();
}
