import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@parley/node';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, signedInMember, startTestApp, type TestApp, Visitor } from '@parley/server/testing';
import { audit } from './a11y.js';
import { ensureConsoleBuilt, launch, shoot, signInToConsole } from './harness.js';

const ORIGIN = 'https://help.acme.example';

let app: TestApp;
let browser: Browser;
let server: Server;
let endpointUrl = '';
let secret = '';
const received: { event: any }[] = [];

/** Accessibility problems of the page as it is, named by where they were found. */
const a11y = async (page: Page, where: string) => (await audit(page)).map((v) => `${where}: ${v.rule}: ${v.detail} — ${v.target}`);

beforeAll(async () => {
  ensureConsoleBuilt();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push({ event: verifyWebhook(Buffer.concat(chunks).toString('utf8'), req.headers, secret) });
      } catch {
        return void res.writeHead(401).end('bad signature');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"refunded":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/actions/refund`;
  [app, browser] = await Promise.all([startTestApp(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

test('an owner defines an action, a verified visitor asks for it, the owner approves it in the console and the endpoint gets the call', async () => {
  const acme = await app.tenant('Acme', ['help.acme.example']);
  const ownerEmail = (await signedInMember(app, acme.tenant.id, 'owner', 'olive@acme.example', 'Olive Owner')).email;
  // Sign-In Pro, so the visitor can be verified.
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  expect((await call(app.url, 'PUT', '/v1/admin/identity', { key: acme.secretKey, body: { mode: 'optional', publicKeys: [jwk] } })).status).toBe(204);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await signInToConsole(context, app.url, ownerEmail);

    // The Actions page: a schema that is not JSON cannot be sent.
    await page.goto(`${app.url}/console/#actions`);
    await page.getByRole('heading', { level: 1, name: 'Actions', exact: true }).waitFor();
    await page.locator('#action-name').fill('refund_order');
    await page.locator('#action-description').fill('Refunds an order the visitor names');
    await page.locator('#action-schema').fill('{ "type": "object", ');
    await page.getByText(/^Not valid JSON/).waitFor();
    expect(await page.getByRole('button', { name: 'Add action' }).isDisabled()).toBe(true);
    await page
      .locator('#action-schema')
      .fill(JSON.stringify({ type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] }, null, 2));
    await page.locator('#action-endpoint').fill(endpointUrl);
    await page.locator('#action-risk').selectOption('write');
    await page.getByRole('button', { name: 'Add action' }).click();
    const secretInput = page.locator('.secret input');
    await secretInput.waitFor();
    secret = await secretInput.inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Edit refund_order' }).waitFor();
    expect(await a11y(page, 'Actions')).toEqual([]);
    await shoot(page, 'actions');
    const actionId = (await call(app.url, 'GET', '/v1/admin/actions', { key: acme.secretKey })).body.actions[0].id as string;

    await page.goto(`${app.url}/console/#approvals`);
    await page.getByRole('heading', { level: 1, name: 'Approvals', exact: true }).waitFor();
    await page.getByText('Nothing is waiting.').waitFor();
    await page.getByText(/Actions update live/).waitFor();

    // A verified visitor asks for it through the widget API.
    const v = new Visitor(app.url, acme.publishableKey, ORIGIN);
    expect((await v.start()).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ name: 'Ada' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('user-ada')
      // Signed with a public key: the token names the tenant it is for.
      .setAudience(`parley:identity:${acme.tenant.id}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const identified = await v.call('POST', '/identify', { token });
    expect(identified.status).toBe(200);
    v.adopt(identified.body.session);
    const conversation = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    // Handed off, so the conversation is in the inbox and its events come on the inbox stream.
    expect((await v.call('POST', `/conversations/${conversation}/handoff`, {})).status).toBeLessThan(300);
    const asked = await v.call('POST', `/conversations/${conversation}/actions`, {
      actionId,
      arguments: { orderId: 'AB12' },
      reason: 'The parcel never came',
    });
    expect(asked.status, asked.text).toBe(201);
    expect(asked.body.proposal.status).toBe('pending');

    // Arriving on the open Approvals page: the inbox stream's `action` event refreshes it, well before its
    // 15-second poll would.
    const card = page.locator('article.proposal');
    await card.waitFor({ timeout: 8_000 });
    expect(await card.locator('pre').textContent()).toBe(JSON.stringify({ orderId: 'AB12' }, null, 2));
    expect(await card.textContent()).toContain('user-ada');
    expect(await card.textContent()).toContain('The parcel never came');
    expect(await a11y(page, 'Approvals')).toEqual([]);
    await shoot(page, 'approvals');
    await card.getByLabel('Reason (optional)').fill('Order checked');
    await card.getByRole('button', { name: 'Approve refund_order' }).click();
    await page.getByText('Nothing is waiting.').waitFor();
    await page.locator('.proposal-history').getByText('executed').waitFor();
    await page.locator('.proposal-history summary').first().click();
    await page
      .locator('.proposal-history')
      .getByText(/The endpoint answered/)
      .waitFor();
    expect(await a11y(page, 'Approvals history')).toEqual([]);
    await shoot(page, 'approvals-history');

    expect(received).toHaveLength(1);
    expect(JSON.stringify(received[0]!.event)).toContain('AB12');
    expect(JSON.stringify(received[0]!.event)).toContain('user-ada');
  } finally {
    await context.close();
  }
});
