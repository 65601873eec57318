// Erasure finds a conversation's webhook events by `webhookEventConversationId`: every place an event's
// `data` schema names a conversation must be one the function reads.
import { expect, test } from 'vitest';
import { z } from 'zod';
import { WEBHOOK_EVENTS, webhookEventConversationId, type WebhookEventType } from './webhooks.js';

type Json = { type?: string; properties?: Record<string, Json>; items?: Json; anyOf?: Json[]; oneOf?: Json[]; allOf?: Json[] };

/** Paths in a JSON schema that name a conversation: a `conversationId`, or a `conversation` object's `id`. */
function conversationPaths(s: Json, at: string[] = []): string[][] {
  const found: string[][] = [];
  for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) found.push(...conversationPaths(sub, at));
  if (s.items) found.push(...conversationPaths(s.items, [...at, '0']));
  for (const [key, sub] of Object.entries(s.properties ?? {})) {
    if (key === 'conversationId') found.push([...at, key]);
    else if (key === 'conversation') found.push([...at, key, 'id']);
    // Any other mention (`conversationIds`, `lastConversation`…) is a shape this test does not know yet.
    else if (/conversation/i.test(key)) throw new Error(`unrecognised conversation reference ${[...at, key].join('.')}`);
    else found.push(...conversationPaths(sub, [...at, key]));
  }
  return found;
}

const nest = (path: string[], value: string): unknown => path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);

test('every event type whose data names a conversation is found by webhookEventConversationId', () => {
  const about: string[] = [];
  for (const [type, e] of Object.entries(WEBHOOK_EVENTS) as [WebhookEventType, (typeof WEBHOOK_EVENTS)[WebhookEventType]][]) {
    const paths = conversationPaths(z.toJSONSchema(e.data, { io: 'output', unrepresentable: 'any' }) as Json);
    if (!paths.length) expect([type, webhookEventConversationId(type, {})]).toEqual([type, null]);
    for (const path of paths) {
      const id = crypto.randomUUID();
      expect([type, path.join('.'), webhookEventConversationId(type, nest(path, id))]).toEqual([type, path.join('.'), id]);
    }
    if (paths.length) about.push(type);
  }
  // The walk sees the shapes it should (a guard against it silently finding nothing).
  expect(about).toEqual(expect.arrayContaining(['conversation.created', 'message.created', 'handoff.resolved', 'csat.submitted', 'action.failed']));
});
