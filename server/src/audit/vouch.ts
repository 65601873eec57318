// What the signer checks before it signs a log's head: a checkpoint vouches for every entry below it, so it
// is signed only over a head that the last signed checkpoint and the entries since make. The owner of the
// database writes the head, its frontier, the stored subtrees and the entry rows; signing them as found
// would turn a rewrite into a signed one (an export or the checkpoint sweep would seal it).
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { auditLeafBytes } from './canonical.js';
import { entrySignatureValid, readCheckpoint, readMislabelledCheckpoint, sha256, unsignedBefore, type LogIdentity } from './identity.js';
import { appendLeaf, leafHash, rootFromFrontier } from './merkle.js';
import { canonicalFromRow, ENTRY_COLUMNS, type EntryRow } from './store.js';

/** A conflict to a caller that asked for a checkpoint (the API, an evidence export): the log needs an operator. */
export class AuditTampered extends DomainError {
  constructor(
    readonly tenantId: string,
    why: string,
  ) {
    super('conflict', `The audit log of ${tenantId} failed its integrity check (${why}): no checkpoint is signed over it. Run parley audit verify.`);
    this.name = 'AuditTampered';
  }
}

/** The head as the signer reads it (locked). */
export interface VouchedHead {
  size: number;
  frontier: Uint8Array;
  last_checkpoint_hash: Uint8Array | null;
  signed_from: number;
}

/** The perfect subtrees (level ≥ 1) covering leaves [0, size) for an even size, largest first. */
function compactRange(size: number): [level: number, index: number][] {
  const out: [number, number][] = [];
  let offset = 0;
  for (let level = 52; level >= 1; level--) {
    const span = 2 ** level;
    if (size - offset >= span) {
      out.push([level, offset / span]);
      offset += span;
    }
  }
  return out;
}

/**
 * Throws AuditTampered unless `head` is what its newest signed checkpoint's tree and the entries since make:
 * the checkpoint's signature (by a key in `keys`), its root recomputed from the stored subtrees and entries,
 * each entry since it matching its leaf hash and its own signature, no gap, and the head's frontier the
 * result. An entry may lack its signature only where verify allows it (identity.ts unsignedBefore: a log
 * proven by its own checkpoints to predate entry signatures), never on the head's word. Returns the vouched
 * frontier.
 */
export async function vouchHead(tx: Tx, tenantId: string, head: VouchedHead, id: LogIdentity, keys: Buffer[], every: number): Promise<Buffer[]> {
  const tampered = (why: string) => new AuditTampered(tenantId, why);
  // Where entries may lack a signature (identity.ts): read from every checkpoint, only when an unsigned one is met.
  let bound: number | null = null;
  const unsignedAllowedBelow = async () => {
    if (bound !== null) return bound;
    const legacy: number[] = [];
    const chained: number[] = [];
    const all = (
      await tx.query<{ size: number; note: string }>('SELECT size, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size', [tenantId])
    ).rows;
    for (const c of all) {
      const read = readStored(c.note);
      if (read && read.size === c.size) (read.chain ? chained : legacy).push(c.size);
    }
    return (bound = unsignedBefore({ legacy, chained, signedFrom: head.signed_from, every }));
  };
  const readStored = (note: string) => {
    try {
      return readCheckpoint(note, id, keys);
    } catch {
      try {
        return readMislabelledCheckpoint(note, tenantId, keys);
      } catch {
        return null;
      }
    }
  };
  const cp = (
    await tx.query<{ size: number; root: Uint8Array; note: string }>(
      'SELECT size, root, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1',
      [tenantId],
    )
  ).rows[0];
  let cpSize = 0;
  let cpRoot: Buffer | null = null;
  let chained = false;
  if (cp) {
    const parsed = readStored(cp.note);
    if (!parsed) throw tampered(`the checkpoint at size ${cp.size} has no valid signature`);
    if (parsed.size !== cp.size || !parsed.root.equals(Buffer.from(cp.root)))
      throw tampered(`the checkpoint at size ${cp.size} does not match its row`);
    if (head.last_checkpoint_hash && !sha256(cp.note).equals(Buffer.from(head.last_checkpoint_hash)))
      throw tampered('the newest checkpoint is not the one the head last signed');
    cpSize = cp.size;
    cpRoot = parsed.root;
    chained = parsed.chain !== null;
  } else if (head.last_checkpoint_hash) throw tampered('the checkpoint the head last signed is missing');
  if (head.size < cpSize) throw tampered(`the head has ${head.size} entries, a checkpoint covers ${cpSize}`);

  // The tree at the checkpoint from its stored subtrees; a leaf on its odd edge is read from its entry below.
  let size = cpSize - (cpSize % 2);
  const range = compactRange(size);
  const stored = range.length
    ? (
        await tx.query<{ level: number; idx: number; hash: Uint8Array }>(
          'SELECT level, idx, hash FROM audit_nodes WHERE tenant_id = $1 AND (level, idx) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))',
          [tenantId, range.map(([l]) => l), range.map(([, i]) => i)],
        )
      ).rows
    : [];
  const byKey = new Map(stored.map((n) => [`${n.level}/${Number(n.idx)}`, Buffer.from(n.hash)]));
  let frontier: Buffer[] = range.map(([l, i]) => {
    const h = byKey.get(`${l}/${i}`);
    if (!h) throw tampered(`tree node ${l}/${i} is missing`);
    return h;
  });
  if (size === cpSize && cpRoot && !rootFromFrontier(frontier).equals(cpRoot))
    throw tampered(`the tree does not make the checkpoint at size ${cpSize}`);

  const rows = (
    await tx.query<EntryRow & { sig: Uint8Array | null }>(
      `SELECT ${ENTRY_COLUMNS}, sig FROM audit_entries WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`,
      [tenantId, size, head.size],
    )
  ).rows;
  for (const row of rows) {
    if (row.seq !== size) throw tampered(`entry ${size} is missing`);
    let leaf: Buffer;
    try {
      leaf = leafHash(auditLeafBytes(canonicalFromRow(row)));
    } catch {
      throw tampered(`entry ${size} cannot be read as an audit entry`);
    }
    if (!leaf.equals(Buffer.from(row.leaf_hash))) throw tampered(`entry ${size} does not match its leaf hash`);
    // Below the checkpoint its root decides; above it, the entry's own signature.
    if (size >= cpSize) {
      if (row.sig === null) {
        if (chained || size >= (await unsignedAllowedBelow())) throw tampered(`entry ${size} has no signature`);
      } else if (!entrySignatureValid(Buffer.from(row.sig), id, keys, size, leaf)) throw tampered(`entry ${size} does not match its signature`);
    }
    frontier = appendLeaf(frontier, size, leaf).frontier;
    size++;
    if (size === cpSize && cpRoot && !rootFromFrontier(frontier).equals(cpRoot))
      throw tampered(`the entries do not make the checkpoint at size ${cpSize}`);
  }
  if (size !== head.size) throw tampered(`entry ${size} is missing`);
  if (!Buffer.concat(frontier).equals(Buffer.from(head.frontier))) throw tampered('the head is not what its entries make');
  return frontier;
}
