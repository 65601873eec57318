// A message and its feed event are stored by one statement: what is published at once, what a stream
// replays later (the stored event) and what the conversation lists must be the same message.
import { WEBHOOK_EVENTS } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Tx } from '../db/types.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { appendMessage, createConversation, eventsAfter, listMessages, type NewMessage } from './service.js';

let t: TestApp;
let a: CreatedTenant;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant Events', ['events.example']);
  // Every message also raises message.created, written by the statement that stores the message.
  const res = await call(t.url, 'POST', '/v1/admin/webhooks/endpoints', {
    key: a.secretKey,
    body: { url: 'https://hooks.events.example/parley', events: ['message.created'] },
  });
  expect(res.status, res.text).toBe(201);
});
afterAll(() => t.close());

const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => t.runtime.db.withTenant(a.tenant.id, { requestId: null }, fn);

/** The conversation's stored message.created events: id, body and the conversation stored beside it. */
const webhookEvents = (conversationId: string) =>
  inTenant(async (tx) => {
    const { rows } = await tx.query<{ id: string; body: string; conversation_id: string }>(
      "SELECT id, body, conversation_id FROM webhook_events WHERE type = 'message.created' AND body::jsonb #>> '{data,conversationId}' = $1",
      [conversationId],
    );
    return rows;
  });

describe('a message and its events', () => {
  test('the event published, the event stored, the webhook event and the message listed agree, to the confidence and the millisecond', async () => {
    const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-1', origin: null, subject: null }));
    const base = { tenantId: a.tenant.id, conversationId: conv.id };
    const sent: NewMessage[] = [
      { ...base, role: 'visitor', text: 'Where is my parcel?', clientMessageId: 'c-1' },
      // A confidence a real cannot hold exactly: stored and read back rounded.
      {
        ...base,
        role: 'assistant',
        text: 'Tracking shows it [1].',
        confidence: 0.87341234567,
        citations: [{ title: 'Tracking', url: null, chunkId: '00000000-0000-4000-8000-000000000001' }],
      },
      { ...base, role: 'agent', text: 'Let me check.', author: { id: 'support-bot', name: null } },
      { ...base, role: 'note', text: 'Customer called twice.', author: { id: 'support-bot', name: null } },
    ];
    const published = [];
    for (const m of sent) published.push(await inTenant((tx) => appendMessage(tx, m)));
    const [stored, listed] = await inTenant(async (tx) => [await eventsAfter(tx, conv.id, 0), await listMessages(tx, conv.id)] as const);

    expect(stored.map((e) => [e.type, e.audience])).toEqual([
      ['message', 'all'],
      ['message', 'all'],
      ['message', 'all'],
      ['note', 'agents'],
    ]);
    expect(published[1]!.message.confidence).not.toBe(0.87341234567);
    for (const [i, p] of published.entries()) {
      expect(p.duplicate).toBe(false);
      expect(p.event!.id).toBe(stored[i]!.id);
      expect(p.event!.type).toBe(stored[i]!.type);
      expect(p.event!.createdAt!.getTime()).toBe(stored[i]!.createdAt!.getTime());
      // JSON both ways: what a stream sends of each.
      expect(JSON.parse(JSON.stringify(p.event!.payload))).toEqual(stored[i]!.payload);
      const inList = listed.find((l) => l.id === p.message.id);
      // A note is for agents: in the feed, never in the list.
      if (p.message.role === 'note') {
        expect(inList).toBeUndefined();
        continue;
      }
      expect(JSON.parse(JSON.stringify(p.message))).toEqual(JSON.parse(JSON.stringify(inList)));
      expect(p.message.createdAt).toBe(inList!.createdAt);
    }

    // One webhook event per message but the note, the same message as listed, in a body as any event's.
    const hooks = await webhookEvents(conv.id);
    expect(hooks).toHaveLength(3);
    for (const h of hooks) {
      const body = JSON.parse(h.body);
      expect(JSON.stringify(body)).toBe(h.body);
      expect(Object.keys(body)).toEqual(['id', 'type', 'createdAt', 'tenantId', 'data']);
      expect(body).toMatchObject({ id: h.id, type: 'message.created', tenantId: a.tenant.id, data: { conversationId: conv.id } });
      // As every event's id (outbox.ts): 16 bytes' worth, base64url; and what the catalog promises of its data.
      expect(h.id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
      expect(WEBHOOK_EVENTS['message.created'].data.safeParse(body.data).success).toBe(true);
      expect(body.createdAt).toBe(body.data.message.createdAt);
      expect(h.conversation_id).toBe(conv.id);
      const inList = listed.find((l) => l.id === body.data.message.id);
      expect(body.data.message).toEqual(JSON.parse(JSON.stringify(inList)));
    }
    expect(hooks.map((h) => JSON.parse(h.body).data.message.role).sort()).toEqual(['agent', 'assistant', 'visitor']);
  });

  test("a message whose text reads like an event's time keeps its text", async () => {
    const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-3', origin: null, subject: null }));
    const text = 'Quoting: "createdAt":"1970-01-01T00:00:00.000Z" and {"createdAt":"1970-01-01T00:00:00.000Z"}';
    const sent = await inTenant((tx) => appendMessage(tx, { tenantId: a.tenant.id, conversationId: conv.id, role: 'visitor', text }));
    const [hook] = await webhookEvents(conv.id);
    expect(JSON.parse(hook!.body).data.message).toMatchObject({ text, createdAt: sent.message.createdAt });
  });

  test('a retried send returns the stored message and stores no second event', async () => {
    const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-2', origin: null, subject: null }));
    const m: NewMessage = { tenantId: a.tenant.id, conversationId: conv.id, role: 'visitor', text: 'Hello?', clientMessageId: 'again' };
    const first = await inTenant((tx) => appendMessage(tx, m));
    const retry = await inTenant((tx) => appendMessage(tx, m));
    expect(retry).toEqual({ message: first.message, event: null, duplicate: true });
    expect(await inTenant((tx) => eventsAfter(tx, conv.id, 0))).toHaveLength(1);
    expect(await webhookEvents(conv.id)).toHaveLength(1);
  });
});
