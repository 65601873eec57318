// SQL of tenant deletion: the deletion record, the catalog (which tables hold a tenant's rows, and how they
// reference each other), and erasing through parley_erase_tenant_rows (migration 091), the one path that
// deletes a whole tenant's rows.
import type { Tx } from '../db/types.js';

export type DeletionState = 'scheduled' | 'erasing' | 'done';

export interface DeletionRow {
  tenant: string;
  state: DeletionState;
  requested_at: Date;
  due_at: Date;
  shredded_at: Date | null;
  keys_destroyed: number;
  final_checkpoint: string | null;
  final_verifier_key: string | null;
  counts: Record<string, number> | null;
  completed_at: Date | null;
}

const COLUMNS = 'tenant, state, requested_at, due_at, shredded_at, keys_destroyed, final_checkpoint, final_verifier_key, counts, completed_at';

export async function readDeletion(tx: Tx, tenantId: string, lock = false): Promise<DeletionRow | null> {
  const { rows } = await tx.query<DeletionRow>(`SELECT ${COLUMNS} FROM tenant_deletions WHERE tenant = $1${lock ? ' FOR UPDATE' : ''}`, [tenantId]);
  return rows[0] ?? null;
}

export async function tenantExists(tx: Tx, tenantId: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rows.length > 0;
}

/** Schedules a deletion (the owner's, in the tenant's transaction); false when one exists already. */
export async function insertScheduled(tx: Tx, tenantId: string, dueAt: Date): Promise<DeletionRow | null> {
  const { rows } = await tx.query<DeletionRow>(
    `INSERT INTO tenant_deletions (tenant, state, due_at) VALUES ($1, 'scheduled', $2) ON CONFLICT (tenant) DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, dueAt],
  );
  return rows[0] ?? null;
}

/** Cancels a deletion that is still only scheduled; false when there is none (or it has begun). */
export async function deleteScheduled(tx: Tx, tenantId: string): Promise<boolean> {
  const { rowCount } = await tx.query("DELETE FROM tenant_deletions WHERE tenant = $1 AND state = 'scheduled'", [tenantId]);
  return rowCount > 0;
}

/** Marks the deletion under way (creating the record for an operator's immediate deletion). */
export async function markErasing(tx: Tx, tenantId: string): Promise<void> {
  await tx.query(
    `INSERT INTO tenant_deletions (tenant, state, due_at) VALUES ($1, 'erasing', now())
     ON CONFLICT (tenant) DO UPDATE SET state = 'erasing' WHERE tenant_deletions.state = 'scheduled'`,
    [tenantId],
  );
}

/** Deletes the tenant's rows of one table (of `tenants`, the tenant itself); the number deleted. */
export async function eraseRows(tx: Tx, table: string, tenantId: string): Promise<number> {
  const { rows } = await tx.query<{ n: string }>('SELECT parley_erase_tenant_rows($1::regclass, $2)::text AS n', [table, tenantId]);
  return Number(rows[0]!.n);
}

export async function markShredded(tx: Tx, tenantId: string, keys: number): Promise<void> {
  await tx.query('UPDATE tenant_deletions SET shredded_at = now(), keys_destroyed = keys_destroyed + $2 WHERE tenant = $1', [tenantId, keys]);
}

/** Records the tenant log's final checkpoint: from then on (in this transaction) its audit rows may go. */
export async function recordFinalCheckpoint(tx: Tx, tenantId: string, note: string, verifierKey: string): Promise<void> {
  await tx.query('UPDATE tenant_deletions SET final_checkpoint = $2, final_verifier_key = $3 WHERE tenant = $1', [tenantId, note, verifierKey]);
}

export async function markDone(tx: Tx, tenantId: string, counts: Record<string, number>): Promise<Date> {
  const { rows } = await tx.query<{ completed_at: Date }>(
    "UPDATE tenant_deletions SET state = 'done', counts = $2, completed_at = now() WHERE tenant = $1 RETURNING completed_at",
    [tenantId, JSON.stringify(counts)],
  );
  return rows[0]!.completed_at;
}

/** Tenant ids whose scheduled deletion is due, oldest first. */
export async function dueDeletions(tx: Tx, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ tenant: string }>(
    "SELECT tenant FROM tenant_deletions WHERE state IN ('scheduled', 'erasing') AND due_at <= now() ORDER BY due_at LIMIT $1",
    [limit],
  );
  return rows.map((r) => r.tenant);
}

export interface TenantTables {
  /** Every table of the schema with a tenant_id column, and `tenants`. */
  tables: string[];
  /** [child, parent]: the child's rows reference the parent's (self-references left out). */
  references: [string, string][];
}

/** From the catalog, so a table added by a later migration is never forgotten. */
export async function tenantTables(tx: Tx): Promise<TenantTables> {
  const tables = await tx.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND (c.relname = 'tenants' OR EXISTS (
          SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
      ORDER BY c.relname`,
  );
  const refs = await tx.query<{ child: string; parent: string }>(
    `SELECT DISTINCT ch.relname AS child, pa.relname AS parent
       FROM pg_constraint k JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = ch.relnamespace
      WHERE k.contype = 'f' AND n.nspname = 'public' AND k.conrelid <> k.confrelid`,
  );
  const names = new Set(tables.rows.map((r) => r.name));
  return {
    tables: [...names],
    references: refs.rows.filter((r) => names.has(r.child) && names.has(r.parent)).map((r) => [r.child, r.parent]),
  };
}

/** Addresses of the tenant's active owners (in the tenant's transaction), for deletion notices. */
export async function ownerAddresses(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ email: string }>("SELECT email FROM members WHERE role = 'owner' AND status = 'active' ORDER BY created_at");
  return rows.map((r) => r.email);
}
