// Conversations and their messages. Messages are stored redacted; the feed of events (messages,
// handoffs, status) is stored and published in the same transaction as the change it describes.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/log.js';
import { oncePerTx } from '../db/tx-memo.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { openState } from '../tenants/hours.js';
import { tenantSettings } from '../tenants/settings.js';
import { type ActionOffer, authorInitial, isMemberId, type MessageNotice } from '@parley/protocol';
import { noticeOf } from './notices.js';
import * as webhooks from '../webhooks/events.js';
import { enqueueWebhook, mayEnqueue, wakeAfterCommit } from '../webhooks/outbox.js';
import type { ConversationEvent } from './bus.js';
import * as store from './store.js';
import type { MessageRow } from './store.js';

/** `note`: an internal note, for agents only (never the visitor, a webhook or the AI history). */
export type Role = 'visitor' | 'assistant' | 'agent' | 'system' | 'note';

export interface Citation {
  title: string;
  url: string | null;
  chunkId: string;
  /** Offered with "Did you mean" rather than quoted. */
  suggested?: boolean;
}

/** Who wrote an `agent` message or a `note`: `id` (member id or a key's label) is for agents only. */
export interface AuthorView {
  id?: string;
  name: string;
  initial: string;
}

export interface MessageView {
  id: string;
  role: Role;
  text: string;
  citations: Citation[];
  confidence?: number;
  author?: AuthorView;
  /** An assistant's handoff notice: its code, for the widget to say in the visitor's language. */
  notice?: MessageNotice;
  /** On the answer's `done` event only: an action the visitor may confirm (ai/action-offers.ts). */
  offer?: ActionOffer;
  createdAt: string;
}

export interface ConversationRow {
  id: string;
  tenant_id: string;
  /** Who the conversation belongs to, as a pseudonymous reference that resumes nothing: a widget
   * visitor's `v_…` (its credential is a secret only its browser holds), `api:<userRef>`, or `api_…` (an
   * API conversation asked for nobody named: a subject of its own). */
  visitor_id: string;
  channel: 'widget' | 'api' | 'email';
  verified: boolean;
  identity_subject: string | null;
  status: 'open' | 'handoff' | 'closed';
  redaction_state: Record<string, unknown>;
  /** The conversation's placeholder key, sealed with the tenant's data key (null until first redaction). */
  redaction_key: Uint8Array | null;
  /** The email the visitor left (outside business hours), sealed with the tenant's data key. */
  contact_email_sealed: Uint8Array | null;
  contact_left_at: Date | null;
  created_at: Date;
}

export const conversationView = (c: ConversationRow) => ({
  id: c.id,
  status: c.status,
  verified: c.verified,
  createdAt: c.created_at.toISOString(),
});

/** What a visitor is shown for someone of the support team with no name to show (a key, a gone member). */
export const SUPPORT_NAME = 'Support';

/** The author of an agent reply or a note: the member's display name, or a key's label. A member id
 * whose member is gone is never shown as a name. */
export function authorView(authorId: string, displayName: string | null | undefined): AuthorView {
  const name = displayName ?? (isMemberId(authorId) ? SUPPORT_NAME : authorId);
  return { id: authorId, name, initial: authorInitial(name) };
}

const notice = (role: Role, text: string) => {
  const code = noticeOf(role, text);
  return code ? { notice: code } : {};
};

/** A number as a `real` column gives it back: the shortest decimal of the nearest float4, as PostgreSQL prints it. */
function asReal(x: number): number {
  const f = Math.fround(x);
  for (let digits = 1; digits < 9; digits++) {
    const y = Number(f.toPrecision(digits));
    if (Math.fround(y) === f) return y;
  }
  return Number(f.toPrecision(9));
}

export const messageView = (m: MessageRow): MessageView => ({
  id: m.id,
  role: m.role,
  text: m.text,
  citations: m.citations,
  ...(m.confidence === null ? {} : { confidence: m.confidence }),
  ...((m.role === 'agent' || m.role === 'note') && m.author_id ? { author: authorView(m.author_id, m.author_name) } : {}),
  ...notice(m.role, m.text),
  createdAt: m.created_at.toISOString(),
});

/** What a visitor may see of a message: no author id (a member id is the tenant's business). */
export function visitorMessage(m: MessageView): MessageView {
  if (!m.author) return m;
  const { id: _id, ...author } = m.author;
  return { ...m, author };
}

/** Events go out only after commit: the caller publishes what this returns. */
export type Pending = ConversationEvent[];

