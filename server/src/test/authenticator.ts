// A software WebAuthn authenticator for tests: an ES256 (P-256) key made with node:crypto, authenticator
// data and a 'none' attestation built by hand (with the tiny CBOR encoder below), and the JSON a browser's
// `navigator.credentials` hands to @simplewebauthn/browser. Every field can be bent to play an attacker.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ---- CBOR (RFC 8949), just what WebAuthn needs: ints, byte and text strings, arrays, maps -------------

export type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | { [k: string]: Cbor };

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TypeError('only integers');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, val]) => [cbor(k), cbor(val)])]);
}

// ---- The authenticator --------------------------------------------------------------------------------

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;

export interface Bend {
  /** clientDataJSON.origin (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID hashed into authenticator data (default: the authenticator's RP ID). */
  rpId?: string;
  /** clientDataJSON.type. */
  type?: string;
  /** Use this challenge instead of the one in the options. */
  challenge?: string;
  /** Sign with this key instead of the credential's. */
  signWith?: KeyObject;
  /** The signature counter to report (default: the next one). */
  counter?: number;
  /** Authenticator data flags (default UP | UV, plus AT on registration). */
  flags?: number;
  /** The user handle to send on an assertion (default: the one given at registration; null: none). */
  userHandle?: string | null;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The last counter reported. */
  counter = 0;
  /** The user handle (base64url) from the registration options. */
  userHandle: string | null = null;

  constructor(
    readonly origin: string,
    readonly rpId = new URL(origin).hostname,
    /** Whether the authenticator keeps a signature counter (many platform authenticators keep 0). */
    readonly usesCounter = true,
  ) {
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = kp.privateKey;
    this.publicKey = kp.publicKey;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  private coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return cbor(
      new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  private nextCounter(bend: Bend): number {
    if (bend.counter !== undefined) return bend.counter;
    if (!this.usesCounter) return 0;
    return ++this.counter;
  }

  private authData(bend: Bend, flags: number, counter: number, attested?: Buffer): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    return Buffer.concat([sha256(bend.rpId ?? this.rpId), Buffer.from([flags]), c, ...(attested ? [attested] : [])]);
  }

  private clientData(type: string, challenge: string, bend: Bend): Buffer {
    return Buffer.from(
      JSON.stringify({ type: bend.type ?? type, challenge: bend.challenge ?? challenge, origin: bend.origin ?? this.origin, crossOrigin: false }),
    );
  }

  /** What `navigator.credentials.create()` gives, as @simplewebauthn/browser's `startRegistration` returns it. */
  register(options: { challenge: string; user?: { id: string } }, bend: Bend = {}): Record<string, unknown> {
    this.userHandle = options.user?.id ?? null;
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLen, this.credentialId, this.coseKey()]);
    const counter = bend.counter ?? 0;
    const authData = this.authData(bend, bend.flags ?? FLAG_UP | FLAG_UV | FLAG_AT, counter, attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, bend);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** What `navigator.credentials.get()` gives, as `startAuthentication` returns it. */
  assert(options: { challenge: string }, bend: Bend = {}): Record<string, unknown> {
    const authData = this.authData(bend, bend.flags ?? FLAG_UP | FLAG_UV, this.nextCounter(bend));
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, bend);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), bend.signWith ?? this.privateKey);
    const userHandle = bend.userHandle === undefined ? this.userHandle : bend.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle ? { userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}

/** Another key, for "signed by someone else". */
export const strangerKey = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
