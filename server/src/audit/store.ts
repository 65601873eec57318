// Reading the audit log back: entries as stored, and tree nodes for proofs.
import type { AuditEntry } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import type { AuditEntryCanonical } from './canonical.js';

export interface EntryRow {
  tenant_id: string;
  seq: number;
  ts: Date;
  request_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  policy_version: number;
  source: string;
  reason: string | null;
  metadata: Record<string, unknown>;
  leaf_hash: Uint8Array;
}

export const ENTRY_COLUMNS =
  'tenant_id, seq, ts, request_id, actor_type, actor_id, action, target_type, target_id, policy_version, source, reason, metadata, leaf_hash';

export function canonicalFromRow(r: Omit<EntryRow, 'leaf_hash'>): AuditEntryCanonical {
  return {
    seq: r.seq,
    ts: r.ts.toISOString(),
    tenantId: r.tenant_id,
    requestId: r.request_id,
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    target: r.target_type === null ? null : { type: r.target_type, id: r.target_id },
    policyVersion: r.policy_version,
    source: r.source,
    reason: r.reason,
    metadata: r.metadata,
  };
}

export const toAuditEntry = (r: EntryRow): AuditEntry => ({
  ...canonicalFromRow(r),
  leafHash: Buffer.from(r.leaf_hash).toString('hex'),
});

export async function listEntries(tx: Tx, tenantId: string, after: number, limit: number): Promise<EntryRow[]> {
  const { rows } = await tx.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
    tenantId,
    after,
    limit,
  ]);
  return rows;
}

export async function treeSize(tx: Tx, tenantId: string): Promise<number> {
  const { rows } = await tx.query<{ size: number }>('SELECT size FROM audit_heads WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.size ?? 0;
}

/** getNode for proofs: level 0 is a leaf hash, higher levels are stored perfect subtrees. */
export function nodeReader(tx: Tx, tenantId: string) {
  return async (level: number, index: number): Promise<Buffer> => {
    const { rows } =
      level === 0
        ? await tx.query<{ hash: Uint8Array }>('SELECT leaf_hash AS hash FROM audit_entries WHERE tenant_id = $1 AND seq = $2', [tenantId, index])
        : await tx.query<{ hash: Uint8Array }>('SELECT hash FROM audit_nodes WHERE tenant_id = $1 AND level = $2 AND idx = $3', [
            tenantId,
            level,
            index,
          ]);
    if (!rows[0]) throw new Error(`audit node ${level}/${index} is missing`);
    return Buffer.from(rows[0].hash);
  };
}
