// The widget as visitors and host pages meet it, in Chromium.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '@parley/server/testing';
import { audit } from './a11y.js';
import { page as hostHtml, shoot, world, type World } from './harness.js';

let w: World;
let secret: { kid: string; key: Buffer };

beforeAll(async () => {
  w = await world();
  const s = (await call(w.app.url, 'POST', '/v1/admin/identity/secrets', { key: w.secretKey })).body;
  secret = { kid: s.kid, key: Buffer.from(s.secret.split('_').slice(2).join('_'), 'base64url') };
});
afterAll(() => w?.close());

const SHOTS = new URL('../screenshots/', import.meta.url).pathname;
const shadow = (p: Page, selector: string) => p.locator(`[data-parley] >> css=${selector}`);

async function open(p: Page) {
  await shadow(p, 'button.l').click();
  await shadow(p, 'textarea').waitFor();
}

async function ask(p: Page, text: string) {
  await shadow(p, 'textarea').fill(text);
  await shadow(p, 'textarea').press('Enter');
}

async function newPage(viewport = { width: 1280, height: 800 }) {
  const ctx = await w.browser.newContext({ viewport });
  const p = await ctx.newPage();
  const problems: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  p.on('pageerror', (e) => problems.push(String(e)));
  return { p, ctx, problems };
}

const token = async (sub: string, opts: { lifetime?: number; past?: number } = {}) => {
  const now = Math.floor(Date.now() / 1000) - (opts.past ?? 0);
  return new SignJWT({ name: 'Ada Lovelace' })
    .setProtectedHeader({ alg: 'HS256', kid: secret.kid })
    .setSubject(sub)
    .setAudience('parley:identity')
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.lifetime ?? 300))
    .setJti(crypto.randomUUID())
    .sign(secret.key);
};

