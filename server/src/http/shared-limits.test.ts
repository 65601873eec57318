// Limits hold across instances: two apps over one database count in one window, whether the counters
// live in PostgreSQL or in Redis, and a tenant's AI budget is one budget however many instances serve it.
import { randomBytes } from 'node:crypto';
import { simulateReadableStream } from 'ai';
import type { Options } from 'express-rate-limit';
import { MockLanguageModelV3 } from 'ai/test';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { openDb } from '../db/index.js';
import { HitBatcher, windowKey } from '../db/rate-windows.js';
import { createTestDb, holdOpen, serverUrl, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import { PostgresLimitStore, postgresLimitStores, redisLimitStores, UNAWAITED } from './limit-store.js';

const usage = { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };
const model = new MockLanguageModelV3({
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: 'text-start' as const, id: 't' },
        { type: 'text-delta' as const, id: 't', delta: 'Within 5 business days [1].' },
        { type: 'text-end' as const, id: 't' },
        { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
      ],
    }),
  }),
  doGenerate: async () => ({
    content: [{ type: 'text' as const, text: '0.9' }],
    finishReason: { unified: 'stop' as const, raw: 'stop' },
    usage,
    warnings: [],
  }),
});

const REDIS_URL = 'redis://127.0.0.1:6379';
const LIMITS = { PARLEY_RATE_LIMIT_PER_MINUTE: '3', PARLEY_WIDGET_SESSION_RATE_LIMIT: '4', PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000' };
const statuses = async (reqs: (() => Promise<{ status: number }>)[]) => {
  const out: number[] = [];
  for (const r of reqs) out.push((await r()).status);
  return out;
};

/** One visitor session, used through instance A and instance B. */
async function startVisitor(a: TestApp, b: TestApp, name: string) {
  const domain = `${name.toLowerCase().replace(/\W/g, '')}.example`;
  const tenant = await a.tenant(name, [domain]);
  const onA = new Visitor(a.url, tenant.publishableKey, `https://${domain}`);
  expect((await onA.start()).status).toBe(200);
  const onB = new Visitor(b.url, tenant.publishableKey, `https://${domain}`);
  onB.token = onA.token;
  return { onA, onB };
}

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db.close());