/**
 * A new conversation. With `last`, it is stored with COMMIT (Tx.last) when no webhook endpoint wants
 * `conversation.created` (as read with readSubscriptions): nothing may be asked after it then.
 */
export async function createConversation(
  tx: Tx,
  c: { tenantId: string; visitorId: string; origin: string | null; subject: string | null; channel?: 'widget' | 'api' | 'email'; last?: boolean },
): Promise<ConversationRow> {
  const last = !!c.last && !(await mayEnqueue(tx, c.tenantId, 'conversation.created'));
  const row = await store.insertConversation(
    tx,
    {
      id: randomUUID(),
      tenantId: c.tenantId,
      visitorId: c.visitorId,
      channel: c.channel ?? 'widget',
      origin: c.origin,
      verified: c.subject !== null,
      subject: c.subject,
    },
    { last },
  );
  if (!last) await enqueueWebhook(tx, c.tenantId, 'conversation.created', { conversation: conversationView(row) });
  return row;
}

const lockKey = (id: string) => `conversation-lock:${id}`;
/** Records a row lock taken by a query of its own, so lockConversation asks nothing more. */
const markLocked = (tx: Tx, id: string) => void oncePerTx(tx, lockKey(id), async () => true);

/**
 * Takes the conversation's row lock; whether it exists. A lock is held until the transaction ends, so a
 * second call in the same transaction (a message, then its feed event) asks the database nothing.
 */
export function lockConversation(tx: Tx, id: string): Promise<boolean> {
  return oncePerTx(tx, lockKey(id), () => store.lockConversationRow(tx, id));
}

/** Takes the conversation's row lock (as {@link lockConversation}) and reads its status; null when it is gone. */
export async function lockedStatus(tx: Tx, id: string): Promise<ConversationRow['status'] | null> {
  const row = store.lockStatus(tx, id);
  // Recorded at once, so a statement asked for with this one (appendAnswer) goes with it, not after it.
  void oncePerTx(tx, lockKey(id), async () => (await row.catch(() => null)) !== null);
  return (await row)?.status ?? null;
}

/** A visitor sees a conversation only with the same visitor reference and the same verified identity (or none). */
export async function visitorConversation(tx: Tx, id: string, visitorId: string, subject: string | null, lock = false): Promise<ConversationRow> {
  // Read by id alone and compared here: a statement whose values are all ids may go with others in one
  // message (db/postgres.ts); the visitor's reference and identity are text, which never does.
  const row = await store.conversationById(tx, id, lock);
  if (!row || row.visitor_id !== visitorId || row.identity_subject !== subject) throw new DomainError('not_found', 'No such conversation.');
  if (lock) markLocked(tx, id);
  return row;
}

/**
 * Where a conversation's stream resumes: after the event `given` names (a Last-Event-ID), 0 for all. An id
 * past the conversation's newest event (its page stayed open while old events were swept, or the id is made
 * up) resumes from the newest, so what comes next arrives.
 */
export async function resumeAfter(tx: Tx, conversationId: string, given: number | undefined): Promise<number> {
  return given === undefined ? 0 : Math.min(given, await store.newestEventId(tx, conversationId));
}

/**
 * The messages a visitor (and the assistant's history) may see, oldest first: internal notes never.
 * Authors carry their id; strip it with {@link visitorMessage} before a visitor sees one.
 */
export async function listMessages(tx: Tx, conversationId: string): Promise<MessageView[]> {
  return (await store.messagesButNotes(tx, conversationId)).map(messageView);
}

/**
 * The last `limit` messages before `messageId` (null: the last of the conversation) that the assistant's
 * history holds (internal notes never), oldest first. Read through a window of sequence numbers back from
 * the end (the index's range, whatever plan PostgreSQL picks), so a turn costs the same however long the
 * conversation grew: without it, statistics that expect short conversations made PostgreSQL read every
 * message of a long one and sort them. A window of notes mostly is widened.
 */
export async function messagesBefore(
  tx: Tx,
  conversationId: string,
  messageId: string | null,
  limit: number,
): Promise<{ role: Role; text: string }[]> {
  for (let window = limit * 4; ; window *= 8) {
    // No row: the conversation (or the message) is gone; a window reaching seq 1 has read everything.
    const rows = await store.historyWindow(tx, conversationId, messageId, limit, window);
    const found = rows.flatMap((r) => (r.role === null ? [] : [{ role: r.role, text: r.text! }]));
    if (found.length >= limit || !rows.length || rows[0]!.top <= window) return found;
  }
}

