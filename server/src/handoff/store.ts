// SQL of the agent side: handoffs, transcripts, the vault, ratings and a visitor's left email.
import type { MemberRole } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { escapeLike } from '../db/index.js';
import type { ConversationRow } from '../conversations/service.js';

export interface HandoffListRow {
  id: string;
  conversation_id: string;
  status: string;
  reason: string;
  assigned_to: string | null;
  /** The assignee's name when `assigned_to` is a member of the tenant. */
  assignee_name: string | null;
  created_at: Date;
  updated_at: Date;
  verified: boolean;
  /** The visitor's pseudonymous reference, never a credential. */
  visitor_ref: string;
}

/** The tenant's handoffs, newest first, optionally of one status. */
export async function listHandoffs(tx: Tx, status: string | null, limit: number): Promise<HandoffListRow[]> {
  const { rows } = await tx.query<HandoffListRow>(
    `SELECT h.id, h.conversation_id, h.status, h.reason, h.assigned_to, m.display_name AS assignee_name, h.created_at, h.updated_at, c.verified, c.visitor_id AS visitor_ref
       FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
       LEFT JOIN members m ON m.tenant_id = h.tenant_id AND m.id::text = h.assigned_to
      WHERE ($1::text IS NULL OR h.status = $1) ORDER BY h.created_at DESC LIMIT $2`,
    [status, limit],
  );
  return rows;
}

export interface ConversationListRow {
  id: string;
  status: 'open' | 'handoff' | 'closed';
  channel: 'widget' | 'api' | 'email';
  visitor_id: string;
  verified: boolean;
  created_at: Date;
  updated_at: Date;
  /** updated_at in microseconds since the epoch (exact, unlike a Date): the page's position. */
  position: string;
  message_count: number;
  last_role: 'visitor' | 'assistant' | 'agent' | 'system' | null;
  last_text: string | null;
  last_at: Date | null;
  handoff_status: 'pending' | 'assigned' | 'resolved' | null;
}

/**
 * The tenant's conversations, most recently active first, after `after` (a row's position and id). `q`
 * matches a visitor reference, an API userRef, a verified user id, or stored (redacted) text, notes included.
 * No index serves the order: one on updated_at would take every stored message's update of its
 * conversation off its page (hot-update.test), so the tenant's rows are sorted, as a search scans them.
 */
export async function listConversations(
  tx: Tx,
  p: { q: string | null; status: string | null; channel: string | null; after: { position: string; id: string } | null; limit: number },
): Promise<ConversationListRow[]> {
  // The page first (the tenant's rows filtered and sorted), then each row's details for that page only.
  const { rows } = await tx.query<ConversationListRow>(
    `WITH page AS (
       SELECT c.id, c.status, c.channel, c.visitor_id, c.verified, c.created_at, c.updated_at
         FROM conversations c
        WHERE ($1::text IS NULL OR c.status = $1) AND ($2::text IS NULL OR c.channel = $2)
          AND ($3::text IS NULL OR c.visitor_id = $3 OR c.visitor_id = 'api:' || $3 OR c.identity_subject = $3
               OR EXISTS (SELECT 1 FROM messages g WHERE g.conversation_id = c.id AND g.text ILIKE '%' || $4 || '%'))
          AND ($5::bigint IS NULL OR (c.updated_at, c.id) < ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::uuid))
        ORDER BY c.updated_at DESC, c.id DESC LIMIT $7
     )
     SELECT c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS position,
            (SELECT count(*)::int FROM messages g WHERE g.conversation_id = c.id AND g.role <> 'note') AS message_count,
            lm.role AS last_role, lm.text AS last_text, lm.created_at AS last_at,
            (SELECT h.status FROM handoffs h WHERE h.conversation_id = c.id ORDER BY h.created_at DESC, h.id LIMIT 1) AS handoff_status
       FROM page c
       LEFT JOIN LATERAL (SELECT g.role, g.text, g.created_at FROM messages g
                           WHERE g.conversation_id = c.id AND g.role <> 'note' ORDER BY g.seq DESC LIMIT 1) lm ON true
      ORDER BY c.updated_at DESC, c.id DESC`,
    [p.status, p.channel, p.q, p.q === null ? null : escapeLike(p.q), p.after?.position ?? null, p.after?.id ?? null, p.limit],
  );
  return rows;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The display name of an active member of the tenant, or null when `id` is none. */
export async function memberName(tx: Tx, id: string): Promise<string | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await tx.query<{ display_name: string }>("SELECT display_name FROM members WHERE id = $1 AND status = 'active'", [id]);
  return rows[0]?.display_name ?? null;
}

