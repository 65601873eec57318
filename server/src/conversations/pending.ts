// SQL of the answers the assistant still owes (migration 083): a row per visitor question from the
// transaction that stores it to the one that stores its answer or handoff. Whoever holds the claim runs
// the answer; whoever deletes the row stores it, so a question is answered once however many try.
import type { Tx } from '../db/types.js';

const secs = (ms: number) => Math.max(ms, 1) / 1000;

/**
 * Records that `messageId` is owed an answer, claimed by the turn storing it for `claimMs`. Nothing is
 * read back, so the write waits for the transaction's next statement (Tx.defer): the message's, which it
 * goes before, under the conversation's lock. Nothing is owed if a message is stored under the client's id
 * already (a retried send: its own turn owes its answer).
 */
export function owe(
  tx: Tx,
  p: { tenantId: string; conversationId: string; messageId: string; clientMessageId: string; claimMs: number; pick?: string | undefined },
): void {
  tx.defer(
    `INSERT INTO pending_answers (tenant_id, message_id, conversation_id, claimed_until, pick)
     SELECT $1::uuid, $2::uuid, $3::uuid, clock_timestamp() + make_interval(secs => $4), $5::uuid
      WHERE NOT EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 AND conversation_id = $3 AND client_message_id = $6)`,
    [p.tenantId, p.messageId, p.conversationId, secs(p.claimMs), p.pick ?? null, p.clientMessageId],
  );
}

/** The statement part that settles an owed answer in the statement storing it (conversations/store.ts): `settled` has a row if it did. */
export const SETTLE_OWED_CTE = (messageId: string) => `settled AS (DELETE FROM pending_answers WHERE message_id = ${messageId} RETURNING 1)`;

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
