// Offline verification of a Parley evidence pack: the one verifier (the server's `parley evidence verify`
// calls it too). A pack is a zip whose `manifest.json` lists every other file with its SHA-256 and whose
// `manifest.sig` is a C2SP signed note over the manifest's hash, by the deployment's audit key; the audit
// entries it carries are proved (RFC 9162 inclusion proofs) against the signed checkpoint it carries.
// A tenant export is the same archive with `kind: "tenant-export"` in its manifest, checked the same way.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { unzipSync } from 'fflate';

/** The format named in `manifest.json`; a change to the layout gets a new one. */
export const EVIDENCE_PACK_FORMAT = 'parley-evidence-pack/1';

/**
 * What a signed archive of this format holds, named by `kind` in its manifest: an evidence pack for
 * auditors, or a tenant export (the workspace's own data). A manifest without `kind` is an evidence pack.
 */
export const EVIDENCE_PACK_KINDS = ['evidence', 'tenant-export'] as const;
/** One kind of signed archive. */
export type EvidencePackKind = (typeof EVIDENCE_PACK_KINDS)[number];

/** One file of an evidence pack as its manifest lists it. */
export interface EvidencePackFile {
  /** Path inside the archive. */
  path: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
  /** Length in bytes. */
  size: number;
}

/** The signed manifest of an evidence pack (the parts a verifier relies on; the rest is descriptive). */
export interface EvidencePackManifest {
  /** The layout's name and version, `parley-evidence-pack/1` ({@link EVIDENCE_PACK_FORMAT}). */
  format: string;
  /** What the archive holds (absent in packs made before tenant exports existed: an evidence pack). */
  kind?: EvidencePackKind;
  /** The tenant whose log and policies the pack holds. */
  tenantId: string;
  /** Evidence packs: the framework the report maps to, `soc2`, `eu-ai-act`, `nist-ai-rmf` or `iso-42001`. */
  framework?: string;
  /** Evidence packs: the period the audit entries and counts cover (ISO 8601). */
  period?: { from: string; to: string };
  /** When the pack was built (ISO 8601); the audit log's `evidence.pack` entry bounds it from above. */
  generatedAt: string;
  /** The verifier key (C2SP form: name, key id, public key) whose signature is in `manifest.sig`. */
  verifierKey: string;
  /** Keys the deployment's checkpoints may be signed with (current first), vouched for by this signed manifest. */
  checkpointKeys: string[];
  /** The checkpoint's origin line and tree size, and how many entries of the period are proved against it. */
  audit: { origin: string; checkpointSize: number; entries: number };
  /** Every file but manifest.json and manifest.sig. */
  files: EvidencePackFile[];
}

/** One check that failed, naming the file at fault (`(archive)` when the zip itself cannot be read). */
export interface EvidencePackFailure {
  /** Path inside the archive, `(archive)` or `(verifier key)`. */
  file: string;
  /** What did not hold. */
  reason: string;
}

/** What {@link verifyEvidencePack} found. */
export interface EvidencePackVerification {
  /** True when every signature, hash and proof checked out. */
  ok: boolean;
  /** Every check that failed; empty when `ok`. */
  failures: EvidencePackFailure[];
  /** The manifest, once its signature verified (absent otherwise). */
  manifest?: EvidencePackManifest;
  /** What the archive is, once its manifest verified: `evidence` or `tenant-export`. */
  kind?: EvidencePackKind;
  /**
   * SHA-256 (hex) of `manifest.json`: the deployment appended it to the tenant's audit log as an
   * `evidence.pack` entry (metadata.manifestSha256) after the pack's checkpoint. A pack cannot carry
   * the proof of its own entry: to bound its time from above, find that entry online and check its
   * inclusion proof against a later checkpoint.
   */
  manifestSha256?: string;
}

const MANIFEST = 'manifest.json';
const SIGNATURE = 'manifest.sig';
const CHECKPOINT = 'audit/checkpoint.txt';
const ENTRIES = 'audit/entries.jsonl';
const PROOFS = 'audit/proofs.json';
/** The first line of the signed statement in `manifest.sig`. */
const STATEMENT = 'parley evidence pack';
// Bounds on what a hostile archive can make the verifier inflate.
const MAX_FILES = 1_000;
const MAX_BYTES = 512 * 1024 * 1024;

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---- C2SP signed notes (Ed25519) ----

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIG_PREFIX = '\u2014 ';

function decodeBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}

function noteKeyId(name: string, raw: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, 0x01]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

interface NoteKey {
  name: string;
  id: Buffer;
  key: KeyObject;
}

