// Appends to a tenant's (or the platform's) Merkle log inside the caller's transaction, so an action
// and its entry commit or roll back together. The head row lock gives a gap-free order per tenant.
import type { Tx } from '../db/types.js';
import { PLATFORM_TENANT } from '../db/index.js';
import { auditLeafBytes, type AuditEntryCanonical } from './canonical.js';
import { formatCheckpoint, signerFromSeed, signNote, verifierKeyString, type NoteSigner } from './checkpoint.js';
import {
  formatChain,
  logIdentityFrom,
  readDeploymentIdentity,
  registerSigningKey,
  sha256,
  signEntry,
  trustedKeys,
  type DeploymentIdentity,
  type LogIdentity,
} from './identity.js';
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
  /** Ed25519 seed of the checkpoint signing key (derived from PARLEY_SIGNING_KEY). */
  seed: Buffer;
  /**
   * Origin prefix and key name for the deployment's logs, e.g. `api.example.com/audit`: used only the
   * first time any log writes; from then on every log keeps the identity stored with it.
   */
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
  origin: string | null;
  key_name: string | null;
  checkpoint_count: number;
  last_checkpoint_hash: Uint8Array | null;
}

const HEAD_COLUMNS = 'size, frontier, last_checkpoint_size, last_checkpoint_at, origin, key_name, checkpoint_count, last_checkpoint_hash';

export const splitFrontier = (bytes: Uint8Array): Buffer[] => {
  const b = Buffer.from(bytes);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(b.subarray(i, i + 32));
  return out;
};

export class AuditLog {
  /** Raw Ed25519 public key of the signing key: the key a verifier in this process trusts. */
  readonly publicKey: Buffer;
  private readonly signers = new Map<string, NoteSigner>();
  private deployment: DeploymentIdentity | null = null;
  private keyRegistered = false;

  constructor(readonly opts: AuditLogOptions) {
    this.publicKey = signerFromSeed('key', opts.seed).publicKey;
  }

  private signer(keyName: string): NoteSigner {
    let s = this.signers.get(keyName);
    if (!s) this.signers.set(keyName, (s = signerFromSeed(keyName, this.opts.seed)));
    return s;
  }

