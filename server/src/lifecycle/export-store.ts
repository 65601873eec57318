// SQL of tenant exports: one read per exported table, of the columns the service chose from the
// classification registry. Runs in the tenant's transaction (row-level security on) and names the tenant
// too, so a table's rows are the tenant's twice over.
import type { Tx } from '../db/types.js';

/** A column name the registry knows: letters, digits and underscores only, so it can be quoted safely. */
const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a column name: ${name}`);
  return `"${name}"`;
};

/**
 * The rows of `table` belonging to the tenant, `columns` only, in `order`. `tenantColumn` is `id` for the
 * tenants table itself and `tenant_id` everywhere else.
 */
export async function tableRows(
  tx: Tx,
  tenantId: string,
  spec: { table: string; columns: readonly string[]; order: readonly string[]; tenantColumn: string },
): Promise<Record<string, unknown>[]> {
  const { rows } = await tx.query<Record<string, unknown>>(
    `SELECT ${spec.columns.map(ident).join(', ')} FROM ${ident(spec.table)} WHERE ${ident(spec.tenantColumn)} = $1
      ORDER BY ${spec.order.map(ident).join(', ')}`,
    [tenantId],
  );
  return rows;
}
