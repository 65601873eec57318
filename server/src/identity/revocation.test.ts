// A Sign-In Pro identity lasts no longer than what proved it. Revoking the shared secret a visitor's token
// was signed with, or replacing the public keys or the JWKS URL that verified it, ends the identity of every
// widget session it proved: their refresh families are revoked in the same transaction, so the next refresh
// is a 401 (the widget starts an anonymous session and asks the host page for a new token), and no refresh
// chain renews `vfy` forever. Sessions proved by something still in place carry on.
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { identitySigner, identityToken } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://acme.example';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** The audit entries of `action` in the tenant, oldest first, with their metadata. */
const audited = (tenantId: string, action: string) =>
  t.runtime.db.withOwner(async (tx) => {
    const { rows } = await tx.query<{ metadata: Record<string, unknown> }>(
      'SELECT metadata FROM audit_entries WHERE tenant_id = $1 AND action = $2 ORDER BY id',
      [tenantId, action],
    );
    return rows.map((r) => r.metadata);
  });

/** A visitor verified with `token`, with a verified conversation; its session refreshed once (the chain works). */
async function verifiedVisitor(tenant: CreatedTenant, token: string) {
  const v = new Visitor(t.url, tenant.publishableKey, ORIGIN);
  expect((await v.start()).status).toBe(200);
  const identified = await v.call('POST', '/identify', { token });
  expect(identified.status).toBe(200);
  v.adopt(identified.body.session);
  const conv = await v.call('POST', '/conversations', {});
  expect(conv.body.conversation.verified).toBe(true);
  const refreshed = await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(decodeJwt(refreshed.body.session.token).vfy).toBeTruthy();
  v.adopt(refreshed.body.session);
  return { v, conversationId: conv.body.conversation.id as string };
}

/** The visitor's identity is gone: the refresh is refused, and the anonymous session the widget then starts reaches nothing verified. */
async function expectIdentityEnded(v: Visitor, conversationId: string) {
  const refreshed = await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken });
  expect(refreshed.status).toBe(401);
  expect(refreshed.body.type).toBe('/docs/problems/token-invalid');
  // What the browser SDK does on that 401: a new session for the same visitor, through its secret.
  expect((await v.start()).status).toBe(200);
  expect(decodeJwt(v.token).vfy).toBeUndefined();
  expect((await v.call('GET', `/conversations/${conversationId}`)).status).toBe(404);
  // Its refresh chain carries no identity either.
  const next = await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken });
  expect(next.status).toBe(200);
  expect(decodeJwt(next.body.session.token).vfy).toBeUndefined();
}

async function expectIdentityKept(v: Visitor, conversationId: string) {
  const refreshed = await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(decodeJwt(refreshed.body.session.token).vfy).toBeTruthy();
  v.adopt(refreshed.body.session);
  expect((await v.call('GET', `/conversations/${conversationId}`)).status).toBe(200);
}

