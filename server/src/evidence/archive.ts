// The signed archive both evidence packs and tenant exports are: a stored (not deflated) zip whose
// manifest.json lists every other file with its SHA-256, manifest.sig a C2SP signed note over the
// manifest's hash by the deployment's audit key, and an audit/ section of entries proved against the
// tenant's signed checkpoint. The manifest's `kind` says which of the two it is; `@parley/node`'s
// verifyEvidencePack checks both.
import { createHash } from 'node:crypto';
import { zipSync, type Zippable } from 'fflate';
import { auditLeafBytes } from '../audit/canonical.js';
import type { AuditLog } from '../audit/log.js';
import { inclusionProof, leafHash, memoryNodes } from '../audit/merkle.js';
import { canonicalFromRow, type EntryRow } from '../audit/store.js';
import type { Tx } from '../db/types.js';
import * as store from './store.js';

/** The layout of the archive; `@parley/node` checks it. */
export const PACK_FORMAT = 'parley-evidence-pack/1';
/** The first line of the statement signed in manifest.sig. */
const STATEMENT = 'parley evidence pack';

/** What an archive is, named in its manifest. */
export type PackKind = 'evidence' | 'tenant-export';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`, 'utf8');

export interface AuditSection {
  checkpoint: { size: number; note: string };
  origin: string;
  rows: EntryRow[];
  /** audit/checkpoint.txt, audit/entries.jsonl, audit/proofs.json */
  files: Record<string, Uint8Array>;
}

/**
 * The tenant's latest checkpoint with the integrated entries timestamped in [from, to] below it, each with
 * its inclusion proof. `tooMany` is thrown when more than `limit` entries match.
 */
export async function auditSection(
  tx: Tx,
  audit: AuditLog,
  tenantId: string,
  period: { from: Date; to: Date; limit: number; tooMany: () => Error },
): Promise<AuditSection> {
  const checkpoint = await audit.latestCheckpoint(tx, tenantId);
  const origin = await audit.originFor(tx, tenantId);
  const rows = await store.entriesInPeriod(tx, tenantId, period.from, period.to, checkpoint.size, period.limit + 1);
  if (rows.length > period.limit) throw period.tooMany();
  const nodes = memoryNodes(await store.leafHashes(tx, tenantId, checkpoint.size));
  const lines: Buffer[] = [];
  const proofs: { seq: number; path: string[] }[] = [];
  for (const row of rows) {
    const bytes = auditLeafBytes(canonicalFromRow(row));
    // A stored entry that no longer hashes to its leaf is a broken log: refuse rather than sign it.
    if (!leafHash(bytes).equals(Buffer.from(row.leaf_hash))) throw new Error(`audit entry ${row.seq} does not match its leaf hash`);
    lines.push(bytes, Buffer.from('\n'));
    proofs.push({ seq: row.seq, path: (await inclusionProof(row.seq, checkpoint.size, nodes)).map((h) => h.toString('hex')) });
  }
  return {
    checkpoint,
    origin,
    rows,
    files: {
      'audit/checkpoint.txt': Buffer.from(checkpoint.note, 'utf8'),
      'audit/entries.jsonl': Buffer.concat(lines),
      'audit/proofs.json': json({ size: checkpoint.size, proofs }),
    },
  };
}

export interface SealedPack {
  zip: Uint8Array;
  manifestSha256: string;
  /** Files in the zip, manifest.json and manifest.sig included. */
  fileCount: number;
}

/**
 * Writes the manifest (format, kind, tenant, `head`, the verifier and checkpoint keys, the audit section's
 * bounds, `tail`, the file list), signs its hash and zips everything. The caller appends the audit entry
 * naming the manifest's hash in the same transaction.
 */
export async function sealPack(
  tx: Tx,
  audit: AuditLog,
  p: {
    kind: PackKind;
    tenantId: string;
    generatedAt: string;
    section: AuditSection;
    head: Record<string, unknown>;
    tail: Record<string, unknown>;
    files: Record<string, Uint8Array>;
  },
): Promise<SealedPack & { verifierKey: string }> {
  // The key GET /v1/audit/verifier-key publishes, which signs the statement below.
  const verifierKey = (await audit.verifierKeys(tx, null))[0]!;
  const files = { ...p.section.files, ...p.files };
  const manifest = Buffer.from(
    `${JSON.stringify(
      {
        format: PACK_FORMAT,
        kind: p.kind,
        tenantId: p.tenantId,
        ...p.head,
        generatedAt: p.generatedAt,
        verifierKey,
        checkpointKeys: await audit.verifierKeys(tx, p.tenantId),
        audit: { origin: p.section.origin, checkpointSize: p.section.checkpoint.size, entries: p.section.rows.length },
        ...p.tail,
        files: Object.entries(files).map(([path, bytes]) => ({ path, sha256: sha256(bytes), size: bytes.length })),
      },
      null,
      2,
    )}\n`,
    'utf8',
  );
  const manifestSha256 = sha256(manifest);
  const signature = await audit.signStatement(tx, `${STATEMENT}\n${p.tenantId}\n${manifestSha256}\n`);
  // Stored, not deflated: a changed byte lands in one file, which verification then names.
  const mtime = new Date(p.generatedAt);
  const zippable: Zippable = {
    'manifest.json': [manifest, { level: 0, mtime }],
    'manifest.sig': [Buffer.from(signature, 'utf8'), { level: 0, mtime }],
  };
  for (const [path, bytes] of Object.entries(files)) zippable[path] = [bytes, { level: 0, mtime }];
  return { zip: zipSync(zippable), manifestSha256, fileCount: Object.keys(files).length + 2, verifierKey };
}
