// SQL of data-subject requests. Everything runs in the tenant's transaction (row-level security on), so a
// subject is only ever looked for among the tenant's own rows.
import type { DataSubject } from '@parley/protocol';
import type { ConversationRow } from '../conversations/service.js';
import type { Tx } from '../db/types.js';

/** The subject's conversations: a visitor's by reference, a verified user's by subject. */
export async function subjectConversations(tx: Tx, s: DataSubject): Promise<(ConversationRow & { origin: string | null; updated_at: Date })[]> {
  const column = s.type === 'visitor' ? 'visitor_id' : 'identity_subject';
  const { rows } = await tx.query<ConversationRow & { origin: string | null; updated_at: Date }>(
    `SELECT * FROM conversations WHERE ${column} = $1 ORDER BY created_at, id`,
    [s.id],
  );
  return rows;
}

export async function conversationContent(tx: Tx, ids: string[]) {
  const [messages, handoffs, ratings, actions] = await Promise.all([
    tx.query<{ conversation_id: string; seq: number; role: string; text: string; created_at: Date }>(
      'SELECT conversation_id, seq, role, text, created_at FROM messages WHERE conversation_id = ANY($1) ORDER BY conversation_id, seq',
      [ids],
    ),
    tx.query<{ conversation_id: string; status: string; reason: string | null; created_at: Date; resolved_at: Date | null }>(
      'SELECT conversation_id, status, reason, created_at, resolved_at FROM handoffs WHERE conversation_id = ANY($1) ORDER BY created_at',
      [ids],
    ),
    tx.query<{ conversation_id: string; score: number; comment: string | null; created_at: Date }>(
      'SELECT conversation_id, score, comment, created_at FROM csat_responses WHERE conversation_id = ANY($1) ORDER BY created_at',
      [ids],
    ),
    tx.query<{
      conversation_id: string;
      action: string;
      arguments: Record<string, unknown>;
      reason: string | null;
      status: string;
      created_at: Date;
      result_summary: string | null;
      error: string | null;
    }>(
      `SELECT p.conversation_id, a.name AS action, p.arguments, p.reason, p.status, p.created_at, p.result_summary, p.error
         FROM approval_proposals p JOIN actions a ON a.tenant_id = p.tenant_id AND a.id = p.action_id
        WHERE p.conversation_id = ANY($1) ORDER BY p.created_at, p.id`,
      [ids],
    ),
  ]);
  return { messages: messages.rows, handoffs: handoffs.rows, ratings: ratings.rows, actions: actions.rows };
}

export async function visitorRecords(tx: Tx, refs: string[]) {
  const { rows } = await tx.query<{ id: string; created_at: Date; last_seen_at: Date }>(
    'SELECT id, created_at, last_seen_at FROM visitors WHERE id = ANY($1) ORDER BY created_at',
    [refs],
  );
  return rows;
}

export async function sealedProfile(tx: Tx, subject: string): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ profile: Uint8Array }>('SELECT profile FROM verified_visitors WHERE subject = $1', [subject]);
  return rows[0]?.profile ?? null;
}

/** Deletes the subject's data; counts by kind (cascaded rows counted before they go). */
export async function eraseSubject(tx: Tx, s: DataSubject, conversationIds: string[], visitorRefs: string[]) {
  const count = async (sql: string, params: unknown[]) => (await tx.query<{ n: number }>(sql, params)).rows[0]!.n;
  const messages = await count('SELECT count(*)::int AS n FROM messages WHERE conversation_id = ANY($1)', [conversationIds]);
  const vaultEntries = await count('SELECT count(*)::int AS n FROM pii_vault WHERE conversation_id = ANY($1)', [conversationIds]);
  // Answers still owed in these conversations are dropped with them (no foreign key carries them away).
  await tx.query('DELETE FROM pending_answers WHERE conversation_id = ANY($1)', [conversationIds]);
  const conversations = (await tx.query('DELETE FROM conversations WHERE id = ANY($1)', [conversationIds])).rowCount;
  const sessions = (
    await tx.query('DELETE FROM widget_refresh_tokens WHERE visitor_id = ANY($1) OR identity_subject = $2', [
      visitorRefs,
      s.type === 'user' ? s.id : null,
    ])
  ).rowCount;
  // A visitor record goes once none of its conversations is left (a user's browser may also hold
  // conversations that were never signed in, which are not this request's to erase).
  const visitors = (
    await tx.query(
      `DELETE FROM visitors v WHERE v.id = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = v.tenant_id AND c.visitor_id = v.id)`,
      [visitorRefs],
    )
  ).rowCount;
  const profiles = s.type === 'user' ? (await tx.query('DELETE FROM verified_visitors WHERE subject = $1', [s.id])).rowCount : 0;
  // Every event about these conversations (its conversation is stored as it is written, from where the
  // catalog's type names it): messages and ratings carry the person's words; the conversation, handoff
  // and approval events what they said and when, by id.
  const webhookEvents = (await tx.query('DELETE FROM webhook_events WHERE conversation_id = ANY($1)', [conversationIds])).rowCount;
  return { conversations, messages, vaultEntries, profiles, visitors, sessions, webhookEvents };
}
