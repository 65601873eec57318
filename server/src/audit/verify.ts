// Recomputes a log from its rows and judges it only by what an owner cannot forge: signatures by keys
// the verifier trusts. Every leaf, stored subtree, the head, every signed checkpoint and the chain that
// links them are checked, and each entry's own signature pins a rewrite to its index even when leaves,
// nodes, head and checkpoints were all recomputed or deleted. Read-only: it writes nothing. Entries
// sequenced but not yet integrated have no index: they are counted as pending, never read as a gap.
import type { ParleyDb } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { auditLeafBytes } from './canonical.js';
import {
  entrySignatureValid,
  logIdentityFrom,
  readCheckpoint,
  readDeploymentIdentity,
  readMislabelledCheckpoint,
  sha256,
  trustedKeys,
  unsignedBefore,
  type ChainLink,
  type LogIdentity,
} from './identity.js';
import { appendLeaf, leafHash, rootFromFrontier } from './merkle.js';
import { canonicalFromRow, ENTRY_COLUMNS, type EntryRow } from './store.js';
import { splitFrontier } from './log.js';

export interface VerifyResult {
  ok: boolean;
  entries: number;
  root: string;
  firstBadIndex: number | null;
  /**
   * Entries sequenced (committed with their action) but not yet integrated: they have no index yet, so
   * they are neither part of the tree nor a gap in it. The integrator gives them the next indexes.
   */
  pending: number;
  /** Human-readable reasons, first problem first. */
  problems: string[];
}

export interface VerifyOptions {
  /** Raw Ed25519 public key the verifier trusts (its configured signing key); older keys are trusted through it. */
  anchor: Buffer;
  /** No more than this many entries follow the last checkpoint (PARLEY_AUDIT_CHECKPOINT_EVERY); a checkpoint's own value counts when larger. */
  checkpointEvery: number;
}

const BATCH = 5000;

interface HeadRow {
  size: number;
  frontier: Uint8Array;
  origin: string | null;
  key_name: string | null;
  last_checkpoint_size: number;
  checkpoint_count: number;
  last_checkpoint_hash: Uint8Array | null;
  signed_from: number;
}

type SignedRow = EntryRow & { sig: Uint8Array | null };

/** An entry's leaf hash, or null when its row cannot be read as an entry (only a hand-edited row cannot). */
function leafOf(row: EntryRow): Buffer | null {
  try {
    return leafHash(auditLeafBytes(canonicalFromRow(row)));
  } catch {
    return null;
  }
}

