// SQL of the inbox: rows (one per conversation with a handoff, from its latest handoff), counts, the
// tenant-wide feed in commit order, presence and canned replies.
import type { InboxView } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { escapeLike } from '../db/index.js';
import { notifyEvent } from '../conversations/notify.js';

export interface InboxDbRow {
  conversation_id: string;
  handoff_id: string;
  status: 'pending' | 'assigned' | 'resolved';
  reason: string;
  assigned_to: string | null;
  assignee_name: string | null;
  visitor_id: string;
  verified: boolean;
  identity_subject: string | null;
  contact_left: boolean;
  handoff_at: Date;
  resolved_at: Date | null;
  updated_at: Date;
  last_role: 'visitor' | 'assistant' | 'agent' | 'system' | null;
  last_text: string | null;
  last_at: Date | null;
  waiting_since: Date | null;
  unread: number;
}

// One row per conversation with a handoff. The visitor waits since the handoff when no agent has
// written since, or since their first message after the last agent reply. `$1` is the caller's member
// id (for `mine`; '' for a key), referenced once here so every query may use it.
// A conversation has at most one unresolved handoff, and it is its latest (a new one opens only when
// none is open; only the latest reopens), so open work is read from the open handoffs alone and scales
// with the queue, not with history.
const rowsCte = (scope: 'open' | 'all') => `
WITH me AS (SELECT $1::text AS id), latest AS (
  ${
    scope === 'open'
      ? "SELECT h.* FROM handoffs h WHERE h.status <> 'resolved'"
      : 'SELECT DISTINCT ON (h.conversation_id) h.* FROM handoffs h ORDER BY h.conversation_id, h.created_at DESC, h.id'
  }
), base AS (
  SELECT l.id AS handoff_id, l.conversation_id, l.status, l.reason, l.assigned_to, m.display_name AS assignee_name,
         c.visitor_id, c.verified, c.identity_subject, c.contact_left_at IS NOT NULL AS contact_left,
         l.created_at AS handoff_at, l.resolved_at, greatest(c.updated_at, l.updated_at) AS updated_at,
         lm.role AS last_role, lm.text AS last_text, lm.created_at AS last_at, a.last_agent_at
    FROM latest l
    JOIN conversations c ON c.id = l.conversation_id
    LEFT JOIN members m ON m.tenant_id = l.tenant_id AND m.id::text = l.assigned_to
    LEFT JOIN LATERAL (SELECT g.role, g.text, g.created_at FROM messages g
                        WHERE g.conversation_id = l.conversation_id AND g.role <> 'note'
                        ORDER BY g.role IN ('visitor', 'agent') DESC, g.seq DESC LIMIT 1) lm ON true
    LEFT JOIN LATERAL (SELECT max(g.created_at) AS last_agent_at FROM messages g
                        WHERE g.conversation_id = l.conversation_id AND g.role = 'agent') a ON true
), rows AS (
  SELECT b.*,
         CASE WHEN b.status = 'resolved' THEN NULL
              WHEN b.last_agent_at IS NULL OR b.last_agent_at < b.handoff_at THEN b.handoff_at
              ELSE (SELECT min(g.created_at) FROM messages g WHERE g.conversation_id = b.conversation_id AND g.role = 'visitor' AND g.created_at > b.last_agent_at)
         END AS waiting_since,
         (SELECT count(*)::int FROM messages g WHERE g.conversation_id = b.conversation_id AND g.role = 'visitor'
             AND g.created_at > greatest(b.handoff_at, coalesce(b.last_agent_at, b.handoff_at))) AS unread
    FROM base b
)`;

const COLUMNS = `conversation_id, handoff_id, status, reason, assigned_to, assignee_name, visitor_id, verified, identity_subject, contact_left,
  handoff_at, resolved_at, updated_at, last_role, last_text, last_at, waiting_since, unread`;

const VIEW: Record<InboxView, { where: string; order: string }> = {
  waiting: { where: "status <> 'resolved' AND waiting_since IS NOT NULL", order: 'waiting_since ASC, conversation_id' },
  mine: { where: "status <> 'resolved' AND assigned_to = (SELECT id FROM me)", order: 'updated_at DESC, conversation_id' },
  unassigned: { where: "status = 'pending'", order: 'handoff_at ASC, conversation_id' },
  open: { where: "status <> 'resolved'", order: 'updated_at DESC, conversation_id' },
  resolved: { where: "status = 'resolved'", order: 'resolved_at DESC, conversation_id' },
};

/**
 * A page of a view. `q` matches a visitor reference or a
 * verified user id exactly, or any stored (redacted) message text, notes included.
 */
