// SQL of the agent side.
import type { Tx } from '../db/types.js';

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

/** Whether `id` is a member of the tenant (an assignee). */
export async function isMember(tx: Tx, id: string): Promise<boolean> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return false;
  return (await tx.query('SELECT 1 FROM members WHERE id = $1', [id])).rows.length > 0;
}