describe('the widget in Chromium', () => {
  test('a page on an allowed origin loads it by script tag, chats, and sees a cited answer', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx, problems } = await newPage();
    const calls: string[] = [];
    p.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/v1/widget/') && r.method() !== 'OPTIONS') calls.push(`${r.method()} ${u.pathname}`);
    });
    const configured = p.waitForResponse((r) => r.url().includes('/v1/widget/config'));
    await p.goto(w.allowed.origin);
    expect((await configured).status()).toBe(200);
    // A page view reads settings and starts nothing; opening the panel with no conversation neither.
    await open(p);
    expect(calls).toEqual(['GET /v1/widget/config']);
    await ask(p, 'How long do refunds take?');
    const answer = shadow(p, '.m.assistant').filter({ hasText: '5 business days' });
    await answer.waitFor();
    expect(calls.slice(0, 3)).toEqual(['GET /v1/widget/config', 'POST /v1/widget/session', 'POST /v1/widget/conversations']);
    const cite = answer.locator('a.cite').first();
    expect(await cite.getAttribute('href')).toBe('https://help.northwind.example/returns#refund-timing');
    expect(await cite.getAttribute('rel')).toBe('noopener noreferrer');
    await p.screenshot({ path: `${SHOTS}desktop-answer.png` });
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('the same page on another origin gets no widget and no tenant data', async () => {
    // The page's own snippet listens for errors before the loader runs, as the widget guide shows.
    const listen = `<script>window.Parley=window.Parley||function(){(Parley.q=Parley.q||[]).push(arguments)};window.heard=[];Parley('on','error',function(e){heard.push(e&&e.status)});</script>`;
    w.other.set(hostHtml(w.app.url, w.publishableKey, { head: listen }));
    const { p, ctx } = await newPage();
    const warnings: string[] = [];
    p.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())));
    const bodies: string[] = [];
    p.on('response', async (r) => {
      if (r.url().includes('/v1/widget/')) bodies.push(await r.text().catch(() => ''));
    });
    await p.goto(w.other.origin);
    // The launcher drawn by the loader goes away as soon as the widget finds the page not allowed.
    await p.waitForFunction(() => !document.querySelector('[data-parley]')?.shadowRoot?.querySelector('button.l'), undefined, { timeout: 15_000 });
    expect(bodies.join('\n')).not.toContain('Northwind');
    expect(bodies.join('\n')).not.toMatch(/"token"/);
    // The browser hides the refusal from the script; the console still says what to allow.
    expect(warnings.filter((t) => t.includes(`add ${w.other.origin} to the allowed domains of the key ${w.publishableKey}`))).toHaveLength(1);
    // And the page hears it: a network error, as the browser hides the refusal's status.
    expect(await p.evaluate(() => (window as unknown as { heard: unknown[] }).heard)).toEqual([0]);
    await ctx.close();
  });

  test("an injected <img name=currentScript> cannot make the loader fetch another origin's script", async () => {
    // A comment box that lets through markup but no script: the element clobbers document.currentScript.
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/javascript');
      res.end('window.pwned = true;');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    const served: string[] = [];
    evil.on('request', (req) => served.push(req.url ?? ''));
    w.allowed.set(
      hostHtml(w.app.url, w.publishableKey, { body: `<p>Nice shop! <img name="currentScript" src="${origin}/cat.png" data-api="${origin}"></p>` }),
    );
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await p.waitForTimeout(2500);
    expect(await p.evaluate(() => (window as { pwned?: boolean }).pwned ?? false)).toBe(false);
    expect(served.filter((u) => u.endsWith('.js'))).toEqual([]);
    await ctx.close();
    await new Promise((r) => evil.close(r));
  });

  test('a right-to-left override in a message is not rendered: no display spoofing', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx, problems } = await newPage();
    const encodings: string[] = [];
    p.on('response', (r) => void (/\/(loader|widget)[.\w]*\.js$/.test(r.url()) && encodings.push(r.headers()['content-encoding'] ?? 'identity')));
    await p.goto(w.allowed.origin);
    await open(p);
    await ask(p, 'Is my refund for invoice\u202Efdp.exe late?');
    const mine = shadow(p, '.m.visitor').last();
    await mine.waitFor();
    await shadow(p, '.m.assistant').nth(1).waitFor();
    expect(await mine.innerText()).toContain('invoicefdp.exe');
    expect(await shadow(p, '.p').evaluate((el) => /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/.test(el.innerHTML))).toBe(false);
    await p.screenshot({ path: `${SHOTS}bidi-override.png` });
    // Chromium accepts brotli, and the widget's files come so.
    expect(encodings.length).toBeGreaterThanOrEqual(2);
    expect(new Set(encodings)).toEqual(new Set(['br']));
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('a strict CSP page works with no violation', async () => {
    const nonce = 'r4nd0mN0nce';
    const csp = `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; connect-src ${w.app.url}; img-src 'self'; base-uri 'none'`;
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { nonce }), csp);
    const { p, ctx, problems } = await newPage();
    await p.goto(w.allowed.origin);
    await open(p);
    await ask(p, 'What is the return window?');
    await shadow(p, '.m.assistant').filter({ hasText: '30 days' }).waitFor();
    expect(problems.filter((m) => /Content Security Policy|Refused/.test(m))).toEqual([]);
    expect(await p.evaluate(() => document.querySelectorAll('[style]').length)).toBe(0);
    await ctx.close();
  });

  test('hostile host CSS cannot break it', async () => {
    const head = '<style>* { all: unset !important; } div, p, h1 { display: block; z-index: 2147483647 !important; position: relative; }</style>';
    const body = '<div style="position:fixed;inset:0;z-index:2147483646;background:transparent">overlay</div>';
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { head, body }));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    const launcher = shadow(p, 'button.l');
    const box = await launcher.boundingBox();
    expect(box!.width).toBeGreaterThan(60);
    await open(p);
    const panel = await shadow(p, '.p').boundingBox();
    expect(panel!.width).toBeGreaterThan(300);
    expect(await shadow(p, 'textarea').evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe('solid');
    await p.screenshot({ path: `${SHOTS}hostile-css.png` });
    await ctx.close();
  });

  test('identify: a valid token shows the visitor as verified; tampered, expired or replayed ones are refused', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await p.waitForFunction(() => (window as unknown as { Parley?: { ready?: boolean } }).Parley?.ready === true);
    const good = await token('user-1');
    const results = await p.evaluate(
      async ([good, tampered, expired]) => {
        const P = (window as unknown as { Parley: (...a: unknown[]) => void }).Parley;
        const events: string[] = [];
        P('on', 'identify', () => events.push('verified'));
        P('on', 'error', (e: { type?: string }) => events.push(String(e?.type ?? e)));
        const wait = async () => {
          const n = events.length;
          for (let i = 0; i < 100 && events.length === n; i++) await new Promise((r) => setTimeout(r, 50));
        };
        P('identify', { token: tampered });
        await wait();
        P('identify', { token: expired });
        await wait();
        P('identify', { token: good });
        await wait();
        P('identify', { token: good });
        await wait();
        return events;
      },
      [good, good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA'), await token('user-1', { past: 900 })] as const,
    );
    expect(results).toEqual(['/docs/problems/token-invalid', '/docs/problems/token-expired', 'verified', '/docs/problems/token-replayed']);
    await open(p);
    await shadow(p, '.v').waitFor();
    await ctx.close();
  });

  test('keyboard only: Tab to the launcher, Enter opens, type and send, Escape closes and focus returns', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await shadow(p, 'button.l').waitFor();
    for (let i = 0; i < 5; i++) {
      await p.keyboard.press('Tab');
      if (await shadow(p, 'button.l').evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el)) break;
    }
    await p.keyboard.press('Enter');
    await shadow(p, 'textarea').waitFor();
    await p.waitForFunction(() => (document.querySelector('[data-parley]')!.shadowRoot!.activeElement as HTMLElement)?.tagName === 'TEXTAREA');
    await p.keyboard.type('Can I talk to a human?');
    await p.keyboard.press('Enter');
    // The assistant's handoff notice says a person will reply.
    await shadow(p, '.m.assistant').filter({ hasText: 'member of our team' }).waitFor();
    expect(await shadow(p, '[role=dialog]').getAttribute('aria-modal')).toBe('true');
    expect(await shadow(p, '[role=log]').getAttribute('aria-live')).toBe('polite');
    await p.keyboard.press('Escape');
    await shadow(p, '[role=dialog]').waitFor({ state: 'detached' });
    expect(await shadow(p, 'button.l').evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el)).toBe(true);
    await ctx.close();
  });

  test("typed text takes its own direction, an empty box the panel's: Arabic in an English panel, Latin in an Arabic one", async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await open(p);
    const box = shadow(p, 'textarea');
    const direction = () => box.evaluate((el) => getComputedStyle(el).direction);
    // Arabic in an English panel runs right to left; emptied, the box is left to right again.
    expect(await direction()).toBe('ltr');
    await box.fill('مرحبا، أين طلبي؟');
    expect(await direction()).toBe('rtl');
    await box.fill('');
    expect(await direction()).toBe('ltr');
    await ctx.close();

    // In an Arabic panel, the empty box (and its placeholder) reads right to left (an empty dir="auto" box would
    // be left to right in Chromium); Latin typed in it, left to right.
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { attrs: 'data-locale="ar"' }));
    const ar = await newPage();
    await ar.p.goto(w.allowed.origin);
    await open(ar.p);
    const arBox = shadow(ar.p, 'textarea');
    expect(await arBox.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await arBox.fill('Where is my order?');
    expect(await arBox.evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    await ar.ctx.close();
  });

  test('a reply to the closed panel is said, politely, while the focus is on the page', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { body: '<a href="#elsewhere">Elsewhere</a>' }));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await open(p);
    await ask(p, 'Can I talk to a human?');
    await shadow(p, '.m.assistant').filter({ hasText: 'member of our team' }).waitFor();
    await shadow(p, 'textarea').press('Escape');
    await shadow(p, '[role=dialog]').waitFor({ state: 'detached' });
    await p.getByRole('link', { name: 'Elsewhere' }).focus();
    // A polite status, empty until something comes, so that its change is heard.
    const said = shadow(p, '[role=status]');
    expect(await said.textContent()).toBe('');
    const stored = await p.evaluate(() => Object.values({ ...localStorage }).join(' '));
    const id = /"conversationId":"([0-9a-f-]+)"/.exec(stored)![1]!;
    const sent = await call(w.app.url, 'POST', `/v1/admin/conversations/${id}/messages`, {
      key: w.secretKey,
      body: { text: 'Sam here.', agent: 'Sam' },
    });
    expect(sent.status).toBe(201);
    await expect.poll(() => said.textContent()).toBe('Chat with us (new messages: 1)');
    // Heard, not seen; the focus stayed on the page.
    expect(await said.evaluate((el) => getComputedStyle(el).clipPath)).toBe('inset(50%)');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Elsewhere');
    expect(await p.locator('[data-parley]').ariaSnapshot()).toContain('status: "Chat with us (new messages: 1)"');
    await ctx.close();
  });

  test('on a 360 px phone it is a full-screen panel; the conversation survives a reload and a replaced body', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx } = await newPage({ width: 360, height: 740 });
    await p.goto(w.allowed.origin);
    await open(p);
    await ask(p, 'How long do refunds take?');
    await shadow(p, '.m.assistant').filter({ hasText: '5 business days' }).waitFor();
    const panel = await shadow(p, '.p').boundingBox();
    expect(panel).toMatchObject({ x: 0, y: 0, width: 360 });
    await p.screenshot({ path: `${SHOTS}phone-360.png` });
    await p.reload();
    await open(p);
    await shadow(p, '.m.visitor').filter({ hasText: 'How long do refunds take?' }).waitFor();
    await p.evaluate(() => {
      document.body = document.createElement('body');
      document.body.innerHTML = '<h1>New route</h1>';
    });
    await shadow(p, 'button.l').waitFor();
    expect(await p.locator('[data-parley]').count()).toBe(1);
    await ctx.close();
  });
});

