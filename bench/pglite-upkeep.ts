// The embedded database's upkeep (db/pglite-upkeep.ts: the VACUUM, ANALYZE and checkpoint that PostgreSQL's
// background processes would do, which PGlite has not), under chat turns. Two servers in this process, each
// on a data folder of its own as `npm start` runs it, take turns at the same load in 5-second slices (so both
// see the same machine): one left alone, the other given its upkeep after each minute of turns, as its timer
// would. Printed per minute: turns/s and p99 for each, their tables' size and dead rows, and every upkeep
// step's pause, which every request waits for; at the end, the pause beside a turn's own latency.
// Run: npx tsx --conditions=parley-source bench/pglite-upkeep.ts   (BENCH_MINUTES=3)
import type { CreateConversationResponse, WidgetSessionResponse } from '@parley/protocol';
import { startTestApp } from '@parley/server/testing';
import { seedDemo } from '../server/src/cli/demo.js';
import type { UpkeepStep } from '../server/src/db/pglite-upkeep.js';
import { createFolderDb } from '../server/src/test/db.js';
import { type LoadResult, load, percentile } from './load.js';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 3);
const SLICE_SECONDS = 5;
const limits = {
  PARLEY_RATE_LIMIT_PER_MINUTE: '1000000000',
  PARLEY_WIDGET_SESSION_RATE_LIMIT: '1000000000',
  PARLEY_WIDGET_TENANT_RATE_LIMIT: '1000000000',
};

/** A server on a fresh data folder whose upkeep runs only when asked, and a turn against it for each client. */
async function server() {
  const folder = await createFolderDb('parley-bench-upkeep-', { upkeepEveryMs: 0 });
  const { db } = folder;
  const t = await startTestApp(limits, { shareDb: folder });
  const demo = await seedDemo(t.runtime, t.url);
  const widget = { origin: t.url, 'x-parley-key': demo.publishableKey };
  const post = async <T>(path: string, headers: Record<string, string>): Promise<T> => {
    const res = await fetch(t.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  // One visitor and conversation per client: a conversation's turns are answered in order.
  const conversations: { id: string; token: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const { session } = await post<WidgetSessionResponse>('/v1/widget/session', widget);
    const auth = { ...widget, authorization: `Bearer ${session.token}` };
    conversations.push({ id: (await post<CreateConversationResponse>('/v1/widget/conversations', auth)).conversation.id, token: session.token });
  }
  const turns = (seconds: number) =>
    load({
      url: t.url,
      connections: 10,
      seconds,
      method: 'POST',
      path: (n) => `/v1/widget/conversations/${conversations[n]!.id}/messages`,
      headers: (n) => ({ ...widget, authorization: `Bearer ${conversations[n]!.token}`, 'content-type': 'application/json' }),
      body: () => JSON.stringify({ text: 'How long do refunds take?', clientMessageId: `b-${Math.random().toString(36).slice(2)}` }),
    });
  const tables = async () => {
    const [row] = (
      await db.withOwner((tx) =>
        tx.query<{ bytes: string; dead: string }>(
          'SELECT sum(pg_total_relation_size(relid))::text AS bytes, sum(n_dead_tup)::text AS dead FROM pg_stat_user_tables',
        ),
      )
    ).rows;
    return { mb: Number(row!.bytes) / 1024 / 1024, dead: Number(row!.dead) };
  };
  return {
    turns,
    tables,
    upkeep: () => db.upkeep(),
    async close() {
      await t.close();
      await folder.close();
    },
  };
}

const alone = await server();
const kept = await server();
const all = { alone: [] as LoadResult[], kept: [] as LoadResult[] };
const steps: UpkeepStep[] = [];
const rate = (rs: LoadResult[]) => rs.reduce((n, r) => n + r.ok, 0) / rs.reduce((n, r) => n + r.seconds, 0);
const latency = (q: number) => (rs: LoadResult[]) =>
  percentile(
    rs.flatMap((r) => r.latencies).sort((a, b) => a - b),
    q,
  );
const p99 = latency(0.99);
const p50 = latency(0.5);
// Per turn, as the two answer different numbers of turns.
const sizes = async (s: typeof alone, rs: LoadResult[]) => {
  const { mb, dead } = await s.tables();
  const turns = rs.reduce((n, r) => n + r.ok, 0);
  return `${mb.toFixed(1).padStart(5)} MB (${((mb * 1024) / turns).toFixed(2)} KB per turn), ${String(dead).padStart(6)} dead rows`;
};

console.log(`PGlite upkeep under chat turns (c=10, data folders, Node ${process.version}), ${MINUTES} min of turns each\n`);
for (let minute = 1; minute <= MINUTES; minute++) {
  const slices = { alone: [] as LoadResult[], kept: [] as LoadResult[] };
  // Each goes first in every other pair: a slice runs a little slower after the other's.
  for (let i = 0; i < 60 / SLICE_SECONDS; i++) {
    const first = i % 2 ? 'kept' : 'alone';
    slices[first].push(await { alone, kept }[first].turns(SLICE_SECONDS));
    const second = i % 2 ? 'alone' : 'kept';
    slices[second].push(await { alone, kept }[second].turns(SLICE_SECONDS));
  }
  all.alone.push(...slices.alone);
  all.kept.push(...slices.kept);
  const look = await kept.upkeep();
  steps.push(...look);
  const worst = look.reduce<UpkeepStep | null>((w, s) => (!w || s.ms > w.ms ? s : w), null);
  console.log(`minute ${minute}`);
  console.log(
    `  left alone  ${rate(slices.alone).toFixed(0).padStart(4)} turns/s  p99 ${String(p99(slices.alone)).padStart(4)} ms  ${await sizes(alone, all.alone)}`,
  );
  console.log(
    `  kept        ${rate(slices.kept).toFixed(0).padStart(4)} turns/s  p99 ${String(p99(slices.kept)).padStart(4)} ms  ${await sizes(kept, all.kept)}  (after its upkeep)`,
  );
  console.log(
    `  its upkeep: ${look.length} steps, ${look.reduce((n, s) => n + s.ms, 0).toFixed(0)} ms in all; longest ${worst ? `${worst.step} ${worst.table ?? ''} ${worst.ms.toFixed(0)} ms` : '-'}`,
  );
  for (const s of look.filter((x) => x.failed)) console.log(`  FAILED: ${s.step} ${s.table ?? ''} (${s.failed})`);
}
const by = (step: UpkeepStep['step']) => steps.filter((s) => s.step === step).map((s) => s.ms);
const max = (xs: number[]) => (xs.length ? Math.max(...xs).toFixed(0) : '-');
console.log(
  `\nturns/s: left alone ${rate(all.alone).toFixed(0)}, kept ${rate(all.kept).toFixed(0)} (${((100 * rate(all.kept)) / rate(all.alone)).toFixed(0)}% of left alone)`,
);
console.log(
  `longest pause: VACUUM ${max(by('vacuum'))} ms, ANALYZE ${max(by('analyze'))} ms, checkpoint ${max(by('checkpoint'))} ms; beside it a turn's own p50 ${p50(all.kept)} ms, p99 ${p99(all.kept)} ms`,
);
await alone.close();
await kept.close();
