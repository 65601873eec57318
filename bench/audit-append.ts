// Audit append throughput: durable (each append its own committed transaction), 1 and 8 concurrent
// writers on one tenant's log, on the embedded database (on disk) and on PostgreSQL when reachable.
// Run: npx tsx --conditions=parley-source bench/audit-append.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { wireRuntime, type Runtime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';
import { verifyLog } from '../server/src/audit/verify.js';

const PG_ADMIN = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ENTRIES = Number(process.env.ENTRIES ?? 2000);

async function writers(rt: Runtime, tenantId: string, concurrency: number, total: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await rt.db.withTenant(tenantId, { requestId: `bench-${i}` }, (tx) =>
          rt.audit.append(tx, {
            tenantId,
            requestId: `bench-${i}`,
            actor: { type: 'system', id: 'bench' },
            action: 'bench.event',
            target: { type: 'thing', id: String(i) },
            metadata: { i },
          }),
        );
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function run(label: string, url: string, ownerUrl: string, cleanup: () => Promise<void>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
    PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
  });
  const db = await openDb({ url, ownerUrl });
  await runMigrations(db);
  const rt = wireRuntime(config, db);
  try {
    const deps = { db, audit: rt.audit, env: config.env };
    const ctx = { requestId: null, actor: { type: 'system' as const, id: 'bench' } };
    const one = (await createTenant(deps, { name: 'one', domains: [] }, ctx)).tenant.id;
    const eight = (await createTenant(deps, { name: 'eight', domains: [] }, ctx)).tenant.id;
    const r1 = await writers(rt, one, 1, ENTRIES);
    const r8 = await writers(rt, eight, 8, ENTRIES);
    const started = performance.now();
    const v = await db.withOwner(async (tx) => {
      await tx.query('SET LOCAL ROLE parley_platform');
      return verifyLog(tx, eight, { anchor: rt.audit.publicKey, checkpointEvery: config.auditCheckpointEvery });
    });
    const verifyRate = v.entries / ((performance.now() - started) / 1000);
    if (!v.ok) throw new Error('verification failed');
    console.log(`${label.padEnd(22)} ${r1.toFixed(0).padStart(8)} ${r8.toFixed(0).padStart(8)} ${verifyRate.toFixed(0).padStart(10)}`);
  } finally {
    await db.close();
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`audit append, durable, ${ENTRIES} entries per run (entries/s); verify = full recomputation from the database`);
console.log(`${'database'.padEnd(22)} ${'1 writer'.padStart(8)} ${'8 writers'.padStart(8)} ${'verify/s'.padStart(10)}`);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-db-'));
await run('PGlite (on disk)', join(dir, 'db'), join(dir, 'db'), async () => rmSync(dir, { recursive: true, force: true }));

const admin = new pg.Client({ connectionString: PG_ADMIN });
try {
  await admin.connect();
  const name = `parley_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  await run('PostgreSQL 127.0.0.1', u.toString(), u.toString(), async () => {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  });
} catch (err) {
  console.log(`PostgreSQL: not measured (${(err as Error).message})`);
} finally {
  await admin.end().catch(() => {});
}
