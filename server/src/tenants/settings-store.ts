// SQL of the tenant's settings document (a jsonb column of tenants, row-level secured to the tenant set on tx).
import type { Tx } from '../db/types.js';

export interface SettingsRow {
  settings: Record<string, unknown>;
  policyVersion: number;
}

export async function selectSettings(tx: Tx): Promise<SettingsRow | null> {
  const { rows } = await tx.query<{ settings: Record<string, unknown>; policy_version: number }>('SELECT settings, policy_version FROM tenants');
  return rows[0] ? { settings: rows[0].settings, policyVersion: rows[0].policy_version } : null;
}

/** Stores the whole document and bumps the policy version (locking the row: concurrent writers queue). */
export async function storeSettings(tx: Tx, tenantId: string, settings: Record<string, unknown>): Promise<number> {
  const { rows } = await tx.query<{ policy_version: number }>(
    'UPDATE tenants SET settings = $2::jsonb, policy_version = policy_version + 1 WHERE id = $1 RETURNING policy_version',
    [tenantId, JSON.stringify(settings)],
  );
  return rows[0]!.policy_version;
}

/** The row, locked for a read-modify-write. */
export async function lockSettings(tx: Tx, tenantId: string): Promise<SettingsRow | null> {
  const { rows } = await tx.query<{ settings: Record<string, unknown>; policy_version: number }>(
    'SELECT settings, policy_version FROM tenants WHERE id = $1 FOR UPDATE',
    [tenantId],
  );
  return rows[0] ? { settings: rows[0].settings, policyVersion: rows[0].policy_version } : null;
}

/** The tenant's display name (the widget greets with it). */
export async function tenantName(tx: Tx): Promise<string> {
  const { rows } = await tx.query<{ name: string }>('SELECT name FROM tenants');
  return rows[0]?.name ?? '';
}
