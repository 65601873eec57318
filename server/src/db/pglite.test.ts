// The embedded database runs in this process, on its event loop: whatever it stalls on, every request waits for.
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { openDb } from './index.js';
import { openPglite } from './pglite.js';
import { checkpointWhenDue, type UpkeepStep, upkeep, upkeepLooks, vacuumWhereDue, walSinceCheckpoint } from './pglite-upkeep.js';

const MB = 1024 * 1024;
// A table whose ANALYZE fails once `test.fail` is on: ANALYZE evaluates an expression index's function on
// its sample, and this one then raises, quoting the row, as a user-defined function might.
const BRITTLE = `
  CREATE FUNCTION touchy(v text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$
  BEGIN
    IF current_setting('test.fail', true) = 'on' THEN RAISE EXCEPTION 'refused %', v; END IF;
    RETURN v;
  END $$;
  CREATE TABLE brittle (v text); CREATE INDEX ON brittle (touchy(v));
  INSERT INTO brittle SELECT 'secret ' || i FROM generate_series(1, 100) i`;

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
    const sinceCheckpoint = () => walSinceCheckpoint(pg);
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

    test('periodically, on its own, until stopped; vacuuming too', async () => {
      await write(4);
      await pg.exec('DELETE FROM filler');
      const vacuumed = async () =>
        (await pg.query<{ v: boolean }>("SELECT last_vacuum IS NOT NULL AS v FROM pg_stat_user_tables WHERE relname = 'filler'")).rows[0]!.v;
      const { stop } = upkeepLooks(pg, { everyMs: 20, bytes: 2 * MB });
      try {
        await vi.waitFor(async () => expect([(await sinceCheckpoint()) < MB, await vacuumed()]).toEqual([true, true]), {
          timeout: 5000,
          interval: 20,
        });
      } finally {
        await stop();
      }
      await write(4);
      await new Promise((r) => setTimeout(r, 100));
      expect(await sinceCheckpoint()).toBeGreaterThanOrEqual(4 * MB);
    });
  });

  describe('vacuums and analyzes itself where autovacuum would, as it has no autovacuum', () => {
    let pg: PGlite;
    beforeEach(async () => {
      pg = await PGlite.create();
      // A queue, as pending_answers: every row inserted is soon deleted.
      await pg.exec('CREATE TABLE queue (id serial PRIMARY KEY, v text, at timestamptz DEFAULT now()); CREATE INDEX ON queue (at)');
    });
    afterEach(() => pg.close());
    const churn = async () => {
      await pg.exec("INSERT INTO queue (v) SELECT repeat('x', 200) FROM generate_series(1, 1000)");
      await pg.exec('DELETE FROM queue');
    };
    const size = async () => (await pg.query<{ n: number }>("SELECT pg_total_relation_size('queue')::int AS n")).rows[0]!.n;
    const queueSteps = async () => (await vacuumWhereDue(pg)).filter((s) => s.table === 'queue').map((s) => s.step);
    const reltuples = async () => (await pg.query<{ n: number }>("SELECT reltuples AS n FROM pg_class WHERE relname = 'queue'")).rows[0]!.n;

    test('left alone, deleted rows are never reclaimed and the planner has no statistics; vacuumed where due, the table stops growing', async () => {
      await churn();
      const once = await size();
      for (let i = 0; i < 4; i++) await churn();
      // The defect this guards against: five times the rows, five times the space, with none of them live.
      expect(await size()).toBeGreaterThan(4 * once);
      expect(await reltuples()).toBe(-1);

      expect(await queueSteps()).toEqual(['vacuum', 'analyze']);
      expect(await reltuples()).toBe(0);
      const sizes = [];
      for (let i = 0; i < 8; i++) {
        await churn();
        expect(await queueSteps()).toEqual(['vacuum', 'analyze']);
        sizes.push(await size());
      }
      // Eight rounds more, and never more space than one round left alone took; no more after the third.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(once);
      expect(sizes.at(-1)).toBeLessThanOrEqual(sizes[2]!);
    });

    test('the driver does it on its timer, or only when asked', async () => {
      const analyzed = async (db: Awaited<ReturnType<typeof openPglite>>) =>
        (await db.single<{ a: boolean }>("SELECT last_analyze IS NOT NULL AS a FROM pg_stat_user_tables WHERE relname = 'notes'"))[0]!.a;
      const [timed, asked] = await Promise.all([openPglite('memory://', { upkeepEveryMs: 20 }), openPglite('memory://', { upkeepEveryMs: 0 })]);
      try {
        for (const db of [timed, asked])
          await db.owner((tx) => tx.exec("CREATE TABLE notes (v text); INSERT INTO notes SELECT 'x' FROM generate_series(1, 100)"));
        await vi.waitFor(async () => expect(await analyzed(timed)).toBe(true), { timeout: 5000, interval: 20 });
        expect(await analyzed(asked)).toBe(false);
        expect(await asked.upkeep!()).toContainEqual({ step: 'analyze', table: 'notes', ms: expect.any(Number) });
        expect(await analyzed(asked)).toBe(true);
      } finally {
        await Promise.all([timed.close(), asked.close()]);
      }
    });

    test('a step that fails is reported, and the rest of the look goes on: the other tables, then the checkpoint', async () => {
      // A second table is due too, and so is a checkpoint.
      await pg.exec(`${BRITTLE}; INSERT INTO queue (v) SELECT 'x' FROM generate_series(1, 100); SET test.fail = 'on'`);
      await pg.exec("CREATE TABLE filler (v text); INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 3000)");
      const failed: UpkeepStep[] = [];
      const steps = await upkeep(pg, { bytes: MB, onFailure: (s) => failed.push(s) });
      expect(failed).toEqual([{ step: 'analyze', table: 'brittle', ms: expect.any(Number), failed: 'P0001' }]);
      // What it says names the step, the table and the SQLSTATE: never the error's text, which may quote a row.
      expect(JSON.stringify(failed)).not.toContain('secret');
      expect(steps).toContainEqual({ step: 'analyze', table: 'queue', ms: expect.any(Number) });
      expect(steps.at(-1)).toEqual({ step: 'checkpoint', ms: expect.any(Number) });
      expect(await walSinceCheckpoint(pg)).toBeLessThan(MB);
    });

    test('the database opened with a logger warns of a failed step, on its timer, with no row in the warning', async () => {
      const warn = vi.fn();
      const db = await openDb({ url: 'memory://', upkeepEveryMs: 20, logger: { warn, info: () => {} } });
      try {
        // A plain SET outlives its transaction: the embedded database is this process's one session.
        await db.withOwner((tx) => tx.exec(`${BRITTLE}; SET test.fail = 'on'`));
        await vi.waitFor(() => expect(warn).toHaveBeenCalled(), { timeout: 5000, interval: 20 });
        expect(warn.mock.calls[0]![0]).toEqual({ upkeep: { step: 'analyze', table: 'brittle', ms: expect.any(Number), failed: 'P0001' } });
        expect(JSON.stringify(warn.mock.calls)).not.toContain('secret');
      } finally {
        await db.close();
      }
    });

    test('after a restart, which forgets the dead rows counted before it, the first look vacuums every table once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-restart-'));
      const open = () => openPglite(join(dir, 'db'), { upkeepEveryMs: 0 });
      const vacuumed = (steps: UpkeepStep[]) => steps.filter((s) => s.step === 'vacuum').map((s) => s.table);
      try {
        const before = await open();
        await before.owner((tx) => tx.exec("CREATE TABLE q (v text); INSERT INTO q SELECT repeat('x', 200) FROM generate_series(1, 5000)"));
        // Its first look (after the open) vacuums everything; from then on, only what is due.
        expect(vacuumed(await before.upkeep!())).toContain('q');
        const full = (await before.single<{ n: number }>("SELECT pg_relation_size('q')::int AS n"))[0]!.n;
        await before.owner((tx) => tx.exec('DELETE FROM q'));
        await before.close();

        const after = await open();
        try {
          // The defect: 5,000 dead rows, counted as none once reopened.
          const dead = await after.single<{ n: number }>("SELECT n_dead_tup::int AS n FROM pg_stat_user_tables WHERE relname = 'q'");
          expect(dead[0]!.n).toBe(0);
          expect(vacuumed(await after.upkeep!())).toContain('q');
          expect(vacuumed(await after.upkeep!())).not.toContain('q');
          // The space is reused: as many rows again take no more room than the first 5,000 did (left alone, twice).
          await after.owner((tx) => tx.exec("INSERT INTO q SELECT repeat('x', 200) FROM generate_series(1, 5000)"));
          expect((await after.single<{ n: number }>("SELECT pg_relation_size('q')::int AS n"))[0]!.n).toBeLessThanOrEqual(full);
        } finally {
          await after.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a table only added to is analyzed past 50 rows and a tenth of its size, vacuumed past 1,000 and a fifth', async () => {
      const add = (n: number) => pg.exec(`INSERT INTO queue (v) SELECT 'x' FROM generate_series(1, ${n})`);
      await add(40);
      expect(await queueSteps()).toEqual([]);
      await add(20);
      expect(await queueSteps()).toEqual(['analyze']);
      expect(await reltuples()).toBe(60);
      await add(1000);
      expect(await queueSteps()).toEqual(['vacuum', 'analyze']);
      expect(await reltuples()).toBe(1060);
      // Now 50 + 106 rows changed before the next ANALYZE.
      await add(150);
      expect(await queueSteps()).toEqual([]);
      await add(10);
      expect(await queueSteps()).toEqual(['analyze']);
    });
  });
});
