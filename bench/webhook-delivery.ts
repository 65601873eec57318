// Webhook delivery: sustained deliveries/s from the outbox to a local receiver, and the delay from the
// commit that enqueued an event to its arrival (p50/p99), on the embedded database (on disk) and on
// PostgreSQL when reachable. The ceiling beside them is the same receiver driven by a plain keep-alive
// HTTP client with the same concurrency and body: what the receiver and this machine allow at all.
// Run: npx tsx --conditions=parley-source bench/webhook-delivery.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../server/src/outbound/outbound.js';
import { wireRuntime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';
import { enqueueWebhook } from '../server/src/webhooks/outbox.js';
import { createEndpoint } from '../server/src/webhooks/service.js';
import { WebhookWorker } from '../server/src/webhooks/worker.js';

const PG_ADMIN = process.env.PARLEY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.EVENTS ?? 2000);
const LATENCY_EVENTS = Number(process.env.LATENCY_EVENTS ?? 300);
const CONCURRENCY = 16;

/** A receiver that answers 204 and notes when each webhook-id arrived. */
async function receiver() {
  const arrived = new Map<string, number>();
  let waiting: { n: number; resolve: () => void } | null = null;
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrived.has(id)) arrived.set(id, performance.now());
      res.writeHead(204).end();
      if (waiting && arrived.size >= waiting.n) waiting.resolve();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    arrived,
    until: (n: number) => (arrived.size >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }))),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The ceiling: the receiver's requests/s from a plain keep-alive client, same concurrency and body size. */
async function ceiling(url: string, body: string, total: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++;
        await new Promise<void>((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': `c${i}` } }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(body);
        });
      }
    }),
  );
  agent.destroy();
  return total / ((performance.now() - started) / 1000);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function run(label: string, url: string, cleanup: () => Promise<void>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
    PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
  });
  const db = await openDb({ url, ownerUrl: url });
  await runMigrations(db);
  const rt = wireRuntime(config, db);
  const rx = await receiver();
  const outbound = new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) });
  const logger = pino({ level: 'silent' });
  const worker = new WebhookWorker({
    db,
    keyring: rt.keyring,
    outbound,
    audit: rt.audit,
    mailer: { delivery: 'log', send: async () => {} },
    logger,
    holder: 'bench',
    schedule: config.webhookRetrySchedule,
    concurrency: CONCURRENCY,
  });
  try {
    const ctx = { requestId: null, actor: { type: 'system' as const, id: 'bench' } };
    const tenantId = (await createTenant({ db, audit: rt.audit, env: config.env }, { name: 'bench', domains: [] }, ctx)).tenant.id;
    await createEndpoint({ db, audit: rt.audit, keyring: rt.keyring, outbound }, { ...ctx, tenantId }, { url: rx.url, events: ['key.created'] });
    const data = (i: number) => ({
      apiKey: {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        name: `key ${i}`,
        prefix: 'sk_test_abcd',
        capabilities: ['domains:read'],
      },
    });
    const enqueue = (i: number) => db.withTenant(tenantId, { requestId: null }, (tx) => enqueueWebhook(tx, tenantId, 'key.created', data(i)));

    // Throughput: a backlog of EVENTS committed events, drained by one instance's worker.
    for (let i = 0; i < EVENTS; i += 100) {
      await db.withTenant(tenantId, { requestId: null }, async (tx) => {
        for (let j = i; j < Math.min(EVENTS, i + 100); j++) await enqueueWebhook(tx, tenantId, 'key.created', data(j));
      });
    }
    const started = performance.now();
    await worker.drain();
    await rx.until(EVENTS);
    const perSecond = EVENTS / ((performance.now() - started) / 1000);

    // Delay: events committed one at a time, ~50/s, each timed from its commit to its arrival.
    await worker.start();
    const committed = new Map<string, number>();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const id = (await enqueue(EVENTS + i))!;
      committed.set(id, performance.now());
      await new Promise((r) => setTimeout(r, 20));
    }
    await rx.until(EVENTS + LATENCY_EVENTS);
    const delays = [...committed].map(([id, at]) => rx.arrived.get(id)! - at).sort((x, y) => x - y);

    const body = JSON.stringify({ id: 'msg_x', type: 'key.created', createdAt: new Date().toISOString(), tenantId, data: data(0) });
    const limit = await ceiling(rx.url, body, EVENTS);
    console.log(
      `${label.padEnd(22)} ${perSecond.toFixed(0).padStart(13)} ${limit.toFixed(0).padStart(12)} ${pct(delays, 50).toFixed(1).padStart(9)} ${pct(delays, 99).toFixed(1).padStart(9)}`,
    );
  } finally {
    await worker.stop();
    await rx.close();
    await db.close();
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(
  `webhook delivery: ${EVENTS} backlogged events drained by one instance (${CONCURRENCY} in flight), then ${LATENCY_EVENTS} events committed one by one`,
);
console.log(`${'database'.padEnd(22)} ${'deliveries/s'.padStart(13)} ${'ceiling rq/s'.padStart(12)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-db-'));
await run('PGlite (on disk)', join(dir, 'db'), async () => rmSync(dir, { recursive: true, force: true }));

const admin = new pg.Client({ connectionString: PG_ADMIN });
try {
  await admin.connect();
  const name = `parley_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  await run('PostgreSQL 127.0.0.1', u.toString(), async () => {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  });
} catch (err) {
  console.log(`PostgreSQL: not measured (${(err as Error).message})`);
} finally {
  await admin.end().catch(() => {});
}
