import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, signerFromSeed, signNote, verifierKeyString, verifyNote } from './checkpoint.js';

interface NoteFixture {
  signerKey: string;
  verifierKey: string;
  text: string;
  signatureLine: string;
  otherVerifierKey: string;
  otherSignatureLine: string;
}
const go = JSON.parse(readFileSync(new URL('./fixtures/signed-note.json', import.meta.url), 'utf8')) as NoteFixture;

// A signer key is PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>.
const goSeed = Buffer.from(go.signerKey.split('+').slice(4).join('+'), 'base64').subarray(1);
const goNote = `${go.text}\n${go.signatureLine}`;

const TENANT = '4f0c2a51-8f0e-4c7d-9a51-2f7d6c1b9e30';
const seed = createHash('sha256').update('checkpoint test seed').digest();
const signer = signerFromSeed('parley.example/audit', seed);
const key = verifierKeyString(signer.name, signer.publicKey);
const root = createHash('sha256').update('a root').digest();
const checkpointText = formatCheckpoint({ origin: `parley.example/audit/${TENANT}`, size: 1234, root });
const note = signNote(checkpointText, signer);

describe('signed notes against the published Go vectors', () => {
  it('derives the published key id and verifier key from the seed', () => {
    const peter = signerFromSeed('PeterNeumann', goSeed);
    expect(peter.keyId.toString('hex')).toBe('c74f20a3');
    expect(verifierKeyString('PeterNeumann', peter.publicKey)).toBe(go.verifierKey);
  });

  it('signs the published note byte for byte (Ed25519 is deterministic)', () => {
    expect(signNote(go.text, signerFromSeed('PeterNeumann', goSeed))).toBe(goNote);
  });

  it('verifies the published note and ignores signatures by other keys', () => {
    expect(verifyNote(goNote, go.verifierKey).text).toBe(go.text);
    const both = `${go.text}\n${go.signatureLine}${go.otherSignatureLine}`;
    expect(verifyNote(both, go.verifierKey).text).toBe(go.text);
    expect(verifyNote(both, go.otherVerifierKey).text).toBe(go.text);
    expect(() => verifyNote(`${go.text}\n${go.otherSignatureLine}`, go.verifierKey)).toThrow(/no signature/);
  });

  it('refuses the malformed notes the Go tests refuse', () => {
    const bad = [
      go.text,
      `${go.text}\n`,
      `${go.text}\n${go.signatureLine.slice(0, -1)}`,
      `\x01${goNote}`,
      `${go.text}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${goNote}Unexpected line.\n`,
      `${go.text}\n${go.signatureLine.repeat(101)}`,
    ];
    for (const msg of bad) expect(() => verifyNote(msg, go.verifierKey), JSON.stringify(msg)).toThrow();
    // A corrupted signature by the pinned key fails the whole note, even beside a good one.
    const corrupt = go.signatureLine.slice(0, 60) + 'ABCD' + go.signatureLine.slice(60);
    expect(() => verifyNote(`${go.text}\n${corrupt}`, go.verifierKey)).toThrow(/invalid signature/);
    expect(() => verifyNote(`${go.text}\n${go.signatureLine}${corrupt}`, go.verifierKey)).toThrow(/invalid signature/);
  });

  it('refuses every truncation and every single-byte change of the verifier key', () => {
    const b = Buffer.from(go.verifierKey);
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        expect(() => verifyNote(goNote, b.subarray(i, j).toString())).toThrow();
      }
    }
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i]!++;
      expect(() => verifyNote(goNote, c.toString()), c.toString()).toThrow();
    }
  });
});

