// PostgreSQL server through node-postgres, on pipelined connections. The app pool may log in as
// parley_app; the owner pool runs migrations and the platform path; the optional replica pool serves
// read-only transactions.
import pg from 'pg';
import {
  AFTER_LAST,
  checkParams,
  checkReadOnly,
  LAST_READ_ONLY,
  scopeStatement,
  succeeds,
  TX_OVER,
  type Driver,
  type PoolUse,
  type Runner,
  type Scoped,
} from './driver.js';
import { StatementNames } from './statement-names.js';
import type { QueryResult, Tx } from './types.js';

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// A replica that does not answer must not hold requests up: its reads fall back to the primary.
const REPLICA_CONNECT_TIMEOUT_MS = 2000;

function pool(url: string, extra: pg.PoolConfig = {}): pg.Pool {
  const p = new pg.Pool({ connectionString: url, types, max: 10, idleTimeoutMillis: 10_000, pipeline: true, ...extra } as pg.PoolConfig);
  // An idle client's error (e.g. server restart) must not crash the process; the pool replaces it.
  p.on('error', () => {});
  return p;
}

// With `onWrite`, whether the transaction wrote (it has an xid), the COMMIT and the WAL position after it
// go in one simple-query message: no extra round trip. A failed COMMIT stops the message there.
const COMMIT_TRACKED = 'SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote; COMMIT; SELECT pg_current_wal_insert_lsn()::text AS lsn';

/**
 * Sends what `send` queries in one write: on a pipelined connection each query goes out as it is asked
 * for, so the socket is corked until they all are.
 */
function pipelined(client: pg.PoolClient, send: () => void): void {
  const stream = (client as unknown as { connection: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } } }).connection.stream;
  stream.cork();
  try {
    send();
  } finally {
    stream.uncork();
  }
}

/** A statement to send (prepared or not: see `run`). */
interface Statement {
  sql: string;
  params?: readonly unknown[];
}

/** A statement waiting to go in one write with others. */
interface Batched extends Statement {
  resolve: (res: pg.QueryResult) => void;
  reject: (err: unknown) => void;
}

/**
 * `p`'s result once the statements sent before it have answered; the first of their errors if one
 * failed (a held write's, not the "transaction is aborted" the statements behind it then get).
 */
const after = (before: readonly Promise<unknown>[], p: Promise<pg.QueryResult>): Promise<pg.QueryResult> =>
  before.length ? Promise.all([...before, p]).then(() => p) : p;

// How many microtasks a batch waits for more statements: enough for a caller's few awaits of values
// already at hand (a memoised read) before its statement, and no event-loop turn.
const BATCH_TICKS = 8;
const afterTicks = async (n: number) => {
  for (let i = 0; i < n; i++) await undefined;
};

/**
 * Runs a statement prepared under its name (statement-names.ts): one with parameters, or a read without
 * (a SELECT or WITH of one statement). Anything else (BEGIN, COMMIT, a script of several statements, which
 * a prepared statement may not hold) goes as a simple query.
 */
function run(on: pg.Pool | pg.PoolClient, names: StatementNames, sql: string, params: readonly unknown[] | undefined): Promise<pg.QueryResult> {
  const values = params ?? [];
  if (!values.length && (sql.includes(';') || !READ.test(sql))) return on.query(sql);
  const name = names.of(sql);
  if (!name && !values.length) return on.query(sql);
  return on.query({ text: sql, values: [...values], ...(name ? { name } : {}) }).catch((err: unknown) => {
    names.failed(err);
    throw err;
  });
}
const READ = /^\s*(?:SELECT|WITH)\b/i;

