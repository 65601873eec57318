// GET /v1/admin/conversations: every conversation of the tenant, answered or handed off, searchable by
// the references a support team is given (a widget visitor's v_…, an API userRef, a verified user id)
// and by words; paged without gaps or repeats. With the attacks: another tenant, a key without the
// capability, a forged cursor, a LIKE pattern.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const ORIGIN = 'https://help.a.example';
const SHIPPING =
  '# Shipping\n\n## Shipping to Norway\n\nWe ship the lavender soap to Norway within 4 business days.\n\n## Changing your plan\n\nYou can change your plan mid-month; the difference is prorated.';
const list = (query = '', key = a.secretKey) => call(t.url, 'GET', `/v1/admin/conversations${query}`, { key });
const ids = (res: { body: { conversations: { id: string }[] } }) => res.body.conversations.map((c) => c.id);

let widgetId: string;
let widgetRef: string;
let widgetVisitor: Visitor;
let apiId: string;
let handedOffId: string;
let otherTenantId: string;

async function widgetConversation(tenant: CreatedTenant, origin: string, text: string): Promise<{ id: string; ref: string; v: Visitor }> {
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  expect((await v.call('POST', `/conversations/${id}/messages`, { text, clientMessageId: crypto.randomUUID() })).status).toBe(200);
  const ref = (await call(t.url, 'GET', `/v1/admin/conversations/${id}`, { key: tenant.secretKey })).body.conversation.visitorRef as string;
  return { id, ref, v };
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  for (const tenant of [a, b]) {
    const source = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key: tenant.secretKey,
      body: { kind: 'markdown', content: SHIPPING, externalId: 'shipping' },
    });
    expect(source.status).toBe(201);
  }
  ({ id: widgetId, ref: widgetRef, v: widgetVisitor } = await widgetConversation(a, ORIGIN, 'Do you ship the lavender soap to Norway?'));
  const api = await call(t.url, 'POST', '/v1/answers', {
    key: a.secretKey,
    body: { question: 'Can I change my plan mid-month?', userRef: 'user-4711' },
  });
  expect(api.status).toBe(200);
  apiId = api.body.conversationId;
  const h = await widgetConversation(a, ORIGIN, 'I want to talk to a person about 100% of my order');
  handedOffId = h.id;
  expect((await h.v.call('POST', `/conversations/${handedOffId}/handoff`, {})).status).toBe(201);
  otherTenantId = (await widgetConversation(b, 'https://b.example', 'Do you ship the lavender soap to Norway?')).id;
});
afterAll(() => t.close());

describe('GET /v1/admin/conversations', () => {
  test("lists every conversation of the tenant, most recently active first, and none of another tenant's", async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([handedOffId, apiId, widgetId]);
    expect(res.body.nextCursor).toBeNull();
    const api = res.body.conversations.find((c: { id: string }) => c.id === apiId);
    expect(api).toMatchObject({ channel: 'api', visitorRef: 'api:user-4711', verified: false });
    // A verified user id (often an email) is not listed: it is read with the transcript, an audited read.
    expect(api).not.toHaveProperty('identitySubject');
    expect(api.messageCount).toBeGreaterThanOrEqual(2);
    expect(api.lastMessage.role).not.toBe('visitor');
    const handed = res.body.conversations[0];
    expect(handed).toMatchObject({ status: 'handoff', handoffStatus: 'pending', channel: 'widget' });
    expect(res.body.conversations.find((c: { id: string }) => c.id === widgetId).handoffStatus).toBeNull();
    // Tenant B's key sees its own conversation only, whatever it searches for.
    expect(ids(await list('', b.secretKey))).toEqual([otherTenantId]);
    expect(ids(await list(`?q=${encodeURIComponent('lavender soap')}`, b.secretKey))).toEqual([otherTenantId]);
    expect(ids(await list(`?q=${encodeURIComponent(widgetRef)}`, b.secretKey))).toEqual([]);
  });

  test('finds a conversation by the API userRef (with or without api:), the visitor reference, or its words', async () => {
    expect(ids(await list('?q=user-4711'))).toEqual([apiId]);
    expect(ids(await list('?q=api%3Auser-4711'))).toEqual([apiId]);
    expect(ids(await list(`?q=${encodeURIComponent(widgetRef)}`))).toEqual([widgetId]);
    expect(ids(await list(`?q=${encodeURIComponent('LAVENDER soap')}`))).toEqual([widgetId]);
    // A LIKE wildcard is a character, not a pattern: '%' finds the message that says "100%", not everything.
    expect(ids(await list('?q=%25'))).toEqual([handedOffId]);
    expect(ids(await list('?q=_'))).toEqual([]);
  });

  test('filters by status and channel', async () => {
    expect(ids(await list('?status=handoff'))).toEqual([handedOffId]);
    expect(ids(await list('?channel=api'))).toEqual([apiId]);
    expect(ids(await list('?channel=email'))).toEqual([]);
  });

  test('pages by its cursor with none repeated; a conversation active meanwhile moves to the top of a new list', async () => {
    const first = await list('?limit=1');
    expect(ids(first)).toEqual([handedOffId]);
    const second = await list(`?limit=1&cursor=${first.body.nextCursor}`);
    expect(ids(second)).toEqual([apiId]);
    expect(second.body.nextCursor).toEqual(expect.any(String));
    // The visitor writes again: their conversation is now the most recent, above the page already read.
    const sent = await widgetVisitor.call('POST', `/conversations/${widgetId}/messages`, { text: 'Thanks!', clientMessageId: crypto.randomUUID() });
    expect(sent.status).toBe(200);
    const third = await list(`?limit=1&cursor=${second.body.nextCursor}`);
    expect(ids(third)).toEqual([]);
    expect(third.body.nextCursor).toBeNull();
    expect(ids(await list())).toEqual([widgetId, handedOffId, apiId]);
  });

  test('refuses a cursor it did not give, an unknown parameter, and a key without conversations:read', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    // Forged positions past what the database's time can hold were a 500 (found by a review).
    for (const query of [
      '?cursor=1',
      '?cursor=9_not-a-uuid',
      `?cursor=99999999999999999999_${uuid}`,
      `?cursor=9223372036854775806_${uuid}`,
      '?limit=0',
      '?limit=101',
      '?status=deleted',
      '?sort=asc',
    ]) {
      const res = await list(query);
      expect(res.status, query).toBe(400);
      expect(res.body.request_id).toEqual(expect.any(String));
    }
    const reader = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'reader', capabilities: ['knowledge:read'] } });
    const refused = await list('', reader.body.secret);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ capability: 'conversations:read' });
    expect((await list('', a.publishableKey)).status).toBe(401);
  });

  test('listing reads no transcript, so it is not audited; opening one is', async () => {
    const actions = async () =>
      (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey })).body.entries.map((e: { action: string }) => e.action);
    const before = (await actions()).filter((x: string) => x === 'conversation.read').length;
    await list();
    expect((await actions()).filter((x: string) => x === 'conversation.read').length).toBe(before);
  });
});
