// A visitor's live stream lasts as long as the session token that opened it. The token lives 15 minutes
// and every request checks it, but a stream was checked once, when it opened: a stream opened with a token
// that then expired, or whose visitor was erased or whose refresh family was revoked, kept receiving the
// conversation for as long as the connection held. Now it ends when the token expires, with a reconnect
// hint; the client comes back with a refreshed token, or not at all.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { deriveSeed } from '../crypto/derive.js';
import { ed25519FromSeed } from '../crypto/ed25519.js';
import { signToken } from '../sessions/jwt.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { openStream } from '../test/stream.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://shop.a.example';
let t: TestApp;
let a: CreatedTenant;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Shop A', ['shop.a.example']);
});
afterAll(() => t.close());

/** The same session the server issued, re-signed with the server's key to expire in `seconds`. */
async function shortLived(v: Visitor, seconds: number): Promise<string> {
  const claims = JSON.parse(Buffer.from(v.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const { privateKey } = ed25519FromSeed(deriveSeed(t.config.signingSeed, 'widget-token'));
  const { token } = await signToken(privateKey, {
    issuer: String(claims.iss),
    audience: 'widget',
    subject: String(claims.sub),
    ttlSeconds: seconds,
    claims: { tid: claims.tid, org: claims.org },
  });
  return token;
}

test('a stream ends with a reconnect hint when the token that opened it expires; a refreshed token opens it again', async () => {
  const v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  const headers = (token: string) => ({ origin: ORIGIN, 'x-parley-key': a.publishableKey, authorization: `Bearer ${token}` });
  const stream = await openStream(`${t.url}/v1/widget/conversations/${id}/events`, headers(await shortLived(v, 2)));
  expect(stream.status).toBe(200);
  const hint = await stream.next((e) => e.event === 'reconnect', 8000);
  expect(hint.data).toEqual({ reason: 'session_expired', retryMs: 0 });
  await expect.poll(() => stream.ended, { timeout: 2000 }).toBe(true);
  // The visitor's refreshed session opens it again.
  const refreshed = await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken });
  expect(refreshed.status).toBe(200);
  v.adopt(refreshed.body.session);
  const again = await openStream(`${t.url}/v1/widget/conversations/${id}/events`, headers(v.token));
  expect(again.status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(again.ended).toBe(false);
  again.close();
});
