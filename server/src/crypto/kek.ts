// Key encryption keys: what wraps each tenant's data keys. The tenant id is bound into every wrap
// (GCM associated data locally, the encryption context in KMS), so a wrapped key copied to another
// tenant's row does not unwrap.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The KEK is reachable but refuses this wrapped key: it belongs to another tenant or key, or was altered. */
export class KekRefusedError extends Error {
  override name = 'KekRefusedError';
}

/** The KEK could not be used right now (network, throttling, permissions): retry, do not treat as tampering. */
export class KekUnavailableError extends Error {
  override name = 'KekUnavailableError';
}

export interface KeyEncryptionKey {
  /** Stable id stored beside each wrapped key, so a KEK change can be detected and re-wrapped. */
  readonly id: string;
  wrap(dek: Buffer, tenantId: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, tenantId: string): Promise<Buffer>;
}

const aad = (tenantId: string) => Buffer.from(`parley/dek/v1/${tenantId}`);

export class LocalKek implements KeyEncryptionKey {
  readonly id: string;
  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new TypeError('the master key must be 32 bytes');
    this.id = `local:${createHash('sha256').update('parley/kek-id').update(masterKey).digest('hex').slice(0, 16)}`;
  }

  async wrap(dek: Buffer, tenantId: string): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv).setAAD(aad(tenantId));
    const ct = Buffer.concat([cipher.update(dek), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  async unwrap(wrapped: Buffer, tenantId: string): Promise<Buffer> {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, 12)).setAAD(aad(tenantId));
      decipher.setAuthTag(wrapped.subarray(12, 28));
      return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
    } catch {
      throw new KekRefusedError('wrapped data key failed authentication');
    }
  }
}
