import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, signedInMember, startTestApp, type TestApp } from '@parley/server/testing';
import { audit } from './a11y.js';
import { ensureConsoleBuilt, launch, shoot, signInToConsole } from './harness.js';

const KEY_OPERATION = 'Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin';

let app: TestApp;
let browser: Browser;

/** Accessibility problems of the page as it is, named by where they were found. */
const a11y = async (page: Page, where: string) => (await audit(page)).map((v) => `${where}: ${v.rule}: ${v.detail} — ${v.target}`);

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser] = await Promise.all([startTestApp(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

test('a privileged key waits for another admin: approved, it is finished and its secret shown once; rejected, nothing is made', async () => {
  const acme = await app.tenant('Acme', ['help.acme.example']);
  const admin = (method: string, path: string, body?: unknown) => call(app.url, method, `/v1/admin${path}`, { key: acme.secretKey, body });
  const keyNames = async () => ((await admin('GET', '/api-keys')).body.apiKeys as { name: string }[]).map((k) => k.name);
  const owner = await signedInMember(app, acme.tenant.id, 'owner', 'olive@acme.example', 'Olive Owner');
  const adam = await signedInMember(app, acme.tenant.id, 'admin', 'adam@acme.example', 'Adam Admin');
  const ownerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const found: string[] = [];
  try {
    const [ownerPage, adminPage] = await Promise.all([
      signInToConsole(ownerContext, app.url, owner.email),
      signInToConsole(adminContext, app.url, adam.email),
    ]);

    // The owner marks key creation, and the list itself, in Settings.
    await ownerPage.goto(`${app.url}/console/#settings`);
    const checklist = ownerPage.locator('section', { has: ownerPage.getByRole('heading', { name: 'Require approval for' }) });
    await checklist.getByLabel(KEY_OPERATION).check();
    await checklist.getByLabel('Taking operations off this list').check();
    await checklist.getByRole('button', { name: 'Save approvals' }).click();
    await checklist.getByText('Saved.').waitFor();
    expect((await admin('GET', '/settings')).body.settings.approvals).toEqual({ operations: ['keys.privileged', 'approvals.relax'] });
    found.push(...(await a11y(ownerPage, 'Settings')));
    await shoot(ownerPage, 'approval-operations');

    // The admin asks for a key with keys:write: nothing is made, the page waits.
    await adminPage.goto(`${app.url}/console/#keys`);
    await adminPage.getByRole('heading', { level: 1, name: 'API keys', exact: true }).waitFor();
    await adminPage.locator('#key-name').fill('deploy-bot');
    await adminPage.getByRole('checkbox', { name: 'keys:write', exact: true }).check();
    await adminPage.getByRole('button', { name: 'Create key' }).click();
    await adminPage.getByText('Waiting for another admin’s approval').waitFor();
    expect(await adminPage.locator('.gated').textContent()).toContain(KEY_OPERATION);
    expect(await adminPage.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(true);
    expect(await adminPage.locator('.secret').count()).toBe(0);
    expect(await keyNames()).not.toContain('deploy-bot');
    found.push(...(await a11y(adminPage, 'API keys, waiting')));
    await shoot(adminPage, 'key-waiting');

    // The owner, in another browser, approves it on the Approvals page.
    await ownerPage.goto(`${app.url}/console/#approvals`);
    const card = ownerPage.locator('article.proposal');
    await card.waitFor();
    expect(await card.textContent()).toContain('deploy-bot');
    found.push(...(await a11y(ownerPage, 'Approvals, admin operation')));
    await card.getByRole('button', { name: `Approve ${KEY_OPERATION}` }).click();
    await ownerPage.getByText('Nothing is waiting.').waitFor();

    // The admin's page learns it (polled every 5 s) and offers Finish, which makes the key.
    await adminPage.getByText('Approved by another admin').waitFor({ timeout: 12_000 });
    found.push(...(await a11y(adminPage, 'API keys, approved')));
    await shoot(adminPage, 'key-approved');
    await adminPage.getByRole('button', { name: 'Finish' }).click();
    const secretInput = adminPage.locator('.secret input');
    await secretInput.waitFor();
    const secret = await secretInput.inputValue();
    expect(secret).toMatch(/^sk_/);
    // Focus moves to the secret, at the top of the page, away from the Finish button that is gone.
    expect(await adminPage.evaluate(() => !!document.activeElement?.closest('.secret'))).toBe(true);
    expect(await adminPage.locator('.gated').count()).toBe(0);
    await adminPage.locator('tbody').getByText('deploy-bot').waitFor();
    found.push(...(await a11y(adminPage, 'API keys, finished')));
    await shoot(adminPage, 'key-finished');
    const made = ((await admin('GET', '/api-keys')).body.apiKeys as { name: string; capabilities: string[] }[]).filter(
      (k) => k.name === 'deploy-bot',
    );
    expect(made).toHaveLength(1);
    expect(made[0]!.capabilities).toContain('keys:write');
    // The secret shown is the key's own: it signs requests (handoffs:read is among the capabilities asked for).
    expect((await call(app.url, 'GET', '/v1/admin/handoffs', { key: secret })).status).toBe(200);
    // Shown once: gone after Done, and not there again after a reload.
    await adminPage.getByRole('button', { name: 'Done' }).click();
    expect(await adminPage.locator('.secret').count()).toBe(0);
    await adminPage.reload();
    await adminPage.locator('tbody').getByText('deploy-bot').waitFor();
    expect(await adminPage.locator('.secret').count()).toBe(0);

    // Another one, which the owner rejects with a reason: the admin reads it, and no key is made.
    await adminPage.locator('#key-name').fill('second-bot');
    await adminPage.getByRole('checkbox', { name: 'keys:write', exact: true }).check();
    await adminPage.getByRole('button', { name: 'Create key' }).click();
    await adminPage.getByText('Waiting for another admin’s approval').waitFor();
    await ownerPage.reload();
    await card.waitFor();
    expect(await card.textContent()).toContain('second-bot');
    await card.getByLabel('Reason (optional)').fill('Not without a change ticket');
    await card.getByRole('button', { name: `Reject ${KEY_OPERATION}` }).click();
    await ownerPage.getByText('Nothing is waiting.').waitFor();
    await adminPage.getByText('Another admin rejected it').waitFor({ timeout: 12_000 });
    expect(await adminPage.locator('.gated').textContent()).toContain('Not without a change ticket');
    expect(await adminPage.getByRole('button', { name: 'Finish' }).count()).toBe(0);
    found.push(...(await a11y(adminPage, 'API keys, rejected')));
    await shoot(adminPage, 'key-rejected');
    expect(await keyNames()).not.toContain('second-bot');
    await adminPage.getByRole('button', { name: 'Dismiss' }).click();
    expect(await adminPage.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(false);

    // Taking key creation off the list waits too (the list itself is marked): nothing changes until approved.
    await adminPage.goto(`${app.url}/console/#settings`);
    const adminChecklist = adminPage.locator('section', { has: adminPage.getByRole('heading', { name: 'Require approval for' }) });
    // The list as saved is shown (and offered) once loaded.
    await expect.poll(() => adminChecklist.getByLabel(KEY_OPERATION).isChecked()).toBe(true);
    await adminChecklist.getByLabel(KEY_OPERATION).uncheck();
    await adminChecklist.getByRole('button', { name: 'Save approvals' }).click();
    await adminChecklist.getByText('Waiting for another admin’s approval').waitFor();
    expect(await adminChecklist.getByLabel(KEY_OPERATION).isDisabled()).toBe(true);
    expect((await admin('GET', '/settings')).body.settings.approvals).toEqual({ operations: ['keys.privileged', 'approvals.relax'] });
    found.push(...(await a11y(adminPage, 'Settings, waiting')));
    await shoot(adminPage, 'approval-operations-waiting');
  } finally {
    await ownerContext.close();
    await adminContext.close();
  }
  expect(found).toEqual([]);
}, 120_000);