export async function listRows(
  tx: Tx,
  p: { view: InboxView; me: string | null; q: string | null; offset: number; limit: number },
): Promise<InboxDbRow[]> {
  const v = VIEW[p.view];
  const { rows } = await tx.query<InboxDbRow>(
    `${rowsCte(p.view === 'resolved' ? 'all' : 'open')} SELECT ${COLUMNS} FROM rows
      WHERE ${v.where}
        AND ($2::text IS NULL OR visitor_id = $2 OR identity_subject = $2
             OR EXISTS (SELECT 1 FROM messages g WHERE g.conversation_id = rows.conversation_id AND g.text ILIKE '%' || $3 || '%'))
      ORDER BY ${v.order} LIMIT $4 OFFSET $5`,
    [p.me ?? '', p.q, p.q === null ? null : escapeLike(p.q), p.limit, p.offset],
  );
  return rows;
}

/** The rows of these conversations (for the stream's snapshots). */
export async function rowsOf(tx: Tx, conversationIds: string[]): Promise<InboxDbRow[]> {
  if (!conversationIds.length) return [];
  const { rows } = await tx.query<InboxDbRow>(`${rowsCte('all')} SELECT ${COLUMNS} FROM rows WHERE conversation_id = ANY($2::uuid[])`, [
    '',
    conversationIds,
  ]);
  return rows;
}

/** The sealed Sign-In Pro profiles of these subjects. */
export async function verifiedProfiles(tx: Tx, subjects: string[]): Promise<{ subject: string; profile: Uint8Array }[]> {
  return (
    await tx.query<{ subject: string; profile: Uint8Array }>('SELECT subject, profile FROM verified_visitors WHERE subject = ANY($1)', [subjects])
  ).rows;
}

export interface CountsRow {
  waiting: number;
  mine: number;
  unassigned: number;
  open: number;
}

export async function counts(tx: Tx, me: string | null): Promise<CountsRow> {
  const { rows } = await tx.query<CountsRow>(
    `${rowsCte('open')} SELECT count(*) FILTER (WHERE ${VIEW.waiting.where})::int AS waiting,
                    count(*) FILTER (WHERE ${VIEW.mine.where})::int AS mine,
                    count(*) FILTER (WHERE ${VIEW.unassigned.where})::int AS unassigned,
                    count(*) FILTER (WHERE ${VIEW.open.where})::int AS open
               FROM rows`,
    [me ?? ''],
  );
  return rows[0]!;
}

// The feed in commit order ----------------------------------------------------------------------------

export interface FeedRow {
  id: number;
  xid: string;
  conversation_id: string | null;
  type: string;
  payload: unknown;
  created_at: Date;
}

/**
 * Events after the cursor (xid, id), in (xid, id) order, of transactions older than every transaction
 * still running. Such an event set is final: no transaction can still add an event below that horizon,
 * however its ids were numbered, so a reader resuming from the last (xid, id) it saw misses nothing.
 *
 * `held`: whether events after the cursor are held back by that horizon, written by a transaction that
 * began while an older one (in any database of the server) was still running. They become readable once
 * every older transaction has ended, which no notification announces: the reader must look again. Both
 * come from one statement, so from one snapshot.
 */
export async function feedAfter(tx: Tx, after: { xid: string; id: number }, limit: number): Promise<{ events: FeedRow[]; held: boolean }> {
  const { rows } = await tx.query<Partial<FeedRow> & { held: boolean }>(
    `WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
          f AS (SELECT e.id, e.xid, e.conversation_id, e.type, e.payload, e.created_at FROM conversation_events e, h
                 WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND e.xid < h.xmin ORDER BY e.xid, e.id LIMIT $3)
     SELECT f.id::int AS id, f.xid::text AS xid, f.conversation_id, f.type, f.payload, f.created_at, b.held
       FROM (SELECT EXISTS (SELECT 1 FROM conversation_events e, h
                             WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND e.xid >= h.xmin) AS held) b
       LEFT JOIN f ON true
      ORDER BY f.xid, f.id`,
    [after.xid, after.id, limit],
  );
  // With no event, the one row carries only `held`.
  return { events: rows.filter((r) => r.id !== null) as FeedRow[], held: rows[0]?.held ?? false };
}

/** The feed's horizon now: every event of an older transaction is committed or gone. */
export async function feedHorizon(tx: Tx): Promise<string> {
  const { rows } = await tx.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return rows[0]!.xmin;
}

// Presence --------------------------------------------------------------------------------------------

/** A console is "online" when its inbox stream touched the member within this window. */
export const ONLINE_SECONDS = 90;

export interface PresenceRow {
  id: string;
  display_name: string;
  availability: 'available' | 'away';
  last_seen_at: Date | null;
  online: boolean;
}

