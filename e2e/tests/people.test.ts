// People in Chromium: signing in to the console with an account, the session cookies as the browser keeps
// them, a cross-site form and fetch refused, a stolen refresh token ending the session, and SAML single
// sign-on through an identity provider and back, with an attack refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, ConsoleClient, signedInMember, call, postBinding, TestIdp, type TestApp, type CreatedTenant } from '@parley/server/testing';
import { ensureConsoleBuilt, hostPage, type HostPage, launch, signInToConsole } from './harness.js';

let app: TestApp;
let browser: Browser;
let other: HostPage;
let acme: CreatedTenant;

beforeAll(async () => {
  ensureConsoleBuilt();
  [app, browser, other] = await Promise.all([startTestApp(), launch(), hostPage('127.0.0.1')]);
  acme = await app.tenant('Acme', ['acme.example']);
});
afterAll(async () => {
  await browser?.close();
  await other?.close();
  await app?.close();
});

const domainCount = async () =>
  (
    await app.runtime.db.withOwner((tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_domains WHERE tenant_id = $1', [acme.tenant.id]),
    )
  ).rows[0]!.n;

describe('console sign-in in Chromium', () => {
  test('an owner signs in with a password; the session lives only in HttpOnly __Host- cookies', async () => {
    const owner = await signedInMember(app, acme.tenant.id, 'owner', 'ann@acme.example');
    const context = await browser.newContext();
    // Arriving signed out, signing in, reloading, signing out and arriving again: no request fails and
    // nothing is written to the browser's console (a signed-out console used to print two 401s).
    const failed: string[] = [];
    context.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`)));
    context.on('console', (m) => void (m.type() === 'error' && failed.push(m.text())));
    try {
      const page = await signInToConsole(context, app.url, owner.email);
      await expect.poll(() => page.locator('header').innerText()).toMatch(/owner person.*owner/is);
      const cookies = await context.cookies(app.url);
      expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-parley_access', '__Host-parley_refresh']);
      for (const c of cookies) expect(c).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/', domain: '127.0.0.1' });
      // Nothing a script on the page could read or steal.
      expect(await page.evaluate(() => [document.cookie, sessionStorage.length, localStorage.length])).toEqual(['', 0, 0]);
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Email').waitFor();
      await page.reload();
      await page.getByLabel('Email').waitFor();
      expect(failed).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a form and a fetch from another origin of the same site carry the cookies, and are refused', async () => {
    const owner = await signedInMember(app, acme.tenant.id, 'owner', 'csrf-owner@acme.example');
    const context = await browser.newContext();
    try {
      await signInToConsole(context, app.url, owner.email);
      const before = await domainCount();
      const seen: boolean[] = [];
      context.on('request', async (r) => {
        if (r.url().endsWith('/v1/admin/domains')) seen.push(/__Host-parley_access/.test((await r.allHeaders()).cookie ?? ''));
      });
      // 127.0.0.1 on another port: same site as the console (so SameSite=Strict cookies are sent), not the
      // same origin. A "simple" fetch (no preflight) and a text/plain form both reach the server.
      other.set(`<!doctype html><title>evil</title>
        <form id="f" method="post" action="${app.url}/v1/admin/domains" enctype="text/plain">
          <input name='{"pattern":"evil.example","x":"' value='"}'></form>
        <script>fetch(${JSON.stringify(app.url + '/v1/admin/domains')}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ pattern: 'evil2.example' }) });</script>`);
      const evil = await context.newPage();
      await evil.goto(other.origin);
      await expect.poll(() => seen.length, { timeout: 15_000 }).toBe(1);
      await Promise.all([
        evil.waitForURL(`${app.url}/v1/admin/domains`),
        evil.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
      ]);
      const problem = JSON.parse(await evil.locator('body').innerText());
      // Refused: by the content type a cross-site page can send without a preflight (415), and by the Origin
      // check (403; the server tests send JSON to reach it). The fetch's answer is also withheld from the
      // page (Cross-Origin-Resource-Policy); what counts is that nothing changed.
      expect([403, 415]).toContain(problem.status);
      expect(seen).toHaveLength(2);
      expect(seen).toContain(true); // the browser did send the session (same site): only our checks stood in the way
      expect(await domainCount()).toBe(before);
    } finally {
      await context.close();
    }
  });

  test('a stolen refresh token used by the thief first ends the session when the real browser refreshes', async () => {
    const owner = await signedInMember(app, acme.tenant.id, 'admin', 'theft@acme.example');
    const context = await browser.newContext();
    try {
      const page = await signInToConsole(context, app.url, owner.email);
      const refresh = (await context.cookies(app.url)).find((c) => c.name === '__Host-parley_refresh')!.value;
      const thief = new ConsoleClient(app.url);
      thief.jar.set('__Host-parley_refresh', refresh);
      expect((await thief.call('POST', '/v1/auth/refresh')).status).toBe(204);
      expect((await thief.call('GET', '/v1/admin/me')).status).toBe(200);
      // The browser's access token expires; its next refresh presents the spent token.
      await context.clearCookies({ name: '__Host-parley_access' });
      await page.reload();
      await page.getByLabel('Email').waitFor();
      expect((await thief.call('GET', '/v1/admin/me')).status).toBe(401);
      const audit = (await call(app.url, 'GET', '/v1/admin/audit?limit=1000', { key: acme.secretKey })).body.entries;
      expect(
        audit.some((e: { action: string; actor: { id: string } }) => e.action === 'member.session_reuse_detected' && e.actor.id === owner.memberId),
      ).toBe(true);
    } finally {
      await context.close();
    }
  });

  test('two tabs whose access token expired together both renew, and the session lives on', async () => {
    const owner = await signedInMember(app, acme.tenant.id, 'agent', 'two-tabs@acme.example');
    const context = await browser.newContext();
    try {
      const first = await signInToConsole(context, app.url, owner.email);
      const second = await context.newPage();
      await second.goto(`${app.url}/console/`);
      await second.getByRole('button', { name: 'Sign out' }).waitFor();
      // Both tabs find the access token gone at once. Their refreshes are held until both arrive (or 2 s
      // pass), then let through together: two tabs that each present the one refresh token they share
      // look like theft, and the server ends the session.
      const held: (() => void)[] = [];
      let refreshes = 0;
      await context.route('**/v1/auth/refresh', async (route) => {
        refreshes += 1;
        await new Promise<void>((go) => {
          held.push(go);
          if (held.length === 2) for (const g of held) g();
          else setTimeout(go, 2_000);
        });
        await route.continue();
      });
      await context.clearCookies({ name: '__Host-parley_access' });
      await Promise.all([first.reload(), second.reload()]);
      for (const page of [first, second]) await page.getByRole('button', { name: 'Sign out' }).waitFor();
      // At least one each: a page the reload replaced may have sent one of its own as it went (a poll that
      // found the cookie gone), and that one counts here too.
      await expect.poll(() => refreshes, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await first.reload();
      await first.getByRole('button', { name: 'Sign out' }).waitFor();
      expect((await call(app.url, 'GET', '/v1/admin/audit?limit=1000', { key: acme.secretKey })).body.entries).not.toContainEqual(
        expect.objectContaining({ action: 'member.session_reuse_detected', actor: expect.objectContaining({ id: owner.memberId }) }),
      );
    } finally {
      await context.close();
    }
  });
});

/** A SAML IdP on its own origin: its sign-in page answers the AuthnRequest with an auto-posting form. */
async function samlIdp(
  idp: TestIdp,
  who: { email: string; displayName: string; groups: string[] },
): Promise<{ url: string; mode: 'signed' | 'unsigned'; server: Server }> {
  const state = { url: '', mode: 'signed' as 'signed' | 'unsigned', server: null as unknown as Server };
  state.server = createServer((req, res) => {
    const q = new URL(req.url!, 'http://idp').searchParams;
    const request = inflateRawSync(Buffer.from(q.get('SAMLRequest') ?? '', 'base64')).toString();
    const id = /ID="([^"]+)"/.exec(request)![1]!;
    const acsUrl = /AssertionConsumerServiceURL="([^"]+)"/.exec(request)![1]!;
    const audience = /<saml:Issuer[^>]*>([^<]+)</.exec(request)![1]!;
    const input = { inResponseTo: id, acsUrl, audience, ...who };
    const xml = idp.signedResponse(input, { signAssertion: state.mode === 'signed' });
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><title>IdP</title><p>Signing you in…</p>
      <form id="f" method="post" action="${acsUrl}"><input type="hidden" name="SAMLResponse" value="${postBinding(xml)}">
      <input type="hidden" name="RelayState" value="${(q.get('RelayState') ?? '').replace(/"/g, '&quot;')}"></form>
      <script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.url = `http://localhost:${(state.server.address() as AddressInfo).port}/sso`;
  return state;
}

describe('SAML single sign-on in Chromium', () => {
  test('console → IdP → back signed in, role from the group mapping; an unsigned assertion is refused with a clear message and audited', async () => {
    const ten = await app.tenant('Samlco', ['samlco.example']);
    const owner = await signedInMember(app, ten.tenant.id, 'owner', 'owner@samlco.example');
    const idp = new TestIdp('https://idp.samlco.example/entity');
    const server = await samlIdp(idp, { email: 'sam@samlco.example', displayName: 'Sam Support', groups: ['support-team'] });
    try {
      const put = await owner.client.call('PUT', '/v1/admin/sso/saml', {
        entryPoint: server.url,
        idpIssuer: idp.entityId,
        idpCertificates: [idp.certPem],
        allowedDomains: ['samlco.example'],
        defaultRole: 'analyst',
        groupRoles: [{ group: 'support-team', role: 'agent' }],
      });
      expect(put.status).toBe(201);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${app.url}/console/`);
        await page.getByRole('button', { name: 'Sign in with SSO' }).click();
        await page.getByLabel('Work email').fill('sam@samlco.example');
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 20_000 });
        expect(page.url()).toBe(`${app.url}/console/`);
        await expect.poll(() => page.locator('header').innerText()).toMatch(/Sam Support.*agent.*Samlco/is);
        await page.getByRole('link', { name: 'Inbox' }).waitFor();
        expect(await page.getByRole('link', { name: 'Team' }).count()).toBe(1); // agents read the team (members:read)
        expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(0);

        // The same IdP, now sending an unsigned assertion (a forged one would look the same).
        server.mode = 'unsigned';
        const forged = await context.newPage();
        await context.clearCookies();
        await forged.goto(`${app.url}/console/`);
        await forged.getByRole('button', { name: 'Sign in with SSO' }).click();
        await forged.getByLabel('Work email').fill('sam@samlco.example');
        await forged.getByRole('button', { name: 'Continue' }).click();
        await forged.getByRole('alert').first().waitFor({ timeout: 20_000 });
        expect(await forged.getByRole('alert').first().innerText()).toMatch(/sign/i);
        expect(new URL(forged.url()).search).toBe(''); // the code is read, then removed from the address bar
        expect((await context.cookies(app.url)).some((c) => c.name === '__Host-parley_access')).toBe(false);
        const audit = (await call(app.url, 'GET', '/v1/admin/audit?limit=1000', { key: ten.secretKey })).body.entries;
        expect(
          audit.filter((e: { action: string }) => e.action === 'sso.saml_refused').map((e: { metadata: { reason: string } }) => e.metadata.reason),
        ).toContain('unsigned');
        expect(audit.some((e: { action: string; metadata: { via?: string } }) => e.action === 'member.join' && e.metadata.via === 'saml')).toBe(true);
      } finally {
        await context.close();
      }
    } finally {
      server.server.close();
    }
  });
});
