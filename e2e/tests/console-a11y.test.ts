// Every console view an owner can open, and the sign-in page, checked in Chromium for accessibility, failed
// requests and console errors: in the light and the dark colour scheme, at a phone's width (360 px), and in
// a browser whose language is Arabic. The views hold data (a handoff waiting, a knowledge source, a canned
// reply, a webhook endpoint, keys and a secret in their dated states) so their tables and panes are checked
// too.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp, signedInMember, STRONG_PASSWORD, call, Visitor } from '@parley/server/testing';
import { audit, type Violation } from './a11y.js';
import { ensureConsoleBuilt, KNOWLEDGE, launch, shoot, signInToConsole } from './harness.js';

let app: TestApp;
let browser: Browser;
let ownerEmail: string;
let acmeKeys: { publishableKey: string; secretKey: string };

/** An owner's navigation, in order (the operators' Tenants view is not a tenant's). */
const VIEWS = [
  ['inbox', 'Inbox'],
  ['conversations', 'Conversations'],
  ['approvals', 'Approvals'],
  ['canned', 'Canned replies'],
  ['knowledge', 'Knowledge'],
  ['reports', 'Reports'],
  ['domains', 'Domains'],
  ['keys', 'API keys'],
  ['actions', 'Actions'],
  ['webhooks', 'Webhooks'],
  ['identity', 'Sign-In Pro'],
  ['provider', 'AI provider'],
  ['settings', 'Settings'],
  ['hours', 'Business hours'],
  ['pii', 'PII test'],
  ['audit', 'Audit'],
  ['evidence', 'Evidence'],
  ['team', 'Team'],
  ['sign-in', 'Sign-in & SSO'],
  ['account', 'My account'],
] as const;

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser] = await Promise.all([startTestApp(), launch()]);
  const acme = await app.tenant('Acme', ['help.acme.example']);
  acmeKeys = acme;
  ownerEmail = (await signedInMember(app, acme.tenant.id, 'owner', 'olive@acme.example', 'Olive Owner')).email;
  const admin = (method: string, path: string, body: unknown) => call(app.url, method, `/v1/admin${path}`, { key: acme.secretKey, body });
  await admin('POST', '/knowledge/sources', {
    kind: 'markdown',
    content: KNOWLEDGE,
    url: 'https://help.acme.example/returns',
    externalId: 'returns',
  });
  await admin('POST', '/canned-replies', { title: 'Greeting', body: 'Hi {{visitor.name}}, this is {{agent.name}}.', shortcut: 'hi' });
  await admin('POST', '/webhooks/endpoints', { url: 'https://hooks.acme.example/parley', events: ['handoff.requested'] });
  // Keys and a secret in each state a date is written beside: expiring, ending after a rotation, revoked.
  const key = async (name: string, extra: object = {}) =>
    (await admin('POST', '/api-keys', { name, capabilities: ['knowledge:read'], ...extra })).body.apiKey.id as string;
  await key('Expiring', { expiresInSeconds: 3600 });
  expect((await admin('POST', `/api-keys/${await key('Rotated')}/rotate`, { graceSeconds: 3600 })).status).toBe(201);
  expect((await admin('DELETE', `/api-keys/${await key('Revoked')}`, undefined)).status).toBe(204);
  const secret = (await admin('POST', '/identity/secrets', {})).body.id as string;
  expect((await admin('DELETE', `/identity/secrets/${secret}`, undefined)).status).toBe(204);
  const v = new Visitor(app.url, acme.publishableKey, 'https://help.acme.example');
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, 'How long do refunds take?');
  await v.call('POST', `/conversations/${id}/handoff`, {});
  // A conversation the assistant answered on the API channel, listed beside it.
  expect(
    (await call(app.url, 'POST', '/v1/answers', { key: acme.secretKey, body: { question: 'How long do refunds take?', userRef: 'acct-77' } })).status,
  ).toBe(200);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Waits until the view has loaded what it asked for (no "Loading…" left), then audits it. */
