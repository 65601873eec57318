// Rate-limit counters shared by instances: hits a second through the PostgreSQL store (one short
// transaction per hit, migration 082) and the Redis store (rate-limit-redis), 8 concurrent callers over
// 1000 keys, each beside its ceiling measured in the same run: an empty transaction through the same
// pool (`SELECT 1`), and a Redis PING through the same client.
// Run: npx tsx --conditions=parley-source bench/rate-limit.ts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { createClient } from 'redis';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { postgresLimitStores, redisLimitStores } from '../server/src/http/limit-store.js';

const PG_ADMIN = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HITS = Number(process.env.HITS ?? 5000);
const CONCURRENCY = 8;

async function rate(total: number, one: (i: number) => unknown): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) await one(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en')}/s`;
const keyOf = (i: number) => `10.0.${(i % 1000) >> 8}.${i % 256}`;

const name = `parley_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
try {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  const db = await openDb({ url: url.toString(), ownerUrl: url.toString() });
  await runMigrations(db);
  const store = postgresLimitStores(db).create('bench');
  store.init?.({ windowMs: 60_000 } as never);
  const ceiling = await rate(HITS, () => db.withoutTenant({ requestId: null }, (tx) => tx.query('SELECT 1')));
  const hits = await rate(HITS, (i) => store.increment(keyOf(i)));
  console.log(`PostgreSQL store: ${fmt(hits)} hits (ceiling, an empty transaction: ${fmt(ceiling)})`);
  await db.close();

  const logger = pino({ level: 'silent' });
  const stores = await redisLimitStores(REDIS_URL, `parley-bench-${randomBytes(4).toString('hex')}:`, logger);
  const redisStore = stores.create('bench');
  await redisStore.init?.({ windowMs: 60_000 } as never);
  const ping = createClient({ url: REDIS_URL });
  await ping.connect();
  const redisCeiling = await rate(HITS, () => ping.ping());
  const redisHits = await rate(HITS, (i) => redisStore.increment(keyOf(i)));
  console.log(`Redis store: ${fmt(redisHits)} hits (ceiling, a PING: ${fmt(redisCeiling)})`);
  await ping.close();
  await stores.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
