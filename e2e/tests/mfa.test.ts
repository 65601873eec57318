import { TOTP, URI } from 'otpauth';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_TENANT, createInvite, peopleDeps, signedInMember, STRONG_PASSWORD, call, type TestApp } from '@parley/server/testing';
import { ensureConsoleBuilt, launch, shoot, startLocalhostApp } from './harness.js';

/** Set to a directory to keep screenshots (light, dark, right-to-left, 360 px) of the MFA pages there. */
/** Per test: generous for a loaded machine (and a TOTP time-step boundary that may have to pass). */
const TEST_TIMEOUT = 180_000;

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser] = await Promise.all([startLocalhostApp(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface AuditEntry {
  action: string;
  actor: { type: string; id: string | null };
  metadata: Record<string, unknown>;
}
const auditOf = async (secretKey: string): Promise<AuditEntry[]> =>
  (await call(app.url, 'GET', '/v1/admin/audit?limit=1000', { key: secretKey })).body.entries;

const hasSession = async (context: BrowserContext) => (await context.cookies(app.url)).some((c) => c.name === '__Host-parley_access');

// ---- TOTP codes, as an authenticator app computes them ---------------------------------------------------

const PERIOD_MS = 30_000;
const stepNow = () => Math.floor(Date.now() / PERIOD_MS);

/** An authenticator app holding one secret; it never hands out a code for a time step the server saw used. */
class Authenticator {
  readonly totp: TOTP;
  /** The last time step whose code was used. */
  last = -1;
  constructor(secret: string) {
    this.totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret });
  }
  codeAt = (step: number) => this.totp.generate({ timestamp: step * PERIOD_MS });

  /**
   * A code the server accepts now (it allows one step either side): the current step's, or the next one's
   * when the current was used. When both were, waits for the next step boundary (computed, not guessed).
   */
  async fresh(): Promise<{ code: string; step: number }> {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / PERIOD_MS);
      const step = Math.max(current, this.last + 1);
      if (step <= current + 1) {
        this.last = step;
        return { code: this.codeAt(step), step };
      }
      await new Promise((r) => setTimeout(r, (current + 1) * PERIOD_MS - now + 20));
    }
  }

  /** Six digits that are no code of the steps around now. */
  wrong(): string {
    const around = new Set([-2, -1, 0, 1, 2, 3].map((d) => this.codeAt(stepNow() + d)));
    for (let n = 0; ; n++) {
      const c = String((123456 + n * 7919) % 1_000_000).padStart(6, '0');
      if (!around.has(c)) return c;
    }
  }
}

// ---- Driving the console --------------------------------------------------------------------------------