async function check(page: Page, where: string, found: string[]): Promise<void> {
  await expect.poll(() => page.getByText(/^Loading/).count(), { timeout: 10_000 }).toBe(0);
  const violations: Violation[] = await audit(page);
  found.push(...violations.map((v) => `${where}: ${v.rule}: ${v.detail} — ${v.target}`));
  // The data planted here has no bidi control, so an escape such as ⟨U+200F⟩ on the page is the console's
  // own text (a date the browser formatted in its language) shown as if someone had slipped it in.
  const escaped = (await page.locator('body').innerText()).match(/\S*⟨U\+[0-9A-F]{4}⟩\S*/g);
  if (escaped) found.push(`${where}: own text shown escaped: ${[...new Set(escaped)].slice(0, 3).join(' ')}`);
}

const SETUPS = [
  { name: 'light', colorScheme: 'light', width: 1280 },
  { name: 'dark', colorScheme: 'dark', width: 1280 },
  { name: 'light, 360 px', colorScheme: 'light', width: 360 },
  { name: 'dark, 360 px', colorScheme: 'dark', width: 360 },
  { name: 'light, Arabic browser', colorScheme: 'light', width: 1280, locale: 'ar' },
] as const;

for (const setup of SETUPS) {
  test(`every console view an owner opens has no accessibility violation, no failed request and no console error (${setup.name})`, async () => {
    const context = await browser.newContext({
      colorScheme: setup.colorScheme,
      viewport: { width: setup.width, height: 900 },
      ...('locale' in setup ? { locale: setup.locale } : {}),
    });
    const found: string[] = [];
    // Nor a request that fails, nor an error in the browser's console, signed out or in any view.
    context.on('response', (r) => void (r.status() >= 400 && found.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)));
    context.on('console', (m) => void (m.type() === 'error' && found.push(`console error: ${m.text()}`)));
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/console/`);
      await page.getByLabel('Email').waitFor();
      await check(page, 'sign-in', found);
      await page.getByLabel('Email').fill(ownerEmail);
      await page.getByLabel('Password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Console' });
      await expect.poll(() => nav.getByRole('link').allInnerTexts()).toEqual(VIEWS.map(([, label]) => label));
      for (const [id, label] of VIEWS) {
        await page.goto(`${app.url}/console/#${id}`);
        await page.getByRole('heading', { level: 1, name: label, exact: true }).waitFor();
        await check(page, label, found);
        if (id === 'inbox') {
          // The conversation pane: open the waiting handoff.
          await page.locator('button.conversation-row').first().click();
          await page.getByLabel('Reply', { exact: true }).waitFor();
          await check(page, 'Conversation', found);
        }
        if (id === 'conversations') {
          // Found by the API userRef, and its transcript opened.
          await page.getByLabel('Search conversations').fill('acct-77');
          await page.getByRole('button', { name: 'Search', exact: true }).click();
          await expect.poll(() => page.locator('button.conversation-row').count()).toBe(1);
          await page.locator('button.conversation-row').click();
          await page.getByRole('log', { name: 'Messages' }).getByText('How long do refunds take?').waitFor();
          await check(page, 'Conversation transcript', found);
        }
      }
    } finally {
      await context.close();
    }
    expect(found).toEqual([]);
  });
}