export async function verifyLog(tx: Tx, tenantId: string, opts: VerifyOptions): Promise<VerifyResult> {
  const problems: string[] = [];
  let firstBad: number | null = null;
  // Exact evidence (a gap, a leaf or entry signature that does not match its row) pins the index; coarse
  // evidence (a subtree, checkpoint or head that does not match) only bounds it, so it counts when nothing exact did.
  let exact = false;
  const flag = (index: number, why: string) => {
    if (!exact || firstBad === null || index < firstBad) firstBad = index;
    exact = true;
    problems.push(why);
  };
  const coarse = (index: number, why: string) => {
    if (firstBad === null) firstBad = index;
    problems.push(why);
  };

  const head = (
    await tx.query<HeadRow>(
      `SELECT size, frontier, origin, key_name, last_checkpoint_size, checkpoint_count, last_checkpoint_hash, signed_from
       FROM audit_heads WHERE tenant_id = $1`,
      [tenantId],
    )
  ).rows[0];
  const deployment = await readDeploymentIdentity(tx);
  const id: LogIdentity | null =
    head?.origin && head.key_name ? { origin: head.origin, keyName: head.key_name } : deployment ? logIdentityFrom(deployment, tenantId) : null;
  const keys = await trustedKeys(tx, opts.anchor);

  const nodes = new Map<string, Buffer>();
  const storedNodes = await tx.query<{ level: number; idx: number; hash: Uint8Array }>(
    'SELECT level, idx, hash FROM audit_nodes WHERE tenant_id = $1',
    [tenantId],
  );
  for (const n of storedNodes.rows) nodes.set(`${n.level}/${n.idx}`, Buffer.from(n.hash));

  // ---- checkpoints: signature, identity, and the chain linking each to the one before ----
  const stored = (
    await tx.query<{ size: number; root: Uint8Array; note: string }>(
      'SELECT size, root, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size',
      [tenantId],
    )
  ).rows;
  const good = new Map<number, { root: Buffer; chain: ChainLink | null }>();
  let previousSize = 0;
  let chained = false;
  stored.forEach((cp, i) => {
    let chain: ChainLink | null = null;
    const read = (note: string) => {
      if (!id) throw new Error('the log has no recorded identity');
      try {
        return readCheckpoint(note, id, keys);
      } catch (err) {
        // Before the chain began, a genuine checkpoint may carry the name of the host and port it was signed under.
        if (chained) throw err;
        try {
          return readMislabelledCheckpoint(note, tenantId, keys);
        } catch {
          throw err;
        }
      }
    };
    try {
      const parsed = read(cp.note);
      if (parsed.size !== cp.size || !parsed.root.equals(Buffer.from(cp.root))) throw new Error('its row does not match its signed text');
      chain = parsed.chain;
      chained ||= chain !== null;
      good.set(cp.size, { root: parsed.root, chain });
    } catch (err) {
      coarse(previousSize, `checkpoint at size ${cp.size} has no valid signature (${(err as Error).message})`);
    }
    if (chain) {
      const before = stored[i - 1];
      if (chain.index > i) {
        coarse(
          chain.prev?.size ?? 0,
          `checkpoint at size ${cp.size} is #${chain.index} of the chain but only ${i} precede it: the checkpoint at size ${chain.prev?.size} and any before it are missing`,
        );
      } else if (chain.index < i) {
        coarse(previousSize, `checkpoint at size ${cp.size} is #${chain.index} of the chain but ${i} checkpoints precede it`);
      } else if (chain.prev && (!before || before.size !== chain.prev.size || !sha256(before.note).equals(chain.prev.hash))) {
        coarse(chain.prev.size, `checkpoint at size ${cp.size} follows a checkpoint at size ${chain.prev.size} that is missing or was replaced`);
      }
    }
    previousSize = cp.size;
  });
  const newest = stored.at(-1);
  if (head) {
    if (head.checkpoint_count !== stored.length) {
      coarse(
        newest?.size ?? 0,
        `the head counts ${head.checkpoint_count} checkpoints, ${stored.length} are stored: checkpoints were deleted or added`,
      );
    }
    if (newest && head.last_checkpoint_hash && !sha256(newest.note).equals(Buffer.from(head.last_checkpoint_hash))) {
      coarse(newest.size, `the newest checkpoint (size ${newest.size}) is not the one the head last signed`);
    }
    if (head.last_checkpoint_size > 0 && !stored.some((c) => c.size === head.last_checkpoint_size)) {
      coarse(
        stored.filter((c) => c.size < head.last_checkpoint_size).at(-1)?.size ?? 0,
        `the head names a checkpoint at size ${head.last_checkpoint_size} that is missing`,
      );
    }
  }

  // Where entries may lack a signature (identity.ts), from the checkpoints whose signatures hold, not from the head.
  const signedFrom = unsignedBefore({
    legacy: [...good].filter(([, c]) => !c.chain).map(([s]) => s),
    chained: [...good].filter(([, c]) => c.chain).map(([s]) => s),
    signedFrom: head?.signed_from ?? 0,
    every: opts.checkpointEvery,
  });

  // Entry signatures over [from, to): the exact index of a rewrite that a checkpoint or the tree only bounds.
  let sigsCheckedTo = 0;
  const checkSignatures = async (from: number, to: number) => {
    from = Math.max(from, sigsCheckedTo);
    for (let at = from; at < to; ) {
      const { rows } = await tx.query<SignedRow>(
        `SELECT ${ENTRY_COLUMNS}, sig FROM audit_entries WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4`,
        [tenantId, at, to, BATCH],
      );
      if (!rows.length) break;
      for (const row of rows) {
        if (row.sig === null) {
          if (row.seq >= signedFrom) flag(row.seq, `entry ${row.seq} has no signature`);
        } else {
          const leaf = leafOf(row);
          if (leaf && (!id || !entrySignatureValid(Buffer.from(row.sig), id, keys, row.seq, leaf)))
            flag(row.seq, `entry ${row.seq} does not match its signature`);
        }
      }
      at = rows.at(-1)!.seq + 1;
    }
    sigsCheckedTo = Math.max(sigsCheckedTo, to);
  };

  // ---- entries, subtrees and checkpoint roots ----
  let previousGoodSize = 0;
  let frontier: Buffer[] = [];
  let size = 0;
  const rootMismatches: Array<[number, number]> = [];
  const checkRoot = (at: number) => {
    const cp = good.get(at);
    if (!cp) return;
    if (!cp.root.equals(rootFromFrontier(frontier))) {
      coarse(previousGoodSize, `checkpoint at size ${at} does not match the recomputed root`);
      rootMismatches.push([previousGoodSize, at]);
    } else previousGoodSize = at;
  };
  checkRoot(0);
  let gap = false;
  for (;;) {
    const { rows } = await tx.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [
      tenantId,
      size,
      BATCH,
    ]);
    for (const row of rows) {
      if (row.seq !== size) {
        flag(size, `entry ${size} is missing (next stored is ${row.seq})`);
        gap = true;
        break;
      }
      let leaf = leafOf(row);
      if (!leaf) {
        flag(size, `entry ${size} cannot be read as an audit entry`);
        leaf = Buffer.from(row.leaf_hash);
      } else if (!leaf.equals(Buffer.from(row.leaf_hash))) flag(size, `entry ${size} does not match its leaf hash`);
      const appended = appendLeaf(frontier, size, leaf);
      for (const c of appended.completed) {
        const node = nodes.get(`${c.level}/${c.index}`);
        if (!node || !node.equals(c.hash)) coarse(c.index * 2 ** c.level, `tree node ${c.level}/${c.index} does not match`);
      }
      frontier = appended.frontier;
      size++;
      checkRoot(size);
    }
    if (gap || rows.length < BATCH) break;
  }
  // Where a signed root disagrees, and after the last checkpoint that agrees, each entry's own signature decides.
  for (const [from, to] of rootMismatches) await checkSignatures(from, Math.min(to, size));
  await checkSignatures(previousGoodSize, size);

  // ---- head, truncation, and entries nobody signed ----
  if (!head) flag(0, 'the log has no head');
  else if (head.size !== size && !gap) flag(Math.min(head.size, size), `the head says ${head.size} entries, ${size} were read`);
  else if (!gap && !rootFromFrontier(splitFrontier(head.frontier)).equals(rootFromFrontier(frontier)))
    coarse(previousGoodSize, 'the head root does not match');
  const covering = Math.max(newest?.size ?? 0, head?.last_checkpoint_size ?? 0);
  if (covering > size && !gap) flag(size, `a checkpoint covers ${covering} entries but only ${size} were read: the log was truncated`);
  const lastSigned =
    [...good.keys()]
      .filter((s) => s <= size)
      .sort((a, b) => a - b)
      .at(-1) ?? 0;
  const every = Math.max(opts.checkpointEvery, good.get(lastSigned)?.chain?.every ?? 0);
  if (size - lastSigned >= every) {
    coarse(
      lastSigned,
      `${size - lastSigned} entries follow the last signed checkpoint (size ${lastSigned}) but one is signed every ${every}: checkpoints were deleted or the log was truncated`,
    );
  }
  const pending = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND seq IS NULL', [tenantId]))
    .rows[0]!.n;
  return { ok: firstBad === null, entries: size, root: rootFromFrontier(frontier).toString('hex'), firstBadIndex: firstBad, pending, problems };
}

/**
 * Verifies one log or all of them in a read-only transaction as the platform role, without a platform
 * audit entry: verifying is not an action on the log, and must never write to it.
 */
export async function verifyLogs(db: ParleyDb, opts: VerifyOptions & { tenantId?: string }): Promise<Array<VerifyResult & { tenantId: string }>> {
  return db.withPlatform({ requestId: null, audit: false, readOnly: true, reason: 'log verification reads, never writes' }, async (tx) => {
    const ids = opts.tenantId
      ? [opts.tenantId]
      : (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM audit_heads ORDER BY tenant_id')).rows.map((r) => r.tenant_id);
    const out = [];
    for (const tenantId of ids) out.push({ tenantId, ...(await verifyLog(tx, tenantId, opts)) });
    return out;
  });
}
