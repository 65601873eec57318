// SQL of conversations, their messages and their feed of events, and of the handoff a conversation opens.
import type { Tx } from '../db/types.js';
import { notifyEvent } from './notify.js';
import { MESSAGE_CREATED_CTES } from '../webhooks/store.js';
import { SETTLE_OWED_CTE } from './pending.js';
import type { Audience, Citation, ConversationRow, HandoffReason, HandoffView, Role } from './service.js';

export interface MessageRow {
  id: string;
  role: Role;
  text: string;
  citations: Citation[];
  confidence: number | null;
  author_id?: string | null;
  /** The author's display name when `author_id` is a member of the tenant. */
  author_name?: string | null;
  created_at: Date;
}

export async function insertConversation(
  tx: Tx,
  c: {
    id: string;
    tenantId: string;
    visitorId: string;
    channel: ConversationRow['channel'];
    origin: string | null;
    verified: boolean;
    subject: string | null;
  },
  opts: { last?: boolean } = {},
): Promise<ConversationRow> {
  const sql = `INSERT INTO conversations (id, tenant_id, visitor_id, channel, origin, verified, identity_subject)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`;
  const params = [c.id, c.tenantId, c.visitorId, c.channel, c.origin, c.verified, c.subject];
  const { rows } = await (opts.last ? tx.last<ConversationRow>(sql, params) : tx.query<ConversationRow>(sql, params));
  return rows[0]!;
}

/** Takes the conversation's row lock; whether it exists. */
export async function lockConversationRow(tx: Tx, id: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [id])).rows.length > 0;
}

