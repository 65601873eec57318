// The approval rail from the visitor's side, in Chromium: a verified visitor asks the widget for an
// action, is offered it with its inputs, confirms, and sees the outcome the team or time decides:
// declined, expired, failed or done with the endpoint's summary. The tenant's endpoint is local and
// counts its calls. Screenshots of the offer, the wait and the result (light, dark, right-to-left,
// 360 px) are kept when PARLEY_E2E_SHOTS names a directory.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { approvalSweep, call, type ApprovalDeps } from '@parley/server/testing';
import { audit } from './a11y.js';
import { page as hostHtml, world, type World } from './harness.js';

const SHOTS = process.env.PARLEY_E2E_SHOTS;
const shadow = (p: Page, selector: string) => p.locator(`[data-parley] >> css=${selector}`);

let w: World;
let secret: { kid: string; key: Buffer };
let endpoint: Server;
// What the endpoint answers next, and the calls it got.
let answer: { status: number; body: string } = { status: 200, body: '{}' };
let calls = 0;

beforeAll(async () => {
  w = await world();
  const s = (await call(w.app.url, 'POST', '/v1/admin/identity/secrets', { key: w.secretKey })).body;
  secret = { kid: s.kid, key: Buffer.from(s.secret.split('_').slice(2).join('_'), 'base64url') };
  endpoint = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  const created = await call(w.app.url, 'POST', '/v1/admin/actions', {
    key: w.secretKey,
    body: {
      name: 'cancel_order',
      description: 'Cancels an order that has not shipped yet',
      inputSchema: { type: 'object', properties: { orderId: { type: 'string', description: 'Order number' } }, required: ['orderId'] },
      endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/cancel`,
      risk: 'write',
      expiresAfterSeconds: 60,
    },
  });
  expect(created.status, created.text).toBe(201);
});
afterAll(async () => {
  await w?.close();
  endpoint?.closeAllConnections();
  await new Promise<void>((r) => (endpoint ? endpoint.close(() => r()) : r()));
});

async function token(sub: string) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: 'Ada Lovelace' })
    .setProtectedHeader({ alg: 'HS256', kid: secret.kid })
    .setSubject(sub)
    .setAudience('parley:identity')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(crypto.randomUUID())
    .sign(secret.key);
}

/** A verified visitor asks for the action in the widget and is offered it. */
async function offered(sub: string, opts: { locale?: string; viewport?: { width: number; height: number } } = {}) {
  w.allowed.set(hostHtml(w.app.url, w.publishableKey, { attrs: opts.locale ? `data-locale="${opts.locale}"` : '' }));
  const ctx = await w.browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
  const p = await ctx.newPage();
  const problems: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  p.on('pageerror', (e) => problems.push(String(e)));
  // The actions part, fetched once the answer offers an action, not before.
  const parts: string[] = [];
  p.on('request', (r) => void (/\/part-\w+\.[0-9a-f]{12}\.js$/.test(r.url()) && parts.push(new URL(r.url()).pathname)));
  await p.goto(w.allowed.origin);
  await p.waitForFunction(() => (window as unknown as { Parley?: { ready?: boolean } }).Parley?.ready === true);
  await p.evaluate(
    (t) =>
      new Promise<void>((resolve) => {
        const P = (window as unknown as { Parley: (...a: unknown[]) => void }).Parley;
        P('on', 'identify', () => resolve());
        P('identify', { token: t });
      }),
    await token(sub),
  );
  await shadow(p, 'button.l').click();
  await shadow(p, '.v').waitFor();
  expect(parts).toEqual([]);
  await shadow(p, 'textarea').fill('Can I cancel my order?');
  await shadow(p, 'textarea').press('Enter');
  await shadow(p, 'form.act').waitFor();
  expect(parts).toEqual([expect.stringMatching(/^\/part-actions\.[0-9a-f]{12}\.js$/)]);
  await p.mouse.move(0, 0);
  return { p, ctx, problems, parts };
}

/** Confirms the offer with an order number; the widget shows the wait. Returns the proposal's id. */
async function confirm(p: Page, orderId: string, confirmText = 'Confirm'): Promise<string> {
  await shadow(p, 'form.act input[name=orderId]').fill(orderId);
  await shadow(p, 'form.act button[type=submit]').filter({ hasText: confirmText }).click();
  await shadow(p, '.act.pending').waitFor();
  const pending = (await call(w.app.url, 'GET', '/v1/admin/approvals?status=pending', { key: w.secretKey })).body.proposals as {
    id: string;
    arguments: { orderId: string };
  }[];
  return pending.find((x) => x.arguments.orderId === orderId)!.id;
}

const decide = async (id: string, decision: 'approve' | 'reject') => {
  const res = await call(w.app.url, 'POST', `/v1/admin/approvals/${id}/${decision}`, { key: w.secretKey, body: {} });
  expect(res.status, res.text).toBe(200);
  return res.body.proposal;
};

/** The state the widget shows for the proposal, once it reads `text`. */
async function shows(p: Page, status: string, text: string) {
  const card = shadow(p, `.act.${status}`);
  await card.waitFor({ timeout: 8_000 });
  expect(await card.innerText()).toContain(text);
  expect(await card.getAttribute('role')).toBe('status');
  return card;
}

async function shoot(p: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: `${SHOTS}/${name}.png` });
}

describe('the visitor sees what became of the action they confirmed', () => {
  test('declined: the agent rejects it; the endpoint is never called', async () => {
    const before = calls;
    const { p, ctx, problems, parts } = await offered('rail-declined');
    expect(await shadow(p, 'form.act p').innerText()).toBe('Cancels an order that has not shipped yet');
    expect(await shadow(p, 'form.act label').innerText()).toBe('Order number');
    const id = await confirm(p, 'D-1');
    expect(await shadow(p, '.act.pending').innerText()).toContain('Waiting for a person to confirm');
    await decide(id, 'reject');
    await shows(p, 'rejected', 'Declined: nothing was done.');
    expect(calls).toBe(before);
    expect(parts).toHaveLength(1);
    expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('expired: nobody decides in time and the sweep expires it; the endpoint is never called', async () => {
    const before = calls;
    const { p, ctx, problems } = await offered('rail-expired');
    const id = await confirm(p, 'E-1');
    const deps = w.app.app.locals.approvals as ApprovalDeps;
    // Before its time the sweep leaves it waiting.
    expect((await approvalSweep(deps)).expired).toBe(0);
    // Time passes: its expiry moves into the past (the transition guard allows no such update, so it is
    // held off for this one write), then the sweep runs as the server's scheduler runs it.
    await w.app.testDb.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE approval_proposals DISABLE TRIGGER approval_proposals_transition');
      await tx.query(`UPDATE approval_proposals SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
      await tx.query('ALTER TABLE approval_proposals ENABLE TRIGGER approval_proposals_transition');
    });
    expect((await approvalSweep(deps)).expired).toBe(1);
    await shows(p, 'expired', 'Expired: nobody confirmed it in time, so nothing was done.');
    expect(calls).toBe(before);
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test('failed: approved, but the endpoint answers 500; the visitor reads a short message, not the error', async () => {
    answer = { status: 500, body: '{"error":"database unavailable at db-7.internal"}' };
    const before = calls;
    const { p, ctx, problems } = await offered('rail-failed');
    const id = await confirm(p, 'F-1');
    expect((await decide(id, 'approve')).status).toBe('failed');
    const card = await shows(p, 'failed', 'It could not be done. A member of our team can help.');
    expect(await card.innerText()).not.toContain('db-7.internal');
    expect(calls).toBe(before + 1);
    expect(problems).toEqual([]);
    await ctx.close();
  });

  test.each([
    ['en', { width: 1280, height: 800 }],
    ['ar', { width: 1280, height: 800 }],
    ['en', { width: 360, height: 740 }],
  ] as const)("done (%s, %j): approved, the endpoint's summary shows as text", async (locale, viewport) => {
    answer = { status: 200, body: '{"cancelled":true,"note":"<img src=x onerror=alert(1)><b>Refund in 5 days</b>"}' };
    const before = calls;
    const { p, ctx, problems } = await offered(`rail-done-${locale}-${viewport.width}`, { locale, viewport });
    const tag = `${locale}-${viewport.width}`;
    const rtl = locale === 'ar';
    if (rtl) expect(await shadow(p, '.p').getAttribute('dir')).toBe('rtl');
    await shoot(p, `offer-${tag}-light`);
    if (viewport.width > 360) {
      await p.emulateMedia({ colorScheme: 'dark' });
      await shoot(p, `offer-${tag}-dark`);
      await p.emulateMedia({ colorScheme: 'light' });
    }
    expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
    const id = await confirm(p, `G-${tag}`, rtl ? 'تأكيد' : 'Confirm');
    await shoot(p, `pending-${tag}-light`);
    await decide(id, 'approve');
    const card = await shows(p, 'executed', rtl ? 'تم.' : 'Done.');
    expect(await card.locator('.sum').innerText()).toContain('<b>Refund in 5 days</b>');
    expect(await card.locator('img, b').count()).toBe(0);
    expect(calls).toBe(before + 1);
    await shoot(p, `done-${tag}-light`);
    if (viewport.width > 360) {
      await p.emulateMedia({ colorScheme: 'dark' });
      await shoot(p, `done-${tag}-dark`);
      expect(await audit(p, { within: '[data-parley]' })).toEqual([]);
    }
    expect(problems).toEqual([]);
    await ctx.close();
  });
});