describe('parts loaded when a conversation needs them', () => {
  const parts = (p: Page) => {
    const seen: string[] = [];
    p.on('request', (r) => void (/\/part-\w+\.[0-9a-f]{12}\.js$/.test(r.url()) && seen.push(r.url().replace(/^.*\/part-(\w+)\..*$/, '$1'))));
    return seen;
  };

  test('a page view and an ordinary chat fetch no part: the launcher, the panel and an answer need none', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx, problems } = await newPage();
    const seen = parts(p);
    const scripts: string[] = [];
    p.on('request', (r) => void (r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname)));
    await p.goto(w.allowed.origin);
    await p.waitForFunction(() => (window as unknown as { Parley?: { ready?: boolean } }).Parley?.ready === true);
    await open(p);
    await ask(p, 'What is the return window?');
    await shadow(p, '.m.assistant').filter({ hasText: '30 days' }).waitFor();
    expect(scripts.map((s) => s.replace(/\.[0-9a-f]{12}\./, '.#.'))).toEqual(['/loader.js', '/widget.#.js']);
    expect(seen).toEqual([]);
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('outside business hours the away card, then resolved the rating: each part fetched once, when needed, under a strict CSP; nothing left on window', async () => {
    const admin = (method: string, path: string, body?: unknown) => call(w.app.url, method, `/v1/admin${path}`, { key: w.secretKey, body });
    // No opening hours at all: always away.
    expect((await admin('PATCH', '/settings', { businessHours: { timeZone: 'Europe/Berlin', schedule: {} } })).status).toBe(200);
    const nonce = 'p4rtsN0nce';
    const csp = `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; connect-src ${w.app.url}; img-src 'self'; base-uri 'none'`;
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { nonce }), csp);
    const { p, ctx, problems } = await newPage();
    try {
      const seen = parts(p);
      await p.goto(w.allowed.origin);
      const globals = () => p.evaluate(() => [...Object.getOwnPropertyNames(window), ...Object.getOwnPropertySymbols(window).map(String)]);
      await p.waitForFunction(() => (window as unknown as { Parley?: { ready?: boolean } }).Parley?.ready === true);
      const before = await globals();
      await open(p);
      await ask(p, 'What is the return window?');
      await shadow(p, '.m.assistant').filter({ hasText: '30 days' }).waitFor();
      expect(seen).toEqual([]);

      await shadow(p, '.hd button').filter({ hasText: 'Talk to a person' }).click();
      await shadow(p, '.card').filter({ hasText: "We're away right now." }).waitFor();
      expect(seen).toEqual(['away']);
      expect(await shadow(p, '.card input[type=email]').getAttribute('autocomplete')).toBe('email');
      // The card is styled by the part's stylesheet, adopted by the shadow root.
      expect(await shadow(p, '.card').evaluate((el) => getComputedStyle(el).borderRadius)).toBe('12px');
      await shoot(p, 'part-away');
      await shadow(p, '.card input[type=email]').fill('ada@example.com');
      await shadow(p, '.card button[type=submit]').click();
      await shadow(p, '.card [role=status]').filter({ hasText: "Thanks! We'll reply to ada@example.com." }).waitFor();

      const handoffs = (await admin('GET', '/handoffs?status=pending')).body.handoffs as { id: string; conversationId: string }[];
      const conversation = await p.evaluate(() => Object.values(localStorage).find((v) => v.includes('conversationId')));
      const handoff = handoffs.find((h) => conversation?.includes(h.conversationId))!;
      expect((await admin('PATCH', `/handoffs/${handoff.id}`, { status: 'resolved' })).status).toBe(204);
      await shadow(p, '.card').filter({ hasText: 'This conversation has been resolved.' }).waitFor();
      expect(seen).toEqual(['away', 'rating']);
      expect(await shadow(p, '.stars button').count()).toBe(5);
      expect(await shadow(p, '.stars button').first().getAttribute('aria-label')).toBe('1 out of 5');
      await shadow(p, '.stars button').nth(3).click();
      expect(await shadow(p, '.stars button').nth(3).getAttribute('aria-pressed')).toBe('true');
      await shoot(p, 'part-rating');
      await shadow(p, '.card button[type=submit]').click();
      await shadow(p, '.card [role=status]').filter({ hasText: 'Thank you for your feedback!' }).waitFor();

      // The parts came by script and handed themselves over without a trace: no new global, no script left.
      expect((await globals()).filter((k) => !before.includes(k))).toEqual([]);
      expect(await p.evaluate(() => document.querySelectorAll('script[src*="/part-"]').length)).toBe(0);
      expect(seen).toEqual(['away', 'rating']);
      expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await admin('PATCH', '/settings', { businessHours: null });
      await ctx.close();
    }
  });
});

