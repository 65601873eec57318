// The database owner forging a tenant's audit log, for the tests that check a forgery is caught: triggers off,
// then every hash and the head recomputed from the rows as the forger left them, so that nothing unsigned
// contradicts the forgery.
import { auditLeafBytes } from '../audit/canonical.js';
import { appendLeaf, leafHash } from '../audit/merkle.js';
import { canonicalFromRow, ENTRY_COLUMNS, type EntryRow } from '../audit/store.js';
import type { Db, Tx } from '../db/types.js';

const AUDIT_TABLES = ['audit_entries', 'audit_nodes', 'audit_checkpoints', 'audit_heads'];

/** Runs `fn` as the database owner with the user triggers of the audit tables off (on again after it). */
export function withAuditTriggersOff<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.withOwner(async (tx) => {
    for (const table of AUDIT_TABLES) await tx.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    const out = await fn(tx);
    for (const table of AUDIT_TABLES) await tx.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    return out;
  });
}

/**
 * Recomputes, from the tenant's sequenced entries as they are now, every leaf hash, every stored subtree and
 * the head: its size and frontier, its checkpoint bookkeeping (last size, count, hash of the last note) made to
 * agree with the checkpoints left, and `signedFrom` when given. Run inside withAuditTriggersOff, after the
 * forgery's own statements.
 */
export async function recomputeLog(tx: Tx, tenantId: string, opts: { signedFrom?: number | undefined } = {}): Promise<void> {
  const rows = (
    await tx.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = $1 AND seq IS NOT NULL ORDER BY seq`, [tenantId])
  ).rows;
  await tx.query('DELETE FROM audit_nodes WHERE tenant_id = $1', [tenantId]);
  let frontier: Buffer[] = [];
  for (const row of rows) {
    const leaf = leafHash(auditLeafBytes(canonicalFromRow(row)));
    await tx.query('UPDATE audit_entries SET leaf_hash = $3 WHERE tenant_id = $1 AND seq = $2', [tenantId, row.seq, leaf]);
    const appended = appendLeaf(frontier, row.seq, leaf);
    for (const n of appended.completed)
      await tx.query('INSERT INTO audit_nodes (tenant_id, level, idx, hash) VALUES ($1, $2, $3, $4)', [tenantId, n.level, n.index, n.hash]);
    frontier = appended.frontier;
  }
  const kept = (
    await tx.query<{ size: number; note: string }>('SELECT size, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size', [tenantId])
  ).rows;
  const params: unknown[] = [tenantId, rows.length, Buffer.concat(frontier), kept.at(-1)?.size ?? 0, kept.length, kept.at(-1)?.note ?? null];
  if (opts.signedFrom !== undefined) params.push(opts.signedFrom);
  await tx.query(
    `UPDATE audit_heads SET size = $2, frontier = $3, last_checkpoint_size = $4, checkpoint_count = $5,
       last_checkpoint_hash = sha256(convert_to($6::text, 'UTF8'))${opts.signedFrom !== undefined ? ', signed_from = $7' : ''} WHERE tenant_id = $1`,
    params,
  );
}
