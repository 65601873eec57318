// The KMS adapter against a stand-in for the KMS client (AWS is not reachable from tests): encryption
// context, key id, error mapping and caching are the adapter's own logic and are tested here.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type DecryptCommand, EncryptCommand, IncorrectKeyException, InvalidCiphertextException, NotFoundException } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_TENANT } from '../db/index.js';
import { wireRuntime, type Runtime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { createTenant } from '../tenants/service.js';
import { KekRefusedError, KekUnavailableError } from './kek.js';
import { Keyring, SealError } from './keyring.js';
import { KmsKek, type KmsClientLike } from './kms.js';
import { rewrapDataKeys } from './rotation.js';

// Behaves like KMS where the adapter depends on it: the blob names its key and is authenticated with
// the exact encryption context; another context or key is refused with the exceptions KMS uses.
const contextBytes = (ctx: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));

class FakeKms implements KmsClientLike {
  readonly calls: { op: 'Encrypt' | 'Decrypt'; keyId: string | undefined; context: Record<string, string> | undefined }[] = [];
  /** Errors to throw on the next calls, in order (e.g. a throttling error). */
  readonly failNext: Error[] = [];
  /** Hook to hold a call open, for concurrency tests. */
  gate: Promise<void> | null = null;
  private readonly keys = new Map<string, Buffer>();

  constructor(...keyIds: string[]) {
    for (const id of keyIds) this.keys.set(id, randomBytes(32));
  }

  async send(command: EncryptCommand | DecryptCommand): Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }> {
    const $metadata = {};
    if (this.gate) await this.gate;
    const failure = this.failNext.shift();
    if (command instanceof EncryptCommand) {
      const { KeyId, Plaintext, EncryptionContext } = command.input;
      this.calls.push({ op: 'Encrypt', keyId: KeyId, context: EncryptionContext });
      if (failure) throw failure;
      const key = this.keys.get(KeyId ?? '');
      if (!key) throw new NotFoundException({ message: `Key '${KeyId}' does not exist`, $metadata });
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(contextBytes(EncryptionContext));
      const ct = Buffer.concat([c.update(Plaintext!), c.final()]);
      const id = Buffer.from(KeyId!);
      return { CiphertextBlob: Buffer.concat([Buffer.from([id.length]), id, iv, c.getAuthTag(), ct]) };
    }
    const { KeyId, CiphertextBlob, EncryptionContext } = command.input;
    this.calls.push({ op: 'Decrypt', keyId: KeyId, context: EncryptionContext });
    if (failure) throw failure;
    const blob = Buffer.from(CiphertextBlob!);
    const blobKeyId = blob.subarray(1, 1 + blob[0]!).toString();
    if (KeyId && KeyId !== blobKeyId)
      throw new IncorrectKeyException({ message: 'The key ID in the request does not identify the key that encrypted the ciphertext', $metadata });
    const key = this.keys.get(blobKeyId);
    const rest = blob.subarray(1 + blob[0]!);
    try {
      const d = createDecipheriv('aes-256-gcm', key!, rest.subarray(0, 12)).setAAD(contextBytes(EncryptionContext));
      d.setAuthTag(rest.subarray(12, 28));
      return { Plaintext: Buffer.concat([d.update(rest.subarray(28)), d.final()]) };
    } catch {
      throw new InvalidCiphertextException({ message: '', $metadata });
    }
  }
}

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const dek = () => randomBytes(32);
// KMS throttling arrives as a generic service error with this name.
const throttled = (message: string) => Object.assign(new Error(message), { name: 'ThrottlingException' });

