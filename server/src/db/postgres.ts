// PostgreSQL server through node-postgres. The app pool may log in as parley_app; the owner pool runs
// migrations and the platform path; the optional replica pool serves read-only transactions.
import pg from 'pg';
import { scopeStatement, type Driver, type PoolUse, type Runner, type Scoped } from './driver.js';
import type { QueryResult, Tx } from './types.js';

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// A replica that does not answer must not hold requests up: its reads fall back to the primary.
const REPLICA_CONNECT_TIMEOUT_MS = 2000;

function pool(url: string, extra: pg.PoolConfig = {}): pg.Pool {
  const p = new pg.Pool({ connectionString: url, types, max: 10, idleTimeoutMillis: 10_000, pipeline: true, ...extra });
  // An idle client's error (e.g. server restart) must not crash the process; the pool replaces it.
  p.on('error', () => {});
  return p;
}

// With `onWrite`, whether the transaction wrote (it has an xid), the COMMIT and the WAL position after it
// go in one simple-query message: no extra round trip. A failed COMMIT stops the message there.
const COMMIT_TRACKED = 'SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote; COMMIT; SELECT pg_current_wal_insert_lsn()::text AS lsn';

/** A statement not sent yet: BEGIN and the scope until the first statement, then writes held by Tx.defer. */
interface Held {
  sql: string;
  params?: readonly unknown[] | undefined;
}

type Corkable = { cork(): void; uncork(): void };

// pg-pool's end() leaves callers already queued for a connection waiting forever: a transaction waiting
// when the database closes fails instead, so whoever awaits it (a background job being stopped) goes on.
function txRunner(p: pg.Pool, closed: Promise<never>, always: { readOnly?: boolean } = {}): Runner {
  return async (fn, opts = {}) => {
    const connecting = p.connect();
    const client = await Promise.race([connecting, closed]).catch((err: Error) => {
      // Closed first: a client the pool still hands over must go back, or end() waits for it.
      connecting.then(
        (c) => c.release(),
        () => {},
      );
      throw err;
    });
    // A checked-out client's connection ended by the server (a restart, a failover, a terminated backend)
    // emits 'error', which with no listener would end the process. The transaction fails at its statement
    // (or its next one), and the client is destroyed, not pooled again.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    let held: Held[] = [];
    let begun = false;
    // Once the transaction's function is done, nothing more goes on its connection from here (a statement
    // asked for without being awaited would otherwise run after COMMIT, or on the pool's next transaction).
    let ended = false;
    // The pool's connections are pipelined: a statement goes to the server when asked for, without waiting
    // for the answers before it, and its values always go as parameters. Statements asked for in the same
    // turn of the event loop (independent reads awaited at once, what is held) also leave in one write.
    const stream = (client as unknown as { connection: { stream: Corkable } }).connection.stream;
    let corked = false;
    const send = (sql: string, params?: readonly unknown[]) => {
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(() => {
          corked = false;
          stream.uncork();
        });
      }
      return client.query(sql, params ? [...params] : undefined) as unknown as Promise<pg.QueryResult>;
    };
    // What is held goes first, in the order asked. The server answers in order, and once one fails the rest
    // fail with it, so the first error is the one that counts.
    const run = async (sql: string, params?: readonly unknown[]): Promise<pg.QueryResult> => {
      const before = held.map((h) => send(h.sql, h.params));
      held = [];
      begun = true;
      const running = send(sql, params);
      if (!before.length) return running;
      const results = await Promise.all([...before, running]);
      return results[results.length - 1]!;
    };
    const open = () => {
      if (ended) throw new Error('the transaction is over');
    };
    const tx: Tx = {
      defer(sql, params) {
        open();
        held.push({ sql, params });
      },
      async exec(sql: string) {
        open();
        await run(sql);
      },
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        open();
        const res = await run(sql, params);
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      },
    };
    try {
      // BEGIN and the scope go with the transaction's first statement: a transaction of held writes only is
      // one round trip, COMMIT included. A scope read before the transaction's function runs (`replayed`)
      // is sent at once.
      held.push({ sql: always.readOnly || opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN' });
      const s = opts.scope;
      let scoped: Scoped = {};
      if (s) {
        const scope = scopeStatement(s);
        if (s.replayed) scoped = (await run(scope.sql, scope.params)).rows[0] as Scoped;
        else held.push(scope);
      }
      const result = await fn(tx, scoped);
      ended = true;
      if (opts.onWrite && !always.readOnly) {
        const [wrote, , lsn] = (await run(COMMIT_TRACKED)) as unknown as pg.QueryResult[];
        if (wrote!.rows[0].wrote) opts.onWrite(lsn!.rows[0].lsn);
      } else await run('COMMIT');
      return result;
    } catch (err) {
      // What is still held is never sent: the connection goes back to the pool.
      ended = true;
      held = [];
      if (begun && !broken) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };
}

export async function openPostgres(appUrl: string, ownerUrl: string, readUrl: string | null = null): Promise<Driver> {
  const app = pool(appUrl);
  const owner = ownerUrl === appUrl ? app : pool(ownerUrl);
  const replica = readUrl ? pool(readUrl, { connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS }) : null;
  let close!: (err: Error) => void;
  const closed = new Promise<never>((_, reject) => (close = reject));
  closed.catch(() => {});
  return {
    kind: 'postgres',
    app: txRunner(app, closed),
    owner: txRunner(owner, closed),
    // Like a transaction once the database is closed: the closed error, not the pool's own.
    single: async <R>(sql: string, params?: readonly unknown[]) =>
      (await Promise.race([app.query(sql, params ? [...params] : undefined), closed])).rows as R[],
    pools() {
      const use = (name: PoolUse['pool'], p: pg.Pool): PoolUse => ({ pool: name, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
      return [use('app', app), ...(owner === app ? [] : [use('owner', owner)]), ...(replica ? [use('replica', replica)] : [])];
    },
    // Every transaction on the replica pool is READ ONLY, whatever the caller asks.
    replica: replica ? txRunner(replica, closed, { readOnly: true }) : null,
    async close() {
      close(new Error('the database connection is closed'));
      await app.end();
      if (owner !== app) await owner.end();
      await replica?.end();
    },
  };
}