/** Parses `<name>+<8 hex key id>+<base64(0x01 ‖ Ed25519 public key)>`; throws when malformed or inconsistent. */
function parseVerifierKey(s: string): NoteKey {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(s.trim());
  const key = m ? decodeBase64(m[3]!) : null;
  if (!m || !key || key.length !== 33 || key[0] !== 0x01) throw new Error('malformed verifier key');
  const raw = key.subarray(1);
  if (!noteKeyId(m[1]!, raw).equals(Buffer.from(m[2]!, 'hex'))) throw new Error('verifier key id does not match its key');
  return {
    name: m[1]!,
    id: Buffer.from(m[2]!, 'hex'),
    key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' }),
  };
}

/** The text of a signed note if `key` signed it (other keys' lines are ignored); throws otherwise. */
function openNote(note: string, key: NoteKey): string {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('not a signed note');
  const text = note.slice(0, split + 1);
  let verified = 0;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX)) throw new Error('malformed signature line');
    const [name, b64] = line.slice(SIG_PREFIX.length).split(' ');
    const sig = b64 ? decodeBase64(b64) : null;
    if (!name || !sig) throw new Error('malformed signature line');
    if (name !== key.name || !sig.subarray(0, 4).equals(key.id)) continue;
    if (sig.length !== 68 || !verify(null, Buffer.from(text, 'utf8'), key.key, sig.subarray(4))) throw new Error(`bad signature by ${key.name}`);
    verified++;
  }
  if (!verified) throw new Error(`no signature by ${key.name}+${hex(key.id)}`);
  return text;
}

// ---- RFC 9162 inclusion proofs ----

const leafHash = (data: Uint8Array) => sha256(Buffer.concat([Buffer.from([0]), data]));
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(Buffer.concat([Buffer.from([1]), l, r]));

/** RFC 9162 §2.1.3.2. */
function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size || proof.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

// ---- the pack ----

function unzip(bytes: Uint8Array): Map<string, Uint8Array> {
  const names = new Set<string>();
  let total = 0;
  const out = unzipSync(bytes, {
    filter: (f) => {
      // Two entries of one name could show one file to this verifier and another to an unzip tool.
      if (names.has(f.name)) throw new Error(`${f.name} appears twice`);
      names.add(f.name);
      total += f.originalSize;
      if (names.size > MAX_FILES || total > MAX_BYTES) throw new Error('archive too large');
      // A folder entry (what `zip -r` adds when a pack is re-zipped) holds no bytes and is not a file.
      return !(f.name.endsWith('/') && f.originalSize === 0);
    },
  });
  return new Map(Object.entries(out));
}

function checkAudit(files: Map<string, Uint8Array>, manifest: EvidencePackManifest, keys: NoteKey[], fail: (file: string, reason: string) => void) {
  const note = Buffer.from(files.get(CHECKPOINT)!).toString('utf8');
  let text: string | null = null;
  for (const k of keys) {
    try {
      text = openNote(note, k);
      break;
    } catch {
      // Try the next key the signed manifest vouches for.
    }
  }
  if (text === null) return fail(CHECKPOINT, 'no valid signature by the verifier key or a key the manifest lists');
  const [origin, sizeLine, rootLine] = text.split('\n');
  const size = Number(sizeLine);
  const root = decodeBase64(rootLine ?? '');
  if (!Number.isSafeInteger(size) || !root || root.length !== 32) return fail(CHECKPOINT, 'not a checkpoint');
  if (origin !== manifest.audit.origin || size !== manifest.audit.checkpointSize) return fail(CHECKPOINT, 'does not match the manifest');
  if (!origin.endsWith(`/${manifest.tenantId}`)) return fail(CHECKPOINT, "is not this tenant's log");
  const lines = Buffer.from(files.get(ENTRIES)!).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let proofs: { seq: number; path: string[] }[];
  try {
    proofs = (JSON.parse(Buffer.from(files.get(PROOFS)!).toString('utf8')) as { proofs: { seq: number; path: string[] }[] }).proofs;
    if (!Array.isArray(proofs)) throw new Error();
  } catch {
    return fail(PROOFS, 'not valid JSON with a proofs array');
  }
  if (lines.length !== proofs.length || lines.length !== manifest.audit.entries) return fail(PROOFS, 'one proof per entry is required');
  for (const [i, line] of lines.entries()) {
    let entry: { seq?: unknown; tenantId?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return fail(ENTRIES, `line ${i + 1} is not JSON`);
    }
    const p = proofs[i]!;
    if (entry.seq !== p.seq || entry.tenantId !== manifest.tenantId) return fail(ENTRIES, `line ${i + 1} does not match its proof or tenant`);
    const path = Array.isArray(p.path) ? p.path.map((h) => Buffer.from(String(h), 'hex')) : [];
    if (!verifyInclusion(leafHash(Buffer.from(line, 'utf8')), p.seq, size, path, root))
      return fail(PROOFS, `entry ${p.seq} (line ${i + 1}) is not proved in the checkpoint`);
  }
}

