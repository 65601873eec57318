// A refresh token presented twice was copied: its family is revoked. What was copied with it (the browser
// keeps the visitor secret next to the refresh token) must not resume the visitor either, or the thief
// answers the 401 `token-replayed` by starting a fresh session for the same visitor with the `pvs_` secret.
// Detected reuse retires that secret and every session family of the visitor: whoever presents the secret
// afterwards (the thief, and the real visitor too) starts as a new anonymous visitor.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://help.a.example';
let t: TestApp;
let a: CreatedTenant;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
});
afterAll(() => t.close());

/** A browser holding what was copied from `v`'s localStorage: the refresh token and the visitor secret. */
function copyOf(v: Visitor): Visitor {
  const c = new Visitor(t.url, a.publishableKey, ORIGIN);
  c.refreshToken = v.refreshToken;
  c.secret = v.secret;
  return c;
}

test('a replayed refresh token retires the visitor secret: the thief resuming with it is a new visitor who reads nothing', async () => {
  const victim = new Visitor(t.url, a.publishableKey, ORIGIN);
  expect((await victim.start()).status).toBe(200);
  const conversationId = (await victim.call('POST', '/conversations', {})).body.conversation.id as string;
  expect((await victim.call('POST', `/conversations/${conversationId}/handoff`, { reason: 'my order' })).status).toBe(201);
  // Another tab of the victim's site started a session of its own through the secret: a second family.
  const otherTab = new Visitor(t.url, a.publishableKey, ORIGIN);
  otherTab.secret = victim.secret;
  expect((await otherTab.start()).status).toBe(200);
  expect(otherTab.visitorRef).toBe(victim.visitorRef);

  const thief = copyOf(victim);
  // The victim's widget refreshes first; the thief's copy is then a spent token.
  const refreshed = await victim.call('POST', '/session/refresh', { refreshToken: victim.refreshToken });
  expect(refreshed.status).toBe(200);
  victim.adopt(refreshed.body.session);
  const replay = await thief.call('POST', '/session/refresh', { refreshToken: thief.refreshToken });
  expect(replay.status).toBe(401);
  expect(replay.body.type).toBe('/docs/problems/token-replayed');

  // The thief falls back on the secret it copied: a new, empty visitor.
  const resumed = await thief.call('POST', '/session', {}, { 'x-parley-visitor': thief.secret });
  expect(resumed.status).toBe(200);
  expect(resumed.body.session.visitorRef).not.toBe(victim.visitorRef);
  expect(resumed.body.session.visitorSecret).toMatch(/^pvs_/);
  thief.adopt(resumed.body.session);
  expect((await thief.call('GET', `/conversations/${conversationId}`)).status).toBe(404);
  // The older spelling of the same request (config with ?session=1) resumes nothing either.
  const old = await thief.call('GET', '/config?session=1', undefined, { 'x-parley-visitor': victim.secret });
  expect(old.body.session.visitorRef).not.toBe(victim.visitorRef);

  // Every session family of that visitor is revoked, the victim's other tab too: nothing refreshes into it.
  expect((await victim.call('POST', '/session/refresh', { refreshToken: victim.refreshToken })).status).toBe(401);
  expect((await otherTab.call('POST', '/session/refresh', { refreshToken: otherTab.refreshToken })).status).toBe(401);
  // The trade-off: the real visitor, resuming with its secret as the widget does on that 401, starts afresh too.
  const victimAgain = await victim.call('POST', '/session', {}, { 'x-parley-visitor': victim.secret });
  expect(victimAgain.body.session.visitorRef).not.toBe(victim.visitorRef);
});