const PRESENCE = `id, display_name, availability, last_seen_at, coalesce(last_seen_at > now() - make_interval(secs => ${ONLINE_SECONDS}), false) AS online`;

/** Members who work the inbox (roles with conversations to answer), active ones. */
export async function presenceList(tx: Tx): Promise<PresenceRow[]> {
  const { rows } = await tx.query<PresenceRow>(
    `SELECT ${PRESENCE} FROM members WHERE status = 'active' AND role IN ('owner', 'admin', 'agent') ORDER BY display_name, id`,
  );
  return rows;
}

export async function setAvailability(tx: Tx, memberId: string, availability: 'available' | 'away'): Promise<PresenceRow | null> {
  const { rows } = await tx.query<PresenceRow>(`UPDATE members SET availability = $2 WHERE id = $1 RETURNING ${PRESENCE}`, [memberId, availability]);
  return rows[0] ?? null;
}

/** Marks the member seen now; returns their presence and whether they were offline before. */
export async function touchMember(tx: Tx, memberId: string): Promise<{ presence: PresenceRow; cameOnline: boolean } | null> {
  const { rows } = await tx.query<PresenceRow & { was_online: boolean }>(
    `WITH before AS (SELECT coalesce(last_seen_at > now() - make_interval(secs => ${ONLINE_SECONDS}), false) AS was_online FROM members WHERE id = $1)
     UPDATE members SET last_seen_at = now() WHERE id = $1 RETURNING ${PRESENCE}, (SELECT was_online FROM before)`,
    [memberId],
  );
  const r = rows[0];
  return r ? { presence: r, cameOnline: !r.was_online } : null;
}

/** A presence change as a tenant-wide feed event (no conversation). */
export async function recordPresence(tx: Tx, tenantId: string, payload: unknown): Promise<{ id: number }> {
  const { rows } = await tx.query<{ id: number }>(
    `WITH e AS (INSERT INTO conversation_events (tenant_id, conversation_id, type, payload, audience) VALUES ($1, NULL, 'presence', $2, 'agents')
                RETURNING id, tenant_id, conversation_id)
     SELECT id::int AS id, ${notifyEvent} FROM e`,
    [tenantId, JSON.stringify(payload)],
  );
  return rows[0]!;
}

// Canned replies ----------------------------------------------------------------------------------------

export interface CannedRow {
  id: string;
  title: string;
  body: string;
  shortcut: string | null;
  created_at: Date;
  updated_at: Date;
}

const CANNED = 'id, title, body, shortcut, created_at, updated_at';

export async function listCanned(tx: Tx): Promise<CannedRow[]> {
  return (await tx.query<CannedRow>(`SELECT ${CANNED} FROM canned_replies ORDER BY lower(title), id LIMIT 1000`)).rows;
}

export async function countCanned(tx: Tx): Promise<number> {
  return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM canned_replies')).rows[0]!.n;
}

/** Holds the tenant's canned replies for a count-then-insert until the transaction ends. */
export async function lockCanned(tx: Tx, tenantId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:canned:${tenantId}`]);
}

export async function insertCanned(
  tx: Tx,
  c: { tenantId: string; id: string; title: string; body: string; shortcut: string | null; by: string | null },
): Promise<CannedRow | null> {
  const { rows } = await tx.query<CannedRow>(
    `INSERT INTO canned_replies (tenant_id, id, title, body, shortcut, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, shortcut) DO NOTHING RETURNING ${CANNED}`,
    [c.tenantId, c.id, c.title, c.body, c.shortcut, c.by],
  );
  return rows[0] ?? null;
}

/** Applies the given fields; null when there is no such reply. Throws the driver's unique violation on a taken shortcut. */
export async function updateCanned(tx: Tx, id: string, c: { title?: string; body?: string; shortcut?: string | null }): Promise<CannedRow | null> {
  const { rows } = await tx.query<CannedRow>(
    `UPDATE canned_replies SET title = coalesce($2, title), body = coalesce($3, body),
            shortcut = CASE WHEN $4::boolean THEN $5 ELSE shortcut END, updated_at = now()
      WHERE id = $1 RETURNING ${CANNED}`,
    [id, c.title ?? null, c.body ?? null, c.shortcut !== undefined, c.shortcut ?? null],
  );
  return rows[0] ?? null;
}

export async function shortcutTaken(tx: Tx, shortcut: string, except: string | null): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM canned_replies WHERE shortcut = $1 AND id IS DISTINCT FROM $2::uuid', [shortcut, except]);
  return rows.length > 0;
}

export async function deleteCanned(tx: Tx, id: string): Promise<boolean> {
  return ((await tx.query('DELETE FROM canned_replies WHERE id = $1', [id])).rowCount ?? 0) > 0;
}
