// AWS KMS as the key encryption key. Each data key is encrypted by KMS under one customer managed key
// with the encryption context { tenant_id }: KMS refuses to decrypt it for any other tenant, and every
// decrypt shows up in CloudTrail with the tenant it was for.
import { createHash } from 'node:crypto';
import type { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { KekRefusedError, KekUnavailableError, type KeyEncryptionKey } from './kek.js';

/** The slice of the KMS client the adapter uses, so tests can stand in for AWS. */
export interface KmsClientLike {
  send(command: EncryptCommand | DecryptCommand): Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }>;
}

export interface KmsKekOptions {
  /** How long an unwrapped data key is kept in memory (default 5 minutes); 0 disables the cache. */
  cacheMs?: number;
  /** Upper bound on cached data keys; the oldest is dropped first. */
  cacheMax?: number;
  now?: () => number;
}

/** KMS errors meaning "this ciphertext is not yours to decrypt"; anything else is an outage or a misconfiguration. */
const REFUSALS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

const DEK_BYTES = 32;

// The AWS SDK loads on the first wrap or unwrap, not at the start of every process that never uses KMS.
const sdk = () => import('@aws-sdk/client-kms');

export class KmsKek implements KeyEncryptionKey {
  readonly id: string;
  private readonly cacheMs: number;
  private readonly cacheMax: number;
  private readonly now: () => number;
  // Keyed by tenant and the wrapped bytes, so a cached key is never handed out for another tenant's row.
  // In-flight decrypts are shared: a cold start does not send one Decrypt per concurrent request.
  private readonly cache = new Map<string, { dek: Promise<Buffer>; until: number }>();
  private client: Promise<KmsClientLike> | undefined;

  constructor(
    readonly keyId: string,
    client?: KmsClientLike,
    opts: KmsKekOptions = {},
  ) {
    if (client) this.client = Promise.resolve(client);
    if (!keyId.trim()) throw new TypeError('a KMS key id is required');
    this.id = `kms:${keyId}`;
    this.cacheMs = opts.cacheMs ?? 5 * 60 * 1000;
    this.cacheMax = opts.cacheMax ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  private context(tenantId: string) {
    return { tenant_id: tenantId };
  }

  async wrap(dek: Buffer, tenantId: string): Promise<Buffer> {
    const { EncryptCommand } = await sdk();
    const out = await this.call('Encrypt', new EncryptCommand({ KeyId: this.keyId, Plaintext: dek, EncryptionContext: this.context(tenantId) }));
    if (!out.CiphertextBlob?.length) throw new KekUnavailableError('KMS Encrypt returned no ciphertext');
    return Buffer.from(out.CiphertextBlob);
  }

  unwrap(wrapped: Buffer, tenantId: string): Promise<Buffer> {
    const key = `${tenantId}/${createHash('sha256').update(wrapped).digest('hex')}`;
    const t = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > t) return hit.dek;
    const dek = this.decrypt(wrapped, tenantId);
    if (this.cacheMs > 0 && this.cacheMax > 0) {
      this.cache.delete(key);
      while (this.cache.size >= this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { dek, until: t + this.cacheMs });
      // Failures are not remembered: the next call asks KMS again.
      dek.catch(() => {
        if (this.cache.get(key)?.dek === dek) this.cache.delete(key);
      });
    }
    return dek;
  }

  private async decrypt(wrapped: Buffer, tenantId: string): Promise<Buffer> {
    // KeyId pins the decrypt to our key: a blob made under some other KMS key is refused by KMS itself.
    const { DecryptCommand } = await sdk();
    const out = await this.call(
      'Decrypt',
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: wrapped, EncryptionContext: this.context(tenantId) }),
    );
    if (out.Plaintext?.length !== DEK_BYTES) throw new KekRefusedError('KMS returned a data key of the wrong size');
    return Buffer.from(out.Plaintext);
  }

  private async call(op: string, command: EncryptCommand | DecryptCommand) {
    try {
      this.client ??= sdk().then(({ KMSClient }) => new KMSClient({}));
      return await (await this.client).send(command);
    } catch (err) {
      // Only the error name: KMS messages can carry account and key ARNs, which do not belong in our logs.
      const name = (err as { name?: string })?.name ?? 'Error';
      if (REFUSALS.has(name)) throw new KekRefusedError(`KMS ${op} refused: ${name}`);
      throw new KekUnavailableError(`KMS ${op} failed: ${name}`);
    }
  }
}