describe('a part that could not be fetched', () => {
  test('is not asked for again at once, and comes on a later render: the away card after a failed fetch', async () => {
    const admin = (method: string, path: string, body?: unknown) => call(w.app.url, method, `/v1/admin${path}`, { key: w.secretKey, body });
    expect((await admin('PATCH', '/settings', { businessHours: { timeZone: 'Europe/Berlin', schedule: {} } })).status).toBe(200);
    w.allowed.set(hostHtml(w.app.url, w.publishableKey));
    const { p, ctx } = await newPage();
    try {
      // The first fetch of the away part fails as if the network dropped it.
      let tries = 0;
      await p.route(/\/part-away\.[0-9a-f]{12}\.js$/, (route) => (++tries === 1 ? route.abort() : route.continue()));
      await p.goto(w.allowed.origin);
      await open(p);
      await shadow(p, '.hd button').filter({ hasText: 'Talk to a person' }).click();
      await expect.poll(() => tries).toBe(1);
      // Renders right after the failure (each keystroke is one) do not fetch it again.
      await shadow(p, 'textarea').pressSequentially('abc', { delay: 50 });
      expect(tries).toBe(1);
      expect(await shadow(p, '.card').count()).toBe(0);
      // Later, the next render tries again, and the card comes.
      await p.waitForTimeout(5200);
      await shadow(p, 'textarea').press('d');
      await shadow(p, '.card').filter({ hasText: "We're away right now." }).waitFor();
      expect(tries).toBe(2);
    } finally {
      await admin('PATCH', '/settings', { businessHours: null });
      await ctx.close();
    }
  });
});

