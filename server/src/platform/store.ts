// The platform operators' reads across tenants (on the audited platform path).
import type { Tx } from '../db/types.js';

export interface TenantSummaryRow {
  id: string;
  name: string;
  created_at: Date;
  members: number;
}

/** Every tenant but `except` (the platform's own), oldest first, with its member count. */
export async function tenantSummaries(tx: Tx, except: string): Promise<TenantSummaryRow[]> {
  const { rows } = await tx.query<TenantSummaryRow>(
    `SELECT t.id, t.name, t.created_at, (SELECT count(*) FROM members m WHERE m.tenant_id = t.id)::int AS members
       FROM tenants t WHERE t.id <> $1 ORDER BY t.created_at, t.id`,
    [except],
  );
  return rows;
}