/** An active member of the tenant by id (name and role), or null when `id` is none. */
export async function activeMember(tx: Tx, id: string): Promise<{ display_name: string; role: MemberRole } | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await tx.query<{ display_name: string; role: MemberRole }>(
    "SELECT display_name, role FROM members WHERE id = $1 AND status = 'active'",
    [id],
  );
  return rows[0] ?? null;
}

/** The conversation, for a read (no lock). */
export async function conversationById(tx: Tx, id: string): Promise<ConversationRow | null> {
  const { rows } = await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/** The conversation, its row locked for the rest of the transaction (the first lock every change takes). */
export async function lockConversation(tx: Tx, id: string): Promise<ConversationRow | null> {
  const { rows } = await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ?? null;
}

export interface HandoffRow {
  id: string;
  conversation_id: string;
  status: 'pending' | 'assigned' | 'resolved';
  reason: string;
  assigned_to: string | null;
  assignee_name: string | null;
  created_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
  resolutions: number;
}

const HANDOFF_COLUMNS = `h.id, h.conversation_id, h.status, h.reason, h.assigned_to, m.display_name AS assignee_name, h.created_at,
  h.first_response_at, h.resolved_at, h.resolutions`;

/** Which conversation a handoff belongs to (no lock: the caller locks the conversation, then the handoff). */
export async function handoffConversation(tx: Tx, handoffId: string): Promise<string | null> {
  const { rows } = await tx.query<{ conversation_id: string }>('SELECT conversation_id FROM handoffs WHERE id = $1', [handoffId]);
  return rows[0]?.conversation_id ?? null;
}

export async function handoffById(tx: Tx, handoffId: string): Promise<HandoffRow | null> {
  const { rows } = await tx.query<HandoffRow>(
    `SELECT ${HANDOFF_COLUMNS} FROM handoffs h LEFT JOIN members m ON m.tenant_id = h.tenant_id AND m.id::text = h.assigned_to WHERE h.id = $1`,
    [handoffId],
  );
  return rows[0] ?? null;
}

/** The conversation's latest handoff. */
export async function latestHandoff(tx: Tx, conversationId: string): Promise<HandoffRow | null> {
  const { rows } = await tx.query<HandoffRow>(
    `SELECT ${HANDOFF_COLUMNS} FROM handoffs h LEFT JOIN members m ON m.tenant_id = h.tenant_id AND m.id::text = h.assigned_to
      WHERE h.conversation_id = $1 ORDER BY h.created_at DESC, h.id LIMIT 1`,
    [conversationId],
  );
  return rows[0] ?? null;
}

/**
 * Assigns an open handoff (or gives it back: null) only if it is still held by `expected` (null: nobody),
 * as the caller read it; false when someone else holds it now.
 */
export async function assignHandoff(tx: Tx, handoffId: string, assignee: string | null, expected: string | null): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE handoffs SET status = CASE WHEN $2::text IS NULL THEN 'pending' ELSE 'assigned' END, assigned_to = $2,
            assigned_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END, updated_at = now()
      WHERE id = $1 AND status <> 'resolved' AND assigned_to IS NOT DISTINCT FROM $3::text`,
    [handoffId, assignee, expected],
  );
  return rowCount === 1;
}

/** Resolves a handoff and gives the conversation back to the assistant; returns the resolution's number. */
export async function resolveHandoff(tx: Tx, h: { id: string; conversationId: string; by: string }): Promise<number> {
  const { rows } = await tx.query<{ resolutions: number }>(
    `UPDATE handoffs SET status = 'resolved', resolved_at = now(), resolved_by = $2, resolutions = resolutions + 1, updated_at = now()
      WHERE id = $1 RETURNING resolutions`,
    [h.id, h.by],
  );
  // Held past its retention window for this handoff (jobs/retention.ts): from now on it keeps its window as any other.
  await tx.query("UPDATE conversations SET status = 'open', updated_at = now(), retention_held_at = NULL WHERE id = $1", [h.conversationId]);
  return rows[0]!.resolutions;
}

/** A resolved handoff back with its assignee (or the queue); the conversation is with people again. */
export async function reopenHandoff(tx: Tx, h: { id: string; conversationId: string }): Promise<'pending' | 'assigned'> {
  const { rows } = await tx.query<{ status: 'pending' | 'assigned' }>(
    `UPDATE handoffs SET status = CASE WHEN assigned_to IS NULL THEN 'pending' ELSE 'assigned' END, resolved_at = NULL, resolved_by = NULL, updated_at = now()
      WHERE id = $1 RETURNING status`,
    [h.id],
  );
  await tx.query("UPDATE conversations SET status = 'handoff', updated_at = now() WHERE id = $1", [h.conversationId]);
  return rows[0]!.status;
}

/** The first reply of a person to the conversation's open handoff, for response times. */
export async function markFirstResponse(tx: Tx, conversationId: string): Promise<void> {
  await tx.query(
    "UPDATE handoffs SET first_response_at = now(), updated_at = now() WHERE conversation_id = $1 AND status <> 'resolved' AND first_response_at IS NULL",
    [conversationId],
  );
}

export interface TranscriptRow {
  id: string;
  role: string;
  text: string;
  pii: unknown[];
  citations: unknown[];
  confidence: number | null;
  author_id: string | null;
  author_name: string | null;
  created_at: Date;
}

/** Every message of a conversation, notes included, as stored. */
export async function transcript(tx: Tx, conversationId: string): Promise<TranscriptRow[]> {
  const { rows } = await tx.query<TranscriptRow>(
    `SELECT g.id, g.role, g.text, g.pii, g.citations, g.confidence, g.author_id, m.display_name AS author_name, g.created_at
       FROM messages g LEFT JOIN members m ON m.tenant_id = g.tenant_id AND m.id::text = g.author_id
      WHERE g.conversation_id = $1 ORDER BY g.seq`,
    [conversationId],
  );
  return rows;
}

/** The sealed Sign-In Pro profile of a verified subject. */
export async function verifiedProfile(tx: Tx, subject: string): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ profile: Uint8Array }>('SELECT profile FROM verified_visitors WHERE subject = $1', [subject]);
  return rows[0]?.profile ?? null;
}

export async function storeContact(tx: Tx, conversationId: string, sealed: Uint8Array): Promise<Date> {
  const { rows } = await tx.query<{ contact_left_at: Date }>(
    'UPDATE conversations SET contact_email_sealed = $2, contact_left_at = now(), updated_at = now() WHERE id = $1 RETURNING contact_left_at',
    [conversationId, sealed],
  );
  return rows[0]!.contact_left_at;
}

export interface CsatRow {
  handoff_id: string;
  score: number;
  created_at: Date;
}

/** Stores a rating of one resolution; null when that resolution was rated already. */
export async function insertCsat(
  tx: Tx,
  c: {
    id: string;
    tenantId: string;
    conversationId: string;
    handoffId: string;
    resolution: number;
    score: number;
    comment: string | null;
    commentPii: unknown[];
  },
): Promise<CsatRow | null> {
  const { rows } = await tx.query<CsatRow>(
    `INSERT INTO csat_responses (tenant_id, id, conversation_id, handoff_id, resolution, score, comment, comment_pii)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, handoff_id, resolution) DO NOTHING
     RETURNING handoff_id, score, created_at`,
    [c.tenantId, c.id, c.conversationId, c.handoffId, c.resolution, c.score, c.comment, JSON.stringify(c.commentPii)],
  );
  return rows[0] ?? null;
}
