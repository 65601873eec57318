// Embedded PostgreSQL (PGlite, WASM, in-process). One connection, so transactions are serialised by PGlite.
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { QueryResult, Tx } from './types.js';
import {
  AFTER_LAST,
  checkParams,
  checkReadOnly,
  LAST_READ_ONLY,
  scopeStatement,
  succeeds,
  TX_OVER,
  type Driver,
  type Runner,
  type Scoped,
} from './driver.js';
import { type UpkeepFailure, upkeepLooks } from './pglite-upkeep.js';
import { PreparedStatements } from './pglite-statements.js';

const INT8 = 20;

export class EmbeddedDbLockedError extends Error {
  constructor(
    dir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database at ${dir} is in use by another Parley process (pid ${pid}), ` +
        'most likely `parley serve`. It is single-process: stop that process first, ' +
        'or point both at a PostgreSQL server with DATABASE_URL.',
    );
    this.name = 'EmbeddedDbLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exclusive lock file beside the data folder, so a second process fails fast instead of corrupting it. */
function acquireLock(dir: string): () => void {
  const file = join(dirname(dir), `${dir.split('/').pop()}.lock`);
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && alive(pid)) throw new EmbeddedDbLockedError(dir, pid);
      rmSync(file, { force: true }); // stale lock from a process that died
    }
  }
  throw new Error(`could not lock the embedded database at ${dir}`);
}

/**
 * The transaction's Tx, and a flush of its held writes (Tx.defer) for the end of its function. In process,
 * holding a write saves no round trip, so each runs as a prepared statement, in order, before the next
 * statement: written out with its values as one script, it was parsed and planned on every run. The
 * transaction itself is opened (`begin`) by the first statement that runs.
 */
function wrap(
  begin: () => Promise<Pick<Transaction, 'exec'>>,
  statements: PreparedStatements,
  readOnly: boolean,
  over: () => boolean,
): { tx: Tx; flush: () => Promise<void>; last: () => Promise<unknown> | null } {
  const held: { sql: string; params: readonly unknown[] }[] = [];
  const run = async <R>(sql: string, params?: readonly unknown[]) => {
    await begin();
    const res = await statements.run<R>(sql, params, over);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  };
  const flush = async () => {
    for (let next = held.shift(); next; next = held.shift()) await run(next.sql, next.params);
  };
  // Tx.last's statement, once asked for.
  let last: Promise<QueryResult<unknown>> | null = null;
  const open = () => {
    if (last) throw new Error(AFTER_LAST);
    if (over()) throw new Error(TX_OVER);
  };
  const tx: Tx = {
    last<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      open();
      if (readOnly) return Promise.reject(new TypeError(LAST_READ_ONLY));
      last = (async () => {
        await flush();
        return run<R>(sql, params);
      })();
      return last as Promise<QueryResult<R>>;
    },
    defer(sql, params = []) {
      open();
      // Refused when asked, rather than with the next statement, as on PostgreSQL.
      if (readOnly) checkReadOnly(sql);
      checkParams(sql, params);
      held.push({ sql, params });
    },
    async exec(sql: string) {
      open();
      if (readOnly) checkReadOnly(sql);
      await flush();
      await (await begin()).exec(sql);
    },
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      open();
      if (readOnly) checkReadOnly(sql);
      await flush();
      return run<R>(sql, params);
    },
  };
  return { tx, flush, last: () => last };
}

/**
 * `from`: a data-folder dump (`Driver.dump`) an in-memory database starts from instead of an empty one.
 * `upkeepEveryMs`: how often its upkeep looks (pglite-upkeep.ts; every minute unless given); 0: only when asked (`Driver.upkeep`).
 * `onUpkeepFailure`: told of each upkeep step that failed (the rest of the look goes on).
 */
export async function openPglite(
  location: string,
  {
    from,
    upkeepEveryMs,
    onUpkeepFailure,
  }: { from?: Blob | undefined; upkeepEveryMs?: number | undefined; onUpkeepFailure?: UpkeepFailure | undefined } = {},
): Promise<Driver> {
  const memory = location === 'memory://';
  if (from && !memory) throw new TypeError('only an in-memory embedded database starts from a dump');
  const release = memory ? () => {} : acquireLock(location);
  let pg: PGlite;
  try {
    if (!memory) mkdirSync(location, { recursive: true });
    // pgvector ships as a separate bundle pinned to this PGlite version; it is always loaded, so a data
    // folder whose schema uses it opens again.
    pg = await PGlite.create(memory ? undefined : location, {
      parsers: { [INT8]: (v: string) => Number(v) },
      extensions: { vector },
      ...(from ? { loadDataDir: from } : {}),
    });
    // Every 16 MB of WAL starts a segment, which PostgreSQL first writes full of zeros to reserve its space.
    // Here that blocks the event loop, so every request, for 30-250 ms (bench/pglite-wal.ts); writing only
    // its last byte, as on copy-on-write file systems, costs a few. What is written to it after is the same.
    // A session setting: this process is the database's one session.
    await pg.exec('SET wal_init_zero = off');
  } catch (err) {
    release();
    throw err;
  }
  const looks = upkeepLooks(pg, { everyMs: upkeepEveryMs, onFailure: onUpkeepFailure });
  const statements = new PreparedStatements(pg);
  // One in-process database: no replica, so no WAL positions to track (`onWrite` is never called).
  // In process, a statement costs no round trip: the scope is set with placeholders, on its own.
  const tx: Runner = async (fn, opts = {}) => {
    // The transaction (BEGIN, its scope, COMMIT: five calls into the database) opens with the first statement
    // the function asks for, as on PostgreSQL: one that asks nothing (its reads carried in) costs nothing.
    let opened: Promise<{ t: Transaction; scoped: Scoped }> | null = null;
    // Set as the function's end ends the transaction: a statement still on its way (asked for without being
    // awaited, beside one that failed) is refused, not run after the ROLLBACK, outside any transaction.
    let over = false;
    let ended: Promise<unknown> = Promise.resolve();
    let end!: (failed: { err: unknown } | null) => void;
    const ending = new Promise<{ err: unknown } | null>((resolve) => (end = resolve));
    const open = () =>
      (opened ??= new Promise((resolve, reject) => {
        ended = pg.transaction(async (t) => {
          if (opts.readOnly) await t.exec('SET TRANSACTION READ ONLY');
          const scope = opts.scope && scopeStatement(opts.scope);
          resolve({ t, scoped: scope ? (await statements.run<Scoped>(scope.sql, scope.params)).rows[0]! : {} });
          // Rolled back when the function failed (thrown here), else committed.
          const failed = await ending;
          if (failed) throw failed.err;
        });
        ended.catch(reject);
      }));
    const begin = async () => (await open()).t;
    const { tx: wrapped, flush, last } = wrap(begin, statements, !!opts.readOnly, () => over);
    let result: Awaited<ReturnType<typeof fn>> | undefined;
    let thrown: { err: unknown } | null = null;
    try {
      // What the scope reads is asked for before the function runs (a replica's replay position): only then
      // does the transaction open first.
      result = await fn(wrapped, opts.scope?.replayed ? (await open()).scoped : {});
      await last();
      await flush();
    } catch (err) {
      thrown = { err };
    }
    // Once its last statement has succeeded, the transaction commits, as on PostgreSQL (where the COMMIT
    // went with it); an error thrown after it still goes to the caller.
    const committing = last();
    const rollback = thrown && !(committing && (await succeeds(committing)));
    over = true;
    end(rollback ? thrown : null);
    await ended.catch((err: unknown) => {
      if (!rollback) throw err;
    });
    if (thrown) throw thrown.err;
    return result as Awaited<ReturnType<typeof fn>>;
  };
  return {
    kind: 'pglite',
    app: tx,
    owner: tx,
    single: async <R>(sql: string, params?: readonly unknown[]) => (await pg.query<R>(sql, params ? [...params] : undefined)).rows,
    replica: null,
    dump: () => pg.dumpDataDir('none'),
    upkeep: () => looks.look(),
    listen: (channel, heard) => pg.listen(channel, heard),
    async close() {
      try {
        await looks.stop();
        await pg.close();
      } finally {
        release();
      }
    },
  };
}
