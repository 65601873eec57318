// Embedded PostgreSQL (PGlite, WASM, in-process). One connection, so transactions are serialised by PGlite.
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { QueryResult, Tx } from './types.js';
import { AFTER_LAST, checkParams, checkReadOnly, LAST_READ_ONLY, scopeStatement, succeeds, type Driver, type Runner, type Scoped } from './driver.js';
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
 * statement: written out with its values as one script, it was parsed and planned on every run.
 */
function wrap(
  q: Pick<Transaction, 'exec'>,
  statements: PreparedStatements,
  readOnly: boolean,
): { tx: Tx; flush: () => Promise<void>; last: () => Promise<unknown> | null } {
  const held: { sql: string; params: readonly unknown[] }[] = [];
  const flush = async () => {
    for (let next = held.shift(); next; next = held.shift()) await statements.run(next.sql, next.params);
  };
  // Tx.last's statement, once asked for.
  let last: Promise<QueryResult<unknown>> | null = null;
  const open = () => {
    if (last) throw new Error(AFTER_LAST);
  };
  const tx: Tx = {
    last<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      open();
      if (readOnly) return Promise.reject(new TypeError(LAST_READ_ONLY));
      last = (async () => {
        await flush();
        const res = await statements.run<R>(sql, params);
        return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
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
      await q.exec(sql);
    },
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      open();
      if (readOnly) checkReadOnly(sql);
      await flush();
      const res = await statements.run<R>(sql, params);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    },
  };
  return { tx, flush, last: () => last };
}

/** `from`: a data-folder dump (`Driver.dump`) an in-memory database starts from instead of an empty one. */
export async function openPglite(location: string, from?: Blob): Promise<Driver> {
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
  } catch (err) {
    release();
    throw err;
  }
  const statements = new PreparedStatements(pg);
  // One in-process database: no replica, so no WAL positions to track (`onWrite` is never called).
  // In process, a statement costs no round trip: the scope is set with placeholders, on its own.
  const tx: Runner = async (fn, opts = {}) => {
    const ran = await pg.transaction(async (t) => {
      if (opts.readOnly) await t.exec('SET TRANSACTION READ ONLY');
      const s = opts.scope;
      const scope = s && scopeStatement(s);
      const scoped = scope ? (await statements.run<Scoped>(scope.sql, scope.params)).rows[0]! : {};
      const { tx: wrapped, flush, last } = wrap(t, statements, !!opts.readOnly);
      try {
        const result = await fn(wrapped, scoped);
        await last();
        await flush();
        return { result };
      } catch (err) {
        // Once its last statement has succeeded, the transaction commits, as on PostgreSQL (where the COMMIT
        // went with it); the error still goes to the caller.
        const committing = last();
        if (!committing || !(await succeeds(committing))) throw err;
        return { failed: err };
      }
    });
    if ('failed' in ran) throw ran.failed;
    return ran.result;
  };
  return {
    kind: 'pglite',
    app: tx,
    owner: tx,
    single: async <R>(sql: string, params?: readonly unknown[]) => (await pg.query<R>(sql, params ? [...params] : undefined)).rows,
    replica: null,
    dump: () => pg.dumpDataDir('none'),
    listen: (channel, heard) => pg.listen(channel, heard),
    async close() {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
}
