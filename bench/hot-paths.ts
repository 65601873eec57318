// The hot paths under load, each beside its ceiling measured in the same run: GET /healthz (the most
// this process answers: routing, security headers, JSON, nothing else) at c=10 and c=100, then the
// widget's page view (GET /v1/widget/config, with the rows it writes per view), a visitor's message
// answered and cited by the built-in extractive answerer (non-streaming, one conversation per
// connection), and the admin knowledge search. The server runs in a child process (so the load
// generator does not share its event loop), seeded with the demo tenant as `npm start` seeds it. Each
// point also prints the server process's CPU time per request (the database server's not included,
// unless it is the embedded PGlite), which a busy machine moves less than req/s, and on PostgreSQL its
// round trips to the database per request, which it does not move at all. Each path is measured in
// one-second slices taken in turn with /healthz, and its share is of that /healthz: a shared machine's
// speed drifts over seconds (a share against the first /healthz alone moved by a fifth between runs).
// Run: npx tsx --conditions=parley-source bench/hot-paths.ts
//   PARLEY_BENCH_DATABASE_URL=postgres://… measures a PostgreSQL server (a fresh database is created on
//   it and dropped at the end) instead of the embedded PGlite, which runs in a data folder as `npm start`
//   runs it (PARLEY_BENCH_PGLITE=memory: in memory, as the tests run it). BENCH_SECONDS=5 sets each point's length.
import { type ChildProcess, fork } from 'node:child_process';
import type { CreateConversationResponse, WidgetSessionResponse } from '@parley/protocol';
import { type LoadOptions, type LoadResult, load as run, percentile } from './load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const QUESTION = 'How long do refunds take?';
// For profiling one path: BENCH_ONLY=turns (or search, config) and BENCH_CONNECTIONS=10.
const ONLY = process.env.BENCH_ONLY;
const CONNECTIONS = process.env.BENCH_CONNECTIONS ? [Number(process.env.BENCH_CONNECTIONS)] : [10, 100];
const runs = (name: string) => !ONLY || ONLY.split(',').includes(name);

interface Ready {
  url: string;
  publishableKey: string;
  secretKey: string;
  db: string;
}

// Set once the server is up (see load()).
let drain: () => Promise<unknown> = async () => {};
// Also set then: the server process's CPU time so far, in µs, and its round trips to PostgreSQL.
let usage: () => Promise<{ cpu: number; trips: number }> = async () => ({ cpu: 0, trips: 0 });

if (process.argv[2] === '--serve') await serve();
else await main();