describe('checkpoints', () => {
  it('are the C2SP tlog-checkpoint text', () => {
    expect(checkpointText).toBe(`parley.example/audit/${TENANT}\n1234\n${root.toString('base64')}\n`);
    expect(formatCheckpoint({ origin: 'o', size: 0, root, extensions: ['ext one', 'two'] })).toBe(`o\n0\n${root.toString('base64')}\next one\ntwo\n`);
  });

  it('round-trip through parse, extension lines included', () => {
    expect(parseCheckpoint(checkpointText)).toEqual({ origin: `parley.example/audit/${TENANT}`, size: 1234, root, extensions: [] });
    const withExt = { origin: 'o', size: 2 ** 53 - 1, root, extensions: ['a', 'b c'] };
    expect(parseCheckpoint(formatCheckpoint(withExt))).toEqual(withExt);
  });

  it('parse strictly', () => {
    const r = root.toString('base64');
    for (const text of [
      `o\n1\n${r}`, // no final newline
      `o\n1\n`,
      `\n1\n${r}\n`,
      `o\n01\n${r}\n`,
      `o\n-1\n${r}\n`,
      `o\n1e3\n${r}\n`,
      `o\n 1\n${r}\n`,
      `o\n9007199254740992\n${r}\n`,
      `o\n1\n${r.slice(0, -4)}\n`,
      `o\n1\n${r.replace('=', '')}\n`,
      `o\n1\n${root.toString('base64url')}\n`,
      `o\n1\n${r}\n\n`,
      `o\n1\n${r}\next\n\n`,
      `o\x01\n1\n${r}\n`,
    ]) {
      expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow();
    }
    // The last base64 character carries two unused bits; only the canonical spelling is a root.
    const last = r.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(() => parseCheckpoint(`o\n1\n${r.slice(0, -2)}${sibling}=\n`)).toThrow();
  });

  it('refuse to format what they could not parse back', () => {
    expect(() => formatCheckpoint({ origin: '', size: 1, root })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a\nb', size: 1, root })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'o', size: -1, root })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'o', size: 1.5, root })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'o', size: 1, root: root.subarray(1) })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'o', size: 1, root, extensions: [''] })).toThrow(TypeError);
  });
});

describe('signed checkpoints', () => {
  it('verify with the published verifier key and parse back', () => {
    expect(key).toMatch(/^parley\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(key.split('+')[1]).toBe(signer.keyId.toString('hex'));
    const { text } = verifyNote(note, key);
    expect(text).toBe(checkpointText);
    expect(parseCheckpoint(text)).toMatchObject({ size: 1234, root });
  });

  it('fail after any single changed byte, in the text or the signature', () => {
    const bytes = Buffer.from(note, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x02, 0x20, 0x80]) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= mask;
        expect(() => verifyNote(changed.toString('utf8'), key), `byte ${i} ^ ${mask}`).toThrow();
      }
    }
  });

  it('fail with a wrong key, a key of the same name, or a forged key id', () => {
    const other = signerFromSeed(signer.name, createHash('sha256').update('other seed').digest());
    expect(() => verifyNote(note, verifierKeyString(other.name, other.publicKey))).toThrow(/no signature/);
    expect(() => verifyNote(note, go.verifierKey)).toThrow(/no signature/);
    // The pinned name and key id with another public key: the id no longer matches its key.
    const forged = `${signer.name}+${signer.keyId.toString('hex')}+${Buffer.concat([Buffer.from([1]), other.publicKey]).toString('base64')}`;
    expect(() => verifyNote(note, forged)).toThrow(/key id/);
  });

  it('survive being signed again by a witness key (signatures by unknown keys are ignored)', () => {
    const witness = signerFromSeed('witness.example/w1', createHash('sha256').update('witness').digest());
    const cosigned = note + signNote(checkpointText, witness).slice(checkpointText.length + 1);
    expect(verifyNote(cosigned, key).text).toBe(checkpointText);
    expect(verifyNote(cosigned, verifierKeyString(witness.name, witness.publicKey)).text).toBe(checkpointText);
  });

  it('refuse bad names, seeds and texts when signing', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b']) expect(() => signerFromSeed(name, seed), name).toThrow(TypeError);
    expect(() => signerFromSeed('n', seed.subarray(1))).toThrow(TypeError);
    expect(() => signNote('no newline', signer)).toThrow(TypeError);
    expect(() => signNote('bell\x07\n', signer)).toThrow(TypeError);
    expect(() => signNote('lone \ud800\n', signer)).toThrow(TypeError);
  });
});