describe('counters in PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;
  let visitor: { onA: Visitor; onB: Visitor };
  beforeAll(async () => {
    // The PostgreSQL store named explicitly, so it is exercised on the embedded database too (which
    // alone would keep counters in memory: it is one process).
    a = await startTestApp(LIMITS, { shareDb: db, limits: postgresLimitStores(db.db), modelFor: () => model });
    b = await startTestApp(LIMITS, { instanceOf: a, limits: postgresLimitStores(db.db), modelFor: () => model });
    visitor = await startVisitor(a, b, 'Across');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  test('the per-address limit counts across two instances', async () => {
    // The visitor's config load (beforeAll, on A) was this address's first request.
    const res = await statuses([b, a, b].map((t) => () => call(t.url, 'GET', '/v1/openapi.json')));
    expect(res).toEqual([200, 200, 429]);
    const refused = await call(a.url, 'GET', '/v1/openapi.json');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toMatch(/^limit=3, remaining=0, reset=\d+$/);
    // No address is stored: keys are hashes.
    const { rows } = await db.db.withOwner((tx) => tx.query<{ key: Buffer }>('SELECT key FROM rate_limit_windows'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.key.toString('latin1')).not.toContain('127.0.0.1');
  });

  test("a visitor session's limit counts across two instances", async () => {
    const { onA, onB } = visitor;
    const out = await statuses([onA, onB, onA, onB, onA].map((x) => () => x.call('POST', '/conversations', {})));
    expect(out).toEqual([201, 201, 201, 201, 429]);
  });

  test('hits asked for together go to the database in one statement, each counted exactly, the same key twice included', async () => {
    const key = (n: number) => Buffer.alloc(32, n);
    const [x, y] = [key(201), key(202)];
    // Asked in one turn of the event loop, in no particular key order, one key three times.
    let statements = 0;
    const batcher = new HitBatcher(async <R>(sql: string, params: readonly unknown[]) => {
      statements++;
      return (await db.db.withOwner((tx) => tx.query<R>(sql, params))).rows;
    });
    const counts = await Promise.all([y, x, y, x, x].map((k) => batcher.count(k, 60_000)));
    expect(statements).toBe(1);
    const ofX = [counts[1]!, counts[3]!, counts[4]!].map((c) => c.hits).sort();
    const ofY = [counts[0]!, counts[2]!].map((c) => c.hits).sort();
    expect({ ofX, ofY }).toEqual({ ofX: [1, 2, 3], ofY: [1, 2] });
    for (const c of counts) expect(c.resetInSeconds).toBeGreaterThanOrEqual(1);
    // Batches of two instances at once over the same keys: every hit counted once. (They cannot deadlock,
    // as keys are locked in byte order; this race is too short to show that it would without.)
    const app = db.url ? Object.assign(new URL(db.url), { username: 'parley_app' }).toString() : null;
    const other = app ? await openDb({ url: app, ownerUrl: db.url! }) : db.db;
    try {
      const racing = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 3 ? other : db.db).countHit(key(203 + (i % 5)), 60_000).then((c) => c.hits)),
      );
      for (let k = 0; k < 5; k++) {
        const hits = racing.filter((_, i) => i % 5 === k).sort((p, q) => p - q);
        expect(hits).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    } finally {
      if (other !== db.db) await other.close();
    }
  });

  test("a tenant's AI budget holds across two instances", async () => {
    const tenant = await a.tenant('Budget', ['budget.example']);
    const key = tenant.secretKey;
    const admin = (method: string, path: string, body: unknown) => call(a.url, method, path, { key, body });
    await admin('POST', '/v1/admin/knowledge/sources', { kind: 'markdown', content: '# Refunds\n\nRefunds take 5 business days.', externalId: 'r' });
    expect((await admin('PUT', '/v1/admin/providers/openai', { apiKey: `sk-test-${'k'.repeat(40)}`, model: 'gpt-test' })).status).toBe(201);
    expect((await admin('PATCH', '/v1/admin/settings', { budget: { requestsPerMinute: 2 } })).status).toBe(200);
    // Three asks: the key's own limit (3 a minute, across instances too) is not what refuses the third.
    const ask = (t: TestApp) => call(t.url, 'POST', '/v1/answers', { key, body: { question: 'How long do refunds take?' } });
    const first = await ask(a);
    const second = await ask(b);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await ask(a);
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ type: '/docs/problems/budget-exceeded' });
    expect(Number(third.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe.skipIf(!serverUrl)('a busy key on PostgreSQL: counted without waiting while its window is far from full', () => {
  const store = (prefix: string, limit: number, windowMs = 60_000) => {
    const s = new PostgresLimitStore(db.db, prefix);
    s.init({ windowMs, limit } as Options);
    return s;
  };
  const stored = async (prefix: string) =>
    (await db.db.withOwner((tx) => tx.query<{ hits: number }>('SELECT hits FROM rate_limit_windows WHERE key = $1', [windowKey(prefix, 'k')])))
      .rows[0]?.hits;
  /** Whether `p` settles within `ms`. */
  const settles = (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  test('let through at once on what is known, and written all the same, added up; a small limit, a fuller or an ended window waits', async () => {
    const big = store('busy-big', 1000);
    const small = store('busy-small', UNAWAITED.minLimit - 1);
    const half = store('busy-half', UNAWAITED.minLimit);
    const short = store('busy-short', 1000, 1000);
    // Not known here yet: every first hit waits for the database.
    for (const s of [big, small, short]) expect((await s.increment('k')).totalHits).toBe(1);
    const halfFull = UNAWAITED.minLimit * UNAWAITED.maxShare;
    for (let i = 0; i < halfFull; i++) await half.increment('k');
    await expect.poll(() => stored('busy-half')).toBe(halfFull);
    await new Promise((r) => setTimeout(r, 1100)); // the short window ends

    // Every counter row locked from another connection: a hit that waits for the database waits for that.
    const release = await holdOpen(db.db, 'SELECT key FROM rate_limit_windows FOR UPDATE');
    let waiting: Promise<unknown>[];
    try {
      const quick = big.increment('k');
      expect(await settles(quick, 2000)).toBe(true);
      expect(await quick).toMatchObject({ totalHits: 2 });
      for (let i = 3; i <= 6; i++) expect(await big.increment('k')).toMatchObject({ totalHits: i });
      waiting = [small.increment('k'), half.increment('k'), short.increment('k')];
      for (const w of waiting) expect(await settles(w, 300)).toBe(false);
    } finally {
      await release();
    }
    expect(await Promise.all(waiting)).toMatchObject([{ totalHits: 2 }, { totalHits: halfFull + 1 }, { totalHits: 1 }]);
    // Written all the same, added up: 1 + 5.
    await expect.poll(() => stored('busy-big')).toBe(6);
  });
});

describe('counters in Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let visitor: { onA: Visitor; onB: Visitor };
  // A prefix of this run's own: tests (and deployments) can share one Redis.
  const env = { ...LIMITS, REDIS_URL, PARLEY_REDIS_KEY_PREFIX: `parley-test-${randomBytes(6).toString('hex')}:` };
  beforeAll(async () => {
    a = await startTestApp(env, { shareDb: db });
    b = await startTestApp(env, { instanceOf: a });
    visitor = await startVisitor(a, b, 'Redis Co');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  test('the per-address limit counts across two instances', async () => {
    // The visitor's config load (beforeAll, on A) was this address's first request.
    const res = await statuses([b, a, b].map((t) => () => call(t.url, 'GET', '/v1/openapi.json')));
    expect(res).toEqual([200, 200, 429]);
    const refused = await call(b.url, 'GET', '/v1/openapi.json');
    expect(refused.body).toMatchObject({ type: '/docs/problems/rate-limited', status: 429 });
    expect(refused.headers.get('ratelimit')).toMatch(/^limit=3, remaining=0, reset=\d+$/);
  });

  test("a visitor session's limit counts across two instances", async () => {
    const { onA, onB } = visitor;
    expect(await statuses([onA, onB, onA, onB, onA].map((x) => () => x.call('POST', '/conversations', {})))).toEqual([201, 201, 201, 201, 429]);
  });

  test('an instance that loses Redis lets requests through (fail open) and says so in its log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const limits = await redisLimitStores(REDIS_URL, `parley-test-${randomBytes(6).toString('hex')}:`, logger);
    const c = await startTestApp({ ...env, PARLEY_RATE_LIMIT_PER_MINUTE: '1' }, { shareDb: db, limits, logger });
    try {
      expect((await call(c.url, 'GET', '/v1/openapi.json')).status).toBe(200);
      expect((await call(c.url, 'GET', '/v1/openapi.json')).status).toBe(429);
      await limits.close(); // as if Redis went away
      expect(await statuses([1, 2, 3].map(() => () => call(c.url, 'GET', '/v1/openapi.json')))).toEqual([200, 200, 200]);
      expect(lines.join('')).toMatch(/allowing request without rate-limiting/);
    } finally {
      await c.close();
    }
  });
});