/** The child: a real server over a fresh database, answering row counts over IPC. */
async function serve() {
  // The test database helper reads this when it is imported: a fresh database on that server.
  if (process.env.PARLEY_BENCH_DATABASE_URL) process.env.PARLEY_TEST_DATABASE_URL = process.env.PARLEY_BENCH_DATABASE_URL;
  // Round trips to PostgreSQL, counted from here.
  const { watchRoundTrips } = await import('../server/src/test/round-trips.js');
  const trips = watchRoundTrips();
  const { startTestApp } = await import('@parley/server/testing');
  const { seedDemo } = await import('../server/src/cli/demo.js');
  // The embedded database in a data folder, as `npm start` runs it; PARLEY_BENCH_PGLITE=memory: in memory, as the tests run it.
  const { createFolderDb } = await import('../server/src/test/db.js');
  const folder =
    process.env.PARLEY_BENCH_DATABASE_URL || process.env.PARLEY_BENCH_PGLITE === 'memory' ? undefined : await createFolderDb('parley-bench-');
  // Limits so high they never refuse, but still counted (in the database on PostgreSQL), as in production.
  const t = await startTestApp(
    {
      PARLEY_RATE_LIMIT_PER_MINUTE: '1000000000',
      PARLEY_WIDGET_SESSION_RATE_LIMIT: '1000000000',
      PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000000000',
    },
    folder ? { shareDb: folder } : {},
  );
  const demo = await seedDemo(t.runtime, t.url);
  const rows = () =>
    t.runtime.db.withOwner(async (tx) => {
      const tables = await tx.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      let n = 0;
      for (const { name } of tables.rows) n += Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`)).rows[0]!.n);
      return n;
    });
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'rows') process.send!({ rows: await rows() });
    if (m.cmd === 'cpu') {
      const u = process.cpuUsage();
      process.send!({ cpu: u.user + u.system, trips: trips.count() });
    }
    if (m.cmd === 'close') {
      await t.close();
      await folder?.close();
      process.exit(0); // writes the CPU profile when asked for one
    }
  });
  process.send!({
    url: t.url,
    publishableKey: demo.publishableKey,
    secretKey: demo.secretKey,
    db: t.testDb.url ? 'PostgreSQL' : folder ? 'PGlite in a data folder' : 'PGlite in memory',
  } satisfies Ready);
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

interface Point {
  rps: number;
  p99: number;
  ok: number;
  bad: number;
  /** The server process's CPU time per request, in µs: steadier than req/s on a shared machine. */
  cpu: number;
  /** Round trips to PostgreSQL per request, background work included; 0 on PGlite. */
  trips: number;
}

type Slice = LoadResult & { cpu: number; trips: number };

async function slice(opts: Omit<LoadOptions, 'seconds'>, seconds: number): Promise<Slice> {
  const before = await usage();
  const r = await run({ ...opts, seconds });
  const after = await usage();
  return { ...r, cpu: after.cpu - before.cpu, trips: after.trips - before.trips };
}

function point(slices: Slice[]): Point {
  const ok = slices.reduce((n, s) => n + s.ok, 0);
  const bad = slices.reduce((n, s) => n + s.bad, 0);
  const n = Math.max(1, ok + bad);
  return {
    rps: ok / slices.reduce((t, s) => t + s.seconds, 0),
    p99: percentile(
      slices.flatMap((s) => s.latencies).sort((a, b) => a - b),
      0.99,
    ),
    ok,
    bad,
    cpu: slices.reduce((t, s) => t + s.cpu, 0) / n,
    trips: slices.reduce((t, s) => t + s.trips, 0) / n,
  };
}

async function load(opts: Omit<LoadOptions, 'seconds'>): Promise<Point> {
  const p = point([await slice(opts, SECONDS)]);
  // Requests still queued in the server when the clients stop would slow the next point: wait for the
  // database to answer the child (behind them) first.
  await drain();
  return p;
}

/**
 * A path and the ceiling measured in alternating slices of a second or so each, for as long as two points
 * take: a shared machine's speed drifts over seconds, and both then see the same drift, so their ratio does not.
 */
async function beside(path: Omit<LoadOptions, 'seconds'>, ceiling: Omit<LoadOptions, 'seconds'>): Promise<{ path: Point; ceiling: Point }> {
  const turns = Math.max(1, Math.round(SECONDS));
  const a: Slice[] = [];
  const b: Slice[] = [];
  for (let i = 0; i < turns; i++) {
    a.push(await slice(path, SECONDS / turns));
    b.push(await slice(ceiling, SECONDS / turns));
  }
  await drain();
  return { path: point(a), ceiling: point(b) };
}

async function main() {
  // BENCH_PROFILE=<dir> writes the server's CPU profile there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(process.argv[1]!, ['--serve'], { execArgv: [...process.execArgv, ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const s = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  drain = () => ask(child, 'rows');
  usage = () => ask<{ cpu: number; trips: number }>(child, 'cpu');
  const origin = s.url;
  const widget = { origin, 'x-parley-key': s.publishableKey };
  const post = async <T>(path: string, body: unknown, headers: Record<string, string>): Promise<T> => {
    const res = await fetch(s.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  // One visitor and conversation per connection: a conversation's turns are answered in order.
  const conversations: { id: string; token: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const { session } = await post<WidgetSessionResponse>('/v1/widget/session', {}, widget);
    const auth = { ...widget, authorization: `Bearer ${session.token}` };
    const { conversation } = await post<CreateConversationResponse>('/v1/widget/conversations', {}, auth);
    conversations.push({ id: conversation.id, token: session.token });
  }
  const check = await post<{ events: { type: string; message?: { citations: unknown[] } }[] }>(
    `/v1/widget/conversations/${conversations[0]!.id}/messages`,
    { text: QUESTION, clientMessageId: 'warm' },
    {
      ...widget,
      authorization: `Bearer ${conversations[0]!.token}`,
    },
  );
  const done = check.events.find((e) => e.type === 'done')?.message;
  if (!done?.citations?.length) throw new Error(`the demo question got no cited answer: ${JSON.stringify(check.events)}`);

  const fmt = (p: Point) =>
    `${p.rps.toFixed(0).padStart(6)} req/s  p99 ${String(p.p99).padStart(4)} ms  CPU ${p.cpu.toFixed(0).padStart(5)} µs/req${p.trips ? `  ${p.trips.toFixed(1)} trips/req` : ''}${p.bad ? `  (${p.bad} failed)` : ''}`;
  const besideCeiling = (both: { path: Point; ceiling: Point }) =>
    `${((100 * both.path.rps) / both.ceiling.rps).toFixed(0)}% of ceiling (of ${both.ceiling.rps.toFixed(0)} req/s, measured beside it)`;
  console.log(`Hot paths, ${s.db}, ${SECONDS} s per point, server in its own process (Node ${process.version})\n`);
  for (const c of CONNECTIONS) {
    const healthz = { url: `${s.url}/healthz`, connections: c };
    const ceiling = await load(healthz);
    console.log(`c=${c}`);
    console.log(`  GET /healthz (ceiling)           ${fmt(ceiling)}`);

    if (runs('config')) {
      const before = (await ask<{ rows: number }>(child, 'rows')).rows;
      const both = await beside({ url: `${s.url}/v1/widget/config?key=${s.publishableKey}`, connections: c, headers: { origin } }, healthz);
      const config = both.path;
      const written = (await ask<{ rows: number }>(child, 'rows')).rows - before;
      console.log(
        `  GET /v1/widget/config            ${fmt(config)}  ${besideCeiling(both)}  rows written per page view ${(written / Math.max(1, config.ok + config.bad)).toFixed(3)}`,
      );
    }

    if (runs('turns')) {
      // One conversation per client, and a new clientMessageId for every send, or a send would be
      // answered from what is stored.
      const both = await beside(
        {
          url: s.url,
          connections: c,
          method: 'POST',
          path: (n) => `/v1/widget/conversations/${conversations[n % conversations.length]!.id}/messages?key=${s.publishableKey}`,
          headers: (n) => ({
            ...widget,
            authorization: `Bearer ${conversations[n % conversations.length]!.token}`,
            'content-type': 'application/json',
          }),
          body: () => JSON.stringify({ text: QUESTION, clientMessageId: `b-${Math.random().toString(36).slice(2)}` }),
        },
        healthz,
      );
      console.log(`  visitor message → cited answer   ${fmt(both.path).replace('req/s', 'turn/s')}  ${besideCeiling(both)}`);
    }

    if (runs('search')) {
      const both = await beside(
        {
          url: `${s.url}/v1/admin/knowledge/search`,
          connections: c,
          method: 'POST',
          headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/json' },
          body: () => JSON.stringify({ query: 'refund timing for returns', limit: 3 }),
        },
        healthz,
      );
      console.log(`  POST /v1/admin/knowledge/search  ${fmt(both.path)}  ${besideCeiling(both)}`);
    }
  }
  console.log('\nTargets: config ≥ 70% of the ceiling with 0 rows per page view; turns ≥ 400/s on PostgreSQL, ≥ 150/s on PGlite; search ≥ 1,500/s.');
  await ask(child, 'close').catch(() => {});
}
