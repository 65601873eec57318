// The embedded database's pause when it starts a WAL segment (every 16 MB of WAL: about 2,500 chat turns).
// PGlite runs on the server's event loop, so for that long no request moves. Timed here: the first insert
// after pg_switch_wal(), with PostgreSQL's default (wal_init_zero on: the new segment is first written full
// of zeros) beside the product's setting (off, set by db/pglite.ts), alternating, same run, in memory (as
// the tests and benchmarks run it) and in a data folder (as `npm start` does). Beside them, a plain insert,
// and the pause of the checkpoint db/pglite-upkeep.ts writes once 64 MB of WAL have been written.
// Run: npx tsx --conditions=parley-source bench/pglite-wal.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CHECKPOINT_AFTER_BYTES, checkpointWhenDue, walSinceCheckpoint } from '../server/src/db/pglite-upkeep.js';

const SWITCHES = Number(process.env.BENCH_SWITCHES ?? 12);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number) => `${x.toFixed(1).padStart(6)} ms`;

async function measure(where: 'memory' | 'folder', setting: 'on' | 'off') {
  const dir = where === 'folder' ? mkdtempSync(join(tmpdir(), 'parley-bench-wal-')) : undefined;
  const pg = await PGlite.create(dir);
  try {
    await pg.exec(`SET wal_init_zero = ${setting}; CREATE TABLE t (id serial PRIMARY KEY, v text)`);
    const first: number[] = [];
    for (let i = 0; i < SWITCHES; i++) {
      await pg.exec('SELECT pg_switch_wal()');
      const t0 = performance.now();
      await pg.exec("INSERT INTO t (v) VALUES ('x')");
      first.push(performance.now() - t0);
    }
    const plain: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await pg.exec("INSERT INTO t (v) VALUES ('x')");
      plain.push(performance.now() - t0);
    }
    // Then enough WAL for a checkpoint to be due, and that checkpoint.
    while ((await walSinceCheckpoint(pg)) < CHECKPOINT_AFTER_BYTES)
      await pg.exec("INSERT INTO t (v) SELECT repeat('x', 200) FROM generate_series(1, 5000)");
    const t0 = performance.now();
    if (!(await checkpointWhenDue(pg))) throw new Error('the checkpoint was not due');
    return { first, plain, checkpoint: performance.now() - t0 };
  } finally {
    await pg.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`PGlite: the first insert after a new WAL segment starts (${SWITCHES} segments each), a plain insert, and a checkpoint`);
console.log('where     wal_init_zero          first insert: median      max   plain insert: median   checkpoint after 64 MB of WAL: median');
for (const where of ['memory', 'folder'] as const) {
  const runs: Record<'on' | 'off', { first: number[]; plain: number[]; checkpoint: number[] }> = {
    on: { first: [], plain: [], checkpoint: [] },
    off: { first: [], plain: [], checkpoint: [] },
  };
  // Alternating, so both see the same machine.
  for (let round = 0; round < 2; round++)
    for (const setting of ['on', 'off'] as const) {
      const r = await measure(where, setting);
      runs[setting].first.push(...r.first);
      runs[setting].plain.push(...r.plain);
      runs[setting].checkpoint.push(r.checkpoint);
    }
  for (const setting of ['on', 'off'] as const) {
    const { first, plain, checkpoint } = runs[setting];
    const label = setting === 'on' ? 'on (default)' : 'off (Parley)';
    console.log(
      `${where.padEnd(9)} ${label.padEnd(22)} ${ms(median(first))}  ${ms(Math.max(...first))}   ${ms(median(plain))}              ${ms(median(checkpoint))}`,
    );
  }
}
