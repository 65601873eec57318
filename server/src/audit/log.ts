// Appends to a tenant's (or the platform's) Merkle log inside the caller's transaction, so an action
// and its entry commit or roll back together. The head row lock gives a gap-free order per tenant.
import type { Tx } from '../db/types.js';
import { PLATFORM_TENANT } from '../db/index.js';
import { auditLeafBytes, type AuditEntryCanonical } from './canonical.js';
import { formatCheckpoint, signNote, type NoteSigner } from './checkpoint.js';
import { appendLeaf, leafHash, rootFromFrontier } from './merkle.js';

export interface AuditInput {
  /** null for the platform log */
  tenantId: string | null;
  requestId: string | null;
  actor: { type: string; id: string | null };
  action: string;
  target?: { type: string; id: string | null } | null;
  /** Required for break-glass actions. */
  reason?: string | null;
  /** Ids, counts and hashes only: never raw personal data or secrets. */
  metadata?: Record<string, unknown>;
  source?: string;
}

export interface AuditLogOptions {
  signer: NoteSigner;
  /** Key name / origin prefix, e.g. `api.example.com/audit`. */
  origin: string;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  source?: string;
}

interface HeadRow {
  size: number;
  frontier: Uint8Array;
  last_checkpoint_size: number;
  last_checkpoint_at: Date;
}

export const splitFrontier = (bytes: Uint8Array): Buffer[] => {
  const b = Buffer.from(bytes);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(b.subarray(i, i + 32));
  return out;
};

export class AuditLog {
  constructor(readonly opts: AuditLogOptions) {}

  originFor(tenantId: string): string {
    return `${this.opts.origin}/${tenantId}`;
  }

  async append(tx: Tx, input: AuditInput): Promise<{ seq: number }> {
    const tenantId = input.tenantId ?? PLATFORM_TENANT;
    const { rows } = await tx.query<HeadRow>(
      'SELECT size, frontier, last_checkpoint_size, last_checkpoint_at FROM audit_heads WHERE tenant_id = $1 FOR UPDATE',
      [tenantId],
    );
    const head = rows[0];
    if (!head) throw new Error(`no audit log for tenant ${tenantId}`);
    let policyVersion = 0;
    if (input.tenantId) {
      const t = await tx.query<{ policy_version: number }>('SELECT policy_version FROM tenants WHERE id = $1', [tenantId]);
      policyVersion = t.rows[0]?.policy_version ?? 0;
    }
    const entry: AuditEntryCanonical = {
      seq: head.size,
      ts: new Date().toISOString(),
      tenantId,
      requestId: input.requestId,
      actor: input.actor,
      action: input.action,
      target: input.target ?? null,
      policyVersion,
      source: input.source ?? this.opts.source ?? 'server',
      reason: input.reason ?? null,
      metadata: input.metadata ?? {},
    };
    const leaf = leafHash(auditLeafBytes(entry));
    const { frontier, completed } = appendLeaf(splitFrontier(head.frontier), head.size, leaf);
    await tx.query(
      `INSERT INTO audit_entries (tenant_id, seq, ts, request_id, actor_type, actor_id, action, target_type, target_id,
         policy_version, source, reason, metadata, leaf_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        tenantId, entry.seq, entry.ts, entry.requestId, entry.actor.type, entry.actor.id, entry.action,
        entry.target?.type ?? null, entry.target?.id ?? null, policyVersion, entry.source, entry.reason,
        JSON.stringify(entry.metadata), leaf,
      ],
    );
    if (completed.length) {
      const params: unknown[] = [tenantId];
      const values = completed.map((n, i) => {
        params.push(n.level, n.index, n.hash);
        return `($1, $${i * 3 + 2}, $${i * 3 + 3}, $${i * 3 + 4})`;
      });
      await tx.query(`INSERT INTO audit_nodes (tenant_id, level, idx, hash) VALUES ${values.join(', ')}`, params);
    }
    const size = head.size + 1;
    const due =
      size - head.last_checkpoint_size >= this.opts.checkpointEvery ||
      Date.now() - head.last_checkpoint_at.getTime() >= this.opts.checkpointIntervalMs;
    if (due) await this.writeCheckpoint(tx, tenantId, size, rootFromFrontier(frontier));
    await tx.query(
      `UPDATE audit_heads SET size = $2, frontier = $3,
         last_checkpoint_size = CASE WHEN $4 THEN $2 ELSE last_checkpoint_size END,
         last_checkpoint_at = CASE WHEN $4 THEN now() ELSE last_checkpoint_at END
       WHERE tenant_id = $1`,
      [tenantId, size, Buffer.concat(frontier), due],
    );
    return { seq: entry.seq };
  }

  /** Signs the tree head as a C2SP checkpoint and stores it (idempotent per size). */
  async writeCheckpoint(tx: Tx, tenantId: string, size: number, root: Buffer): Promise<string> {
    const note = signNote(formatCheckpoint({ origin: this.originFor(tenantId), size, root }), this.opts.signer);
    await tx.query(
      'INSERT INTO audit_checkpoints (tenant_id, size, root, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [tenantId, size, root, note],
    );
    return note;
  }

  /** The newest checkpoint, signing the current head first if entries came after the last one. */
  async latestCheckpoint(tx: Tx, tenantId: string): Promise<{ size: number; root: Buffer; note: string }> {
    const { rows } = await tx.query<HeadRow>(
      'SELECT size, frontier, last_checkpoint_size, last_checkpoint_at FROM audit_heads WHERE tenant_id = $1 FOR UPDATE',
      [tenantId],
    );
    const head = rows[0];
    if (!head) throw new Error(`no audit log for tenant ${tenantId}`);
    if (head.size > head.last_checkpoint_size || head.size === 0) {
      await this.writeCheckpoint(tx, tenantId, head.size, rootFromFrontier(splitFrontier(head.frontier)));
      await tx.query('UPDATE audit_heads SET last_checkpoint_size = $2, last_checkpoint_at = now() WHERE tenant_id = $1', [
        tenantId,
        head.size,
      ]);
    }
    const cp = await tx.query<{ size: number; root: Uint8Array; note: string }>(
      'SELECT size, root, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1',
      [tenantId],
    );
    const c = cp.rows[0]!;
    return { size: c.size, root: Buffer.from(c.root), note: c.note };
  }
}
