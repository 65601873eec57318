// The embedded database runs in this process, on its event loop: whatever it stalls on, every request waits for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openPglite } from './pglite.js';

describe('the embedded database', () => {
  test.each(['in memory', 'in a folder'])(
    '%s, starts a WAL segment without first writing it full of zeros (wal_init_zero off), and still when opened again',
    async (where) => {
      const dir = where === 'in a folder' ? mkdtempSync(join(tmpdir(), 'parley-wal-')) : null;
      const setting = async () => {
        const db = await openPglite(dir ? join(dir, 'db') : 'memory://');
        try {
          const single = await db.single<{ wal_init_zero: string }>('SHOW wal_init_zero');
          // In a transaction too, where the setting could be another session's or reset.
          const inTx = await db.owner(async (tx) => (await tx.query<{ wal_init_zero: string }>('SHOW wal_init_zero')).rows);
          return [single, inTx];
        } finally {
          await db.close();
        }
      };
      try {
        expect(await setting()).toEqual([[{ wal_init_zero: 'off' }], [{ wal_init_zero: 'off' }]]);
        if (dir) expect(await setting()).toEqual([[{ wal_init_zero: 'off' }], [{ wal_init_zero: 'off' }]]);
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
