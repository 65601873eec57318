// SQL of the tenant's settings document (a jsonb column of tenants, row-level secured to the tenant set on tx).
import { carryableRead, forgetInTx, oncePerTx } from '../db/tx-memo.js';
import type { Tx } from '../db/types.js';

export interface SettingsRow {
  tenantId: string;
  /** The row's version (its xmin): any write of the row changes it, however made. */
  rowVersion: string;
  settings: Record<string, unknown>;
  policyVersion: number;
  /** The tenant's display name (the widget greets with it), read in the same query. */
  name: string;
}

const COLUMNS = 'id, xmin::text AS row_version, settings, policy_version, name';
type Row = { id: string; row_version: string; settings: Record<string, unknown>; policy_version: number; name: string };
const settingsRow = (r: Row): SettingsRow => ({
  tenantId: r.id,
  rowVersion: r.row_version,
  settings: r.settings,
  policyVersion: r.policy_version,
  name: r.name,
});

// A turn reads the settings several times (handoff, redaction, retrieval): once per transaction.
const MEMO = carryableRead('tenant-settings');

export function selectSettings(tx: Tx): Promise<SettingsRow | null> {
  return oncePerTx(tx, MEMO, async () => {
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM tenants`);
    return rows[0] ? settingsRow(rows[0]) : null;
  });
}

/** After a write of the tenant's row in this transaction: the next read sees it. */
export const forgetSettings = (tx: Tx) => forgetInTx(tx, MEMO);

/** Stores the whole document and bumps the policy version (locking the row: concurrent writers queue). */
export async function storeSettings(tx: Tx, tenantId: string, settings: Record<string, unknown>): Promise<number> {
  forgetSettings(tx);
  const { rows } = await tx.query<{ policy_version: number }>(
    'UPDATE tenants SET settings = $2::jsonb, policy_version = policy_version + 1 WHERE id = $1 RETURNING policy_version',
    [tenantId, JSON.stringify(settings)],
  );
  return rows[0]!.policy_version;
}

/** The row, locked for a read-modify-write. */
export async function lockSettings(tx: Tx, tenantId: string): Promise<SettingsRow | null> {
  forgetSettings(tx);
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE`, [tenantId]);
  return rows[0] ? settingsRow(rows[0]) : null;
}
