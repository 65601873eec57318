// The examples as a developer runs them, against a real Parley in Chromium: the static page served by
// its own script, and the Next.js site's production build under `next start`, signing sessions with its
// own Sign-In Pro key for its tenant and receiving a webhook Parley sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, startTestApp, type TestApp } from '@parley/server/testing';
import type { WebhookWorker } from '@parley/server/testing';
import { ensureWidgetBuilt, launch } from './harness.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const PARLEY = fileURLToPath(new URL('../../server/bin/parley.js', import.meta.url));
const SHOTS = new URL('../screenshots/', import.meta.url).pathname;

let app: TestApp;
let browser: Browser;
let keys: { publishableKey: string; secretKey: string };
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Runs an example's command and waits until its port answers. */
async function run(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  port?: number,
  waitMs = 30_000,
): Promise<{ url: string; output: () => string; child: ChildProcess }> {
  port ??= await freePort();
  let out = '';
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (d: Buffer) => void (out += d));
  child.stderr!.on('data', (d: Buffer) => void (out += d));
  const url = `http://localhost:${port}`;
  const until = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited:\n${out}`);
    try {
      await fetch(`http://127.0.0.1:${port}`, { method: 'HEAD' });
      return { url, output: () => out, child };
    } catch {
      if (Date.now() > until) throw new Error(`${args.join(' ')} did not answer:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  ensureWidgetBuilt();
  [app, browser] = await Promise.all([startTestApp(), launch()]);
  // Loopback hosts without a port: any port of localhost may embed the widget (development only).
  keys = await app.tenant('Examples', ['localhost']);
  // The test app delivers webhooks only once its worker is started.
  await (app.app.locals.webhooks as WebhookWorker).start();
});
afterAll(async () => {
  await (app?.app.locals.webhooks as WebhookWorker | undefined)?.stop();
  for (const c of children) c.kill();
  await browser?.close();
  await app?.close();
});

async function newPage(): Promise<{ p: Page; problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await ctx.newPage();
  const problems: string[] = [];
  p.on('console', (m) => void (m.type() === 'error' && problems.push(`${m.text()} ${m.location().url}`)));
  p.on('pageerror', (e) => problems.push(String(e)));
  return { p, problems };
}
const shadow = (p: Page, selector: string) => p.locator(`[data-parley] >> css=${selector}`);

describe('the demo, as `npm start` runs it', () => {
  test('its host page loads with no failed request or console error, and the widget answers from the sample knowledge', {
    timeout: 150_000,
  }, async () => {
    if (!existsSync(fileURLToPath(new URL('../../server/dist/cli/main.js', import.meta.url))))
      throw new Error('build the server first: npm run build');
    const data = mkdtempSync(join(tmpdir(), 'parley-demo-'));
    let server: ChildProcess | undefined;
    try {
      // A first start migrates a new embedded database and seeds the demo, which takes a while on a busy machine.
      const demo = await run(EXAMPLES, [PARLEY, 'serve', '--seed-demo'], { PARLEY_DATA_DIR: data }, undefined, 90_000);
      server = demo.child;
      const { p, problems } = await newPage();
      await p.goto(`${demo.url}/demo/`);
      await shadow(p, 'button.l').click();
      await shadow(p, 'textarea').fill("where's my order?");
      await shadow(p, 'textarea').press('Enter');
      await expect.poll(() => shadow(p, '.log').innerText(), { timeout: 15_000 }).toContain('Delivery and shipping › Tracking your order');
      expect(problems).toEqual([]);
      await p.context().close();
    } finally {
      // Stopped before its data directory goes, so that it writes nothing there after.
      if (server && server.exitCode === null) await new Promise((r) => server!.once('exit', r).kill());
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('the examples in Chromium', () => {
  test('static page: the script tag loads the widget and the page opens it through the command API', async () => {
    const site = await run(`${EXAMPLES}static-page`, ['serve.mjs'], { PARLEY_URL: app.url, PARLEY_PUBLISHABLE_KEY: keys.publishableKey });
    const { p, problems } = await newPage();
    await p.goto(site.url);
    await p.click('#ask');
    await shadow(p, 'textarea').waitFor();
    await expect.poll(() => p.textContent('#log')).toBe('The assistant is open.');
    await p.screenshot({ path: `${SHOTS}example-static-page.png` });
    await p.click('#hide');
    await expect.poll(() => p.textContent('#log')).toBe('The assistant is closed.');
    expect(problems).toEqual([]);
    await p.context().close();
  });

  test('Next.js: the session it signs with its own key, for its tenant, makes the visitor verified, and a webhook from Parley is answered 204', async () => {
    const nextDir = `${EXAMPLES}nextjs-app`;
    if (!existsSync(`${nextDir}/.next/BUILD_ID`)) throw new Error('build the Next.js example first: npm run build -w @parley/example-nextjs');
    // Sign-In Pro as the guide prefers it: the site keeps the private key, Parley has the public one, and the
    // tokens name the tenant shown on the console's Sign-In Pro page (GET /v1/admin/identity).
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'site-2026' };
    const put = await call(app.url, 'PUT', '/v1/admin/identity', { key: keys.secretKey, body: { mode: 'optional', publicKeys: [jwk] } });
    expect(put.status, put.text).toBe(204);
    const { tenantId } = (await call(app.url, 'GET', '/v1/admin/identity', { key: keys.secretKey })).body as { tenantId: string };
    // The endpoint's URL must be known before the site starts (it needs the endpoint's secret), so pick the port first.
    const port = await freePort();
    const hook = await call(app.url, 'POST', '/v1/admin/webhooks/endpoints', {
      key: keys.secretKey,
      body: { url: `http://localhost:${port}/api/parley/webhooks`, events: ['handoff.requested'], description: 'Next.js example' },
    });
    expect(hook.status, hook.text).toBe(201);
    const nextBin = fileURLToPath(import.meta.resolve('next/dist/bin/next', `file://${nextDir}/`));
    const site = await run(
      nextDir,
      [nextBin, 'start', '--port', String(port)],
      {
        PARLEY_URL: app.url,
        PARLEY_PUBLISHABLE_KEY: keys.publishableKey,
        PARLEY_SESSION_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        PARLEY_SESSION_KID: 'site-2026',
        PARLEY_TENANT_ID: tenantId,
        PARLEY_WEBHOOK_SECRET: hook.body.secret,
      },
      port,
    );
    const { p, problems } = await newPage();
    await p.goto(site.url);
    await shadow(p, 'button.l').click();
    await shadow(p, 'textarea').waitFor();
    // The widget marks a visitor whose Sign-In Pro token Parley accepted.
    await shadow(p, '.v').waitFor();
    await p.screenshot({ path: `${SHOTS}example-nextjs.png` });
    expect(problems).toEqual([]);
    await p.context().close();

    const ep = hook.body.endpoint.id as string;
    expect((await call(app.url, 'POST', `/v1/admin/webhooks/endpoints/${ep}/test`, { key: keys.secretKey })).status).toBeLessThan(300);
    const deliveries = async () =>
      (await call(app.url, 'GET', `/v1/admin/webhooks/endpoints/${ep}/deliveries`, { key: keys.secretKey })).body.deliveries;
    await expect.poll(async () => (await deliveries())[0]?.responseCode, { timeout: 15_000 }).toBe(204);
    expect(site.output()).toContain('test event received');
  });
});
