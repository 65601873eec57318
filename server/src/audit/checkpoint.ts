// C2SP signed-note (Ed25519) and tlog-checkpoint.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519FromSeed } from '../crypto/ed25519.js';

const ALG_ED25519 = 0x01;
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  name: string;
  keyId: Buffer;
  privateKey: KeyObject;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
}

function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256').update(name).update(Buffer.from([0x0a, ALG_ED25519])).update(publicKey).digest().subarray(0, 4);
}

function checkName(name: string): void {
  if (!name || /[\s+]/.test(name)) throw new TypeError('a key name is non-empty, without spaces or +');
}

export function signerFromSeed(name: string, seed: Buffer): NoteSigner {
  checkName(name);
  const { privateKey, publicKey } = ed25519FromSeed(seed);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return { name, keyId: keyId(name, raw), privateKey, publicKey: Buffer.from(raw) };
}

export function verifierKeyString(name: string, publicKey: Buffer): string {
  checkName(name);
  return `${name}+${keyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64')}`;
}

export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw new TypeError('note text ends with a newline');
  const sig = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n\u2014 ${signer.name} ${Buffer.concat([signer.keyId, sig]).toString('base64')}\n`;
}

/** Verifies a signed note against one verifier key; returns the signed text or throws. */
export function verifyNote(note: string, verifierKey: string): { text: string } {
  // name "+" 8 hex digits "+" base64, and base64 itself may contain "+".
  const m = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(verifierKey);
  if (!m) throw new Error('malformed verifier key');
  const [, name, hexId, b64] = m as unknown as [string, string, string, string];
  const keyBytes = Buffer.from(b64, 'base64');
  if (keyBytes.length !== 33 || keyBytes[0] !== ALG_ED25519) throw new Error('unsupported verifier key');
  const raw = keyBytes.subarray(1);
  if (!keyId(name, raw).equals(Buffer.from(hexId, 'hex'))) throw new Error('verifier key id does not match');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('malformed note');
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2).split('\n');
  if (sigLines.pop() !== '') throw new Error('malformed note');
  const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error('malformed signature line');
    if (m[1] !== name) continue;
    const sig = Buffer.from(m[2]!, 'base64');
    if (sig.length !== 68 || !sig.subarray(0, 4).equals(Buffer.from(hexId, 'hex'))) continue;
    if (verify(null, Buffer.from(text, 'utf8'), pub, sig.subarray(4))) return { text };
    throw new Error('invalid signature');
  }
  throw new Error('no signature by this key');
}

export function formatCheckpoint(c: { origin: string; size: number; root: Buffer }): string {
  if (!c.origin || c.origin.includes('\n')) throw new TypeError('bad origin');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): { origin: string; size: number; root: Buffer; extensions: string[] } {
  const lines = text.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') throw new Error('malformed checkpoint');
  const [origin, size, root, ...rest] = lines;
  if (!origin || !/^(0|[1-9]\d*)$/.test(size ?? '')) throw new Error('malformed checkpoint');
  const hash = Buffer.from(root ?? '', 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== root) throw new Error('malformed checkpoint root');
  return { origin, size: Number(size), root: hash, extensions: rest.slice(0, -1) };
}
