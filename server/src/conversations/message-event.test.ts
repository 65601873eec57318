// A message and its feed event are stored by one statement: what is published at once, what a stream
// replays later (the stored event) and what the conversation lists must be the same message.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Tx } from '../db/types.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { appendMessage, createConversation, eventsAfter, listMessages, type NewMessage } from './service.js';

let t: TestApp;
let a: CreatedTenant;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant Events', ['events.example']);
});
afterAll(() => t.close());

const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => t.runtime.db.withTenant(a.tenant.id, { requestId: null }, fn);

describe('a message and its event', () => {
  test('the event published, the event stored and the message listed agree, to the confidence and the millisecond', async () => {
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
  });

  test('a retried send returns the stored message and stores no second event', async () => {
    const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-2', origin: null, subject: null }));
    const m: NewMessage = { tenantId: a.tenant.id, conversationId: conv.id, role: 'visitor', text: 'Hello?', clientMessageId: 'again' };
    const first = await inTenant((tx) => appendMessage(tx, m));
    const retry = await inTenant((tx) => appendMessage(tx, m));
    expect(retry).toEqual({ message: first.message, event: null, duplicate: true });
    expect(await inTenant((tx) => eventsAfter(tx, conv.id, 0))).toHaveLength(1);
  });
});