describe('KmsKek', () => {
  test('wraps with the key id and the tenant as encryption context, and unwraps the same way', async () => {
    const kms = new FakeKms(ARN);
    const kek = new KmsKek(ARN, kms);
    const key = dek();
    const wrapped = await kek.wrap(key, A);
    expect(wrapped.includes(key)).toBe(false);
    expect((await kek.unwrap(wrapped, A)).equals(key)).toBe(true);
    expect(kms.calls).toEqual([
      { op: 'Encrypt', keyId: ARN, context: { tenant_id: A } },
      { op: 'Decrypt', keyId: ARN, context: { tenant_id: A } },
    ]);
    expect(kek.id).toBe(`kms:${ARN}`);
  });

  test('a wrapped key presented for another tenant is refused by KMS and mapped to a refusal', async () => {
    const kek = new KmsKek(ARN, new FakeKms(ARN));
    const wrapped = await kek.wrap(dek(), A);
    await expect(kek.unwrap(wrapped, B)).rejects.toThrow(KekRefusedError);
  });

  test('a blob made under another KMS key is refused (the decrypt is pinned to our key id)', async () => {
    const other = 'arn:aws:kms:eu-west-1:444455556666:key/other';
    const kms = new FakeKms(ARN, other);
    const wrapped = await new KmsKek(other, kms).wrap(dek(), A);
    await expect(new KmsKek(ARN, kms).unwrap(wrapped, A)).rejects.toThrow(KekRefusedError);
  });

  test('altered ciphertext is refused', async () => {
    const kek = new KmsKek(ARN, new FakeKms(ARN));
    const wrapped = await kek.wrap(dek(), A);
    wrapped[wrapped.length - 1]! ^= 1;
    await expect(kek.unwrap(wrapped, A)).rejects.toThrow(KekRefusedError);
  });

  test('outages are "unavailable", not tampering, and the error carries no account or key ARN', async () => {
    const kms = new FakeKms(ARN);
    const kek = new KmsKek(ARN, kms);
    const wrapped = await kek.wrap(dek(), A);
    kms.failNext.push(throttled(`Rate exceeded for ${ARN}`));
    const err = await kek.unwrap(wrapped, A).catch((e: Error) => e);
    expect(err).toBeInstanceOf(KekUnavailableError);
    expect((err as Error).message).toBe('KMS Decrypt failed: ThrottlingException');
    const missing = await new KmsKek('alias/missing', kms).wrap(dek(), A).catch((e: Error) => e);
    expect(missing).toBeInstanceOf(KekUnavailableError);
    expect((missing as Error).message).not.toContain('alias/missing');
  });

  test('a decrypt that returns a key of the wrong size is refused', async () => {
    const kek = new KmsKek(ARN, { send: async () => ({ Plaintext: randomBytes(16) }) });
    await expect(kek.unwrap(randomBytes(64), A)).rejects.toThrow(KekRefusedError);
  });

  test('caches unwrapped keys per tenant and blob for a while, and shares concurrent decrypts', async () => {
    let now = 1_000_000;
    const kms = new FakeKms(ARN);
    const kek = new KmsKek(ARN, kms, { cacheMs: 60_000, now: () => now });
    const key = dek();
    const wrapped = await kek.wrap(key, A);
    const decrypts = () => kms.calls.filter((c) => c.op === 'Decrypt').length;

    let release!: () => void;
    kms.gate = new Promise((r) => (release = r));
    const many = Array.from({ length: 5 }, () => kek.unwrap(wrapped, A));
    kms.gate = null;
    release();
    for (const k of await Promise.all(many)) expect(k.equals(key)).toBe(true);
    expect(decrypts()).toBe(1);
    await kek.unwrap(wrapped, A);
    expect(decrypts()).toBe(1);

    // The cache never answers for another tenant: KMS is asked, and refuses.
    await expect(kek.unwrap(wrapped, B)).rejects.toThrow(KekRefusedError);
    expect(decrypts()).toBe(2);

    now += 60_001;
    await kek.unwrap(wrapped, A);
    expect(decrypts()).toBe(3);
  });

  test('failures are not cached, and the cache is bounded', async () => {
    const kms = new FakeKms(ARN);
    const kek = new KmsKek(ARN, kms, { cacheMax: 2 });
    const keys = [dek(), dek(), dek()];
    const blobs = await Promise.all(keys.map((k) => kek.wrap(k, A)));
    const decrypts = () => kms.calls.filter((c) => c.op === 'Decrypt').length;

    kms.failNext.push(throttled('slow down'));
    await expect(kek.unwrap(blobs[0]!, A)).rejects.toThrow(KekUnavailableError);
    expect((await kek.unwrap(blobs[0]!, A)).equals(keys[0]!)).toBe(true);
    expect(decrypts()).toBe(2);

    await kek.unwrap(blobs[1]!, A);
    await kek.unwrap(blobs[2]!, A); // evicts blobs[0]
    await kek.unwrap(blobs[0]!, A);
    expect(decrypts()).toBe(5);
  });
});

