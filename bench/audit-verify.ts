// Audit log cryptography, in memory (no database): how fast a verifier can recompute a log from its
// entries, and how fast proofs and checkpoints are produced and checked.
// Run: npx tsx bench/audit-verify.ts
import { createHash, randomUUID } from 'node:crypto';
import { auditLeafBytes, type AuditEntryCanonical } from '../server/src/audit/canonical.js';
import { formatCheckpoint, parseCheckpoint, signerFromSeed, signNote, verifierKeyString, verifyNote } from '../server/src/audit/checkpoint.js';
import {
  appendLeaf,
  consistencyProof,
  inclusionProof,
  leafHash,
  memoryNodes,
  rootFromFrontier,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../server/src/audit/merkle.js';

const ENTRIES = 100_000;
const PROOFS = 20_000;
const CHECKPOINTS = 2_000;

/** A deterministic PRNG so runs are comparable. */
let state = 42;
const random = () => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state / 2 ** 31;
};

function time<T>(fn: () => T): { ms: number; result: T } {
  const started = performance.now();
  const result = fn();
  return { ms: performance.now() - started, result };
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}
const rate = (n: number, ms: number) =>
  Math.round(n / (ms / 1000))
    .toLocaleString('en-US')
    .padStart(12);
const line = (label: string, n: number, ms: number, unit: string) =>
  console.log(`${label.padEnd(44)} ${rate(n, ms)} ${unit}   (${n.toLocaleString('en-US')} in ${ms.toFixed(0)} ms)`);

// Entries shaped like the server's: ids, counts and hashes in the metadata.
const tenantId = randomUUID();
const start = Date.parse('2025-01-01T00:00:00.000Z');
const entries: AuditEntryCanonical[] = Array.from({ length: ENTRIES }, (_, seq) => ({
  seq,
  ts: new Date(start + seq * 250).toISOString(),
  tenantId,
  requestId: `req_${seq.toString(36)}`,
  actor: { type: seq % 3 ? 'admin_key' : 'system', id: `key_${seq % 17}` },
  action: ['ai.call', 'knowledge.read', 'tenant.update', 'handoff.create'][seq % 4]!,
  target: seq % 5 ? { type: 'conversation', id: randomUUID() } : null,
  policyVersion: 1 + (seq % 3),
  source: 'server',
  reason: null,
  metadata: { promptSha256: createHash('sha256').update(String(seq)).digest('hex'), tokens: Math.floor(random() * 4000), model: 'm-1' },
}));

console.log(`audit log cryptography, ${ENTRIES.toLocaleString('en-US')} canonical entries, in memory (Node ${process.version})`);

const leaves = time(() => entries.map((e) => leafHash(auditLeafBytes(e))));
line('canonical JSON + leaf hash', ENTRIES, leaves.ms, 'entries/s');

// Older tree sizes, as checkpoints a monitor or witness holds; their roots fall out of the append pass.
const olderRoots = new Map<number, Buffer>(Array.from({ length: 64 }, () => [1 + Math.floor(random() * (ENTRIES - 1)), Buffer.alloc(0)]));
const appended = time(() => {
  let frontier: Buffer[] = [];
  let stored = 0;
  leaves.result.forEach((leaf, size) => {
    const out = appendLeaf(frontier, size, leaf);
    frontier = out.frontier;
    stored += out.completed.length;
    if (olderRoots.has(size + 1)) olderRoots.set(size + 1, rootFromFrontier(frontier));
  });
  return { root: rootFromFrontier(frontier), stored };
});
line('tree recomputation (compact-range append)', ENTRIES, appended.ms, 'entries/s');

const full = time(() => {
  let frontier: Buffer[] = [];
  entries.forEach((e, size) => (frontier = appendLeaf(frontier, size, leafHash(auditLeafBytes(e))).frontier));
  return rootFromFrontier(frontier);
});
line('full verify path (canonical + hash + append)', ENTRIES, full.ms, 'entries/s');

const batch = time(() => rootFromLeafHashes(leaves.result));
line('tree recomputation (all leaves at once)', ENTRIES, batch.ms, 'entries/s');
if (!batch.result.equals(appended.result.root) || !full.result.equals(batch.result)) throw new Error('roots disagree');

const getNode = memoryNodes(leaves.result);
const root = appended.result.root;
const indices = Array.from({ length: PROOFS }, () => Math.floor(random() * ENTRIES));
const incl = await timeAsync(() => Promise.all(indices.map((i) => inclusionProof(i, ENTRIES, getNode))));
line('inclusion proof generation', PROOFS, incl.ms, 'proofs/s');
const inclOk = time(() => indices.every((i, k) => verifyInclusion(leaves.result[i]!, i, ENTRIES, incl.result[k]!, root)));
line('inclusion proof verification', PROOFS, inclOk.ms, 'proofs/s');

const olderSizes = [...olderRoots.keys()];
const ms = Array.from({ length: PROOFS }, (_, k) => olderSizes[k % olderSizes.length]!);
const cons = await timeAsync(() => Promise.all(ms.map((m) => consistencyProof(m, ENTRIES, getNode))));
line('consistency proof generation', PROOFS, cons.ms, 'proofs/s');
const consOk = time(() => ms.every((m, k) => verifyConsistency(m, ENTRIES, cons.result[k]!, olderRoots.get(m)!, root)));
line('consistency proof verification', PROOFS, consOk.ms, 'proofs/s');
if (!inclOk.result || !consOk.result) throw new Error('a generated proof did not verify');

const signer = signerFromSeed('parley.example/audit', createHash('sha256').update('bench').digest());
const key = verifierKeyString(signer.name, signer.publicKey);
const text = formatCheckpoint({ origin: `parley.example/audit/${tenantId}`, size: ENTRIES, root });
const notes = time(() => Array.from({ length: CHECKPOINTS }, () => signNote(text, signer)));
line('checkpoint signing (Ed25519)', CHECKPOINTS, notes.ms, 'notes/s');
const opened = time(() => notes.result.every((n) => parseCheckpoint(verifyNote(n, key).text).root.equals(root)));
line('checkpoint verification + parse', CHECKPOINTS, opened.ms, 'notes/s');
if (!opened.result) throw new Error('a checkpoint did not verify');

console.log(`perfect subtrees stored by the appends: ${appended.result.stored.toLocaleString('en-US')}; root ${root.toString('hex').slice(0, 16)}…`);