describe('accessibility of the open widget', () => {
  // A host page with its own banner landmark, so a second one from the widget would show.
  const HOST_BODY = '<header><nav><a href="/">Host site</a></nav></header>';

  /** The widget open with everything the default theme draws: a verified badge, the visitor's message,
   * a cited answer, the handoff notice and note, the disabled "talk to a person" button. */
  async function busyWidget(theme: 'light' | 'dark', locale: string) {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { body: HOST_BODY, attrs: `data-theme="${theme}" data-locale="${locale}"` }));
    const { p, ctx, problems } = await newPage();
    await p.goto(w.allowed.origin);
    await p.waitForFunction(() => (window as unknown as { Parley?: { ready?: boolean } }).Parley?.ready === true);
    const verified = await token(`a11y-${theme}-${locale}`);
    await p.evaluate(
      (t) =>
        new Promise<void>((resolve) => {
          const P = (window as unknown as { Parley: (...a: unknown[]) => void }).Parley;
          P('on', 'identify', () => resolve());
          P('identify', { token: t });
        }),
      verified,
    );
    await open(p);
    await shadow(p, '.v').waitFor();
    await ask(p, 'How long do refunds take?');
    await shadow(p, '.m.assistant').filter({ hasText: '5 business days' }).locator('a.cite').first().waitFor();
    await ask(p, 'Can I talk to a human?');
    await shadow(p, '[role=dialog] > :first-child button[disabled]').waitFor();
    await p.mouse.move(0, 0);
    return { p, ctx, problems };
  }

  test.each([
    ['light', 'en'],
    ['dark', 'en'],
    ['light', 'ar'],
    ['dark', 'ar'],
  ] as const)('%s theme, %s: zero findings', async (theme, locale) => {
    const { p, ctx, problems } = await busyWidget(theme, locale);
    await p.screenshot({ path: `${SHOTS}a11y-${theme}-${locale}.png` });
    expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
    // Each source shows the number its marker in the answer shows.
    const answer = shadow(p, '.m.assistant').filter({ hasText: '5 business days' });
    expect(await answer.locator('a.cite').first().innerText()).toBe('[1]');
    expect(await answer.locator('.src li').first().innerText()).toMatch(/^\[1\] /);
    if (locale === 'ar') {
      expect(await shadow(p, '.p').getAttribute('dir')).toBe('rtl');
      // The handoff notice is in Arabic, not the server's English.
      expect(await shadow(p, '.m.assistant').last().innerText()).toContain('أحلت سؤالك إلى أحد أعضاء فريقنا');
    }
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('at 360 px a long launcher text stays one line inside the screen, whole for assistive technology', async () => {
    const text = 'Questions about your order? Chat with our support team now';
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { attrs: `data-text="${text}"` }));
    const { p, ctx } = await newPage({ width: 360, height: 740 });
    await p.goto(w.allowed.origin);
    const launcher = shadow(p, 'button.l');
    // Drawn by the loader, then restyled by the widget: both keep it in.
    for (const stage of ['loader', 'widget']) {
      if (stage === 'widget') await p.locator('[data-parley][data-side]').waitFor({ state: 'attached' });
      const box = (await launcher.boundingBox())!;
      expect(box.x, stage).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, stage).toBeLessThanOrEqual(360);
      // One line: 15 px text and 28 px of padding.
      expect(box.height, stage).toBeLessThan(50);
    }
    expect(await launcher.getAttribute('aria-label').then((l) => l ?? launcher.textContent())).toBe(text);
    await ctx.close();
  });

  test('at 360 px, a long conversation with no link in it: zero findings (the log itself takes focus to scroll)', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { body: HOST_BODY }));
    const { p, ctx } = await newPage({ width: 360, height: 640 });
    await p.goto(w.allowed.origin);
    await open(p);
    await ask(p, 'Can I talk to a human?');
    await shadow(p, '[role=dialog] > :first-child button[disabled]').waitFor();
    for (let i = 1; i <= 6; i++) {
      await ask(p, `Still there? (${i})`);
      await shadow(p, '.m.visitor')
        .filter({ hasText: `(${i})` })
        .waitFor();
    }
    expect(await shadow(p, '.log').evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    await p.screenshot({ path: `${SHOTS}a11y-phone-360.png` });
    expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
    await ctx.close();
  });

  // A question the demo knowledge half-answers: the widget offers headings as buttons, and a click answers
  // with that passage, cited.
  test.each([
    ['light', 'en', 1280],
    ['dark', 'en', 1280],
    ['light', 'ar', 1280],
    ['dark', 'en', 360],
  ] as const)(
    '"Did you mean": %s theme, %s, %i px: offered headings are buttons with zero findings; a click answers',
    async (theme, locale, width) => {
      w.allowed.set(hostHtml(w.app.url, w.publishableKey, { body: HOST_BODY, attrs: `data-theme="${theme}" data-locale="${locale}"` }));
      const { p, ctx, problems } = await newPage({ width, height: width === 360 ? 640 : 800 });
      await p.goto(w.allowed.origin);
      await open(p);
      await ask(p, 'reimbursement details');
      const offer = shadow(p, '.m.assistant .src button').filter({ hasText: 'Refund timing' });
      await offer.waitFor();
      // The question is asked in the visitor's language; the headings are the tenant's.
      const asked = shadow(p, '.m.assistant')
        .filter({ has: p.locator('.src button') })
        .last()
        .locator('.md');
      expect(await asked.innerText()).toBe(locale === 'ar' ? 'هل تقصد:' : 'Did you mean:');
      await p.mouse.move(0, 0);
      await p.screenshot({ path: `${SHOTS}did-you-mean-${theme}-${locale}-${width}.png` });
      expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
      await offer.click();
      const answer = shadow(p, '.m.assistant')
        .filter({ has: p.locator('a.cite') })
        .last();
      await answer.waitFor();
      expect(await answer.locator('.src li').first().innerText()).toContain('Refund timing');
      await p.screenshot({ path: `${SHOTS}did-you-mean-picked-${theme}-${locale}-${width}.png` });
      expect(problems).toEqual([]);
      await ctx.close();
    },
  );

  test('the audit sees inside the shadow root: low contrast and a second banner there are reported', async () => {
    w.allowed.set(hostHtml(w.app.url, w.publishableKey, { body: HOST_BODY }));
    const { p, ctx } = await newPage();
    await p.goto(w.allowed.origin);
    await open(p);
    await p.evaluate(() => {
      const panel = document.querySelector('[data-parley]')!.shadowRoot!.querySelector('.p')!;
      const bad = document.createElement('header');
      bad.innerHTML = '<span class="faint">Barely there</span>';
      panel.prepend(bad);
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('.faint{color:#aaa;background:#fff}');
      const root = panel.getRootNode() as ShadowRoot;
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    });
    const rules = (await audit(p, { within: '[data-parley]' })).map((f) => f.rule);
    expect(rules).toContain('color-contrast');
    expect(rules).toContain('landmark-no-duplicate-banner');
    await ctx.close();
  });
});