// pg-pool's end() leaves callers already queued for a connection waiting forever: a transaction waiting
// when the database closes fails instead, so whoever awaits it (a background job being stopped) goes on.
function txRunner(p: pg.Pool, names: StatementNames, closed: Promise<never>, always: { readOnly?: boolean } = {}): Runner {
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
    // Statements not sent yet: held writes (Tx.defer) and, until the first statement, BEGIN and the scope.
    let held: Statement[] = [];
    let begun = false;
    const readOnly = always.readOnly || opts.readOnly;
    const begin = readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
    const s = opts.scope;
    // BEGIN, then the scope: a statement of its own, prepared (a simple query is parsed and planned by the
    // server on every transaction), that goes with the transaction's first statement.
    const opening: Statement[] = [{ sql: begin }, ...(s ? [scopeStatement(s)] : [])];
    // A read-only transaction commits with each write it sends, and begins again with the next: under Read
    // Committed every statement takes its own snapshot anyway, so nothing a read sees changes, and the
    // COMMIT costs no round trip of its own. Awaited before the connection goes back.
    let committed: Promise<unknown> = Promise.resolve();
    const reopening: Statement[] = s?.replayed ? [{ sql: begin }, scopeStatement({ ...s, replayed: false })] : opening;
    // What is held, then `more`, in one write (the connection is pipelined: nothing waits for an answer
    // before the next statement goes); their results in order.
    const send = (more: Statement[]): Promise<pg.QueryResult>[] => {
      const all = [...held, ...more];
      held = [];
      begun = true;
      const sent: Promise<pg.QueryResult>[] = [];
      pipelined(client, () => {
        for (const st of all) sent.push(run(client, names, st.sql, st.params));
        if (readOnly && all.at(-1)?.sql !== 'COMMIT') committed = client.query('COMMIT');
      });
      if (readOnly) {
        committed.catch((err: Error) => (broken ??= err));
        begun = false;
        held = [...reopening];
      }
      return sent;
    };
    // Statements asked for together (independent reads awaited at once) wait for the ones asked in the
    // same few microtasks, then go in one write with what is held: one round trip.
    let batch: Batched[] = [];
    // Once the transaction's function is done, nothing more goes on its connection from here (a statement
    // asked for without being awaited would otherwise run after COMMIT, or on the pool's next transaction).
    let ended = false;
    // Set by Tx.last: its statement's result, and the COMMIT that went with it.
    let finishing = null as { last: Promise<pg.QueryResult>; commit: Promise<unknown> } | null;
    const open = () => {
      if (finishing) throw new Error(AFTER_LAST);
      if (ended) throw new Error(TX_OVER);
    };
    const commitStatement = opts.onWrite && !always.readOnly ? COMMIT_TRACKED : 'COMMIT';
    /** Runs `onWrite` with what COMMIT_TRACKED read. */
    const committedAs = (res: unknown) => {
      if (!Array.isArray(res)) return;
      const [wrote, , lsn] = res as pg.QueryResult[];
      if (wrote!.rows[0].wrote) opts.onWrite?.(lsn!.rows[0].lsn);
    };
    /**
     * Sends what is held, the statements waiting in the batch, then `more`, all in one write: their results
     * in order. (The batch used to go in a write of its own just before, so the lock and the statement
     * storing a turn's answer, asked together, left in two writes, not the one turn.ts counts on.)
     */
    const sendAll = (more: Statement[]): Promise<pg.QueryResult>[] => {
      const items = ended ? [] : batch;
      batch = [];
      const sent = send([...items, ...more]);
      const before = sent.slice(0, sent.length - more.length - items.length);
      items.forEach((item, k) => after(before, sent[before.length + k]!).then(item.resolve, item.reject));
      return sent;
    };
    const flush = () => {
      if (batch.length && !ended) sendAll([]);
      else batch = [];
    };
    /** Sends what is held, any batch and `st`, and waits for `st`. */
    const now = (st: Statement) => {
      const sent = sendAll([st]);
      return after(sent.slice(0, -1), sent[sent.length - 1]!);
    };
    const tx: Tx = {
      async last<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        open();
        if (readOnly) throw new TypeError(LAST_READ_ONLY);
        const sent = sendAll([{ sql, params }, { sql: commitStatement }]);
        const last = after(sent.slice(0, -2), sent.at(-2)!);
        finishing = { last, commit: sent.at(-1)! };
        // Awaited at the end (or in the catch below): never an unhandled rejection meanwhile.
        finishing.commit.catch(() => {});
        last.catch(() => {});
        const res = await last;
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      },
      defer(sql, params) {
        open();
        if (readOnly) checkReadOnly(sql);
        flush();
        // Checked now, so a bad value fails where it was asked for (as on the embedded database), not at the next statement.
        checkParams(sql, params);
        held.push({ sql, params });
      },
      async exec(sql: string) {
        open();
        if (readOnly) checkReadOnly(sql);
        await now({ sql });
      },
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        open();
        if (readOnly) checkReadOnly(sql);
        // A text of several statements (no parameters) goes on its own; any other joins the batch.
        const res =
          !params?.length && sql.includes(';')
            ? await now({ sql })
            : await new Promise<pg.QueryResult>((resolve, reject) => {
                if (!batch.length) void afterTicks(BATCH_TICKS).then(flush);
                batch.push({ sql, params, resolve, reject });
              });
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      },
    };
    try {
      // BEGIN and the scope go with the transaction's first statement, in one write: a transaction of held
      // writes only is one round trip, COMMIT included. A scope read before the transaction's function runs
      // (`replayed`) is sent at once.
      let scoped: Scoped = {};
      if (s?.replayed) {
        begun = true;
        const sent: Promise<pg.QueryResult>[] = [];
        pipelined(client, () => {
          for (const st of opening) sent.push(run(client, names, st.sql, st.params));
        });
        scoped = (await after(sent.slice(0, -1), sent.at(-1)!)).rows[0] as Scoped;
      } else held.push(...opening);
      const result = await fn(tx, scoped);
      if (finishing) {
        ended = true;
        // The COMMIT went with the last statement: if that failed (or a statement before it did, which it
        // then did too), the transaction rolled back, and its error is the transaction's.
        await finishing.last;
        committedAs(await finishing.commit);
        return result;
      }
      flush();
      ended = true;
      // Nothing asked of the server (every read was carried in, or a read-only transaction committed with
      // its last write): no BEGIN is open, so no COMMIT either.
      if (!begun && held.length === opening.length) {
        await committed;
        return result;
      }
      committedAs(await now({ sql: commitStatement }));
      return result;
    } catch (err) {
      // A statement still waiting for its batch is never sent: the connection goes back to the pool.
      ended = true;
      for (const item of batch.splice(0)) item.reject(err);
      await committed.catch(() => {});
      // A COMMIT that went with the last statement ended the transaction (committed, or rolled back if that
      // failed): nothing is left to roll back.
      if (finishing && (await succeeds(finishing.commit.then(committedAs)))) throw err;
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
  const names = new StatementNames();
  return {
    kind: 'postgres',
    app: txRunner(app, names, closed),
    owner: txRunner(owner, names, closed),
    // Like a transaction once the database is closed: the closed error, not the pool's own.
    single: async <R>(sql: string, params?: readonly unknown[]) => (await Promise.race([run(app, names, sql, params), closed])).rows as R[],
    pools() {
      const use = (name: PoolUse['pool'], p: pg.Pool): PoolUse => ({ pool: name, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
      return [use('app', app), ...(owner === app ? [] : [use('owner', owner)]), ...(replica ? [use('replica', replica)] : [])];
    },
    // Every transaction on the replica pool is READ ONLY, whatever the caller asks.
    replica: replica ? txRunner(replica, names, closed, { readOnly: true }) : null,
    async close() {
      close(new Error('the database connection is closed'));
      await app.end();
      if (owner !== app) await owner.end();
      await replica?.end();
    },
  };
}
