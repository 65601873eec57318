// What the server serves besides the API: the widget's files, the docs and the demo page.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';

let t: TestApp;
beforeAll(async () => {
  // A fresh checkout has no builds yet; these are what `npm run build` produces.
  for (const [dir, output] of [['widget', 'dist/manifest.json'], ['docs-site', 'dist/index.html']]) {
    const cwd = fileURLToPath(new URL(`../../../${dir}/`, import.meta.url));
    if (!existsSync(cwd + output)) execFileSync(process.execPath, ['build.mjs'], { cwd });
  }
  t = await startTestApp();
});
afterAll(() => t.close());

describe('static surfaces', () => {
  test('widget files: cross-origin resources, short cache unhashed, immutable hashed', async () => {
    const loader = await fetch(`${t.url}/loader.js`);
    expect(loader.status).toBe(200);
    expect(loader.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(loader.headers.get('cache-control')).toBe('public, max-age=300');
    const manifest = await import('../../../widget/dist/manifest.json', { with: { type: 'json' } });
    const hashed = await fetch(`${t.url}/${manifest.default['widget.js']}`);
    expect(hashed.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${t.url}/widget.0123456789ab.js`)).status).toBe(404);
    expect((await fetch(`${t.url}/../package.json`)).status).toBe(404);
  });

  test('docs are served under a strict CSP, and every problem type resolves', async () => {
    const index = await fetch(`${t.url}/docs/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await index.text()).toContain('Quick start');
    const problem = await fetch(`${t.url}/v1/admin/domains`);
    const type = (await problem.json()).type as string;
    expect((await fetch(`${t.url}${type}`)).status).toBe(200);
    expect((await fetch(`${t.url}/docs/nope.html`)).status).toBe(404);
  });

  test('the demo page needs the demo tenant', async () => {
    expect((await fetch(`${t.url}/demo/`)).status).toBe(404);
  });
});
