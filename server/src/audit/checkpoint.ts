// C2SP signed-note (Ed25519 signatures) and C2SP tlog-checkpoint: the signed tree heads of the audit log,
// in the format transparency-log tooling and witnesses already read. Parsing is strict: anything a
// conforming signer would not have written is refused, so one note has one reading.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519FromSeed } from '../crypto/ed25519.js';

const SIG_TYPE_ED25519 = 0x01;
const KEY_ID_SIZE = 4;
const ED25519_KEY_SIZE = 32;
const ED25519_SIG_SIZE = 64;
const HASH_SIZE = 32;
const SIG_PREFIX = '\u2014 '; // em dash, space
/** Above the 16 that C2SP requires verifiers to accept; bounds the work a hostile note can cause. */
const MAX_SIGNATURES = 100;
// Ed25519 public key in SubjectPublicKeyInfo DER (RFC 8410), followed by the 32 raw bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  name: string;
  /** First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). */
  keyId: Buffer;
  privateKey: KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: number;
  /** RFC 6962 root hash of the tree at `size`. */
  root: Buffer;
  /** Optional opaque lines after the root; signed with the rest. */
  extensions?: string[];
}

/** Base64 (RFC 4648 §4, padded) in its one canonical spelling, or null. */
function decodeBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}

/** Valid UTF-8 once encoded (no lone surrogates) and no ASCII control characters but newline. */
function isNoteSafe(s: string): boolean {
  return !/[\u0000-\u0009\u000B-\u001F]/.test(s) && !/[\uD800-\uDFFF]/u.test(s);
}

/** C2SP key names: non-empty, no Unicode spaces, no plus (it separates the parts of a verifier key). */
function isValidName(name: string): boolean {
  return name !== '' && isNoteSafe(name) && !/[\s\u0085+]/u.test(name);
}

function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, SIG_TYPE_ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, KEY_ID_SIZE);
}

/** A note signer from a 32-byte Ed25519 seed (RFC 8032 private key). */
export function signerFromSeed(name: string, seed32: Buffer): NoteSigner {
  if (!isValidName(name)) throw new TypeError('a key name is non-empty, without spaces, + or control characters');
  const { privateKey, publicKey } = ed25519FromSeed(seed32);
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { name, keyId: keyId(name, raw), privateKey, publicKey: raw };
}

/** The verifier key a client pins: `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`. */
export function verifierKeyString(name: string, publicKey: Buffer): string {
  if (!isValidName(name)) throw new TypeError('a key name is non-empty, without spaces, + or control characters');
  if (publicKey.length !== ED25519_KEY_SIZE) throw new TypeError('an Ed25519 public key is 32 bytes');
  const encoded = Buffer.concat([Buffer.from([SIG_TYPE_ED25519]), publicKey]).toString('base64');
  return `${name}+${keyId(name, publicKey).toString('hex')}+${encoded}`;
}

function parseVerifierKey(verifierKey: string): { name: string; id: Buffer; publicKey: KeyObject } {
  // The name has no '+', the id is 8 hex digits, and the base64 (which may itself hold '+') is the rest.
  const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(verifierKey);
  const key = m ? decodeBase64(m[3]!) : null;
  if (!m || !key || !isValidName(m[1]!)) throw new Error('malformed verifier key');
  if (key.length !== 1 + ED25519_KEY_SIZE || key[0] !== SIG_TYPE_ED25519) throw new Error('unsupported verifier key type');
  const [name, id, raw] = [m[1]!, Buffer.from(m[2]!, 'hex'), key.subarray(1)];
  if (!keyId(name, raw).equals(id)) throw new Error('verifier key id does not match its key');
  return { name, id, publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
}

/** Signs a note text (ending in a newline) and returns the signed note with one signature line. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw new TypeError('a note text ends with a newline');
  if (!isNoteSafe(text)) throw new TypeError('a note text is Unicode text without control characters but newline');
  const sig = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${SIG_PREFIX}${signer.name} ${Buffer.concat([signer.keyId, sig]).toString('base64')}\n`;
}

/**
 * Verifies a signed note against one pinned verifier key and returns its text. Signatures by other
 * keys are ignored, as C2SP requires; throws if the note is malformed, if no signature is by this key,
 * or if any signature by this key fails.
 */
export function verifyNote(note: string, verifierKey: string): { text: string } {
  const key = parseVerifierKey(verifierKey);
  if (!isNoteSafe(note)) throw new Error('malformed note: control characters or invalid Unicode');
  // The text runs to the last blank line, so it may contain blank lines of its own.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('malformed note: no signature block');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new Error('malformed note: signature block');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new Error('malformed note: too many signatures');
  const message = Buffer.from(text, 'utf8');
  let verified = 0;
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw new Error('malformed note: signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = rest.slice(0, space);
    const sig = space > 0 ? decodeBase64(rest.slice(space + 1)) : null;
    if (!sig || !isValidName(name) || sig.length <= KEY_ID_SIZE) throw new Error('malformed note: signature line');
    // Only the pair (name, key id) identifies a key; a match on one of them alone is someone else's key.
    if (name !== key.name || !sig.subarray(0, KEY_ID_SIZE).equals(key.id)) continue;
    const raw = sig.subarray(KEY_ID_SIZE);
    if (raw.length !== ED25519_SIG_SIZE || !verify(null, message, key.publicKey, raw)) {
      throw new Error(`invalid signature for key ${key.name}+${key.id.toString('hex')}`);
    }
    verified++;
  }
  if (verified === 0) throw new Error(`no signature by key ${key.name}+${key.id.toString('hex')}`);
  return { text };
}

/** The note text of a C2SP tlog-checkpoint: origin, decimal size, base64 root, extension lines. */
export function formatCheckpoint(c: Checkpoint): string {
  if (!c.origin || !isNoteSafe(c.origin) || c.origin.includes('\n')) throw new TypeError('an origin is one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new TypeError('a tree size is a non-negative integer');
  if (c.root.length !== HASH_SIZE) throw new TypeError('a root hash is 32 bytes');
  const extensions = c.extensions ?? [];
  for (const line of extensions) {
    if (!line || !isNoteSafe(line) || line.includes('\n')) throw new TypeError('an extension is one non-empty line');
  }
  return [c.origin, String(c.size), c.root.toString('base64'), ...extensions, ''].join('\n');
}

/** Parses checkpoint text (a verified note's text); throws on anything formatCheckpoint would not write. */
export function parseCheckpoint(text: string): Required<Checkpoint> {
  if (!text.endsWith('\n') || !isNoteSafe(text)) throw new Error('malformed checkpoint: not note text ending in a newline');
  const [origin, size, root, ...extensions] = text.slice(0, -1).split('\n');
  if (!origin || size === undefined || root === undefined) throw new Error('malformed checkpoint: fewer than three lines');
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new Error('malformed checkpoint: tree size');
  const hash = decodeBase64(root);
  if (!hash || hash.length !== HASH_SIZE) throw new Error('malformed checkpoint: root hash');
  if (extensions.some((line) => line === '')) throw new Error('malformed checkpoint: empty extension line');
  return { origin, size: Number(size), root: hash, extensions };
}