describe('keyring over KMS, and moving from the local master key to KMS', () => {
  let testDb: TestDb;
  let rt: Runtime;
  let a: string;
  let b: string;
  const by = { requestId: null, actor: { type: 'cli' as const, id: 'test' } };
  const tenantValue = (id: string, keyring: Keyring, sealed: Buffer) =>
    rt.db.withTenant(id, { requestId: null }, (tx) => keyring.openString(tx, id, sealed, 'test/value'));

  beforeAll(async () => {
    testDb = await createTestDb();
    rt = wireRuntime(testConfig(), testDb.db);
    const deps = { db: rt.db, audit: rt.audit, env: 'development' as const };
    a = (await createTenant(deps, { name: 'A', domains: [] }, by)).tenant.id;
    b = (await createTenant(deps, { name: 'B', domains: [] }, by)).tenant.id;
  });
  afterAll(() => testDb.close());

  test('seal and open with KMS-wrapped data keys; a KMS outage is not reported as tampering', async () => {
    const kms = new FakeKms(ARN);
    const keyring = new Keyring(new KmsKek(ARN, kms, { cacheMs: 0 }));
    const sealed = await rt.db.withTenant(b, { requestId: null }, (tx) => keyring.seal(tx, b, 'kms secret', 'test/value'));
    expect(await tenantValue(b, new Keyring(new KmsKek(ARN, kms, { cacheMs: 0 })), sealed)).toBe('kms secret');
    const stored = await rt.db.withOwner((tx) => tx.query<{ kek_id: string }>('SELECT kek_id FROM tenant_data_keys WHERE tenant_id = $1', [b]));
    expect(stored.rows).toEqual([{ kek_id: `kms:${ARN}` }]);

    kms.failNext.push(throttled('slow down'));
    await expect(tenantValue(b, new Keyring(new KmsKek(ARN, kms)), sealed)).rejects.toThrow(KekUnavailableError);
  });

  test('reads keep working across the move, and rewrap moves every key to KMS, audited', async () => {
    const local = rt.keyring; // the local master key of the test config
    const sealed = await rt.db.withTenant(a, { requestId: null }, (tx) => local.seal(tx, a, 'before the move', 'test/value'));
    const kms = new FakeKms(ARN);
    const moving = new Keyring(new KmsKek(ARN, kms), [local.kek]);
    expect(await tenantValue(a, moving, sealed)).toBe('before the move');
    // Without the old master key the old data key cannot be unwrapped, and rewrap says which key is missing.
    await expect(tenantValue(a, new Keyring(new KmsKek(ARN, kms)), sealed)).rejects.toThrow(SealError);
    const platform = { requestId: null, actor: by.actor, reason: 'test', action: 'data_key.rewrap' };
    const blind = await rt.db.withPlatform(platform, (tx) =>
      rewrapDataKeys(tx, { keyring: new Keyring(new KmsKek(ARN, kms)), audit: rt.audit, ...by }),
    );
    expect(blind).toEqual({ rewrapped: 0, refused: 0, missing: { [local.kek.id]: 1 } });

    const done = await rt.db.withPlatform(platform, (tx) => rewrapDataKeys(tx, { keyring: moving, audit: rt.audit, ...by }));
    expect(done).toEqual({ rewrapped: 1, refused: 0, missing: {} });
    expect(await tenantValue(a, new Keyring(new KmsKek(ARN, kms)), sealed)).toBe('before the move');
    const audit = await rt.db.withOwner((tx) =>
      tx.query<{ tenant_id: string; metadata: Record<string, unknown> }>(
        "SELECT tenant_id, metadata FROM audit_entries WHERE action = 'data_key.rewrap' ORDER BY tenant_id",
      ),
    );
    const tenantEntry = audit.rows.find((r) => r.tenant_id === a)!;
    expect(tenantEntry.metadata).toEqual({ versions: [1], fromKekIds: [local.kek.id], toKekId: `kms:${ARN}` });
    expect(audit.rows.some((r) => r.tenant_id === PLATFORM_TENANT)).toBe(true);
  });

  test("a wrapped key copied to another tenant's row is refused by KMS", async () => {
    const kms = new FakeKms(ARN);
    const keyring = new Keyring(new KmsKek(ARN, kms));
    for (const id of [a, b]) await rt.db.withTenant(id, { requestId: null }, (tx) => keyring.createVersion(tx, id));
    await rt.db.withOwner((tx) =>
      tx.query(
        `UPDATE tenant_data_keys SET wrapped = (SELECT wrapped FROM tenant_data_keys WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1)
          WHERE tenant_id = $2 AND version = (SELECT max(version) FROM tenant_data_keys WHERE tenant_id = $2)`,
        [a, b],
      ),
    );
    const fresh = new Keyring(new KmsKek(ARN, kms));
    await expect(rt.db.withTenant(b, { requestId: null }, (tx) => fresh.seal(tx, b, 'x', 'test/value'))).rejects.toThrow(SealError);
  });
});
