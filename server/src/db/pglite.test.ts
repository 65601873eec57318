// The embedded database runs in this process, on its event loop: whatever it stalls on, every request waits for.
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { openPglite } from './pglite.js';
import { checkpointPeriodically, checkpointWhenDue } from './pglite-checkpoint.js';

const MB = 1024 * 1024;

describe('the embedded database', () => {
  test.each(['in memory', 'in a folder'])(
    '%s, starts a WAL segment without first writing it full of zeros (wal_init_zero off); a folder, also when opened again',
    async (where) => {
      const dir = where === 'in a folder' ? mkdtempSync(join(tmpdir(), 'parley-wal-')) : null;
      const setting = async () => {
        const db = await openPglite(dir ? join(dir, 'db') : 'memory://');
        try {
          const single = await db.single<{ wal_init_zero: string }>('SHOW wal_init_zero');
          // In the driver's transactions too, which set their role and tenant locally.
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

  describe('checkpoints itself, as it has no checkpointer process', () => {
    let dir: string;
    let pg: PGlite;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-checkpoint-'));
      pg = await PGlite.create(dir);
      await pg.exec('SET wal_init_zero = off; CREATE TABLE filler (id serial PRIMARY KEY, v text)');
    });
    afterEach(async () => {
      await pg.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const segments = () => readdirSync(join(dir, 'pg_wal')).filter((f) => /^[0-9A-F]{24}$/.test(f)).length;
    const sinceCheckpoint = async () =>
      Number(
        (await pg.query<{ n: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn)::text AS n FROM pg_control_checkpoint()')).rows[0]!.n,
      );
    /** About `mb` megabytes of WAL. */
    const write = async (mb: number) => {
      const start = await sinceCheckpoint();
      while ((await sinceCheckpoint()) - start < mb * MB)
        await pg.exec("INSERT INTO filler (v) SELECT repeat('x', 200) FROM generate_series(1, 2000)");
    };

    test('left alone, its WAL files grow with what is written; looked at past the threshold, they stop growing', async () => {
      const first = segments();
      await write(40);
      // The defect this guards against: nothing else checkpoints, so every 16 MB is one more file.
      expect(segments()).toBeGreaterThanOrEqual(first + 2);
      expect(await sinceCheckpoint()).toBeGreaterThanOrEqual(40 * MB);

      expect(await checkpointWhenDue(pg, 16 * MB)).toBe(true);
      expect(await sinceCheckpoint()).toBeLessThan(MB);
      const bounded = segments();
      for (let i = 0; i < 4; i++) {
        await write(20);
        expect(await checkpointWhenDue(pg, 16 * MB)).toBe(true);
      }
      // 80 MB more, and the files recycled rather than added.
      expect(segments()).toBeLessThanOrEqual(bounded + 1);
    });

    test('below the threshold it writes no checkpoint', async () => {
      await write(2);
      const before = await sinceCheckpoint();
      expect(await checkpointWhenDue(pg, 16 * MB)).toBe(false);
      expect(await sinceCheckpoint()).toBeGreaterThanOrEqual(before);
    });

    test('periodically, on its own, until stopped', async () => {
      await write(4);
      const stop = checkpointPeriodically(pg, 20, 2 * MB);
      try {
        await vi.waitFor(async () => expect(await sinceCheckpoint()).toBeLessThan(MB), { timeout: 5000, interval: 20 });
      } finally {
        await stop();
      }
      await write(4);
      await new Promise((r) => setTimeout(r, 100));
      expect(await sinceCheckpoint()).toBeGreaterThanOrEqual(4 * MB);
    });
  });
});
