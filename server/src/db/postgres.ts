// PostgreSQL server through node-postgres. The app pool may log in as parley_app; the owner pool runs
// migrations and the platform path.
import pg from 'pg';
import type { Driver, PoolUse } from './driver.js';
import type { QueryResult, Tx } from './types.js';

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function pool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, types, max: 10, idleTimeoutMillis: 10_000 });
  // An idle client's error (e.g. server restart) must not crash the process; the pool replaces it.
  p.on('error', () => {});
  return p;
}

function txRunner(p: pg.Pool) {
  return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const client = await p.connect();
    const tx: Tx = {
      async exec(sql: string) {
        await client.query(sql);
      },
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        const res = await client.query(sql, params ? [...params] : undefined);
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      },
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
}

export async function openPostgres(appUrl: string, ownerUrl: string): Promise<Driver> {
  const app = pool(appUrl);
  const owner = ownerUrl === appUrl ? app : pool(ownerUrl);
  return {
    kind: 'postgres',
    app: txRunner(app),
    owner: txRunner(owner),
    pools() {
      const use = (name: PoolUse['pool'], p: pg.Pool): PoolUse => ({ pool: name, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
      return owner === app ? [use('app', app)] : [use('app', app), use('owner', owner)];
    },
    async close() {
      await app.end();
      if (owner !== app) await owner.end();
    },
  };
}