test("at 360 px the Keys table's fixed column casts its shadow on its start side: on its left, and on its right right to left", async () => {
  for (const [dir, colorScheme] of [
    ['ltr', 'light'],
    ['rtl', 'light'],
    ['rtl', 'dark'],
  ] as const) {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, colorScheme });
    try {
      const page = await signInToConsole(context, app.url, ownerEmail);
      await page.goto(`${app.url}/console/#keys`);
      const cell = page.locator('.keys td.actions').first();
      await cell.waitFor();
      await page.evaluate((d) => void (document.documentElement.dir = d), dir);
      await cell.scrollIntoViewIfNeeded();
      const b = (await cell.boundingBox())!;
      // What the shadow paints: the pixels that change when it is made transparent (on the cell alone).
      const clip = { x: 0, y: Math.round(b.y), width: 360, height: Math.min(40, Math.round(b.height)) };
      const before = (await page.screenshot({ clip })).toString('base64');
      await cell.evaluate((el: HTMLElement) => el.style.setProperty('--shade', 'transparent'));
      const after = (await page.screenshot({ clip })).toString('base64');
      const changed = await page.evaluate(
        async ([a, z]) => {
          const pixels = async (png: string) => {
            const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' }));
            const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
            const g = canvas.getContext('2d')!;
            g.drawImage(bitmap, 0, 0);
            return { data: g.getImageData(0, 0, bitmap.width, bitmap.height).data, width: bitmap.width };
          };
          const [p, q] = [await pixels(a), await pixels(z)];
          const xs = new Set<number>();
          for (let i = 0; i < p.data.length; i += 4)
            if (Math.abs(p.data[i]! - q.data[i]!) + Math.abs(p.data[i + 1]! - q.data[i + 1]!) + Math.abs(p.data[i + 2]! - q.data[i + 2]!) > 6)
              xs.add((i / 4) % p.width);
          return xs.size ? [Math.min(...xs), Math.max(...xs)] : null;
        },
        [before, after] as const,
      );
      // A strip up to 8 px wide against the cell's start edge, nothing on the cell or beyond its end.
      expect(changed, `${dir}, ${colorScheme}`).not.toBeNull();
      const [from, to] = changed!;
      if (dir === 'ltr') {
        expect(to).toBeLessThan(b.x);
        expect(from).toBeGreaterThanOrEqual(Math.floor(b.x) - 8);
      } else {
        expect(from).toBeGreaterThanOrEqual(Math.floor(b.x + b.width));
        expect(to).toBeLessThanOrEqual(Math.ceil(b.x + b.width) + 8);
      }
    } finally {
      await context.close();
    }
  }
});

/** Set to a directory to keep screenshots (light, dark, right-to-left, 360 px) of the owner-only sections there. */

test('an owner schedules and cancels the workspace deletion, exports the workspace with restricted data, builds and saves an evidence pack and keeps one current, without violations', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const found: string[] = [];
  try {
    const page = await signInToConsole(context, app.url, ownerEmail);

    await page.goto(`${app.url}/console/#settings`);
    const zone = page.getByRole('region', { name: 'Delete workspace' });
    const schedule = zone.getByRole('button', { name: 'Schedule deletion' });
    await schedule.waitFor();
    expect(await schedule.isDisabled()).toBe(true);
    await zone.getByLabel(/^Type the workspace name/).fill('Acme');
    await zone.getByLabel(/^Grace period in days/).fill('10');
    await shoot(page, 'delete-workspace');
    await schedule.click();
    await zone.getByText(/^Deletion scheduled for/).waitFor();
    await check(page, 'Delete workspace (scheduled)', found);
    await shoot(page, 'delete-workspace-scheduled');
    await zone.getByRole('button', { name: 'Cancel deletion' }).click();
    await zone.getByRole('button', { name: 'Schedule deletion' }).waitFor();

    // Exporting the workspace with restricted data: the reason is asked for before anything is sent.
    const exporter = page.getByRole('region', { name: 'Export workspace' });
    await exporter.getByLabel('Include restricted data').check();
    const exportButton = exporter.getByRole('button', { name: 'Export and download' });
    await exportButton.click();
    await exporter.getByText(/^Give a reason of at least 10 characters/).waitFor();
    await check(page, 'Export workspace (no reason)', found);
    await exporter.getByLabel(/^Reason/).fill('Moving to our own archive, OPS-42');
    await shoot(page, 'export-workspace');
    const [exported] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
    expect(exported.suggestedFilename()).toMatch(/^tenant-export-[0-9a-f]{12}\.zip$/);
    expect(
      readFileSync((await exported.path())!)
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('PK\x03\x04');
    await exporter.getByText(/^Saved tenant-export-.*Restricted values are included\./).waitFor();
    await check(page, 'Export workspace (saved)', found);
    await shoot(page, 'export-workspace-saved');

    await page.goto(`${app.url}/console/#evidence`);
    await page.getByRole('heading', { level: 1, name: 'Evidence', exact: true }).waitFor();
    await page.getByLabel('Framework', { exact: true }).selectOption('soc2');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Build and download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^evidence-soc2-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.zip$/);
    // A zip: its local file header's signature.
    expect(
      readFileSync((await download.path())!)
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('PK\x03\x04');
    await page.getByText(/Saved evidence-soc2-/).waitFor();
    await check(page, 'Evidence', found);
    await shoot(page, 'evidence');
    await page.getByLabel(/^Period in days/).fill('30');
    await page.getByRole('button', { name: 'Keep current' }).click();
    await page.getByText(/^Kept current: SOC 2, the last 30 days/).waitFor();
    await check(page, 'Evidence (kept current)', found);
    await shoot(page, 'evidence-kept-current');
    await page.getByRole('button', { name: 'Stop keeping it current' }).click();
    await page.getByRole('button', { name: 'Keep current' }).waitFor();
  } finally {
    await context.close();
  }
  expect(found).toEqual([]);
});

