// OpenID Connect single sign-on in Chromium: the console sends the person to a real OpenID Provider on
// another site, they sign in there and come back signed in, with the role their groups map to. A
// replayed callback and an email outside the allowed domains are refused with a clear message and an
// audit entry.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp, signedInMember, call, startTestOp, type TestOp, type CreatedTenant } from '@parley/server/testing';
import { ensureConsoleBuilt, launch } from './harness.js';

let app: TestApp;
let browser: Browser;
let op: TestOp;
let ten: CreatedTenant;

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser] = await Promise.all([startTestApp(), launch()]);
  ten = await app.tenant('Oidcco', ['oidcco.example']);
  op = await startTestOp({
    host: 'localhost', // another site than the console's 127.0.0.1: the way back is a cross-site navigation
    clients: [
      {
        client_id: 'parley-console',
        client_secret: 'test-op-client-secret-0123456789',
        redirect_uris: [`${app.url}/v1/auth/sso/oidc/${ten.tenant.id}/callback`],
      },
    ],
  });
  op.accounts.set('olga@oidcco.example', { email: 'olga@oidcco.example', email_verified: true, name: 'Olga Ops', groups: ['parley-admins'] });
  op.accounts.set('eve@elsewhere.example', { email: 'eve@elsewhere.example', email_verified: true, name: 'Eve', groups: ['parley-admins'] });
  const owner = await signedInMember(app, ten.tenant.id, 'owner', 'owner@oidcco.example');
  const put = await owner.client.call('PUT', '/v1/admin/sso/oidc', {
    issuer: op.issuer,
    clientId: 'parley-console',
    clientSecret: 'test-op-client-secret-0123456789',
    allowedDomains: ['oidcco.example'],
    defaultRole: 'analyst',
    groupsClaim: 'groups',
    groupRoles: [{ group: 'parley-admins', role: 'admin' }],
  });
  expect([200, 201]).toContain(put.status);
});
afterAll(async () => {
  await browser?.close();
  await op?.close();
  await app?.close();
});

async function ssoThroughOp(page: Page, email: string): Promise<void> {
  await page.goto(`${app.url}/console/`);
  await page.getByRole('button', { name: 'Sign in with SSO' }).click();
  await page.getByLabel('Work email').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Test IdP sign-in' }).waitFor({ timeout: 20_000 });
  expect(page.url().startsWith(op.issuer)).toBe(true);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Sign in at the IdP' }).click();
}

const refusals = async () =>
  (
    (await call(app.url, 'GET', '/v1/admin/audit?limit=1000', { key: ten.secretKey })).body.entries as {
      action: string;
      metadata: { reason?: string };
    }[]
  )
    .filter((e) => e.action === 'sso.oidc_refused')
    .map((e) => e.metadata.reason);

describe('OIDC single sign-on in Chromium', () => {
  test('console → OpenID Provider → back, signed in, role from the group mapping; the callback replayed is refused', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const callbacks: string[] = [];
      page.on('request', (r) => r.url().includes('/callback?') && callbacks.push(r.url()));
      await ssoThroughOp(page, 'olga@oidcco.example');
      await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 20_000 });
      expect(page.url()).toBe(`${app.url}/console/`);
      await expect.poll(() => page.locator('header').innerText()).toMatch(/Olga Ops.*admin.*Oidcco/is);
      await page.getByRole('link', { name: 'Sign-in & SSO' }).waitFor();

      // The same callback URL (code and state) again, from the same browser: refused, nothing new.
      expect(callbacks).toHaveLength(1);
      const replay = await context.newPage();
      await replay.goto(callbacks[0]!);
      await replay.getByRole('alert').first().waitFor({ timeout: 20_000 });
      expect(await replay.getByRole('alert').first().innerText()).toMatch(/already used|Start again/);
      expect(await refusals()).toEqual(expect.arrayContaining([expect.stringMatching(/^(state_used|code_replayed)$/)]));
    } finally {
      await context.close();
    }
  });

  test('a person from a domain the tenant does not allow is refused with a clear message and an audit entry, and no account is made', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Eve starts from a permitted address, then signs in at the IdP as someone from another domain.
      await page.goto(`${app.url}/console/`);
      await page.getByRole('button', { name: 'Sign in with SSO' }).click();
      await page.getByLabel('Work email').fill('eve@oidcco.example');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Test IdP sign-in' }).waitFor({ timeout: 20_000 });
      await page.getByLabel('Email').fill('eve@elsewhere.example');
      await page.getByRole('button', { name: 'Sign in at the IdP' }).click();
      await page.getByRole('alert').first().waitFor({ timeout: 20_000 });
      expect(await page.getByRole('alert').first().innerText()).toContain('Your email domain is not allowed to sign in to this team through SSO.');
      expect((await context.cookies(app.url)).some((c) => c.name === '__Host-parley_access')).toBe(false);
      expect(await refusals()).toContain('domain_not_allowed');
      const members = await call(app.url, 'GET', '/v1/admin/members', { key: ten.secretKey });
      expect(members.body.members.map((m: { email: string }) => m.email)).not.toContain('eve@elsewhere.example');
    } finally {
      await context.close();
    }
  });
});
