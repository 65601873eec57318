// A real Parley server (built widget, real database) and host pages on their own origins, driven by
// Debian's Chromium through playwright-core.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp, call, STRONG_PASSWORD } from '@parley/server/testing';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WIDGET = fileURLToPath(new URL('../../widget/', import.meta.url));
const CONSOLE = fileURLToPath(new URL('../../console/', import.meta.url));

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is needed for the browser tests: apt-get install chromium (or set CHROMIUM_PATH); looked at ${CHROMIUM}`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs a member in through the console's own form (password STRONG_PASSWORD), in a new page of `context`. */
export async function signInToConsole(context: BrowserContext, appUrl: string, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${appUrl}/console/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

const SHOTS = process.env.PARLEY_E2E_SHOTS;

/** With PARLEY_E2E_SHOTS set, screenshots of the page as it is: light, dark, right to left and 360 px wide. */
export async function shoot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.screenshot({ path: `${SHOTS}/${name}-light.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${SHOTS}/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  const dir = await page.evaluate(() => document.documentElement.dir);
  await page.evaluate(() => (document.documentElement.dir = 'rtl'));
  await page.screenshot({ path: `${SHOTS}/${name}-rtl.png`, fullPage: true });
  await page.evaluate((d) => (document.documentElement.dir = d), dir);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${SHOTS}/${name}-360.png`, fullPage: true });
  await page.setViewportSize(size);
}

/** The widget is served from its build; build it when a fresh checkout has none. */
export function ensureWidgetBuilt(): void {
  if (!existsSync(`${WIDGET}dist/widget.js`)) execFileSync(process.execPath, ['build.mjs'], { cwd: WIDGET, stdio: 'inherit' });
}

/** The console too. */
export function ensureConsoleBuilt(): void {
  if (!existsSync(`${CONSOLE}dist/index.html`)) execFileSync(process.execPath, ['build.mjs'], { cwd: CONSOLE, stdio: 'inherit' });
}

/**
 * A test app whose public URL is `http://localhost:<port>`: WebAuthn refuses an IP address as relying
 * party, so passkey tests need a host name. A byte-for-byte TCP relay on that port reaches the app (the
 * Host and Origin headers arrive as the browser sent them); `url` is the localhost one.
 */
export async function startLocalhostApp(): Promise<TestApp> {
  const sockets = new Set<Socket>();
  let target = 0;
  const relay = createTcpServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (client.destroy(), upstream.destroy()));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const url = `http://localhost:${(relay.address() as AddressInfo).port}`;
  const app = await startTestApp({ PARLEY_PUBLIC_URL: url });
  target = Number(new URL(app.url).port);
  return {
    ...app,
    url,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => relay.close(() => r()));
      await app.close();
    },
  };
}

export interface HostPage {
  origin: string;
  /** Sets the page served at `/` (and any other path). */
  set(html: string, csp?: string): void;
  close(): Promise<void>;
}

/** A host website on its own origin (`localhost` or `127.0.0.1` make two different origins). */
export async function hostPage(hostname: 'localhost' | '127.0.0.1'): Promise<HostPage> {
  let html = '<!doctype html><title>empty</title>';
  let csp: string | undefined;
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (csp) res.setHeader('content-security-policy', csp);
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://${hostname}:${(server.address() as AddressInfo).port}`,
    set(h, c) {
      html = h;
      csp = c;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export const KNOWLEDGE = `# Returns

## Refund timing
Refunds go back to the original payment method within 5 business days after we receive your parcel.

## Return window
You can return unworn items within 30 days of delivery.
`;

export interface World {
  app: TestApp;
  browser: Browser;
  allowed: HostPage;
  other: HostPage;
  publishableKey: string;
  secretKey: string;
  close(): Promise<void>;
}

export async function world(): Promise<World> {
  ensureWidgetBuilt();
  const [app, browser, allowed, other] = await Promise.all([startTestApp(), launch(), hostPage('localhost'), hostPage('127.0.0.1')]);
  const tenant = await app.tenant('Northwind', [new URL(allowed.origin).host]);
  await call(app.url, 'POST', '/v1/admin/knowledge/sources', {
    key: tenant.secretKey,
    body: { kind: 'markdown', content: KNOWLEDGE, url: 'https://help.northwind.example/returns', externalId: 'returns' },
  });
  return {
    app,
    browser,
    allowed,
    other,
    publishableKey: tenant.publishableKey,
    secretKey: tenant.secretKey,
    async close() {
      await browser.close();
      await Promise.all([allowed.close(), other.close()]);
      await app.close();
    },
  };
}

export function page(api: string, key: string, opts: { nonce?: string; head?: string; body?: string; attrs?: string } = {}): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title>${opts.head ?? ''}</head>
<body><h1>Host page</h1><p>Some content.</p>${opts.body ?? ''}
<script src="${api}/loader.js" data-key="${key}" ${opts.nonce ? `nonce="${opts.nonce}"` : ''} ${opts.attrs ?? ''} async></script></body></html>`;
}