// The audit itself: a page planted with known problems, in the light DOM and in an open shadow root, is
// reported rule by rule, and scoping it to one element keeps the page's own problems out.
const LIGHT = `<!doctype html><html><head><title> </title><style>
  .faint { color: #aaa; background: #fff }
  .scroll { height: 40px; overflow: auto } .scroll p { height: 200px; margin: 0 }
  .plain { color: #333; text-decoration: none }
</style></head><body>
  <header>Site</header><footer>One</footer><footer>Two</footer>
  <p class="faint">Barely there</p>
  <p id="twice">a</p><p id="twice">b</p>
  <div aria-describedby="nowhere">Described by nothing</div>
  <button></button>
  <a href="/x"><button>Inside a link</button></a>
  <ul role="tab"><li>One</li></ul><div><li>Stray item</li></div>
  <button aria-label="Close">Dismiss</button>
  <div class="scroll"><p>Tall</p></div>
  <div aria-hidden="true"><a href="/hidden">Hidden link</a></div>
  <nav aria-label="Same">A</nav><nav aria-label="Same">B</nav>
  <p>Read <a class="plain" href="/more">more here</a> in the text.</p>
  <input placeholder="Only a placeholder">
  <div id="host"></div>
</body></html>`;

async function planted(): Promise<Page> {
  const page = await browser.newPage();
  await page.setContent(LIGHT);
  await page.evaluate(() => {
    const root = document.getElementById('host')!.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>
      .mix { color: color-mix(in srgb, #fff 60%, #000); background: #fff }
      .ok { color: color-mix(in oklab, #fff 70%, #000); background: #fff }
    </style>
    <header>A second banner</header>
    <p class="mix">Mixed grey in sRGB</p>
    <p class="ok">Mixed grey in oklab</p>
    <span id="dup">x</span><span id="dup">y</span>
    <button class="bare"></button>
    <a href="/nameless"></a>
    <textarea></textarea>`;
  });
  return page;
}

test('every planted problem in the light DOM and the shadow root is reported', async () => {
  const page = await planted();
  const found = await audit(page);
  await page.close();
  const rules = (where: RegExp) => found.filter((f) => where.test(f.target)).map((f) => f.rule);
  for (const rule of [
    'html-has-lang',
    'document-title',
    'landmark-one-main',
    'landmark-no-duplicate-banner',
    'landmark-no-duplicate-contentinfo',
    'duplicate-id',
    'aria-valid-attr-value',
    'button-name',
    'nested-interactive',
    'aria-allowed-role',
    'listitem',
    'label-content-name-mismatch',
    'scrollable-region-focusable',
    'aria-hidden-focus',
    'landmark-unique',
    'link-in-text-block',
    'label',
  ])
    expect(
      found.map((f) => f.rule),
      rule,
    ).toContain(rule);
  expect(rules(/faint/)).toContain('color-contrast');
  // Inside the shadow root: colour-mix results in sRGB and in oklab, its own id scope, names and labels.
  expect(rules(/\.mix/)).toContain('color-contrast');
  expect(rules(/\.ok/)).toContain('color-contrast');
  expect(rules(/#dup/)).toContain('duplicate-id');
  expect(rules(/button\.bare/)).toContain('button-name');
  expect(rules(/^a$/)).toContain('link-name');
  expect(rules(/^textarea/)).toContain('label');
  expect(rules(/A second banner/)).toContain('landmark-no-duplicate-banner');
});

test('scoped to one element, only its problems count (the host page is not the audit’s)', async () => {
  const page = await planted();
  const found = await audit(page, { within: '#host' });
  await page.close();
  const rules = found.map((f) => f.rule);
  for (const rule of [
    'html-has-lang',
    'document-title',
    'landmark-one-main',
    'nested-interactive',
    'listitem',
    'landmark-unique',
    'link-in-text-block',
  ])
    expect(rules, rule).not.toContain(rule);
  expect(found.some((f) => /faint|Barely/.test(f.target))).toBe(false);
  // The host's banner and the shadow root's make two, and one of them is in scope.
  expect(rules).toContain('landmark-no-duplicate-banner');
  for (const rule of ['color-contrast', 'duplicate-id', 'button-name', 'link-name', 'label']) expect(rules, rule).toContain(rule);
});

test('the keyboard focus stays with the work after an action, never dropped to the page; a right-to-left preview reads right to left', async () => {
  // An Arabic visitor asks for a person; the row's preview begins with a hidden "Visitor: " for screen readers.
  const v = new Visitor(app.url, acmeKeys.publishableKey, 'https://help.acme.example');
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  const arabic = 'متى يصل طلبي؟';
  await v.say(id, arabic);
  await v.call('POST', `/conversations/${id}/handoff`, {});
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const focused = (page: Page) =>
    page.evaluate(() => {
      const a = document.activeElement;
      return a === document.body || !a
        ? 'the page'
        : `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''} ${(a.textContent ?? '').trim().slice(0, 60)}`.trim();
    });
  try {
    const page = await signInToConsole(context, app.url, ownerEmail);
    const row = page.locator('.queue button.conversation-row', { hasText: arabic });
    await row.waitFor();
    expect(await row.locator('.last').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await row.click();
    await page.getByLabel('Reply', { exact: true }).waitFor();

    // Take, from the keyboard: the button goes once it is yours; the focus goes to the reply box.
    await page.getByRole('button', { name: 'Take', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toBe('textarea#reply-text');
    // Send reply by mouse: the emptied box disables the button; the focus is back in the box.
    await page.getByLabel('Reply', { exact: true }).fill('It ships today.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText('Reply sent.').waitFor();
    await expect.poll(() => focused(page)).toBe('textarea#reply-text');
    // Resolve: the button gives way to Reopen; the focus goes to the conversation's heading, whenever the
    // stream says it is resolved, and the status line says so.
    await page.getByRole('button', { name: 'Resolve', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toMatch(/^h2#transcript-title /);
    await page.locator('.transcript').getByRole('button', { name: 'Reopen' }).waitFor();
    expect(await focused(page)).toMatch(/^h2#transcript-title /);
    expect(await page.locator('.transcript [role=status]').textContent()).toBe('Resolved. The visitor is asked to rate the conversation.');
    // Close: back to the list (the row, or the view's tab once it left the view), not the page.
    await page.locator('.transcript').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => focused(page)).toMatch(/^button(#tab-waiting Waiting| .*متى)/);

    // Knowledge: Add keeps the focus while it runs, then moves it to what was added.
    await page.goto(`${app.url}/console/#knowledge`);
    await page.getByLabel(/^Add Markdown/).fill('# Warranty\n\nZips are repaired free for two years.');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => focused(page)).toBe('p Added “Warranty”: 1 passage.');

    // Save settings keeps the focus on the button.
    await page.goto(`${app.url}/console/#settings`);
    const save = page.getByRole('button', { name: 'Save settings' });
    await save.click();
    await page.getByText(/Settings saved/).waitFor();
    expect(await focused(page)).toBe('button Save settings');

    // Send invitation: the emptied form disables the button; the focus goes to what was sent.
    await page.goto(`${app.url}/console/#team`);
    await page.getByLabel('Email', { exact: true }).fill('ada@acme.example');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect.poll(() => focused(page)).toMatch(/^p Invitation for ada@acme\.example created/);
  } finally {
    await context.close();
  }
});
