// Every console view an owner can open, and the sign-in page, checked for accessibility in Chromium: in
// the light and the dark colour scheme, and at a phone's width (360 px). The views hold data (a handoff
// waiting, a knowledge source, a canned reply, a webhook endpoint) so their tables and panes are checked too.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp, signedInMember, STRONG_PASSWORD, call, Visitor } from '@parley/server/testing';
import { audit, type Violation } from './a11y.js';
import { ensureConsoleBuilt, KNOWLEDGE, launch } from './harness.js';

let app: TestApp;
let browser: Browser;
let ownerEmail: string;

/** An owner's navigation, in order (the operators' Tenants view is not a tenant's). */
const VIEWS = [
  ['inbox', 'Inbox'],
  ['canned', 'Canned replies'],
  ['knowledge', 'Knowledge'],
  ['reports', 'Reports'],
  ['domains', 'Domains'],
  ['keys', 'API keys'],
  ['webhooks', 'Webhooks'],
  ['identity', 'Sign-In Pro'],
  ['provider', 'AI provider'],
  ['settings', 'Settings'],
  ['hours', 'Business hours'],
  ['pii', 'PII test'],
  ['audit', 'Audit'],
  ['team', 'Team'],
  ['sign-in', 'Sign-in & SSO'],
  ['account', 'My account'],
] as const;

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser] = await Promise.all([startTestApp(), launch()]);
  const acme = await app.tenant('Acme', ['help.acme.example']);
  ownerEmail = (await signedInMember(app, acme.tenant.id, 'owner', 'olive@acme.example', 'Olive Owner')).email;
  const admin = (method: string, path: string, body: unknown) => call(app.url, method, `/v1/admin${path}`, { key: acme.secretKey, body });
  await admin('POST', '/knowledge/sources', { kind: 'markdown', content: KNOWLEDGE, url: 'https://help.acme.example/returns', externalId: 'returns' });
  await admin('POST', '/canned-replies', { title: 'Greeting', body: 'Hi {{visitor.name}}, this is {{agent.name}}.', shortcut: 'hi' });
  await admin('POST', '/webhooks/endpoints', { url: 'https://hooks.acme.example/parley', events: ['handoff.requested'] });
  const v = new Visitor(app.url, acme.publishableKey, 'https://help.acme.example');
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, 'How long do refunds take?');
  await v.call('POST', `/conversations/${id}/handoff`, {});
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
}

const SETUPS = [
  { name: 'light', colorScheme: 'light', width: 1280 },
  { name: 'dark', colorScheme: 'dark', width: 1280 },
  { name: 'light, 360 px', colorScheme: 'light', width: 360 },
  { name: 'dark, 360 px', colorScheme: 'dark', width: 360 },
] as const;

for (const setup of SETUPS) {
  test(`every console view an owner opens has no accessibility violation (${setup.name})`, async () => {
    const context = await browser.newContext({ colorScheme: setup.colorScheme, viewport: { width: setup.width, height: 900 } });
    const found: string[] = [];
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
      }
    } finally {
      await context.close();
    }
    expect(found).toEqual([]);
  });
}
