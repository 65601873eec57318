// Recomputes a log from its rows: every leaf from the canonical entry, every stored subtree, the head,
// and every signed checkpoint. The first index that any of these contradicts is reported.
import type { Tx } from '../db/types.js';
import { auditLeafBytes } from './canonical.js';
import { parseCheckpoint, verifyNote } from './checkpoint.js';
import { appendLeaf, leafHash, rootFromFrontier } from './merkle.js';
import { canonicalFromRow, ENTRY_COLUMNS, type EntryRow } from './store.js';
import { splitFrontier } from './log.js';

export interface VerifyResult {
  ok: boolean;
  entries: number;
  root: string;
  firstBadIndex: number | null;
  /** Human-readable reasons, first problem first. */
  problems: string[];
}

const BATCH = 5000;

export async function verifyLog(tx: Tx, tenantId: string, verifierKey: string): Promise<VerifyResult> {
  const problems: string[] = [];
  let firstBad: number | null = null;
  // Exact evidence (a gap, a leaf that does not match its row) pins the index; coarse evidence (a
  // subtree, checkpoint or head that does not match) only bounds it, so it counts when nothing exact did.
  const flag = (index: number, why: string) => {
    if (firstBad === null || index < firstBad) firstBad = index;
    problems.push(why);
  };
  const coarse = (index: number, why: string) => {
    if (firstBad === null) firstBad = index;
    problems.push(why);
  };

  const nodes = new Map<string, Buffer>();
  const storedNodes = await tx.query<{ level: number; idx: number; hash: Uint8Array }>(
    'SELECT level, idx, hash FROM audit_nodes WHERE tenant_id = $1',
    [tenantId],
  );
  for (const n of storedNodes.rows) nodes.set(`${n.level}/${n.idx}`, Buffer.from(n.hash));

  const checkpoints = (
    await tx.query<{ size: number; root: Uint8Array; note: string }>(
      'SELECT size, root, note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size',
      [tenantId],
    )
  ).rows;
  const cpBySize = new Map(checkpoints.map((c) => [c.size, c]));
  let previousGoodSize = 0;
  const checkCheckpoint = (size: number, root: Buffer) => {
    const cp = cpBySize.get(size);
    if (!cp) return;
    try {
      const parsed = parseCheckpoint(verifyNote(cp.note, verifierKey).text);
      if (parsed.size !== size || !parsed.root.equals(root) || !Buffer.from(cp.root).equals(root)) {
        coarse(previousGoodSize, `checkpoint at size ${size} does not match the recomputed root`);
      } else previousGoodSize = size;
    } catch (err) {
      coarse(previousGoodSize, `checkpoint at size ${size} has no valid signature (${(err as Error).message})`);
    }
  };
  checkCheckpoint(0, rootFromFrontier([]));

  let frontier: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { rows } = await tx.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
      [tenantId, size, BATCH],
    );
    for (const row of rows) {
      if (row.seq !== size) {
        flag(size, `entry ${size} is missing (next stored is ${row.seq})`);
        return finish();
      }
      const leaf = leafHash(auditLeafBytes(canonicalFromRow(row)));
      if (!leaf.equals(Buffer.from(row.leaf_hash))) flag(size, `entry ${size} does not match its leaf hash`);
      const appended = appendLeaf(frontier, size, leaf);
      for (const c of appended.completed) {
        const stored = nodes.get(`${c.level}/${c.index}`);
        if (!stored || !stored.equals(c.hash)) coarse(c.index * 2 ** c.level, `tree node ${c.level}/${c.index} does not match`);
      }
      frontier = appended.frontier;
      size++;
      checkCheckpoint(size, rootFromFrontier(frontier));
    }
    if (rows.length < BATCH) break;
  }
  return finish();

  async function finish(): Promise<VerifyResult> {
    const head = (
      await tx.query<{ size: number; frontier: Uint8Array }>('SELECT size, frontier FROM audit_heads WHERE tenant_id = $1', [tenantId])
    ).rows[0];
    if (!head) flag(0, 'the log has no head');
    else if (head.size !== size) flag(Math.min(head.size, size), `the head says ${head.size} entries, ${size} were read`);
    else if (!rootFromFrontier(splitFrontier(head.frontier)).equals(rootFromFrontier(frontier))) coarse(previousGoodSize, 'the head root does not match');
    const last = checkpoints.at(-1);
    if (last && last.size > size) flag(size, `a checkpoint covers ${last.size} entries but only ${size} were read`);
    return { ok: firstBad === null, entries: size, root: rootFromFrontier(frontier).toString('hex'), firstBadIndex: firstBad, problems };
  }
}