/** Who sees a feed event: everyone in the conversation, or agents only (notes, the visitor's typing, a left email). */
export type Audience = 'all' | 'agents';

/**
 * Stores a feed event. The conversation's row lock is taken first (held by most callers already), so
 * the events of one conversation commit in id order and a per-conversation reader resuming after id N
 * misses nothing.
 */
export async function recordEvent(
  tx: Tx,
  tenantId: string,
  conversationId: string,
  type: string,
  payload: unknown,
  audience: Audience = 'all',
): Promise<ConversationEvent> {
  await lockConversation(tx, conversationId);
  const row = await store.insertEvent(tx, { tenantId, conversationId, type, payload, audience });
  return { id: row.id, tenantId, conversationId, type, payload, audience, createdAt: row.created_at };
}

export async function eventsAfter(tx: Tx, conversationId: string, afterId: number): Promise<ConversationEvent[]> {
  const rows = await store.eventsAfter(tx, conversationId, afterId);
  return rows.map((r) => ({ id: r.id, conversationId, type: r.type, payload: r.payload, audience: r.audience, createdAt: r.created_at }));
}

/** Whether the visitor has rated this resolution of the handoff. */
export async function resolutionRated(tx: Tx, handoffId: string, resolution: number): Promise<boolean> {
  return store.resolutionRated(tx, handoffId, resolution);
}

export interface NewMessage {
  tenantId: string;
  conversationId: string;
  role: Role;
  /** Already redacted (an agent's reply: as typed, with `webhookText`). */
  text: string;
  /**
   * The text its `message.created` webhook event carries when not `text`: an agent's reply, stored as typed,
   * goes out redacted per the PII policy like the visitor's words.
   */
  webhookText?: string;
  pii?: unknown[];
  citations?: Citation[];
  confidence?: number | null;
  /** Of an agent reply or a note: the member id (or a key's label) and the name shown for it. */
  author?: { id: string; name: string | null } | null;
  clientMessageId?: string | null;
  /** Its id, chosen by the caller so that a write held before it can name it (a new one otherwise). */
  id?: string;
  /**
   * Stored as the transaction's last statement, with COMMIT (Tx.last): nothing may be asked after it. Its
   * `message.created` webhook event goes in the same statement.
   */
  last?: boolean;
}

export interface Appended {
  message: MessageView;
  event: ConversationEvent | null;
  duplicate: boolean;
}

/**
 * The message already stored under the client's id (a retried send), or null. Read with the conversation's
 * lock held, it is exact: a concurrent send of that id stores it before or after this transaction, never
 * beside it.
 */
export async function storedByClientId(tx: Tx, tenantId: string, conversationId: string, clientMessageId: string): Promise<MessageView | null> {
  const row = await store.messageByClientId(tx, tenantId, conversationId, clientMessageId);
  return row ? messageView(row) : null;
}

/**
 * Appends a message (idempotent per clientMessageId) and its feed event. The conversation's row lock is
 * taken first, and the next seq comes from its counter: concurrent appends to one conversation are
 * serialised in one order (conversation row, then messages, then events), never max(seq)+1 races.
 */
export async function appendMessage(tx: Tx, m: NewMessage): Promise<Appended> {
  const appended = await append(tx, m);
  if (!appended) throw new DomainError('not_found', 'No such conversation.');
  return appended;
}

/**
 * Appends the answer to the owed question `questionId` (pending.ts), in the statement that settles it: only
 * if that statement removed it and the conversation is still open; else stores nothing and returns null
 * (another claimant settled it, or a person took the conversation).
 */
export function appendAnswer(tx: Tx, m: NewMessage, questionId: string): Promise<Appended | null> {
  return append(tx, m, questionId);
}