describe('a revoked shared secret', () => {
  test('ends the identity of every session it proved, and only those; the audit entry says how many', async () => {
    const acme = await t.tenant('Acme', ['acme.example']);
    const revoked = await identitySigner(t.url, acme.secretKey);
    const kept = await identitySigner(t.url, acme.secretKey);
    const ada = await verifiedVisitor(acme, await revoked('ada'));
    const bob = await verifiedVisitor(acme, await revoked('bob'));
    const cy = await verifiedVisitor(acme, await kept('cy'));

    const secrets = (await call(t.url, 'GET', '/v1/admin/identity', { key: acme.secretKey })).body.secrets as { id: string }[];
    expect((await call(t.url, 'DELETE', `/v1/admin/identity/secrets/${secrets[0]!.id}`, { key: acme.secretKey })).status).toBe(204);

    await expectIdentityEnded(ada.v, ada.conversationId);
    await expectIdentityEnded(bob.v, bob.conversationId);
    await expectIdentityKept(cy.v, cy.conversationId);
    expect(await audited(acme.tenant.id, 'identity.secret_revoke')).toEqual([expect.objectContaining({ sessionsEnded: 2 })]);

    // The host page proves the identity again with a token from a secret still in place.
    const again = await ada.v.call('POST', '/identify', { token: await kept('ada') });
    expect(again.status).toBe(200);
    ada.v.adopt(again.body.session);
    expect((await ada.v.call('GET', `/conversations/${ada.conversationId}`)).status).toBe(200);
  });

  test('a session verified before proofs were kept (migration 115 marks it legacy) ends with any revoked secret', async () => {
    const acme = await t.tenant('Acme legacy', ['acme.example']);
    const sign = await identitySigner(t.url, acme.secretKey);
    const old = await verifiedVisitor(acme, await sign('old-timer'));
    await t.runtime.db.withTenant(acme.tenant.id, { requestId: null }, (tx) =>
      tx.query("UPDATE widget_refresh_tokens SET identity_proof = 'legacy' WHERE identity_subject IS NOT NULL"),
    );
    const other = await call(t.url, 'POST', '/v1/admin/identity/secrets', { key: acme.secretKey });
    expect((await call(t.url, 'DELETE', `/v1/admin/identity/secrets/${other.body.id}`, { key: acme.secretKey })).status).toBe(204);
    await expectIdentityEnded(old.v, old.conversationId);
    expect(await audited(acme.tenant.id, 'identity.secret_revoke')).toEqual([expect.objectContaining({ sessionsEnded: 1 })]);
  });
});

describe('replaced public keys', () => {
  async function keyPair(kid: string) {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid };
    const sign = (tenant: CreatedTenant, sub: string) => identityToken({ alg: 'EdDSA', kid, key: privateKey, tenant: tenant.tenant.id }, sub);
    return { jwk, sign };
  }
  const put = (tenant: CreatedTenant, body: object) => call(t.url, 'PUT', '/v1/admin/identity', { key: tenant.secretKey, body });

  test('a key taken out ends the sessions it proved; a key kept (or a change of mode) ends nothing', async () => {
    const acme = await t.tenant('Acme keys', ['acme.example']);
    const old = await keyPair('old');
    const stays = await keyPair('stays');
    expect((await put(acme, { mode: 'optional', publicKeys: [old.jwk, stays.jwk] })).status).toBe(204);
    const ada = await verifiedVisitor(acme, await old.sign(acme, 'ada'));
    const bea = await verifiedVisitor(acme, await stays.sign(acme, 'bea'));

    // The same keys again, with another mode: nothing that proved anyone is gone.
    expect((await put(acme, { mode: 'required', publicKeys: [stays.jwk, old.jwk] })).status).toBe(204);
    await expectIdentityKept(ada.v, ada.conversationId);

    const fresh = await keyPair('new');
    expect((await put(acme, { mode: 'optional', publicKeys: [stays.jwk, fresh.jwk] })).status).toBe(204);
    await expectIdentityEnded(ada.v, ada.conversationId);
    await expectIdentityKept(bea.v, bea.conversationId);
    const configured = await audited(acme.tenant.id, 'identity.configure');
    expect(configured.map((m) => m.sessionsEnded)).toEqual([0, 0, 1]);
  });

  test('a JWKS URL replaced ends the sessions its keys proved', async () => {
    const acme = await t.tenant('Acme JWKS', ['acme.example']);
    const host = await keyPair('jwks-1');
    const server: Server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [host.jwk] })),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      expect((await put(acme, { mode: 'optional', jwksUrl })).status).toBe(204);
      const ada = await verifiedVisitor(acme, await host.sign(acme, 'ada'));
      // Saved again unchanged (a change of mode): the URL is the same, nothing ends.
      expect((await put(acme, { mode: 'required', jwksUrl })).status).toBe(204);
      await expectIdentityKept(ada.v, ada.conversationId);

      expect((await put(acme, { mode: 'optional', jwksUrl: `${jwksUrl}?v=2` })).status).toBe(204);
      await expectIdentityEnded(ada.v, ada.conversationId);
      expect((await audited(acme.tenant.id, 'identity.configure')).map((m) => m.sessionsEnded)).toEqual([0, 0, 1]);
    } finally {
      server.close();
    }
  });
});