/** Takes the conversation's row lock and reads its status; null when it is gone. */
export async function lockStatus(tx: Tx, id: string): Promise<{ status: ConversationRow['status'] } | null> {
  const { rows } = await tx.query<{ status: ConversationRow['status'] }>('SELECT status FROM conversations WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ?? null;
}

/**
 * The message stored under the client's id in the conversation, if any (a retried send): as the append
 * statement's duplicate comes back, so a retry is answered the same whichever finds it.
 */
export async function messageByClientId(tx: Tx, tenantId: string, conversationId: string, clientMessageId: string): Promise<MessageRow | null> {
  const { rows } = await tx.query<MessageRow>(
    `SELECT id, role, text, citations, confidence, created_at FROM messages
      WHERE tenant_id = $1 AND conversation_id = $2 AND client_message_id = $3`,
    [tenantId, conversationId, clientMessageId],
  );
  return rows[0] ?? null;
}

/** The conversation by id alone (the caller compares the rest), its row locked with `lock`. */
export async function conversationById(tx: Tx, id: string, lock: boolean): Promise<ConversationRow | null> {
  const { rows } = await tx.query<ConversationRow>(`SELECT * FROM conversations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

/** The conversation's messages but notes, oldest first, with their author's name. */
export async function messagesButNotes(tx: Tx, conversationId: string): Promise<MessageRow[]> {
  const { rows } = await tx.query<MessageRow>(
    `SELECT m.id, m.role, m.text, m.citations, m.confidence, m.author_id, p.display_name AS author_name, m.created_at
       FROM messages m LEFT JOIN members p ON p.tenant_id = m.tenant_id AND p.id::text = m.author_id
      WHERE m.conversation_id = $1 AND m.role <> 'note' ORDER BY m.seq`,
    [conversationId],
  );
  return rows;
}

export interface HistoryRow {
  /** The window's top seq: the one before `messageId`, or the conversation's last. */
  top: number;
  role: Role | null;
  text: string | null;
}

/**
 * The last `limit` messages but notes among the `window` seqs up to the top (before `messageId`, else the
 * conversation's last), oldest first. One row at least (the window's top, with no message when the window
 * holds none) while the conversation (or the message) is there.
 */
export async function historyWindow(tx: Tx, conversationId: string, messageId: string | null, limit: number, window: number): Promise<HistoryRow[]> {
  const top = messageId
    ? 'SELECT seq - 1 AS top FROM messages WHERE conversation_id = $1 AND id = $4'
    : 'SELECT last_seq AS top FROM conversations WHERE id = $1';
  const { rows } = await tx.query<HistoryRow>(
    `WITH b AS MATERIALIZED (${top})
       SELECT b.top, m.role, m.text FROM b LEFT JOIN LATERAL (
         SELECT seq, role, text FROM messages WHERE conversation_id = $1 AND role <> 'note'
            AND seq BETWEEN (SELECT top - $3 + 1 FROM b) AND (SELECT top FROM b)
          ORDER BY seq DESC LIMIT $2) m ON true
        ORDER BY m.seq`,
    messageId ? [conversationId, limit, window, messageId] : [conversationId, limit, window],
  );
  return rows;
}

/** Stores a feed event (the caller holds the conversation's row lock). */
export async function insertEvent(
  tx: Tx,
  e: { tenantId: string; conversationId: string; type: string; payload: unknown; audience: Audience },
): Promise<{ id: number; created_at: Date }> {
  // Other instances hear of it on commit (notify.ts); this one is woken by its caller.
  const { rows } = await tx.query<{ id: number; created_at: Date }>(
    `WITH e AS (INSERT INTO conversation_events (tenant_id, conversation_id, type, payload, audience) VALUES ($1, $2, $3, $4, $5)
                RETURNING id, tenant_id, conversation_id, created_at)
     SELECT id, created_at, ${notifyEvent} FROM e`,
    [e.tenantId, e.conversationId, e.type, JSON.stringify(e.payload), e.audience],
  );
  return rows[0]!;
}

export interface EventRow {
  id: number;
  type: string;
  payload: unknown;
  audience: Audience;
  created_at: Date;
}

/** The id of the conversation's newest event, 0 for none. */
export async function newestEventId(tx: Tx, conversationId: string): Promise<number> {
  const { rows } = await tx.query<{ id: string | null }>('SELECT max(id)::text AS id FROM conversation_events WHERE conversation_id = $1', [
    conversationId,
  ]);
  return Number(rows[0]?.id ?? 0);
}

/** The conversation's next 500 events after `afterId`, in id order. */
export async function eventsAfter(tx: Tx, conversationId: string, afterId: number): Promise<EventRow[]> {
  const { rows } = await tx.query<EventRow>(
    'SELECT id, type, payload, audience, created_at FROM conversation_events WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT 500',
    [conversationId, afterId],
  );
  return rows;
}

export async function resolutionRated(tx: Tx, handoffId: string, resolution: number): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM csat_responses WHERE handoff_id = $1 AND resolution = $2', [handoffId, resolution]);
  return rows.length > 0;
}

/** The values of {@link appendMessage}'s statement, $1 to $13: JSON already encoded. */
export type AppendParams = [
  id: string,
  tenantId: string,
  conversationId: string,
  role: Role,
  text: string,
  pii: string,
  citations: string,
  confidence: number | null,
  authorId: string | null,
  clientMessageId: string | null,
  eventType: string,
  eventPayload: string,
  audience: Audience,
];

export type AppendedRow = MessageRow & { duplicate: boolean; event_id: number | null; event_at: Date | null; webhooks: number };

/** A timestamptz as JSON's ISO 8601 in UTC to the millisecond, as a Date read back prints it. */
const isoMs = (at: string) => `to_char(${at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The statement of {@link appendMessage}: a message already stored under the client's id comes back as it
 * is (a retried send), with no event; else the counter moves, and the message, its feed event and its
 * `message.created` webhook event (when an endpoint wants it: webhooks/store.ts) are stored. The events get
 * the message's time and confidence as stored, as they will be read back. Settling (an answer), it also
 * removes the owed question ($14, pending.ts) and stores only if it did and the conversation is still open:
 * of two claimants, the one whose delete found the row. The message's JSON for its webhook event follows.
 */
const appendStatement = (settling: boolean) =>
  `WITH ${settling ? `${SETTLE_OWED_CTE('$14')},` : ''}
        dup AS (SELECT id, role, text, citations, confidence, created_at FROM messages
                 WHERE tenant_id = $2 AND conversation_id = $3 AND client_message_id = $10),
        next AS (UPDATE conversations SET last_seq = last_seq + 1, updated_at = now(), active_hour = date_trunc('hour', now())
                  WHERE id = $3 AND NOT EXISTS (SELECT 1 FROM dup)${settling ? " AND status = 'open' AND EXISTS (SELECT 1 FROM settled)" : ''}
                  RETURNING last_seq),
        ins AS (INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text, pii, citations, confidence, author_id, client_message_id)
                SELECT $1::uuid, $2::uuid, $3::uuid, next.last_seq, $4::text, $5::text, $6::jsonb, $7::jsonb, $8::real, $9::text, $10::text FROM next
                RETURNING id, role, text, citations, confidence, created_at),
        e AS (INSERT INTO conversation_events (tenant_id, conversation_id, type, payload, audience)
              SELECT $2::uuid, $3::uuid, $11::text,
                     jsonb_set(CASE WHEN ins.confidence IS NULL THEN $12::jsonb ELSE jsonb_set($12::jsonb, '{message,confidence}', to_jsonb(ins.confidence)) END,
                               '{message,createdAt}', to_jsonb(${isoMs('ins.created_at')})),
                     $13::text
              FROM ins RETURNING id, tenant_id, conversation_id, created_at),
        ${MESSAGE_CREATED_CTES({ source: 'ins', message: `$${settling ? 15 : 14}`, at: isoMs('ins.created_at') })}
   SELECT dup.*, true AS duplicate, NULL::bigint AS event_id, NULL::timestamptz AS event_at, NULL AS notified, 0 AS webhooks FROM dup
   UNION ALL SELECT ins.*, false, e.id, e.created_at, ${notifyEvent}, (SELECT count(*)::int FROM outbox_deliveries) FROM ins, e`;
const APPEND = appendStatement(false);
const APPEND_SETTLING = appendStatement(true);

/**
 * Stores a message and its feed event, or finds the one stored under the client's id. Its one row is the
 * message (with its event and how many webhook deliveries it wrote), or the stored one with `duplicate`;
 * none when `settles` (the owed question's message id) was not settled by it. With `last`, it is the
 * transaction's last statement (Tx.last).
 */
export async function appendMessage(
  tx: Tx,
  params: AppendParams,
  opts: { settles?: string; last?: boolean; webhookMessage: string | null },
): Promise<AppendedRow | undefined> {
  const sql = opts.settles ? APPEND_SETTLING : APPEND;
  const values = [...params, ...(opts.settles ? [opts.settles] : []), opts.webhookMessage];
  const { rows } = await (opts.last ? tx.last<AppendedRow>(sql, values) : tx.query<AppendedRow>(sql, values));
  return rows[0];
}

/** The conversation's open handoff (the oldest, should there be more), if any. */
export async function openHandoff(
  tx: Tx,
  conversationId: string,
): Promise<{ id: string; status: HandoffView['status']; reason: HandoffReason; created_at: Date } | null> {
  const { rows } = await tx.query<{ id: string; status: HandoffView['status']; reason: HandoffReason; created_at: Date }>(
    "SELECT id, status, reason, created_at FROM handoffs WHERE conversation_id = $1 AND status <> 'resolved' ORDER BY created_at LIMIT 1",
    [conversationId],
  );
  return rows[0] ?? null;
}

/** Stores a new (pending) handoff; when it was created. */
export async function insertHandoff(
  tx: Tx,
  h: { id: string; tenantId: string; conversationId: string; reason: HandoffReason; detail: Record<string, unknown> },
): Promise<Date> {
  const { rows } = await tx.query<{ created_at: Date }>(
    'INSERT INTO handoffs (id, tenant_id, conversation_id, reason, detail) VALUES ($1, $2, $3, $4, $5) RETURNING created_at',
    [h.id, h.tenantId, h.conversationId, h.reason, JSON.stringify(h.detail)],
  );
  return rows[0]!.created_at;
}

/** The conversation is with people now. */
export async function markHandoff(tx: Tx, conversationId: string): Promise<void> {
  await tx.query("UPDATE conversations SET status = 'handoff', updated_at = now() WHERE id = $1", [conversationId]);
}
