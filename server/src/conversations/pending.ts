// SQL of the answers the assistant still owes (migration 083): a row per visitor question from the
// transaction that stores it to the one that stores its answer or handoff. Whoever holds the claim runs
// the answer; whoever deletes the row stores it, so a question is answered once however many try.
import type { Tx } from '../db/types.js';

const secs = (ms: number) => Math.max(ms, 1) / 1000;

/**
 * Records that `messageId` is owed an answer, claimed by the turn storing it for `claimMs`. Nothing is
 * read back, so without a picked offer (ids and a number only) the write waits for the transaction's
 * next statement (Tx.defer); a pick is the visitor's text and goes as a parameter.
 */
export async function owe(
  tx: Tx,
  p: { tenantId: string; conversationId: string; messageId: string; claimMs: number; pick?: string | undefined },
): Promise<void> {
  const sql = `INSERT INTO pending_answers (tenant_id, message_id, conversation_id, claimed_until, pick)
     VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4), $5) ON CONFLICT DO NOTHING`;
  const params = [p.tenantId, p.messageId, p.conversationId, secs(p.claimMs), p.pick ?? null];
  if (p.pick === undefined) tx.defer(sql, params);
  else await tx.query(sql, params);
}

/**
 * Claims an owed answer whose previous claim has lapsed (its holder died, or gave up): true when this
 * caller now runs it. Atomic in the database, so of two racing callers one gets it.
 */
export async function claimOwed(tx: Tx, messageId: string, claimMs: number): Promise<{ attempts: number; pick: string | null } | null> {
  const { rows } = await tx.query<{ attempts: number; pick: string | null }>(
    `UPDATE pending_answers SET claimed_until = clock_timestamp() + make_interval(secs => $2), attempts = attempts + 1
      WHERE message_id = $1 AND claimed_until < clock_timestamp() RETURNING attempts, pick`,
    [messageId, secs(claimMs)],
  );
  return rows[0] ?? null;
}

/** Settles an owed answer: true for the one caller that removed it (and so stores the answer). */
export async function settleOwed(tx: Tx, messageId: string): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM pending_answers WHERE message_id = $1', [messageId]);
  return rowCount > 0;
}

/** Owed answers whose claim lapsed, across tenants (the platform role: ids only, no content). */
export async function lapsedOwed(tx: Tx, limit: number): Promise<{ tenant_id: string; message_id: string; conversation_id: string }[]> {
  const { rows } = await tx.query<{ tenant_id: string; message_id: string; conversation_id: string }>(
    'SELECT tenant_id, message_id, conversation_id FROM pending_answers WHERE claimed_until < clock_timestamp() ORDER BY claimed_until LIMIT $1',
    [limit],
  );
  return rows;
}
