// RFC 9162 (RFC 6962) Merkle trees over SHA-256: leaf and node hashing, an O(log n) appender that keeps
// the compact range (the roots of the perfect subtrees covering the tree), proofs assembled from stored
// perfect-subtree hashes only, and the RFC's verification algorithms.
//
// Sizes and indices are plain numbers, so arithmetic stays exact up to 2^53 rather than the 2^32 that
// JavaScript's bitwise operators would allow.
import { hash } from 'node:crypto';

const HASH_SIZE = 32;
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

// One-shot hashing: no Hash object per call, which matters when a verify hashes millions of nodes.
const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

/** SHA-256(0x00 ‖ data): the prefix keeps a leaf from ever hashing like an interior node. */
export const leafHash = (data: Uint8Array): Buffer => sha256(Buffer.concat([LEAF_PREFIX, data]));
/** SHA-256(0x01 ‖ left ‖ right). */
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.concat([NODE_PREFIX, left, right]));
/** The root of the empty tree, SHA-256 of nothing. */
export const emptyRoot = (): Buffer => sha256(Buffer.alloc(0));

/**
 * Hash of the perfect subtree at `level` with index `index`, covering leaves
 * [index·2^level, (index+1)·2^level); level 0 is a leaf hash.
 */
export type GetNode = (level: number, index: number) => Promise<Buffer>;

/** One completed perfect subtree, as `appendLeaf` reports it for storage. */
export interface CompletedNode {
  level: number;
  index: number;
  hash: Buffer;
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);
const isCount = (x: number) => Number.isSafeInteger(x) && x >= 0;
const isPowerOfTwo = (x: number) => x > 0 && 2 ** Math.round(Math.log2(x)) === x;

/** Largest power of two strictly below n (n ≥ 2): RFC 9162's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function popcount(x: number): number {
  let c = 0;
  for (; x > 0; x = half(x)) c += x % 2;
  return c;
}

/** MTH over a list of leaf hashes, one level at a time; an unpaired right node rises unchanged. */
export function rootFromLeafHashes(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return emptyRoot();
  let level: readonly Buffer[] = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (isOdd(level.length)) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/**
 * Appends one leaf hash to the compact range of a tree of `size` leaves (`frontier`: the roots of its
 * perfect subtrees, largest first). Returns the new frontier and every perfect subtree of level ≥ 1
 * that this leaf completed, lowest first, so the caller can store them for proofs.
 */
export function appendLeaf(frontier: readonly Buffer[], size: number, leaf: Buffer): { frontier: Buffer[]; completed: CompletedNode[] } {
  if (!isCount(size)) throw new RangeError('size must be a non-negative safe integer');
  // A frontier that does not match the size would silently produce a wrong tree.
  if (frontier.length !== popcount(size))
    throw new RangeError(`a tree of ${size} leaves has ${popcount(size)} frontier hashes, not ${frontier.length}`);
  const out = frontier.slice();
  const completed: CompletedNode[] = [];
  let hash = leaf;
  let level = 0;
  let index = size;
  // Each trailing 1 bit of `size` is a perfect subtree of the same level for the new one to merge with.
  for (let s = size; isOdd(s); s = half(s)) {
    hash = nodeHash(out.pop()!, hash);
    level++;
    index = half(index);
    completed.push({ level, index, hash });
  }
  out.push(hash);
  return { frontier: out, completed };
}

/** The tree root from its compact range: fold the perfect subtrees right to left. */
export function rootFromFrontier(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return emptyRoot();
  let acc = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!, acc);
  return acc;
}

/**
 * The perfect subtrees that make up leaves [start, end), largest first. Every range a proof needs starts
 * at a multiple of a power of two at least its length, so the blocks are aligned; only a range on the
 * tree's right edge has more than one, and a proof holds at most one such range.
 */
function rangeNodes(start: number, end: number): [level: number, index: number][] {
  const nodes: [number, number][] = [];
  while (start < end) {
    let span = 1;
    while (start % (span * 2) === 0 && start + span * 2 <= end) span *= 2;
    nodes.push([Math.round(Math.log2(span)), start / span]);
    start += span;
  }
  return nodes;
}

async function rangeHash(start: number, end: number, getNode: GetNode): Promise<Buffer> {
  const hashes = await Promise.all(rangeNodes(start, end).map(([level, index]) => getNode(level, index)));
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** RFC 9162 §2.1.3.1 PATH(index, D[size]): the audit path, leaf side first. */
export async function inclusionProof(index: number, size: number, getNode: GetNode): Promise<Buffer[]> {
  if (!isCount(index) || !isCount(size) || index >= size) throw new RangeError('need 0 <= index < size');
  // Walk down from the root; the sibling range at each step is one proof element (root side first).
  const siblings: [number, number][] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      siblings.push([mid, end]);
      end = mid;
    } else {
      siblings.push([start, mid]);
      start = mid;
    }
  }
  siblings.reverse();
  return Promise.all(siblings.map(([s, e]) => rangeHash(s, e, getNode)));
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) for 1 ≤ m ≤ n; empty when m = n. */
export async function consistencyProof(m: number, n: number, getNode: GetNode): Promise<Buffer[]> {
  if (!isCount(m) || !isCount(n) || m < 1 || m > n) throw new RangeError('need 1 <= m <= n');
  // SUBPROOF(m, D[start:end], b) unrolled: descend, recording each step's other half (root side first).
  const ranges: [number, number][] = [];
  let start = 0;
  let end = n;
  let wholeOldTree = true; // b: the old tree is exactly D[start:end] seen from the top
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      m -= k;
      start += k;
      wholeOldTree = false;
    }
  }
  // The subtree the old tree ends in; the verifier already knows it when it is the whole old tree.
  if (!wholeOldTree) ranges.push([start, end]);
  ranges.reverse();
  return Promise.all(ranges.map(([s, e]) => rangeHash(s, e, getNode)));
}

const isHash = (b: Uint8Array) => b.length === HASH_SIZE;

/** RFC 9162 §2.1.3.2: does `proof` show the leaf hash at `index` in the tree of `size` with `root`? */
export function verifyInclusion(leafHash: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!isCount(index) || !isCount(size) || index >= size) return false;
  if (!isHash(leafHash) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of size m with rootM is a prefix of the tree of size n with rootN? */
export function verifyConsistency(m: number, n: number, proof: readonly Buffer[], rootM: Buffer, rootN: Buffer): boolean {
  // A proof from the empty tree proves nothing, so it is refused rather than trivially accepted.
  if (!isCount(m) || !isCount(n) || m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && rootM.equals(rootN);
  if (proof.length === 0 || !proof.every(isHash)) return false;
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(rootM) && sr.equals(rootN);
}

/** A GetNode over in-memory leaf hashes (tests, benches): every perfect subtree is computed once, up front. */
export function memoryNodes(leaves: readonly Buffer[]): GetNode {
  const levels: Buffer[][] = [leaves.slice()];
  for (let below = levels[0]!; below.length > 1; ) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) next.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(next);
    below = next;
  }
  return async (level, index) => {
    const hash = levels[level]?.[index];
    if (!hash) throw new RangeError(`no perfect subtree ${level}/${index}`);
    return hash;
  };
}
