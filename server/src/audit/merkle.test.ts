import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appendLeaf,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  memoryNodes,
  nodeHash,
  rootFromFrontier,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  type GetNode,
} from './merkle.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;

interface TreeFixture {
  leafInputs: string[];
  nodeHashes: string[][];
  roots: string[];
  frontiers: string[][];
  inclusionProofs: { index: number; size: number; proof: string[] }[];
  consistencyProofs: { size1: number; size2: number; proof: string[] }[];
  hasher: {
    emptyRoot: string;
    emptyLeaf: string;
    leaf: { input: string; hash: string };
    node: { left: string; right: string; hash: string };
  };
}
interface Probe<V> {
  path: string;
  vector: V & { proof: string[] | null; desc: string; wantErr: boolean };
}
type InclusionProbe = Probe<{ leafIdx: number; treeSize: number; root: string; leafHash: string }>;
type ConsistencyProbe = Probe<{ size1: number; size2: number; root1: string; root2: string }>;

const tree = fixture<TreeFixture>('rfc6962-tree.json');
const hex = (s: string) => Buffer.from(s, 'hex');
const b64 = (s: string) => Buffer.from(s, 'base64');
const hexes = (xs: readonly Buffer[]) => xs.map((x) => x.toString('hex'));

const refLeaves = tree.leafInputs.map((x) => leafHash(hex(x)));
const refNodes = memoryNodes(refLeaves);
const refRoot = (size: number) => hex(tree.roots[size]!);

/** A seeded PRNG (mulberry32), so a failing size can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Leaves plus only the nodes appendLeaf reported, as the database stores them; records every read. */
function appendOnlyStore(leaves: readonly Buffer[]) {
  const nodes = new Map<string, Buffer>();
  let frontier: Buffer[] = [];
  leaves.forEach((leaf, i) => {
    nodes.set(`0/${i}`, leaf);
    const out = appendLeaf(frontier, i, leaf);
    for (const c of out.completed) {
      expect(nodes.has(`${c.level}/${c.index}`)).toBe(false);
      nodes.set(`${c.level}/${c.index}`, c.hash);
    }
    frontier = out.frontier;
  });
  const reads: [number, number][] = [];
  const getNode: GetNode = async (level, index) => {
    reads.push([level, index]);
    const hash = nodes.get(`${level}/${index}`);
    if (!hash) throw new Error(`not stored: ${level}/${index}`);
    return hash;
  };
  return { getNode, reads, frontier, nodeCount: nodes.size };
}

