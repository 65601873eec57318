// Report time over a tenant with CONVERSATIONS conversations (90 days; 30 % handed off with timings, half
// of those rated; 10 % low-confidence questions to group), beside a plain count(*) of the same range's
// conversations in the same tenant transaction, from the same run. A second tenant holds as many rows,
// so row security has something to filter. Median of 5 runs each, after one warm-up.
// Run: npx tsx --conditions=parley-source bench/reports.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations, type Db } from '../server/src/db/index.js';
import { buildReport } from '../server/src/reports/service.js';
import { wireRuntime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';

const PG_ADMIN = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 10_000);
const RUNS = 5;

const QUESTIONS = [
  'How do I reset my password?',
  'Password reset mail never arrived',
  'Can I change my password in the app?',
  'Do you ship to Norway?',
  'Shipping costs to Norway?',
  'Is there a student discount?',
  'Can I pay by invoice?',
  'Do you accept invoices for companies?',
  'Where is my parcel [PHONE_1]?',
  'My parcel has not arrived yet',
];

/** Writes the tenant's rows in its own transaction, set-based. */
async function seed(db: Db, tenantId: string, n: number) {
  const q = `ARRAY[${QUESTIONS.map((s) => `'${s.replaceAll("'", "''")}'`).join(', ')}]`;
  await db.withTenant(tenantId, { requestId: null }, async (tx) => {
    await tx.query(
      `INSERT INTO conversations (id, tenant_id, visitor_id, created_at)
       SELECT gen_random_uuid(), $1, 'v_' || i, now() - (i % 90) * interval '1 day' - (i % 1440) * interval '1 minute'
         FROM generate_series(1, $2) i`,
      [tenantId, n],
    );
    await tx.query(
      `INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text, created_at)
       SELECT gen_random_uuid(), $1, c.id, s.seq, s.role, CASE WHEN s.role = 'visitor' THEN (${q})[1 + (hashtext(c.id::text) & 1023) % ${QUESTIONS.length}] ELSE 'An answer.' END,
              c.created_at + s.seq * interval '1 second'
         FROM conversations c CROSS JOIN (VALUES (1, 'visitor'), (2, 'assistant')) s(seq, role)`,
      [tenantId],
    );
    await tx.query('UPDATE conversations SET last_seq = 2');
    // 30 % handed off: a third of those for low confidence; first reply after 1–10 min, resolution after 10–100 min.
    await tx.query(
      `INSERT INTO handoffs (id, tenant_id, conversation_id, reason, status, created_at, first_response_at, resolved_at, resolutions)
       SELECT gen_random_uuid(), $1, c.id, CASE WHEN k % 3 = 0 THEN 'low_confidence' WHEN k % 3 = 1 THEN 'visitor_request' ELSE 'sensitive_topic' END,
              'resolved', c.created_at + interval '3 seconds', c.created_at + (60 + k % 540) * interval '1 second', c.created_at + (600 + k % 5400) * interval '1 second', 1
         FROM (SELECT id, created_at, abs(hashtext(id::text)) AS k FROM conversations) c WHERE c.k % 10 < 3`,
      [tenantId],
    );
    await tx.query(
      `INSERT INTO csat_responses (tenant_id, id, conversation_id, handoff_id, resolution, score, created_at)
       SELECT $1, gen_random_uuid(), conversation_id, id, 1, 1 + abs(hashtext(id::text)) % 5, resolved_at
         FROM handoffs WHERE abs(hashtext(id::text)) % 2 = 0`,
      [tenantId],
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);

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
    const tenant = (await createTenant(deps, { name: 'measured', domains: [] }, ctx)).tenant.id;
    const other = (await createTenant(deps, { name: 'other', domains: [] }, ctx)).tenant.id;
    await seed(db, tenant, CONVERSATIONS);
    await seed(db, other, CONVERSATIONS);
    for (const days of [30, 90]) {
      const q = { from: day(days - 1), to: day(0), timeZone: 'UTC' };
      let total = 0;
      const report = await time(async () => (total = (await buildReport(db, { tenantId: tenant, requestId: null }, q)).conversations.total));
      const count = await time(() =>
        db.withTenant(tenant, { requestId: null }, (tx) =>
          tx.query(
            `SELECT count(*) FROM conversations WHERE created_at >= ($1::date)::timestamp AT TIME ZONE 'UTC' AND created_at < (($2::date) + 1)::timestamp AT TIME ZONE 'UTC'`,
            [q.from, q.to],
          ),
        ),
      );
      console.log(
        `${label.padEnd(22)} ${`${days} days`.padStart(8)} ${String(total).padStart(8)} ${report.toFixed(1).padStart(10)} ${count.toFixed(1).padStart(10)}`,
      );
    }
  } finally {
    await db.close();
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`reports over ${CONVERSATIONS} conversations in the measured tenant (+ as many in another); median ms of ${RUNS}`);
console.log(`${'database'.padEnd(22)} ${'range'.padStart(8)} ${'convs'.padStart(8)} ${'report ms'.padStart(10)} ${'count(*) ms'.padStart(10)}`);
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