/**
 * Verifies an evidence pack offline: the manifest's signature by `verifierKey` (one line, as
 * `GET /v1/audit/verifier-key` returns it), every file's SHA-256 against the manifest (no file missing,
 * none added), the checkpoint's signature, and the inclusion proof of every audit entry it carries.
 * Never throws on a bad pack: each failure names the file at fault.
 *
 * @param pack - the zip's bytes
 * @param verifierKey - the deployment's audit verifier key (C2SP form)
 */
export function verifyEvidencePack(pack: Uint8Array, verifierKey: string): EvidencePackVerification {
  const failures: EvidencePackFailure[] = [];
  const fail = (file: string, reason: string) => void failures.push({ file, reason });
  const done = (extra: Partial<EvidencePackVerification> = {}): EvidencePackVerification => ({ ok: failures.length === 0, failures, ...extra });
  let key: NoteKey;
  try {
    key = parseVerifierKey(verifierKey);
  } catch (err) {
    fail('(verifier key)', (err as Error).message);
    return done();
  }
  let files: Map<string, Uint8Array>;
  try {
    files = unzip(pack);
  } catch (err) {
    fail('(archive)', `not a readable zip: ${(err as Error).message}`);
    return done();
  }
  const manifestBytes = files.get(MANIFEST);
  const sig = files.get(SIGNATURE);
  if (!manifestBytes) fail(MANIFEST, 'missing');
  if (!sig) fail(SIGNATURE, 'missing');
  if (!manifestBytes || !sig) return done();
  const manifestSha256 = hex(sha256(manifestBytes));
  let statement: string;
  try {
    statement = openNote(Buffer.from(sig).toString('utf8'), key);
  } catch (err) {
    fail(SIGNATURE, (err as Error).message);
    return done({ manifestSha256 });
  }
  const [first, tenantId, signedHash] = statement.split('\n');
  if (first !== STATEMENT || !tenantId || !signedHash) {
    fail(SIGNATURE, 'not an evidence pack statement');
    return done({ manifestSha256 });
  }
  // A manifest that is not the one signed is not read: its file list could say anything.
  if (signedHash !== manifestSha256) {
    fail(MANIFEST, 'its SHA-256 is not the one signed in manifest.sig');
    return done({ manifestSha256 });
  }
  let manifest: EvidencePackManifest;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as EvidencePackManifest;
    if (
      manifest.format !== EVIDENCE_PACK_FORMAT ||
      manifest.tenantId !== tenantId ||
      !Array.isArray(manifest.files) ||
      !EVIDENCE_PACK_KINDS.includes(manifest.kind ?? 'evidence')
    )
      throw new Error();
  } catch {
    fail(MANIFEST, `not a ${EVIDENCE_PACK_FORMAT} manifest for tenant ${tenantId}`);
    return done({ manifestSha256 });
  }
  const listed = new Set<string>();
  let filesIntact = true;
  for (const f of manifest.files) {
    listed.add(f.path);
    const bytes = files.get(f.path);
    if (!bytes) fail(f.path, 'missing');
    else if (bytes.length !== f.size || hex(sha256(bytes)) !== f.sha256) fail(f.path, 'SHA-256 does not match the manifest');
    else continue;
    filesIntact = false;
  }
  for (const name of files.keys()) if (name !== MANIFEST && name !== SIGNATURE && !listed.has(name)) fail(name, 'not listed in the manifest');
  const required = [CHECKPOINT, ENTRIES, PROOFS];
  for (const name of required) if (!listed.has(name)) fail(MANIFEST, `does not list ${name}`);
  if (filesIntact && required.every((n) => listed.has(n))) {
    const keys = [key];
    for (const k of Array.isArray(manifest.checkpointKeys) ? manifest.checkpointKeys : []) {
      try {
        keys.push(parseVerifierKey(k));
      } catch {
        fail(MANIFEST, 'lists a malformed checkpoint key');
      }
    }
    checkAudit(files, manifest, keys, fail);
  }
  return done({ manifest, kind: manifest.kind ?? 'evidence', manifestSha256 });
}
