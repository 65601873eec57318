// The transactional outbox. `enqueueWebhook` is called inside the transaction that makes the change an
// event describes: the event and its deliveries commit (or roll back) with it, so no event is lost to a
// crash after the commit and none is sent for a change that did not happen. After the commit it wakes
// this process's delivery worker; other instances find the rows when they poll.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WEBHOOK_EVENTS, webhookEventConversationId, type WebhookEventType } from '@parley/protocol';
import type { z } from 'zod';
import { afterCommit } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { memoInTx, oncePerTx } from '../db/tx-memo.js';
import { insertEvent, SUBSCRIPTIONS, subscribedTypes } from './store.js';

/** Emits `enqueued` after a transaction that enqueued deliveries commits. */
export const webhookSignal = new EventEmitter().setMaxListeners(0);

export type WebhookData<T extends WebhookEventType> = z.input<(typeof WEBHOOK_EVENTS)[T]['data']>;

/** An event id (the `webhook-id`): unguessable, and the same on every retry and replay. */
const newEventId = () => `msg_${randomBytes(16).toString('base64url')}`;

/**
 * Writes the event and one delivery per enabled endpoint subscribed to `type`, in `tx`. Nothing is
 * written when no endpoint wants it. Returns the event id, or null.
 */
export async function enqueueWebhook<T extends Exclude<WebhookEventType, 'webhook.test'>>(
  tx: Tx,
  tenantId: string,
  type: T,
  data: WebhookData<T>,
): Promise<string | null> {
  return enqueue(tx, tenantId, type, data, null);
}

type Subscriptions = { tenantId: string; types: Set<string> };

/**
 * Reads, for the rest of `tx`, which event types the tenant's endpoints want. Asked for with a
 * transaction's first reads (they go in one message), it spares each event no endpoint wants its own
 * statement, which carries the event's text and so always travels alone. Without it, every event is
 * written by the one statement that also looks the endpoints up, as before.
 */
export function readSubscriptions(tx: Tx, tenantId: string): Promise<unknown> {
  return oncePerTx<Subscriptions>(tx, SUBSCRIPTIONS, async () => ({ tenantId, types: await subscribedTypes(tx, tenantId) }));
}

/** A `webhook.test` event for one endpoint, whatever it subscribes to. */
export async function enqueueTestEvent(tx: Tx, tenantId: string, endpointId: string): Promise<string | null> {
  return enqueue(tx, tenantId, 'webhook.test', { endpointId, message: 'A test event sent from Parley.' }, endpointId);
}

/** Whether an event of `type` would be stored: yes unless the subscriptions read in `tx` (readSubscriptions) show no endpoint wants it. */
export async function mayEnqueue(tx: Tx, tenantId: string, type: WebhookEventType): Promise<boolean> {
  const read = await memoInTx<Subscriptions>(tx, SUBSCRIPTIONS);
  return read?.tenantId !== tenantId || read.types.has(type);
}

async function enqueue(tx: Tx, tenantId: string, type: WebhookEventType, data: unknown, only: string | null): Promise<string | null> {
  if (!only && !(await mayEnqueue(tx, tenantId, type))) return null;
  const id = newEventId();
  // Parsed against the catalog: what is sent is what the docs and the SDK types promise.
  const parsed = WEBHOOK_EVENTS[type].data.parse(data);
  const body = JSON.stringify({ id, type, createdAt: new Date().toISOString(), tenantId, data: parsed });
  // Stored beside the body so a data-subject erasure finds the event by its conversation. Built before
  // knowing whether an endpoint wants it: the lookup and the writes are one statement.
  const conversationId = webhookEventConversationId(type, parsed);
  if (!(await insertEvent(tx, { tenantId, id, type, body, conversationId, only }))) return null;
  wakeAfterCommit(tx);
  return id;
}

/** Wakes this process's delivery worker once `tx` has committed (an event, or a replay). */
export function wakeAfterCommit(tx: Tx): void {
  afterCommit(tx, () => webhookSignal.emit('enqueued'));
}
