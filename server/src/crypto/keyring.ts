// Per-tenant envelope encryption with AES-256-GCM. Sealed values carry the data key version, so keys
// can rotate while older values stay readable until they are re-sealed.
//   sealed = 0x01 ‖ version (u32 BE) ‖ iv (12) ‖ tag (16) ‖ ciphertext
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Tx } from '../db/types.js';
import { KekUnavailableError, type KeyEncryptionKey } from './kek.js';

const FORMAT = 0x01;
const CACHE_MS = 5 * 60 * 1000;

export class SealError extends Error {}

/** Binds a sealed value to its tenant and to where it is stored, so it cannot be moved elsewhere. */
const aadFor = (tenantId: string, context: string) => Buffer.from(`parley/seal/v1/${tenantId}/${context}`);

export class Keyring {
  private cache = new Map<string, { dek: Buffer; until: number }>();
  /**
   * `previous` are KEKs that still unwrap keys not yet re-wrapped under `kek` (after a move from the
   * local master key to KMS, or a master key change), so reads keep working until `parley keys rewrap`.
   */
  constructor(
    readonly kek: KeyEncryptionKey,
    readonly previous: readonly KeyEncryptionKey[] = [],
  ) {}

  /** The configured KEK with this id, if any. */
  kekFor(id: string): KeyEncryptionKey | undefined {
    return [this.kek, ...this.previous].find((k) => k.id === id);
  }

  private async dek(tx: Tx, tenantId: string, version: number): Promise<Buffer> {
    const k = `${tenantId}/${version}`;
    const hit = this.cache.get(k);
    if (hit && hit.until > Date.now()) return hit.dek;
    const { rows } = await tx.query<{ wrapped: Uint8Array; kek_id: string }>(
      'SELECT wrapped, kek_id FROM tenant_data_keys WHERE tenant_id = $1 AND version = $2',
      [tenantId, version],
    );
    if (!rows[0]) throw new SealError(`no data key ${version} for this tenant`);
    const kek = this.kekFor(rows[0].kek_id);
    if (!kek) throw new SealError(`data key ${version} is wrapped by a key encryption key that is not configured`);
    let dek: Buffer;
    try {
      dek = await kek.unwrap(Buffer.from(rows[0].wrapped), tenantId);
    } catch (err) {
      if (err instanceof KekUnavailableError) throw err;
      throw new SealError(`data key ${version} does not unwrap for this tenant`);
    }
    this.cache.set(k, { dek, until: Date.now() + CACHE_MS });
    return dek;
  }

  /** The active data key version, creating the first one on demand. */
  async activeVersion(tx: Tx, tenantId: string): Promise<number> {
    const { rows } = await tx.query<{ version: number }>(
      'SELECT version FROM tenant_data_keys WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY version DESC LIMIT 1',
      [tenantId],
    );
    if (rows[0]) return rows[0].version;
    return this.createVersion(tx, tenantId);
  }

  /** Adds a new data key version; new seals use it at once, older versions keep opening. */
  async createVersion(tx: Tx, tenantId: string): Promise<number> {
    const dek = randomBytes(32);
    const wrapped = await this.kek.wrap(dek, tenantId);
    const { rows } = await tx.query<{ version: number }>(
      `INSERT INTO tenant_data_keys (tenant_id, version, kek_id, wrapped)
       SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM tenant_data_keys WHERE tenant_id = $1
       RETURNING version`,
      [tenantId, this.kek.id, wrapped],
    );
    const version = rows[0]!.version;
    this.cache.set(`${tenantId}/${version}`, { dek, until: Date.now() + CACHE_MS });
    return version;
  }

  async seal(tx: Tx, tenantId: string, plaintext: string | Buffer, context: string): Promise<Buffer> {
    const version = await this.activeVersion(tx, tenantId);
    const dek = await this.dek(tx, tenantId, version);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dek, iv).setAAD(aadFor(tenantId, context));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const head = Buffer.alloc(5);
    head.writeUInt8(FORMAT, 0);
    head.writeUInt32BE(version, 1);
    return Buffer.concat([head, iv, cipher.getAuthTag(), ct]);
  }

  async open(tx: Tx, tenantId: string, sealed: Uint8Array, context: string): Promise<Buffer> {
    const b = Buffer.from(sealed);
    if (b.length < 33 || b[0] !== FORMAT) throw new SealError('not a sealed value');
    const dek = await this.dek(tx, tenantId, b.readUInt32BE(1));
    try {
      const decipher = createDecipheriv('aes-256-gcm', dek, b.subarray(5, 17)).setAAD(aadFor(tenantId, context));
      decipher.setAuthTag(b.subarray(17, 33));
      return Buffer.concat([decipher.update(b.subarray(33)), decipher.final()]);
    } catch {
      throw new SealError('sealed value failed authentication');
    }
  }

  async openString(tx: Tx, tenantId: string, sealed: Uint8Array, context: string): Promise<string> {
    return (await this.open(tx, tenantId, sealed, context)).toString('utf8');
  }

  /**
   * Drops this process's cached data keys of a tenant whose keys were destroyed, so nothing sealed under
   * them opens here any more (other instances' caches lapse within CACHE_MS).
   */
  forget(tenantId: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${tenantId}/`)) this.cache.delete(k);
  }

  /** Version of the data key a sealed value was sealed with. */
  static versionOf(sealed: Uint8Array): number {
    return Buffer.from(sealed).readUInt32BE(1);
  }
}
