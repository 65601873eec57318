// Reads memoised per transaction: asked once within one, again in the next, and a write in the same
// transaction is seen by the read after it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lockSettings, selectSettings, storeSettings } from '../tenants/settings-store.js';
import { createTestDb, type TestDb } from '../test/db.js';
import type { Tx } from './types.js';
import { forgetInTx, oncePerTx, txTenant } from './tx-memo.js';

let t: TestDb;
const ID = '22222222-2222-4222-8222-222222222222';
beforeAll(async () => {
  t = await createTestDb();
  await t.db.withOwner((tx) => tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Memo')", [ID]));
});
afterAll(() => t.close());

/** A transaction whose queries are counted. */
function counted(tx: Tx, log: string[]): Tx {
  return {
    exec: (sql) => tx.exec(sql),
    defer: (sql, params) => tx.defer(sql, params),
    query: (sql, params) => (log.push(sql), tx.query(sql, params)),
    last: (sql, params) => (log.push(sql), tx.last(sql, params)),
  };
}

describe('oncePerTx', () => {
  test('one read per transaction and key; the next transaction reads again', async () => {
    const log: string[] = [];
    for (let i = 0; i < 2; i++)
      await t.db.withTenant(ID, { requestId: null }, async (raw) => {
        const tx = counted(raw, log);
        expect(await txTenant(tx)).toBe(ID);
        expect(await txTenant(tx)).toBe(ID);
        expect((await selectSettings(tx))!.name).toBe('Memo');
        expect((await selectSettings(tx))!.name).toBe('Memo');
      });
    expect(log).toHaveLength(4);
  });

  test('a settings write in the transaction is seen by the read after it', async () => {
    await t.db.withTenant(ID, { requestId: null }, async (tx) => {
      const before = await selectSettings(tx);
      await lockSettings(tx, ID);
      await storeSettings(tx, ID, { widget: { theme: 'dark' } });
      const after = await selectSettings(tx);
      expect(after!.policyVersion).toBe(before!.policyVersion + 1);
      expect(after!.settings).toEqual({ widget: { theme: 'dark' } });
    });
  });

  test('a failed read is not kept, and a forgotten one is read again', async () => {
    await t.db.withTenant(ID, { requestId: null }, async (tx) => {
      let reads = 0;
      const fail = () => oncePerTx(tx, 'k', async () => (reads++, Promise.reject(new Error('no'))));
      await expect(fail()).rejects.toThrow('no');
      await expect(fail()).rejects.toThrow('no');
      expect(reads).toBe(2);
      expect(await oncePerTx(tx, 'k', async () => 1)).toBe(1);
      expect(await oncePerTx(tx, 'k', async () => 2)).toBe(1);
      forgetInTx(tx, 'k');
      expect(await oncePerTx(tx, 'k', async () => 3)).toBe(3);
    });
  });
});
