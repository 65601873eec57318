// A tenant's (or the platform's) Merkle log, sequencing apart from integration as Trillian and Tessera
// do: an append stores the entry inside the caller's transaction (the action and its entry commit or roll
// back together) without taking the log's head; the integrator later gives committed entries their
// indexes in one locked, batched step per log, which keeps the order gap-free.
import { reasonForRecord } from '../ai/pii/reason.js';
import type { Tx } from '../db/types.js';
import { afterCommit, PLATFORM_TENANT } from '../db/index.js';
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
import type { AuditIntegrator } from './integrator.js';
import { canonicalFromRow, type EntryRow } from './store.js';
import { AuditTampered, vouchHead } from './vouch.js';

/** How long a log whose head failed the signer's check is left alone before it is checked again. */
const HOLD_MS = 60_000;

/** A sequenced entry waiting for its index: the row without seq, leaf hash and signature, and its sequence id. */
export type PendingRow = Omit<EntryRow, 'seq' | 'leaf_hash'> & { id: number };

export interface AuditInput {
  /** null for the platform log */
  tenantId: string | null;
  requestId: string | null;
  actor: { type: string; id: string | null };
  action: string;
  target?: { type: string; id: string | null } | null;
  /**
   * Required for break-glass actions. Kept with the personal values the PII engine finds in it taken out
   * (ai/pii/reason.ts): whatever a person typed, the log holds no address or name from it.
   */
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
  signed_from: number;
}

