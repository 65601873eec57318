// Envelope encryption with the local master key: what a sealed value is bound to, and what is refused.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { wireRuntime, type Runtime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { createTenant } from '../tenants/service.js';
import { KekRefusedError, LocalKek } from './kek.js';
import { Keyring, SealError } from './keyring.js';

let testDb: TestDb;
let rt: Runtime;
let a: string;
let b: string;
const by = { requestId: null, actor: { type: 'cli' as const, id: 'test' } };
const inTenant = <T>(id: string, fn: (tx: import('../db/types.js').Tx) => Promise<T>) => rt.db.withTenant(id, { requestId: null }, fn);

beforeAll(async () => {
  testDb = await createTestDb();
  rt = wireRuntime(testConfig(), testDb.db);
  const deps = { db: rt.db, audit: rt.audit, env: 'development' as const };
  a = (await createTenant(deps, { name: 'A', domains: [] }, by)).tenant.id;
  b = (await createTenant(deps, { name: 'B', domains: [] }, by)).tenant.id;
});
afterAll(() => testDb.close());

describe('keyring', () => {
  test('seal and open round-trip; the stored bytes hold neither the value nor the data key', async () => {
    const secret = 'sk-proj-round-trip-0123456789';
    const sealed = await inTenant(a, (tx) => rt.keyring.seal(tx, a, secret, 'test/value'));
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(await inTenant(a, (tx) => rt.keyring.openString(tx, a, sealed, 'test/value'))).toBe(secret);
    // A fresh keyring (no cache) unwraps the data key from the database.
    expect(await inTenant(a, (tx) => new Keyring(rt.keyring.kek).openString(tx, a, sealed, 'test/value'))).toBe(secret);
    expect(Keyring.versionOf(sealed)).toBe(1);
  });

  test('changing any single byte of a sealed value is refused', async () => {
    const sealed = await inTenant(a, (tx) => rt.keyring.seal(tx, a, 'tamper target', 'test/value'));
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x01;
      await expect(
        inTenant(a, (tx) => rt.keyring.open(tx, a, bad, 'test/value')),
        `byte ${i}`,
      ).rejects.toThrow(SealError);
    }
    await expect(inTenant(a, (tx) => rt.keyring.open(tx, a, sealed.subarray(0, 40), 'test/value'))).rejects.toThrow(SealError);
  });

  test('a sealed value copied to another tenant or opened in another context is refused', async () => {
    await inTenant(b, (tx) => rt.keyring.activeVersion(tx, b));
    const sealed = await inTenant(a, (tx) => rt.keyring.seal(tx, a, 'bound', 'ai_providers.api_key/openai/'));
    await expect(inTenant(b, (tx) => rt.keyring.open(tx, b, sealed, 'ai_providers.api_key/openai/'))).rejects.toThrow(SealError);
    await expect(inTenant(a, (tx) => rt.keyring.open(tx, a, sealed, 'ai_providers.api_key/anthropic/'))).rejects.toThrow(SealError);
    // Even on the platform path, without row-level security, tenant B's key does not open A's value.
    await expect(
      rt.db.withPlatform({ ...by, reason: 'test', action: 'test.open' }, (tx) => rt.keyring.open(tx, b, sealed, 'ai_providers.api_key/openai/')),
    ).rejects.toThrow(SealError);
  });

  test("a wrapped data key copied to another tenant's row is refused", async () => {
    const sealedB = await inTenant(b, (tx) => rt.keyring.seal(tx, b, 'tenant b value', 'test/value'));
    await rt.db.withOwner((tx) =>
      tx.query(
        'UPDATE tenant_data_keys SET wrapped = (SELECT wrapped FROM tenant_data_keys WHERE tenant_id = $1 AND version = 1) WHERE tenant_id = $2 AND version = 1',
        [a, b],
      ),
    );
    const fresh = new Keyring(rt.keyring.kek);
    await expect(inTenant(b, (tx) => fresh.open(tx, b, sealedB, 'test/value'))).rejects.toThrow(SealError);
    await expect(inTenant(b, (tx) => fresh.seal(tx, b, 'new', 'test/value'))).rejects.toThrow(SealError);
  });

  test('the local KEK binds each wrap to its tenant', async () => {
    const kek = new LocalKek(randomBytes(32));
    const dek = randomBytes(32);
    const wrapped = await kek.wrap(dek, a);
    expect((await kek.unwrap(wrapped, a)).equals(dek)).toBe(true);
    await expect(kek.unwrap(wrapped, b)).rejects.toThrow(KekRefusedError);
    await expect(new LocalKek(randomBytes(32)).unwrap(wrapped, a)).rejects.toThrow(KekRefusedError);
  });

  test('a data key wrapped by a KEK that is not configured is refused, not guessed', async () => {
    const other = new Keyring(new LocalKek(randomBytes(32)));
    const c = (await createTenant({ db: rt.db, audit: rt.audit, env: 'development' }, { name: 'C', domains: [] }, by)).tenant.id;
    const sealed = await inTenant(c, (tx) => other.seal(tx, c, 'x', 'test/value'));
    await expect(inTenant(c, (tx) => new Keyring(rt.keyring.kek).open(tx, c, sealed, 'test/value'))).rejects.toThrow(/not configured/);
    expect(await inTenant(c, (tx) => new Keyring(rt.keyring.kek, [other.kek]).openString(tx, c, sealed, 'test/value'))).toBe('x');
  });
});