async function openConsole(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${app.url}/console/`);
  return page;
}

/** Email and password; resolves when the console asks for more (a heading) or shows itself. */
async function submitPassword(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The console's own Sign out (My account lists other sessions, each with one too). */
const signOutButton = (page: Page) => page.getByRole('banner').getByRole('button', { name: 'Sign out' });
/** Waits for the console; when it does not come, the failure says what the page shows instead. */
async function signedIn(page: Page, context: string | (() => string) = ''): Promise<void> {
  const state = async () =>
    (await signOutButton(page).count())
      ? 'signed in'
      : `not signed in (${typeof context === 'function' ? context() : context}); form: ${await formState(page)}; alerts: ${(await page.getByRole('alert').allInnerTexts()).join(' | ') || 'none'}; heading: ${await page
          .locator('h1')
          .first()
          .innerText()
          .catch(() => '?')}`;
  await expect.poll(state, { timeout: 30_000 }).toBe('signed in');
}

/** The code field's value and validity and the submit button's state, for a failure message. */
const formState = (page: Page) =>
  page
    .locator('main')
    .evaluate((main) => {
      const input = main.querySelector<HTMLInputElement>('input#mfa-code');
      const button = main.querySelector<HTMLButtonElement>('button[type=submit]');
      return `code field ${input ? `"${input.value}" (${input.validity.valid ? 'valid' : 'invalid'})` : 'absent'}, ${button ? `${button.textContent} ${button.disabled ? 'disabled' : 'enabled'}` : 'no submit button'}, focus on ${document.activeElement?.tagName ?? 'nothing'}`;
    })
    .catch(() => '?');

async function signOut(page: Page): Promise<void> {
  await signOutButton(page).click();
  await page.getByLabel('Email').waitFor();
}

async function openMyAccount(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
}

/** The TOTP secret the page shows, read both ways (the grouped key and the otpauth link); they must agree. */
async function shownSecret(page: Page, email: string): Promise<string> {
  const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  expect(await qr.evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
  expect(await qr.locator('path').getAttribute('d')).toMatch(/^M/);
  const grouped = await page.locator('.totp-secret').innerText();
  expect(grouped).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
  const uri = await page.getByRole('link', { name: 'this link' }).getAttribute('href');
  const parsed = URI.parse(uri!);
  expect(parsed).toBeInstanceOf(TOTP);
  const totp = parsed as TOTP;
  expect({ issuer: totp.issuer, label: totp.label, digits: totp.digits, period: totp.period, algorithm: totp.algorithm }).toEqual({
    issuer: 'Parley',
    label: email,
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
  });
  const secret = grouped.replace(/\s+/g, '');
  expect(totp.secret.base32).toBe(secret);
  return secret;
}

/** The recovery codes on the page, once: read, then dismissed. */
async function takeRecoveryCodes(page: Page): Promise<string[]> {
  const items = page.locator('ul.codes li');
  await items.first().waitFor();
  const codes = await items.allInnerTexts();
  expect(codes).toHaveLength(10);
  for (const c of codes) expect(c).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await items.first().waitFor({ state: 'detached' });
  return codes;
}

async function mfaStep(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor({ timeout: 30_000 });
}

/** A request sent from its button moves focus to its error (for keyboard and screen-reader users). */
const focusOnError = (page: Page) => expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('alert');

/** Whether `text` appears in `haystack` as a whole token (not inside a longer run of letters or digits). */
const containsToken = (haystack: string, text: string) =>
  new RegExp(`(?<![0-9A-Za-z])${text.replace(/[^0-9A-Za-z]/g, (c) => `\\${c}`)}(?![0-9A-Za-z])`).test(haystack);

describe('MFA in Chromium', () => {
  test(
    'TOTP: enrol in My account, sign in with a code (a wrong one refused), a replayed code refused, a recovery code once',
    async () => {
      const tenant = await app.tenant('Totpco', ['totpco.example']);
      const member = await signedInMember(app, tenant.tenant.id, 'agent', 'tina@totpco.example');
      const used: string[] = [];
      let app1: Authenticator;
      let recovery: string[];

      // Enrol.
      let context = await browser.newContext();
      try {
        const page = await openConsole(context);
        await submitPassword(page, member.email);
        await signedIn(page);
        await expect.poll(() => page.locator('header').innerText()).toMatch(/agent person.*agent.*Totpco/is);
        await openMyAccount(page);
        await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
        const secret = await shownSecret(page, member.email);
        await shoot(page, 'totp-enrol-account');
        app1 = new Authenticator(secret);
        const { code } = await app1.fresh();
        used.push(code);
        await page.getByLabel('The code the app shows (6 digits)').fill(code);
        await page.getByRole('button', { name: 'Turn on' }).click();
        recovery = await takeRecoveryCodes(page);
        await page.getByText('Codes from your authenticator app are accepted.').waitFor();
        await page.getByText('10 unused codes left.').waitFor();
        // Shown once: neither the secret nor the codes come back.
        await page.reload();
        await page.getByText('10 unused codes left.').waitFor();
        expect(await page.locator('ul.codes li, .totp-secret').count()).toBe(0);
        await signOut(page);

        // Signing in again asks for a code; a wrong one is refused with an error.
        await submitPassword(page, member.email);
        await mfaStep(page);
        expect(await hasSession(context)).toBe(false);
        expect(await page.getByRole('radio', { name: 'Authenticator app code' }).isChecked()).toBe(true);
        await shoot(page, 'mfa-step');
        await page.getByLabel('Code from your authenticator app (6 digits)').fill(app1.wrong());
        await page.getByRole('button', { name: 'Verify' }).click();
        await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 30_000 }).toMatch(/code or passkey was not accepted/);
        await focusOnError(page);
        await shoot(page, 'mfa-step-error');
        expect(await hasSession(context)).toBe(false);
        const right = await app1.fresh();
        used.push(right.code);
        // What the console sent and the server answered, for the failure message if it comes to that.
        const answers: string[] = [];
        page.on('request', (r) => {
          if (r.url().endsWith('/v1/auth/mfa/totp')) answers.push(`sent ${r.postData()}`);
        });
        page.on('response', async (r) => {
          if (r.url().endsWith('/v1/auth/mfa/totp')) answers.push(`${r.request().postData()} → ${r.status()} ${await r.text().catch(() => '')}`);
        });
        await page.getByLabel('Code from your authenticator app (6 digits)').fill(right.code);
        await page.getByRole('button', { name: 'Verify' }).click();
        const clickedAt = stepNow();
        await signedIn(
          page,
          () =>
            `code ${right.code} of step ${right.step}, enrolled at step ${right.step - 1} or before, step at the click ${clickedAt}; answers: ${answers.join(' | ')}`,
        );
        expect(await hasSession(context)).toBe(true);
        await context.close();

        // The same code, replayed by another browser while still inside its time window: refused.
        context = await browser.newContext();
        const replay = await openConsole(context);
        await submitPassword(replay, member.email);
        await mfaStep(replay);
        await replay.getByLabel('Code from your authenticator app (6 digits)').fill(right.code);
        const submittedAt = stepNow();
        await replay.getByRole('button', { name: 'Verify' }).click();
        await expect.poll(() => replay.getByRole('alert').innerText(), { timeout: 30_000 }).toMatch(/code or passkey was not accepted/);
        // Still a code the server takes by time (one step either side), so only the replay rule refused it.
        expect(submittedAt).toBeLessThanOrEqual(right.step + 1);
        expect(await hasSession(context)).toBe(false);
        await context.close();

        // A recovery code signs in once.
        const spare = recovery[3]!;
        context = await browser.newContext();
        const withCode = await openConsole(context);
        await submitPassword(withCode, member.email);
        await mfaStep(withCode);
        await withCode.getByRole('radio', { name: 'Recovery code' }).check();
        await withCode.getByLabel('One of your recovery codes').fill(spare);
        await withCode.getByRole('button', { name: 'Verify' }).click();
        await signedIn(withCode);
        await openMyAccount(withCode);
        await withCode.getByText('9 unused codes left.').waitFor();
        await signOut(withCode);
        await context.close();

        // … and is refused the second time.
        context = await browser.newContext();
        const again = await openConsole(context);
        await submitPassword(again, member.email);
        await mfaStep(again);
        await again.getByRole('radio', { name: 'Recovery code' }).check();
        await again.getByLabel('One of your recovery codes').fill(spare);
        await again.getByRole('button', { name: 'Verify' }).click();
        await expect.poll(() => again.getByRole('alert').innerText(), { timeout: 30_000 }).toMatch(/code or passkey was not accepted/);
        expect(await hasSession(context)).toBe(false);
      } finally {
        await context.close();
      }

      const audit = await auditOf(tenant.secretKey);
      const mine = audit.filter((e) => e.actor.id === member.memberId);
      expect(mine.filter((e) => e.action === 'mfa.totp_enrolled')).toHaveLength(1);
      const signIns = mine.filter((e) => e.action === 'member.sign_in').map((e) => e.metadata);
      expect(signIns).toContainEqual(expect.objectContaining({ method: 'password', mfa: 'totp' }));
      expect(signIns).toContainEqual(expect.objectContaining({ method: 'password', mfa: 'recovery_code' }));
      expect(mine.filter((e) => e.action === 'mfa.recovery_code_used')).toHaveLength(1);
      expect(mine.filter((e) => e.action === 'mfa.recovery_code_used')[0]!.metadata).toMatchObject({ left: 9 });
      // The wrong code, the replay and the spent recovery code: failed sign-ins, by factor.
      const failed = mine.filter((e) => e.action === 'member.sign_in_failed').map((e) => e.metadata.factor);
      expect(failed.filter((f) => f === 'totp')).toHaveLength(2);
      expect(failed.filter((f) => f === 'recovery_code')).toHaveLength(1);
      // No code, recovery code or secret in any entry.
      const text = JSON.stringify(audit);
      for (const c of used) expect(containsToken(text, c), `TOTP code ${c} in the audit log`).toBe(false);
      for (const c of recovery) {
        expect(containsToken(text, c)).toBe(false);
        expect(containsToken(text, c.replace(/-/g, ''))).toBe(false);
      }
      expect(text).not.toContain(app1.totp.secret.base32);
    },
    TEST_TIMEOUT,
  );

  test(
    'passkey: added in My account with the virtual authenticator, signs in without a password, satisfies required MFA; gone from the authenticator, refused',
    async () => {
      const tenant = await app.tenant('Keyco', ['keyco.example']);
      const owner = await signedInMember(app, tenant.tenant.id, 'owner', 'owner@keyco.example');
      const member = await signedInMember(app, tenant.tenant.id, 'analyst', 'pat@keyco.example');
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        // The authenticator belongs to this tab: every step below stays in it.
        const cdp: CDPSession = await context.newCDPSession(page);
        await cdp.send('WebAuthn.enable');
        const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
          options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
        });
        const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

        await page.goto(`${app.url}/console/`);
        await submitPassword(page, member.email);
        await signedIn(page);
        await openMyAccount(page);
        await page.getByText('No passkey yet.').waitFor();
        await page.getByLabel('Name for a new passkey').fill('Work laptop');
        await page.getByRole('button', { name: 'Add a passkey' }).click();
        // The first factor: recovery codes come with it.
        await takeRecoveryCodes(page);
        await page.locator('.list li', { hasText: 'Work laptop' }).waitFor();
        const stored = await credentials();
        expect(stored).toHaveLength(1);
        expect(stored[0]!.isResidentCredential).toBe(true);
        expect(stored[0]!.rpId).toBe('localhost');
        await signOut(page);
        expect(await hasSession(context)).toBe(false);

        // Passwordless: no email, no password.
        await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
        await signedIn(page);
        await expect.poll(() => page.locator('header').innerText()).toMatch(/analyst person.*analyst.*Keyco/is);
        expect(await hasSession(context)).toBe(true);
        expect((await credentials())[0]!.signCount).toBeGreaterThan(stored[0]!.signCount);
        await signOut(page);

        // The team now requires MFA for everyone; a password alone is not enough, the passkey is the second factor.
        const put = await owner.client.call('PUT', '/v1/admin/sign-in-policy', { requireMfa: 'everyone' });
        expect(put.status).toBe(200);
        expect(put.body.policy.requireMfa).toBe('everyone');
        await submitPassword(page, member.email);
        await mfaStep(page);
        expect(await hasSession(context)).toBe(false);
        expect(await page.getByRole('radio', { name: 'Authenticator app code' }).count()).toBe(0);
        expect(await page.getByRole('radio', { name: 'Passkey' }).isChecked()).toBe(true);
        await shoot(page, 'mfa-step-passkey');
        await page.getByRole('button', { name: 'Use my passkey' }).click();
        await signedIn(page);
        expect(await hasSession(context)).toBe(true);
        await signOut(page);
        // Passwordless still signs in under the policy: a user-verified passkey is both factors.
        await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
        await signedIn(page);
        await signOut(page);

        // The passkey is gone from the authenticator: passwordless sign-in fails, visibly, and no session.
        await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
        expect(await credentials()).toHaveLength(0);
        await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
        await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 30_000 }).toMatch(/The passkey was not used/);
        await shoot(page, 'passkey-refused');
        expect(await hasSession(context)).toBe(false);
        expect(await signOutButton(page).count()).toBe(0);
      } finally {
        await context.close();
      }

      const mine = (await auditOf(tenant.secretKey)).filter((e) => e.actor.id === member.memberId);
      const signIns = mine.filter((e) => e.action === 'member.sign_in').map((e) => e.metadata);
      expect(signIns.filter((m) => m.method === 'passkey' && m.mfa === 'first_factor')).toHaveLength(2);
      expect(signIns).toContainEqual(expect.objectContaining({ method: 'password', mfa: 'passkey' }));
      expect(mine.filter((e) => e.action === 'mfa.passkey_added')).toHaveLength(1);
      // Accepting the invitation, then the three above; the refused attempt started no session.
      expect(signIns.map((m) => `${m.method}/${m.mfa}`)).toEqual([
        'invite/null',
        'password/null',
        'passkey/first_factor',
        'password/passkey',
        'passkey/first_factor',
      ]);
    },
    TEST_TIMEOUT,
  );

  test(
    'an invitee of a team that requires MFA enrols an authenticator app while signing up, before the console opens',
    async () => {
      const tenant = await app.tenant('Invco', ['invco.example']);
      const owner = await signedInMember(app, tenant.tenant.id, 'owner', 'owner@invco.example');
      expect((await owner.client.call('PUT', '/v1/admin/sign-in-policy', { requireMfa: 'everyone' })).status).toBe(200);
      const email = 'ivy@invco.example';
      const { url } = await createInvite(
        peopleDeps(app),
        { requestId: null, actor: { type: 'cli', id: 'test' }, tenantId: tenant.tenant.id, role: null },
        { email, role: 'agent' },
      );
      expect(url.startsWith(`${app.url}/console/#invite=`)).toBe(true);

      let ivy = '';
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(url);
        await page.getByRole('heading', { name: 'Join Invco' }).waitFor();
        await page.getByLabel('Your name').fill('Ivy Invitee');
        await page.getByLabel('Password').fill(STRONG_PASSWORD);
        await page.getByRole('button', { name: 'Join Invco' }).click();

        // No session yet: the console's API refuses this browser until a factor is set up.
        await page.getByRole('heading', { name: 'Set up a second factor' }).waitFor({ timeout: 30_000 });
        expect(await hasSession(context)).toBe(false);
        expect(await page.evaluate(async () => (await fetch('/v1/admin/me')).status)).toBe(401);
        await shoot(page, 'enrol-required');
        await page.getByRole('button', { name: 'Use an authenticator app' }).click();
        await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
        const secret = await shownSecret(page, email);
        await shoot(page, 'totp-enrol-signup');
        const app1 = new Authenticator(secret);
        await page.getByLabel('The code the app shows (6 digits)').fill(app1.wrong());
        await page.getByRole('button', { name: 'Confirm' }).click();
        await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 30_000 }).toMatch(/wrong, expired or used already/);
        expect(await hasSession(context)).toBe(false);
        await focusOnError(page);
        await page.getByLabel('The code the app shows (6 digits)').fill((await app1.fresh()).code);
        await page.getByRole('button', { name: 'Confirm' }).click();
        await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor({ timeout: 30_000 });
        await shoot(page, 'recovery-codes-signup');
        await takeRecoveryCodes(page);
        await signedIn(page);
        await expect.poll(() => page.locator('header').innerText()).toMatch(/Ivy Invitee.*agent.*Invco/is);
        expect(await hasSession(context)).toBe(true);
        ivy = (await page.evaluate(async () => (await fetch('/v1/admin/me')).json())).member.id;
        await openMyAccount(page);
        await page.getByText('Codes from your authenticator app are accepted.').waitFor();
        await page.getByText('Your team requires a second factor: keep at least one.').waitFor();
      } finally {
        await context.close();
      }

      const audit = await auditOf(tenant.secretKey);
      const mine = audit.filter((e) => e.actor.id === ivy);
      expect(mine.map((e) => e.action)).toEqual(expect.arrayContaining(['mfa.totp_enrolled', 'mfa.recovery_codes_generated', 'member.sign_in']));
      expect(mine.filter((e) => e.action === 'member.sign_in').map((e) => e.metadata)).toEqual([
        expect.objectContaining({ method: 'invite', mfa: 'totp' }),
      ]);
    },
    TEST_TIMEOUT,
  );

  test('a platform operator enrols an authenticator app at first sign-in, then sees the tenants, creates one and invites its owner', async () => {
    const { url } = await createInvite(
      peopleDeps(app),
      { requestId: null, actor: { type: 'cli', id: 'test' }, tenantId: PLATFORM_TENANT, role: null },
      { email: 'ops@deploy.example', role: 'operator' },
    );
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.getByLabel('Your name').fill('Olive Ops');
      await page.getByLabel('Password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: /^Join/ }).click();
      // Operators must have a second factor before anything else.
      await page.getByRole('heading', { name: 'Set up a second factor' }).waitFor({ timeout: 30_000 });
      expect(await hasSession(context)).toBe(false);
      await page.getByRole('button', { name: 'Use an authenticator app' }).click();
      const app1 = new Authenticator(await shownSecret(page, 'ops@deploy.example'));
      await page.getByLabel('The code the app shows (6 digits)').fill((await app1.fresh()).code);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await takeRecoveryCodes(page);
      await signedIn(page, 'operator');
      await expect.poll(() => page.locator('nav').innerText()).toMatch(/^Tenants\s+My account$/);
      await shoot(page, 'operator-tenants');
      await page.getByLabel('Name', { exact: true }).fill('Globex');
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await page.getByRole('heading', { name: 'Globex is ready' }).waitFor({ timeout: 30_000 });
      await page
        .getByRole('row', { name: /Globex/ })
        .getByRole('button', { name: 'Invite an owner' })
        .click();
      await page.getByLabel('Email').fill('boss@globex.example');
      await page.getByRole('button', { name: 'Send invitation' }).click();
      const link = page.getByRole('textbox', { name: /Invitation link/ });
      await link.waitFor({ timeout: 30_000 });
      expect(await link.inputValue()).toMatch(/\/console\/#invite=inv_/);
      const log = await app.runtime.db.withOwner((tx) =>
        tx.query<{ action: string }>("SELECT action FROM audit_entries WHERE tenant_id = $1 AND actor_type = 'member' ORDER BY id", [
          PLATFORM_TENANT,
        ]),
      );
      expect(log.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['platform.tenants_list', 'tenant.create', 'platform.invite']));
    } finally {
      await context.close();
    }
  });
});
