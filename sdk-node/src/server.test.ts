// The SDK against a real Parley server: sessions it signs are accepted once, the admin client works
// end to end, and API errors arrive as typed problems.
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp, Visitor } from '@parley/server/testing';
import { Parley } from './client.js';
import { ParleyApiError } from './errors.js';
import { identityAudience, signUserSession } from './session.js';

let t: TestApp;
let parley: Parley;
let pk: string;
const ORIGIN = 'https://app.acme.example';

beforeAll(async () => {
  t = await startTestApp();
  const tenant = await t.tenant('Acme', ['app.acme.example']);
  pk = tenant.publishableKey;
  parley = new Parley({ secretKey: tenant.secretKey, baseUrl: t.url });
});
afterAll(() => t.close());

describe('@parley/node against the server', () => {
  test('a session signed with a shared secret verifies the visitor, once', async () => {
    const { secret } = await parley.identity.createSecret();
    const token = await signUserSession({ id: 'cust-7', name: 'Lin' }, { secret });
    const v = new Visitor(t.url, pk, ORIGIN);
    await v.start();
    const ok = await v.call('POST', '/identify', { token });
    expect(ok.body.visitor).toMatchObject({ verified: true, id: 'cust-7', name: 'Lin' });
    expect((await v.call('POST', '/identify', { token })).status).toBe(401);
  });

  test('a session signed with the host’s own private key (only the public key registered), for its tenant alone', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'acme-2026' };
    await parley.identity.configure({ mode: 'optional', publicKeys: [jwk] });
    // The tenant to sign for, as the admin API (and the console's Sign-In Pro page) shows it.
    const { tenantId, audience } = await parley.identity.get();
    expect(audience).toBe(identityAudience(tenantId));
    const token = await signUserSession({ id: 'cust-8' }, { privateKey, kid: 'acme-2026', tenant: tenantId });
    const v = new Visitor(t.url, pk, ORIGIN);
    await v.start();
    expect((await v.call('POST', '/identify', { token })).body.visitor).toMatchObject({ verified: true, id: 'cust-8' });

    // The company's staging tenant registers the same public key: a token signed for production is refused there.
    const staging = await t.tenant('Acme staging', ['app.acme.example']);
    await new Parley({ secretKey: staging.secretKey, baseUrl: t.url }).identity.configure({ mode: 'optional', publicKeys: [jwk] });
    const elsewhere = new Visitor(t.url, staging.publishableKey, ORIGIN);
    await elsewhere.start();
    const refused = await elsewhere.call('POST', '/identify', {
      token: await signUserSession({ id: 'cust-8' }, { privateKey, kid: 'acme-2026', tenant: tenantId }),
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ type: '/docs/problems/token-invalid', detail: expect.stringMatching(/another workspace/) });
  });

  test('the admin client: domains, keys, knowledge and audit, with problems as ParleyApiError', async () => {
    const d = await parley.domains.add('*.acme.example');
    expect((await parley.domains.list()).map((x) => x.pattern)).toContain('*.acme.example');
    await parley.domains.remove(d.id);
    const created = await parley.apiKeys.create({ name: 'reader', capabilities: ['audit:read'] });
    expect(created.secret).toMatch(/^sk_test_/);
    await parley.knowledge.add({
      kind: 'markdown',
      content: '# Billing\n\n## Invoices\nInvoices are emailed on the first day of each month.',
      externalId: 'billing',
    });
    expect((await parley.knowledge.search('when are invoices sent'))[0]!.title).toContain('Invoices');
    expect(await parley.knowledge.usage()).toMatchObject({ usage: { sources: 1, chunks: 1 }, limits: { sources: expect.any(Number) } });
    const answer = await parley.ask({ question: 'When are invoices emailed?' });
    expect(answer.message.text).toContain('first day of each month');
    expect(answer.message.citations[0]!.title).toContain('Invoices');
    const cp = await parley.audit.checkpoint();
    expect(cp.size).toBeGreaterThan(0);
    const err = await parley.domains.add('not a domain/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyApiError);
    expect(err).toMatchObject({ status: 400, type: '/docs/problems/validation-failed', requestId: expect.stringMatching(/^req_/) });
    const reader = new Parley({ secretKey: created.secret, baseUrl: t.url });
    await expect(reader.domains.list()).rejects.toMatchObject({ status: 403, type: '/docs/problems/missing-capability', capability: 'domains:read' });
  });

  test('conversations: what you asked for a userRef is found by it; a taken handoff is given back to the queue', async () => {
    const answered = await parley.ask({ question: 'When are invoices emailed?', userRef: 'acct-981' });
    const found = await parley.conversations.list({ q: 'acct-981' });
    expect(found.conversations.map((c) => c.id)).toEqual([answered.conversationId]);
    expect(found.conversations[0]).toMatchObject({ channel: 'api', visitorRef: 'api:acct-981', handoffStatus: null });
    const transcript = await parley.conversations.get(answered.conversationId);
    expect(transcript.messages.map((m) => m.role)).toEqual(['visitor', 'assistant']);

    const unanswerable = await parley.ask({ question: 'Can you waive my overdue fee as a favour?', userRef: 'acct-982' });
    const handoffId = unanswerable.handoff!.id;
    await parley.handoffs.update(handoffId, 'assigned', 'Robin', { expectedAssignee: null });
    // Taking it over on the belief that nobody holds it is refused, and says who does.
    const taken = await parley.handoffs.update(handoffId, 'assigned', 'Robin', { expectedAssignee: null }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ParleyApiError);
    expect(taken).toMatchObject({ status: 409, type: '/docs/problems/conflict', assignedTo: 'Robin' });
    await parley.handoffs.update(handoffId, 'pending', undefined, { expectedAssignee: 'Robin' });
    expect((await parley.handoffs.list('pending')).find((h) => h.id === handoffId)).toMatchObject({ assignedTo: null });
    expect((await parley.conversations.list({ status: 'handoff', channel: 'api' })).conversations.map((c) => c.visitorRef)).toContain('api:acct-982');
  });
});
