// RFC 9162 (RFC 6962) Merkle trees over SHA-256: leaf and node hashing, an O(log n) appender that keeps
// the compact range (the roots of the perfect subtrees covering the tree), and inclusion and consistency
// proofs assembled from perfect-subtree hashes only.
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export const leafHash = (data: Uint8Array): Buffer => sha256(LEAF, data);
export const nodeHash = (l: Uint8Array, r: Uint8Array): Buffer => sha256(NODE, l, r);
export const emptyRoot = (): Buffer => sha256();

/** Hash of the perfect subtree at `level` with index `index`: leaves [index·2^level, (index+1)·2^level). */
export type GetNode = (level: number, index: number) => Promise<Buffer>;

/** Largest power of two strictly below n (n ≥ 2). */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

export function rootFromLeafHashes(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return emptyRoot();
  let level = [...leaves];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2) next.push(level[level.length - 1]!); // an unpaired right edge rises unchanged
    level = next;
  }
  return level[0]!;
}

/** Appends a leaf to a compact range of `size` leaves; reports the perfect subtrees it completed. */
export function appendLeaf(
  frontier: readonly Buffer[],
  size: number,
  leaf: Buffer,
): { frontier: Buffer[]; completed: { level: number; index: number; hash: Buffer }[] } {
  const out = [...frontier];
  const completed: { level: number; index: number; hash: Buffer }[] = [];
  let hash = leaf;
  let level = 0;
  let index = size;
  // Each trailing 1 bit of `size` is a perfect subtree the new leaf's subtree merges with.
  for (let s = size; s & 1; s >>>= 1) {
    hash = nodeHash(out.pop()!, hash);
    level++;
    index >>>= 1;
    completed.push({ level, index, hash });
  }
  out.push(hash);
  return { frontier: out, completed };
}

export function rootFromFrontier(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return emptyRoot();
  let acc = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!, acc);
  return acc;
}

/** MTH of leaves [start, end) from perfect subtrees: aligned power-of-two blocks, largest first. */
async function rangeHash(start: number, end: number, getNode: GetNode): Promise<Buffer> {
  const n = end - start;
  if (n === 1) return getNode(0, start);
  const level = Math.log2(n);
  if (Number.isInteger(level) && start % n === 0) return getNode(level, start / n);
  const k = split(n);
  return nodeHash(await rangeHash(start, start + k, getNode), await rangeHash(start + k, end, getNode));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as hashes, leaf-side first. */
export async function inclusionProof(index: number, size: number, getNode: GetNode): Promise<Buffer[]> {
  if (!(index >= 0 && index < size)) throw new RangeError('index must be below size');
  const path: Buffer[] = [];
  let start = 0;
  let end = size;
  const stack: [number, number][] = [];
  while (end - start > 1) {
    const k = split(end - start);
    if (index < start + k) {
      stack.push([start + k, end]);
      end = start + k;
    } else {
      stack.push([start, start + k]);
      start += k;
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) path.push(await rangeHash(stack[i]![0], stack[i]![1], getNode));
  return path;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]). */
export async function consistencyProof(m: number, n: number, getNode: GetNode): Promise<Buffer[]> {
  if (!(m >= 1 && m <= n)) throw new RangeError('need 1 <= m <= n');
  const out: Buffer[] = [];
  // SUBPROOF(m, D[start:end], b), iteratively: collect right-to-left then reverse.
  const walk = async (mm: number, start: number, end: number, complete: boolean): Promise<void> => {
    const n2 = end - start;
    if (mm === n2) {
      if (!complete) out.push(await rangeHash(start, end, getNode));
      return;
    }
    const k = split(n2);
    if (mm <= k) {
      await walk(mm, start, start + k, complete);
      out.push(await rangeHash(start + k, end, getNode));
    } else {
      await walk(mm - k, start + k, end, false);
      out.push(await rangeHash(start, start + k, getNode));
    }
  };
  if (m === n) return [];
  await walk(m, 0, n, true);
  return out;
}

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = nodeHash(p, r);
      if (!(fn & 1)) while (!(fn & 1) && fn !== 0) {
        fn >>>= 1;
        sn >>>= 1;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>>= 1;
    sn >>>= 1;
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(m: number, n: number, proof: readonly Buffer[], rootM: Buffer, rootN: Buffer): boolean {
  if (!(m >= 1 && m <= n)) return false;
  if (m === n) return proof.length === 0 && rootM.equals(rootN);
  if (proof.length === 0) return false;
  const path = [...proof];
  if (Number.isInteger(Math.log2(m))) path.unshift(rootM);
  let fn = m - 1;
  let sn = n - 1;
  while (fn & 1) {
    fn >>>= 1;
    sn >>>= 1;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!(fn & 1)) while (!(fn & 1) && fn !== 0) {
        fn >>>= 1;
        sn >>>= 1;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>>= 1;
    sn >>>= 1;
  }
  return sn === 0 && fr.equals(rootM) && sr.equals(rootN);
}

/** getNode over an in-memory list of leaf hashes (tests, benches). */
export function memoryNodes(leaves: readonly Buffer[]): GetNode {
  return async (level, index) => {
    const span = 2 ** level;
    const start = index * span;
    if (start + span > leaves.length) throw new RangeError(`no perfect subtree ${level}/${index}`);
    return rootFromLeafHashes(leaves.slice(start, start + span));
  };
}