async function append(tx: Tx, m: NewMessage, settles?: string): Promise<Appended | null> {
  const id = m.id ?? randomUUID();
  const author = { author_id: m.author?.id ?? null, author_name: m.author?.name ?? null };
  // Its feed event goes in the same statement. Its payload is the message as shown, but for what only the
  // database knows, set there as they will be read back: the time (the transaction's start, as JSON's
  // ISO 8601 in UTC to the millisecond) and the confidence (stored as a real).
  const shown = messageView({
    id,
    role: m.role,
    text: m.text,
    citations: m.citations ?? [],
    confidence: m.confidence ?? null,
    ...author,
    created_at: new Date(0),
  });
  // Its webhook event too: the confidence as a real column gives it back, the time filled in there.
  const sent = m.webhookText === undefined ? shown : { ...shown, text: m.webhookText };
  const webhookMessage = webhooks.messageCreatedJson(m.confidence == null ? sent : { ...sent, confidence: asReal(m.confidence) });
  // With the id its sender chose, the event tells that tab the message is its own (protocol LiveMessageEventData).
  const sender = m.clientMessageId ? { clientMessageId: m.clientMessageId } : {};
  // A note goes to agents only, as its own event type.
  const [type, audience]: [string, Audience] = m.role === 'note' ? ['note', 'agents'] : ['message', 'all'];
  // The lock and the statement go in one message when the lock is not held yet (db/postgres.ts).
  const [locked, stored] = await Promise.all([
    lockConversation(tx, m.conversationId),
    store.appendMessage(
      tx,
      [
        id,
        m.tenantId,
        m.conversationId,
        m.role,
        m.text,
        JSON.stringify(m.pii ?? []),
        JSON.stringify(m.citations ?? []),
        m.confidence ?? null,
        m.author?.id ?? null,
        m.clientMessageId ?? null,
        type,
        JSON.stringify({ message: shown, ...sender }),
        audience,
      ],
      { ...(settles ? { settles } : {}), ...(m.last ? { last: true } : {}), webhookMessage },
    ),
  ]);
  if (!locked || !stored) return null;
  const { duplicate, event_id, event_at, webhooks: deliveries, ...row } = stored;
  if (duplicate) return { message: messageView(row), event: null, duplicate: true };
  const message = messageView({ ...row, ...author });
  if (deliveries) wakeAfterCommit(tx);
  const event: ConversationEvent = {
    id: event_id!,
    tenantId: m.tenantId,
    conversationId: m.conversationId,
    type,
    payload: { message, ...sender },
    audience,
    createdAt: event_at!,
  };
  return { message, event, duplicate: false };
}

export type HandoffReason = 'low_confidence' | 'visitor_request' | 'sensitive_topic' | 'budget' | 'provider_error' | 'identity_required';

export interface HandoffView {
  id: string;
  conversationId: string;
  status: 'pending' | 'assigned' | 'resolved';
  reason: HandoffReason;
  createdAt: string;
}

/** Outside the tenant's business hours: when people answer again (the visitor is told, and may leave an email). */
export interface OutsideHoursNotice {
  outsideHours?: true;
  nextOpenAt?: string | null;
}

export async function outsideHoursNotice(tx: Tx, now = new Date()): Promise<OutsideHoursNotice> {
  const hours = (await tenantSettings(tx)).businessHours;
  if (!hours) return {};
  const state = openState(hours, now);
  return state.open ? {} : { outsideHours: true, nextOpenAt: state.nextOpenAt?.toISOString() ?? null };
}

/** Opens a handoff (or returns the open one) and marks the conversation; audited. */
export async function createHandoff(
  tx: Tx,
  audit: AuditLog,
  h: {
    tenantId: string;
    conversationId: string;
    reason: HandoffReason;
    detail?: Record<string, unknown>;
    requestId: string | null;
    actor: { type: string; id: string | null };
  },
): Promise<{ handoff: HandoffView; event: ConversationEvent | null; notice: OutsideHoursNotice }> {
  await lockConversation(tx, h.conversationId);
  const notice = await outsideHoursNotice(tx);
  const o = await store.openHandoff(tx, h.conversationId);
  if (o) {
    return {
      handoff: { id: o.id, conversationId: h.conversationId, status: o.status, reason: o.reason, createdAt: o.created_at.toISOString() },
      event: null,
      notice,
    };
  }
  const id = randomUUID();
  const createdAt = await store.insertHandoff(tx, {
    id,
    tenantId: h.tenantId,
    conversationId: h.conversationId,
    reason: h.reason,
    detail: h.detail ?? {},
  });
  await store.markHandoff(tx, h.conversationId);
  await audit.append(tx, {
    tenantId: h.tenantId,
    requestId: h.requestId,
    actor: h.actor,
    action: 'handoff.create',
    target: { type: 'conversation', id: h.conversationId },
    metadata: { handoffId: id, reason: h.reason, ...(h.detail ?? {}) },
  });
  const handoff: HandoffView = {
    id,
    conversationId: h.conversationId,
    status: 'pending',
    reason: h.reason,
    createdAt: createdAt.toISOString(),
  };
  await enqueueWebhook(tx, h.tenantId, 'handoff.requested', { handoff });
  const event = await recordEvent(tx, h.tenantId, h.conversationId, 'handoff', { handoff, ...notice });
  return { handoff, event, notice };
}
