// What a log is and who may sign for it: the stored identity (origin, key name) fixed when the log first
// writes, the history of signing keys (each key names the key it replaced in a note it signs, so trust
// flows back from the key an operator configures, never from rows an owner adds), the signed chain line
// every checkpoint carries, and the per-entry signature that pins a rewrite to its index.
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { Tx } from '../db/types.js';
import { parseCheckpoint, signNote, signerFromSeed, verifierKeyString, verifyNote, type NoteSigner } from './checkpoint.js';

/** The key name of the key-history notes (a fixed name: they are not checkpoints of any log). */
export const KEY_HISTORY_NAME = 'parley-audit-signing-key';
const KEY_STATEMENT = 'parley audit signing key';
const ENTRY_STATEMENT = 'parley audit entry';
const CHAIN = 'parley-chain';
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface DeploymentIdentity {
  originPrefix: string;
  keyName: string;
}

export interface LogIdentity {
  origin: string;
  keyName: string;
}

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export async function readDeploymentIdentity(tx: Tx): Promise<DeploymentIdentity | null> {
  const { rows } = await tx.query<{ origin_prefix: string; key_name: string }>('SELECT origin_prefix, key_name FROM audit_identity');
  return rows[0] ? { originPrefix: rows[0].origin_prefix, keyName: rows[0].key_name } : null;
}

export const logIdentityFrom = (d: DeploymentIdentity, tenantId: string): LogIdentity => ({
  origin: `${d.originPrefix}/${tenantId}`,
  keyName: d.keyName,
});

// ---- signing-key history ----

const keyStatement = (publicKey: Buffer, previous: Buffer | null) =>
  `${KEY_STATEMENT}\n${publicKey.toString('base64')}\nprevious ${previous ? previous.toString('base64') : 'none'}\n`;

/** Records `signer`'s public key (once), naming the newest key recorded before it as its predecessor. */
export async function registerSigningKey(tx: Tx, seed: Buffer): Promise<void> {
  const history = signerFromSeed(KEY_HISTORY_NAME, seed);
  const known = await tx.query('SELECT 1 FROM audit_signing_keys WHERE public_key = $1', [history.publicKey]);
  if (known.rows.length) return;
  const prev = await tx.query<{ public_key: Uint8Array }>('SELECT public_key FROM audit_signing_keys ORDER BY created_at DESC LIMIT 1');
  const previous = prev.rows[0] ? Buffer.from(prev.rows[0].public_key) : null;
  await tx.query('INSERT INTO audit_signing_keys (public_key, previous, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    history.publicKey,
    previous,
    signNote(keyStatement(history.publicKey, previous), history),
  ]);
}

/**
 * The public keys trusted to sign: the anchor (the key the verifier is configured with), then each key a
 * trusted key names as its predecessor in a note that key signed. A row an owner inserts is not reached.
 */
export async function trustedKeys(tx: Tx, anchor: Buffer): Promise<Buffer[]> {
  const { rows } = await tx.query<{ public_key: Uint8Array; previous: Uint8Array | null; note: string }>(
    'SELECT public_key, previous, note FROM audit_signing_keys',
  );
  const byKey = new Map(rows.map((r) => [Buffer.from(r.public_key).toString('hex'), r]));
  const out = [anchor];
  for (let current = anchor; ; ) {
    const row = byKey.get(current.toString('hex'));
    if (!row?.previous) break;
    const previous = Buffer.from(row.previous);
    try {
      const { text } = verifyNote(row.note, verifierKeyString(KEY_HISTORY_NAME, current));
      if (text !== keyStatement(current, previous)) break;
    } catch {
      break;
    }
    if (out.some((k) => k.equals(previous))) break;
    out.push(previous);
    current = previous;
  }
  return out;
}

/** Verifies a note against any of `keys` under `keyName`; returns its text or throws the first reason. */
export function verifyNoteByAny(note: string, keyName: string, keys: Buffer[]): string {
  let first: Error | null = null;
  for (const k of keys) {
    try {
      return verifyNote(note, verifierKeyString(keyName, k)).text;
    } catch (err) {
      first ??= err as Error;
    }
  }
  throw first ?? new Error('no trusted key');
}

// ---- per-entry signatures ----

const entryStatement = (origin: string, seq: number, leaf: Buffer) =>
  Buffer.from(`${ENTRY_STATEMENT}\n${origin}\n${seq}\n${leaf.toString('base64')}\n`, 'utf8');