  /** The deployment's identity, created from the configured origin the first time any log writes. */
  async deploymentIdentity(tx: Tx): Promise<DeploymentIdentity> {
    if (this.deployment) return this.deployment;
    const found = await readDeploymentIdentity(tx);
    if (found) return (this.deployment = found);
    await tx.query('INSERT INTO audit_identity (origin_prefix, key_name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [this.opts.origin]);
    return (await readDeploymentIdentity(tx))!;
  }

  /** Stores the deployment identity and records this process's signing key (write paths only). */
  async ensureIdentity(tx: Tx): Promise<DeploymentIdentity> {
    const d = await this.deploymentIdentity(tx);
    await this.ensureKey(tx);
    return d;
  }

  private async ensureKey(tx: Tx): Promise<void> {
    if (this.keyRegistered) return;
    const known = await tx.query('SELECT 1 FROM audit_signing_keys WHERE public_key = $1', [this.publicKey]);
    if (known.rows.length) this.keyRegistered = true;
    else await registerSigningKey(tx, this.opts.seed);
  }

  /** A log's stored identity, recording it from the deployment's when the log writes for the first time. */
  private async logIdentity(tx: Tx, tenantId: string, head: HeadRow): Promise<LogIdentity> {
    if (head.origin && head.key_name) return { origin: head.origin, keyName: head.key_name };
    const id = logIdentityFrom(await this.deploymentIdentity(tx), tenantId);
    await tx.query('UPDATE audit_heads SET origin = $2, key_name = $3 WHERE tenant_id = $1 AND origin IS NULL', [tenantId, id.origin, id.keyName]);
    head.origin = id.origin;
    head.key_name = id.keyName;
    return id;
  }

  /** The origin line of a log's checkpoints (its stored identity, or the deployment's for a log not yet written). */
  async originFor(tx: Tx, tenantId: string): Promise<string> {
    const { rows } = await tx.query<{ origin: string | null }>('SELECT origin FROM audit_heads WHERE tenant_id = $1', [tenantId]);
    if (rows[0]?.origin) return rows[0].origin;
    const d = (await readDeploymentIdentity(tx)) ?? { originPrefix: this.opts.origin, keyName: this.opts.origin };
    return logIdentityFrom(d, tenantId).origin;
  }

  /** Every verifier key the log's checkpoints may be signed with, current key first. */
  async verifierKeys(tx: Tx, tenantId: string | null): Promise<string[]> {
    let keyName: string | null = null;
    if (tenantId) {
      const { rows } = await tx.query<{ key_name: string | null }>('SELECT key_name FROM audit_heads WHERE tenant_id = $1', [tenantId]);
      keyName = rows[0]?.key_name ?? null;
    }
    keyName ??= (await readDeploymentIdentity(tx))?.keyName ?? this.opts.origin;
    return (await trustedKeys(tx, this.publicKey)).map((k) => verifierKeyString(keyName, k));
  }

  private async lockHead(tx: Tx, tenantId: string): Promise<HeadRow> {
    const { rows } = await tx.query<HeadRow>(`SELECT ${HEAD_COLUMNS} FROM audit_heads WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
    if (!rows[0]) throw new Error(`no audit log for tenant ${tenantId}`);
    return rows[0];
  }

  async append(tx: Tx, input: AuditInput): Promise<{ seq: number }> {
    const tenantId = input.tenantId ?? PLATFORM_TENANT;
    const head = await this.lockHead(tx, tenantId);
    const id = await this.logIdentity(tx, tenantId, head);
    await this.ensureKey(tx);
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
    const sig = signEntry(this.signer(id.keyName), id.origin, entry.seq, leaf);
    const { frontier, completed } = appendLeaf(splitFrontier(head.frontier), head.size, leaf);
    await tx.query(
      `INSERT INTO audit_entries (tenant_id, seq, ts, request_id, actor_type, actor_id, action, target_type, target_id,
         policy_version, source, reason, metadata, leaf_hash, sig)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        tenantId,
        entry.seq,
        entry.ts,
        entry.requestId,
        entry.actor.type,
        entry.actor.id,
        entry.action,
        entry.target?.type ?? null,
        entry.target?.id ?? null,
        policyVersion,
        entry.source,
        entry.reason,
        JSON.stringify(entry.metadata),
        leaf,
        sig,
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
    await tx.query('UPDATE audit_heads SET size = $2, frontier = $3 WHERE tenant_id = $1', [tenantId, size, Buffer.concat(frontier)]);
    const due =
      size - head.last_checkpoint_size >= this.opts.checkpointEvery ||
      Date.now() - head.last_checkpoint_at.getTime() >= this.opts.checkpointIntervalMs;
    if (due) await this.signHead(tx, tenantId, { ...head, size }, rootFromFrontier(frontier));
    return { seq: entry.seq };
  }

  /**
   * Signs a log's head as a C2SP checkpoint chained to the previous one, stores it, and moves the head's
   * checkpoint bookkeeping (size, time, count, hash of the newest note). `head` must be locked.
   */
  private async signHead(tx: Tx, tenantId: string, head: HeadRow, root: Buffer): Promise<string> {
    const id = await this.logIdentity(tx, tenantId, head);
    await this.ensureKey(tx);
    const first = head.checkpoint_count === 0 || !head.last_checkpoint_hash;
    const chain = formatChain({
      index: head.checkpoint_count,
      every: this.opts.checkpointEvery,
      prev: first ? null : { size: head.last_checkpoint_size, hash: Buffer.from(head.last_checkpoint_hash!) },
    });
    const note = signNote(formatCheckpoint({ origin: id.origin, size: head.size, root, extensions: [chain] }), this.signer(id.keyName));
    const inserted = await tx.query(
      'INSERT INTO audit_checkpoints (tenant_id, size, root, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING size',
      [tenantId, head.size, root, note],
    );
    if (!inserted.rows.length) return note;
    await tx.query(
      `UPDATE audit_heads SET last_checkpoint_size = $2, last_checkpoint_at = now(), checkpoint_count = checkpoint_count + 1,
         last_checkpoint_hash = $3 WHERE tenant_id = $1`,
      [tenantId, head.size, sha256(note)],
    );
    return note;
  }

  /** Signs the current head of a log if entries came after its last checkpoint (the time-based sweep). */
  async checkpointIfBehind(tx: Tx, tenantId: string): Promise<boolean> {
    const head = await this.lockHead(tx, tenantId);
    if (head.size <= head.last_checkpoint_size) return false;
    await this.signHead(tx, tenantId, head, rootFromFrontier(splitFrontier(head.frontier)));
    return true;
  }

  /** The newest checkpoint, signing the current head first if entries came after the last one. */
  async latestCheckpoint(tx: Tx, tenantId: string): Promise<{ size: number; root: Buffer; note: string }> {
    const head = await this.lockHead(tx, tenantId);
    if (head.size > head.last_checkpoint_size || head.checkpoint_count === 0) {
      await this.signHead(tx, tenantId, head, rootFromFrontier(splitFrontier(head.frontier)));
    }
    const cp = await tx.query<{ size: number; root: Uint8Array; note: string }>(
      'SELECT size, root, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1',
      [tenantId],
    );
    const c = cp.rows[0]!;
    return { size: c.size, root: Buffer.from(c.root), note: c.note };
  }
}