const randomLeaves = (n: number, next: () => number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i} ${next()}`)));

function flipBit(b: Buffer, bit: number): Buffer {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
}

describe('RFC 6962 hashing', () => {
  it('matches the published hasher vectors', () => {
    expect(emptyRoot().toString('hex')).toBe(tree.hasher.emptyRoot);
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(tree.hasher.emptyLeaf);
    expect(leafHash(Buffer.from(tree.hasher.leaf.input)).toString('hex')).toBe(tree.hasher.leaf.hash);
    expect(nodeHash(Buffer.from(tree.hasher.node.left), Buffer.from(tree.hasher.node.right)).toString('hex')).toBe(tree.hasher.node.hash);
  });
});

describe('the 8-leaf reference tree', () => {
  it('has the published leaf hashes, subtree hashes and roots for every size 0..8', async () => {
    expect(hexes(refLeaves)).toEqual(tree.nodeHashes[0]);
    for (const [level, row] of tree.nodeHashes.entries()) {
      for (const [index, h] of row.entries()) expect((await refNodes(level, index)).toString('hex')).toBe(h);
    }
    for (let size = 0; size <= 8; size++) expect(rootFromLeafHashes(refLeaves.slice(0, size))).toEqual(refRoot(size));
  });

  it('appends through the published compact ranges and reports each completed subtree once', () => {
    let frontier: Buffer[] = [];
    const completed: string[] = [];
    expect(rootFromFrontier(frontier)).toEqual(refRoot(0));
    for (let size = 0; size < 8; size++) {
      const out = appendLeaf(frontier, size, refLeaves[size]!);
      frontier = out.frontier;
      expect(hexes(frontier)).toEqual(tree.frontiers[size + 1]);
      expect(rootFromFrontier(frontier)).toEqual(refRoot(size + 1));
      for (const c of out.completed) {
        expect(c.hash.toString('hex')).toBe(tree.nodeHashes[c.level]![c.index]);
        completed.push(`${c.level}/${c.index}`);
      }
    }
    expect(completed).toEqual(['1/0', '1/1', '2/0', '1/2', '1/3', '2/1', '3/0']);
  });

  it('generates exactly the published inclusion proofs, and they verify', async () => {
    for (const v of tree.inclusionProofs) {
      const proof = await inclusionProof(v.index, v.size, refNodes);
      expect(hexes(proof), `${v.index}/${v.size}`).toEqual(v.proof);
      expect(verifyInclusion(refLeaves[v.index]!, v.index, v.size, v.proof.map(hex), refRoot(v.size))).toBe(true);
    }
  });

  it('generates exactly the published consistency proofs, and they verify', async () => {
    for (const v of tree.consistencyProofs) {
      const proof = await consistencyProof(v.size1, v.size2, refNodes);
      expect(hexes(proof), `${v.size1}->${v.size2}`).toEqual(v.proof);
      expect(verifyConsistency(v.size1, v.size2, v.proof.map(hex), refRoot(v.size1), refRoot(v.size2))).toBe(true);
    }
  });

  it('proves every leaf of every size and every pair of sizes', async () => {
    for (let size = 1; size <= 8; size++) {
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(index, size, refNodes);
        expect(verifyInclusion(refLeaves[index]!, index, size, proof, refRoot(size))).toBe(true);
      }
      for (let m = 1; m <= size; m++) {
        const proof = await consistencyProof(m, size, refNodes);
        expect(verifyConsistency(m, size, proof, refRoot(m), refRoot(size))).toBe(true);
      }
    }
  });
});

describe('the published verification probes', () => {
  const inclusion = fixture<InclusionProbe[]>('inclusion-probes.json');
  const consistency = fixture<ConsistencyProbe[]>('consistency-probes.json');

  it('are all there', () => {
    expect(inclusion.length).toBe(98);
    expect(consistency.length).toBe(98);
  });

  it.each(inclusion.map((p) => [p.path, p.vector] as const))('%s', (_, v) => {
    const ok = verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root));
    expect(ok).toBe(!v.wantErr);
  });

  it.each(consistency.map((p) => [p.path, p.vector] as const))('%s', (_, v) => {
    const ok = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    expect(ok).toBe(!v.wantErr);
  });

  it('match the proofs generated for their happy paths', async () => {
    for (const { vector: v } of inclusion.filter((p) => p.vector.desc === 'happy path')) {
      expect(hexes(await inclusionProof(v.leafIdx, v.treeSize, refNodes))).toEqual(hexes((v.proof ?? []).map(b64)));
    }
    for (const { vector: v } of consistency.filter((p) => p.vector.desc === 'happy path')) {
      expect(hexes(await consistencyProof(v.size1, v.size2, refNodes))).toEqual(hexes((v.proof ?? []).map(b64)));
    }
  });
});

describe('random trees (sizes 1..300)', () => {
  const next = rng(0x5eed);
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300];
  while (sizes.length < 60) sizes.push(1 + Math.floor(next() * 300));

  it('proves every leaf and every older size from stored subtrees only, in O(log n) reads', async () => {
    for (const size of sizes) {
      const leaves = randomLeaves(size, next);
      const store = appendOnlyStore(leaves);
      const root = rootFromLeafHashes(leaves);
      expect(rootFromFrontier(store.frontier), `size ${size}`).toEqual(root);
      expect(store.nodeCount).toBe(2 * size - [...size.toString(2)].filter((b) => b === '1').length);
      const bound = 2 * Math.ceil(Math.log2(size)) + 2;
      for (let index = 0; index < size; index++) {
        store.reads.length = 0;
        const proof = await inclusionProof(index, size, store.getNode);
        expect(store.reads.length, `reads for ${index}/${size}`).toBeLessThanOrEqual(bound);
        expect(verifyInclusion(leaves[index]!, index, size, proof, root), `inclusion ${index}/${size}`).toBe(true);
      }
      for (let m = 1; m <= size; m++) {
        store.reads.length = 0;
        const proof = await consistencyProof(m, size, store.getNode);
        expect(store.reads.length, `reads for ${m}->${size}`).toBeLessThanOrEqual(bound);
        const rootM = rootFromLeafHashes(leaves.slice(0, m));
        expect(verifyConsistency(m, size, proof, rootM, root), `consistency ${m}->${size}`).toBe(true);
      }
    }
  });

  it('rejects every tampered proof, index, size or root', async () => {
    for (const size of sizes.slice(0, 30)) {
      if (size < 2) continue;
      const leaves = randomLeaves(size, next);
      const getNode = memoryNodes(leaves);
      const root = rootFromLeafHashes(leaves);
      const index = Math.floor(next() * size);
      const leaf = leaves[index]!;
      const proof = await inclusionProof(index, size, getNode);
      const bad = (p: Buffer[], i = index, s = size, l = leaf, r = root) => expect(verifyInclusion(l, i, s, p, r), `${i}/${s}`).toBe(false);
      for (let k = 0; k < proof.length; k++) {
        bad(proof.map((h, j) => (j === k ? flipBit(h, Math.floor(next() * 256)) : h)));
        bad(proof.filter((_, j) => j !== k));
      }
      bad([...proof, proof[0]!]);
      bad([proof[0]!, ...proof]);
      bad(proof, index, size, leaves[(index + 1) % size]!);
      bad(proof, index, size, leaf, flipBit(root, 0));
      bad(proof, size, size);
      bad(proof, index, 2 * size);
      if (proof.length > 1) bad(proof.slice().reverse());

      const m = 1 + Math.floor(next() * (size - 1)); // m < size
      const rootM = rootFromLeafHashes(leaves.slice(0, m));
      const cproof = await consistencyProof(m, size, getNode);
      const badC = (p: Buffer[], mm = m, n = size, rm = rootM, rn = root) => expect(verifyConsistency(mm, n, p, rm, rn), `${mm}->${n}`).toBe(false);
      for (let k = 0; k < cproof.length; k++) {
        badC(cproof.map((h, j) => (j === k ? flipBit(h, Math.floor(next() * 256)) : h)));
        badC(cproof.filter((_, j) => j !== k));
      }
      badC([...cproof, cproof[0]!]);
      badC([]);
      badC(cproof, m, size, flipBit(rootM, 3));
      badC(cproof, m, size, rootM, flipBit(root, 3));
      badC(cproof, m, size, root, rootM);
      badC(cproof, 0, size);
      badC(cproof, size, m);
    }
  });
});

describe('input checks', () => {
  it('refuses impossible proof requests', async () => {
    await expect(inclusionProof(3, 3, refNodes)).rejects.toThrow(RangeError);
    await expect(inclusionProof(-1, 3, refNodes)).rejects.toThrow(RangeError);
    await expect(inclusionProof(0, 0, refNodes)).rejects.toThrow(RangeError);
    await expect(consistencyProof(0, 3, refNodes)).rejects.toThrow(RangeError);
    await expect(consistencyProof(4, 3, refNodes)).rejects.toThrow(RangeError);
    expect(await consistencyProof(5, 5, refNodes)).toEqual([]);
  });

  it('refuses a frontier that does not match its size', () => {
    expect(() => appendLeaf([], 1, refLeaves[0]!)).toThrow(RangeError);
    expect(() => appendLeaf([refLeaves[0]!], 3, refLeaves[0]!)).toThrow(RangeError);
  });

  it('passes the errors of getNode through', async () => {
    const failing: GetNode = async () => {
      throw new Error('node missing');
    };
    await expect(inclusionProof(1, 5, failing)).rejects.toThrow('node missing');
  });

  it('keeps exact arithmetic beyond 2^32 leaves', async () => {
    // A consistent huge tree computed lazily: every leaf is the same except a few marked ones, so a
    // subtree without a marked leaf has one hash per level and only paths to marked leaves are hashed.
    const size = 2 ** 40 + 2 ** 33 + 5;
    const marked = [0, 2 ** 32, 2 ** 40 + 7, 2 ** 40 + 2 ** 33 + 3, size - 1];
    const uniform = [leafHash(Buffer.from('same'))];
    for (let l = 1; l <= 41; l++) uniform.push(nodeHash(uniform[l - 1]!, uniform[l - 1]!));
    const node = (level: number, index: number): Buffer => {
      const [start, span] = [index * 2 ** level, 2 ** level];
      if (!marked.some((i) => i >= start && i < start + span)) return uniform[level]!;
      if (level === 0) return leafHash(Buffer.from(`marked ${index}`));
      return nodeHash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
    };
    const fake: GetNode = async (level, index) => node(level, index);
    const mth = async (start: number, end: number): Promise<Buffer> => {
      const n = end - start;
      if (Number.isInteger(Math.log2(n)) && start % n === 0) return fake(Math.log2(n), start / n);
      let k = 1;
      while (k * 2 < n) k *= 2;
      return nodeHash(await mth(start, start + k), await mth(start + k, end));
    };
    const root = await mth(0, size);
    for (const index of [...marked, 1, 2 ** 40]) {
      const proof = await inclusionProof(index, size, fake);
      expect(verifyInclusion(await fake(0, index), index, size, proof, root), `index ${index}`).toBe(true);
      // Off by exactly 2^32: what 32-bit index arithmetic would silently have checked instead.
      expect(verifyInclusion(await fake(0, index), (index + 2 ** 32) % size, size, proof, root)).toBe(false);
    }
    for (const m of [2 ** 32 + 1, 2 ** 40, 2 ** 40 + 7]) {
      const proof = await consistencyProof(m, size, fake);
      expect(verifyConsistency(m, size, proof, await mth(0, m), root), `from ${m}`).toBe(true);
    }
  });
});