const HEAD_COLUMNS =
  'size, frontier, last_checkpoint_size, last_checkpoint_at, origin, key_name, checkpoint_count, last_checkpoint_hash, signed_from';

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
  /** Per log, the head this process last vouched for or made itself: the same head is not checked again. */
  private readonly vouched = new Map<string, { size: number; frontier: Buffer }>();
  /** Logs whose head failed the check, until when they are left out of integration and checkpoint sweeps. */
  private readonly held = new Map<string, number>();

  /** Leaves a log out of integration and checkpoint sweeps for a while (its entries stay pending). */
  hold(err: AuditTampered): void {
    this.held.set(err.tenantId, Date.now() + HOLD_MS);
  }

  /** The logs held now. */
  heldLogs(): string[] {
    const now = Date.now();
    for (const [id, until] of this.held) if (until <= now) this.held.delete(id);
    return [...this.held.keys()];
  }

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

  /**
   * Signs a statement other than a checkpoint (an evidence pack's) with the deployment's key, under the
   * key name of GET /v1/audit/verifier-key, so the key a client already pins verifies it.
   */
  async signStatement(tx: Tx, text: string): Promise<string> {
    const { keyName } = await this.ensureIdentity(tx);
    return signNote(text, this.signer(keyName));
  }

  /**
   * Throws AuditTampered (vouch.ts) unless the locked head is what the last signed checkpoint and the entries
   * since make; checked once per head this process has not seen, as another instance or the owner may have
   * moved it.
   */
  private async vouch(tx: Tx, tenantId: string, head: HeadRow, id: LogIdentity): Promise<void> {
    const frontier = Buffer.from(head.frontier);
    const known = this.vouched.get(tenantId);
    if (known && known.size === head.size && known.frontier.equals(frontier)) return;
    await vouchHead(tx, tenantId, head, id, await trustedKeys(tx, this.publicKey), this.opts.checkpointEvery);
    this.vouched.set(tenantId, { size: head.size, frontier });
  }

  private async lockHead(tx: Tx, tenantId: string): Promise<HeadRow> {
    const { rows } = await tx.query<HeadRow>(`SELECT ${HEAD_COLUMNS} FROM audit_heads WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
    if (!rows[0]) throw new Error(`no audit log for tenant ${tenantId}`);
    return rows[0];
  }

  /**
   * Sequences an entry: one INSERT in the caller's transaction, so the action and its entry commit or roll
   * back together, and no lock on the log's head, so writers of one tenant never wait for each other. The
   * INSERT is held (Tx.defer) and goes with the transaction's next statement or its COMMIT: it returns
   * nothing, so it needs no round trip of its own. The
   * entry has no index yet: the integrator (./integrator.ts) gives it one, extends the tree and signs
   * checkpoints once it has committed; proofs for it exist from then on.
   */
  async append(tx: Tx, input: AuditInput): Promise<void> {
    const tenantId = input.tenantId ?? PLATFORM_TENANT;
    const entry: AuditEntryCanonical = {
      seq: 0,
      ts: new Date().toISOString(),
      tenantId,
      requestId: input.requestId,
      // A visitor is never named here: their reference or verified user id is personal data, and the log is
      // never edited, so it would outlive an erasure. The entry's target (the conversation) says where.
      actor: input.actor.type === 'visitor' ? { type: 'visitor', id: null } : input.actor,
      action: input.action,
      target: input.target ?? null,
      policyVersion: 0,
      source: input.source ?? this.opts.source ?? 'server',
      reason: input.reason ? reasonForRecord(input.reason) : null,
      metadata: input.metadata ?? {},
    };
    // Refuse here what could not be hashed later (not plain JSON), so it fails the action, not the integrator.
    auditLeafBytes(entry);
    // The policy version in force when the action happened, read in the same statement (the platform log has none).
    tx.defer(
      `INSERT INTO audit_entries (tenant_id, ts, request_id, actor_type, actor_id, action, target_type, target_id,
         policy_version, source, reason, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce((SELECT policy_version FROM tenants WHERE id = $1 AND $9), 0), $10, $11, $12)`,
      [
        tenantId,
        entry.ts,
        entry.requestId,
        entry.actor.type,
        entry.actor.id,
        entry.action,
        entry.target?.type ?? null,
        entry.target?.id ?? null,
        input.tenantId !== null,
        entry.source,
        entry.reason,
        JSON.stringify(entry.metadata),
      ],
    );
    const wake = this.onSequenced;
    if (wake) {
      try {
        afterCommit(tx, wake);
      } catch {
        // A transaction not opened by the Db (none in the app): the integrator's poll picks the entry up.
      }
    }
  }

  /** Called after a transaction that sequenced entries commits (the integrator's kick). */
  onSequenced: (() => void) | null = null;
  /** The integrator of this process (set by wireRuntime). */
  integrator: AuditIntegrator | null = null;

  /** Integrates every entry committed so far (tests, `audit verify --integrate`); see AuditIntegrator.integrateNow. */
  async integrateNow(): Promise<number> {
    if (!this.integrator) throw new Error('the audit log has no integrator attached');
    return this.integrator.integrateNow();
  }

  /**
   * Integrates sequenced entries of one log, in the order given: each gets the next index, its leaf hash
   * and entry signature; the tree, the head and (when due) checkpoints follow. `rows` must be locked and
   * still unintegrated; the head is locked here. Returns the log's new size.
   */
  async integrate(tx: Tx, tenantId: string, rows: readonly PendingRow[]): Promise<number> {
    const head = await this.lockHead(tx, tenantId);
    const id = await this.logIdentity(tx, tenantId, head);
    await this.vouch(tx, tenantId, head, id);
    await this.ensureKey(tx);
    const signer = this.signer(id.keyName);
    let frontier = splitFrontier(head.frontier);
    let size = head.size;
    const ids: number[] = [];
    const seqs: number[] = [];
    const leaves: string[] = [];
    const sigs: string[] = [];
    const levels: number[] = [];
    const idxs: number[] = [];
    const hashes: string[] = [];
    // The tree's new nodes and the head's new size are read back by nothing here: both are held (Tx.defer)
    // and go with the next statement (the entries' update, a checkpoint) or the COMMIT.
    const storeNodes = () => {
      if (!levels.length) return;
      tx.defer(
        `INSERT INTO audit_nodes (tenant_id, level, idx, hash)
         SELECT $1, l, i, decode(h, 'hex') FROM unnest($2::smallint[], $3::bigint[], $4::text[]) AS n(l, i, h)`,
        [tenantId, [...levels], [...idxs], [...hashes]],
      );
      levels.length = idxs.length = hashes.length = 0;
    };
    // Every row read before anything is written: one that cannot be read (only a hand-edited row cannot) holds
    // this log and leaves the transaction clean for the others.
    const leafOf = rows.map((row, i) => {
      try {
        return leafHash(auditLeafBytes(canonicalFromRow({ ...row, seq: head.size + i })));
      } catch {
        throw new AuditTampered(tenantId, `pending entry ${row.id} cannot be read as an audit entry`);
      }
    });
    for (const [i, row] of rows.entries()) {
      const seq = size;
      const leaf = leafOf[i]!;
      const appended = appendLeaf(frontier, size, leaf);
      frontier = appended.frontier;
      for (const n of appended.completed) {
        levels.push(n.level);
        idxs.push(n.index);
        hashes.push(n.hash.toString('hex'));
      }
      ids.push(row.id);
      seqs.push(seq);
      leaves.push(leaf.toString('hex'));
      sigs.push(signEntry(signer, id.origin, seq, leaf).toString('hex'));
      size++;
      // Every `checkpointEvery` entries, as when each append signed: a batch does not thin the checkpoints out.
      if (size - head.last_checkpoint_size >= this.opts.checkpointEvery) {
        storeNodes();
        await this.signHead(tx, tenantId, Object.assign(head, { size }), rootFromFrontier(frontier));
      }
    }
    storeNodes();
    const updated = await tx.query(
      `UPDATE audit_entries e SET seq = v.seq, leaf_hash = decode(v.leaf, 'hex'), sig = decode(v.sig, 'hex')
         FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS v(id, seq, leaf, sig)
        WHERE e.tenant_id = $1 AND e.id = v.id AND e.seq IS NULL`,
      [tenantId, ids, seqs, leaves, sigs],
    );
    if (updated.rowCount !== rows.length)
      throw new Error(`audit integration of ${tenantId}: ${updated.rowCount} of ${rows.length} entries were still pending`);
    tx.defer('UPDATE audit_heads SET size = $2, frontier = $3 WHERE tenant_id = $1', [tenantId, size, Buffer.concat(frontier)]);
    head.size = size;
    // Made here from a vouched head: the next batch need not check it again (a rollback leaves another head).
    this.vouched.set(tenantId, { size, frontier: Buffer.concat(frontier) });
    if (size > head.last_checkpoint_size && Date.now() - head.last_checkpoint_at.getTime() >= this.opts.checkpointIntervalMs) {
      await this.signHead(tx, tenantId, head, rootFromFrontier(frontier));
    }
    return size;
  }

  /**
   * Signs a log's head as a C2SP checkpoint chained to the previous one, stores it, and moves the head's
   * checkpoint bookkeeping (size, time, count, hash of the newest note), in the row and in `head`, so the
   * next checkpoint of one batch chains to this one. `head` must be locked.
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
    head.last_checkpoint_size = head.size;
    head.last_checkpoint_at = new Date();
    head.checkpoint_count += 1;
    head.last_checkpoint_hash = sha256(note);
    return note;
  }

  /** Signs the current head of a log if entries came after its last checkpoint (the time-based sweep). */
  async checkpointIfBehind(tx: Tx, tenantId: string): Promise<boolean> {
    const head = await this.lockHead(tx, tenantId);
    if (head.size <= head.last_checkpoint_size) return false;
    await this.vouch(tx, tenantId, head, await this.logIdentity(tx, tenantId, head));
    await this.signHead(tx, tenantId, head, rootFromFrontier(splitFrontier(head.frontier)));
    return true;
  }

  /** The newest checkpoint, signing the current head first if entries came after the last one. */
  async latestCheckpoint(tx: Tx, tenantId: string): Promise<{ size: number; root: Buffer; note: string }> {
    const head = await this.lockHead(tx, tenantId);
    if (head.size > head.last_checkpoint_size || head.checkpoint_count === 0) {
      await this.vouch(tx, tenantId, head, await this.logIdentity(tx, tenantId, head));
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