/** key id ‖ Ed25519 signature over (origin, seq, leaf hash): 68 bytes. */
export function signEntry(signer: NoteSigner, origin: string, seq: number, leaf: Buffer): Buffer {
  return Buffer.concat([signer.keyId, sign(null, entryStatement(origin, seq, leaf), signer.privateKey)]);
}

export function entrySignatureValid(sig: Buffer, id: LogIdentity, keys: Buffer[], seq: number, leaf: Buffer): boolean {
  if (sig.length !== 68) return false;
  const message = entryStatement(id.origin, seq, leaf);
  for (const k of keys) {
    const keyId = Buffer.from(verifierKeyString(id.keyName, k).split('+')[1]!, 'hex');
    if (!keyId.equals(sig.subarray(0, 4))) continue;
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, k]), format: 'der', type: 'spki' });
    if (verify(null, message, publicKey, sig.subarray(4))) return true;
  }
  return false;
}

/**
 * Below which index a log's entries may lack a signature. Only a log written before entry signatures (migration
 * 067) has unsigned entries, and only a checkpoint signed before chains began (it has no chain line) proves a
 * log is one: the owner writes the head, and could otherwise say signatures begin anywhere. Even then, no
 * further than one checkpoint interval past the newest such checkpoint (one was signed at least that often),
 * nor past the first checkpoint with a chain line, nor past where the head says signatures began.
 */
export function unsignedBefore(c: { legacy: readonly number[]; chained: readonly number[]; signedFrom: number; every: number }): number {
  if (!c.legacy.length) return 0;
  return Math.min(c.signedFrom, Math.max(...c.legacy) + c.every, ...c.chained);
}

// ---- the checkpoint chain (a signed extension line) ----

export interface ChainLink {
  /** This checkpoint's position in the log's chain, from 0. */
  index: number;
  /** PARLEY_AUDIT_CHECKPOINT_EVERY when it was signed: no more entries than this go unsigned. */
  every: number;
  /** The previous checkpoint's size and SHA-256 of its whole signed note; null for the first. */
  prev: { size: number; hash: Buffer } | null;
}

export function formatChain(c: ChainLink): string {
  return c.prev ? `${CHAIN} ${c.index} ${c.every} ${c.prev.size} ${c.prev.hash.toString('base64')}` : `${CHAIN} ${c.index} ${c.every}`;
}

/** The chain line among a checkpoint's extensions, or null if it has none (checkpoints signed before chains). */
export function parseChain(extensions: string[]): ChainLink | null {
  const line = extensions.find((e) => e.startsWith(`${CHAIN} `));
  if (!line) return null;
  const m = /^parley-chain (0|[1-9][0-9]*) ([1-9][0-9]*)(?: (0|[1-9][0-9]*) ([A-Za-z0-9+/]{43}=))?$/.exec(line);
  if (!m) throw new Error('malformed chain line');
  const index = Number(m[1]);
  const prev = m[3] !== undefined ? { size: Number(m[3]), hash: Buffer.from(m[4]!, 'base64') } : null;
  if ((index === 0) !== (prev === null)) throw new Error('malformed chain line');
  return { index, every: Number(m[2]), prev };
}

/** A stored checkpoint checked against a log identity and trusted keys. */
export function readCheckpoint(note: string, id: LogIdentity, keys: Buffer[]) {
  const parsed = parseCheckpoint(verifyNoteByAny(note, id.keyName, keys));
  if (parsed.origin !== id.origin) throw new Error(`origin ${parsed.origin} is not the log's ${id.origin}`);
  return { ...parsed, chain: parseChain(parsed.extensions) };
}

/**
 * A checkpoint signed before identities were stored, by a trusted key but under the name of whatever host
 * and port the signing process had (as `parley audit verify` under another PORT used to write). Its
 * signature is genuine, so it is accepted as what it is: origin `<name>/<tenant id>`, no chain line.
 */
export function readMislabelledCheckpoint(note: string, tenantId: string, keys: Buffer[]) {
  const name = /\n\n\u2014 ([^ \n]+) /.exec(note)?.[1];
  if (!name) throw new Error('no signature line');
  const parsed = parseCheckpoint(verifyNoteByAny(note, name, keys));
  if (parsed.origin !== `${name}/${tenantId}` || parseChain(parsed.extensions)) throw new Error('not a checkpoint of this log');
  return { ...parsed, chain: null };
}
