// Live event streams under load: N open SSE streams on one conversation while messages arrive. Prints the
// database transactions each message costs and /readyz latency during the burst, beside the same
// /readyz with no stream open (the ceiling from this run). The review measured 4,500 transactions for
// 450 streams and 5 messages, and /readyz going from 10 ms to 500 ms.
// Run: npx tsx --conditions=parley-source bench/sse-fanout.ts   (STREAMS=450 MESSAGES=5)
import { startTestApp, Visitor } from '@parley/server/testing';

const STREAMS = Number(process.env.STREAMS ?? 450);
const MESSAGES = Number(process.env.MESSAGES ?? 5);
const ORIGIN = 'https://shop.bench.example';

// The caps would refuse one visitor's 450 streams; lift them to measure the fan-out itself.
const app = await startTestApp({
  PARLEY_SSE_MAX_PER_VISITOR: String(STREAMS + 10),
  PARLEY_SSE_MAX_PER_TENANT: String(STREAMS + 10),
  PARLEY_SSE_MAX_PER_ADDRESS: String(STREAMS + 10), // every stream comes from this machine
});
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function readyz(samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await (await fetch(`${app.url}/readyz`)).text();
    out.push(performance.now() - t);
  }
  return out;
}

try {
  const tenant = await app.tenant('Bench', ['shop.bench.example']);
  const v = new Visitor(app.url, tenant.publishableKey, ORIGIN);
  await v.start();
  const conversationId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;

  let transactions = 0;
  const db = app.runtime.db;
  const withTenant = db.withTenant.bind(db);
  db.withTenant = ((...args: Parameters<typeof withTenant>) => {
    transactions++;
    return withTenant(...args);
  }) as typeof db.withTenant;

  const idle = await readyz(100);

  const aborts: AbortController[] = [];
  const received: number[] = new Array(STREAMS).fill(0);
  await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const ac = new AbortController();
      aborts.push(ac);
      const res = await fetch(`${app.url}/v1/widget/conversations/${conversationId}/events`, {
        headers: { origin: ORIGIN, 'x-parley-key': tenant.publishableKey, authorization: `Bearer ${v.token}`, accept: 'text/event-stream' },
        signal: ac.signal,
      });
      if (res.status !== 200) throw new Error(`stream ${i}: ${res.status}`);
      const reader = res.body!.getReader();
      void (async () => {
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (done) return;
          received[i]! += (dec.decode(value).match(/^id: \d+$/gm) ?? []).length;
        }
      })();
    }),
  );
  await new Promise((r) => setTimeout(r, 500));

  transactions = 0;
  const t0 = performance.now();
  const probe = readyz(100);
  // Each message is a visitor turn: stored, answered (or handed off: this tenant has no knowledge), fanned out.
  for (let m = 0; m < MESSAGES; m++) {
    const sent = await v.call('POST', `/conversations/${conversationId}/messages`, { text: `Bench message ${m}`, clientMessageId: `bench-${m}` });
    if (sent.status !== 200) throw new Error(`message ${m}: ${sent.status} ${JSON.stringify(sent.body)}`);
  }
  const stored = await app.testDb.db.withOwner((tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM conversation_events WHERE conversation_id = $1', [conversationId]),
  );
  const expected = stored.rows[0]!.n;
  while (received.some((n) => n < expected) && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
  const fanned = performance.now() - t0;
  const busy = await probe;
  const complete = received.filter((n) => n >= expected).length;

  console.log(`${STREAMS} streams on one conversation, ${MESSAGES} visitor messages (${expected} stored events, each to every stream)`);
  console.log(
    `  transactions during the burst: ${transactions} (${(transactions / MESSAGES).toFixed(1)} per message; one read per stream per event would be ${STREAMS * expected})`,
  );
  console.log(`  every stream got every event: ${complete}/${STREAMS}, in ${fanned.toFixed(0)} ms`);
  console.log(`  /readyz idle (ceiling)  p50 ${pct(idle, 50).toFixed(1)} ms  p95 ${pct(idle, 95).toFixed(1)} ms`);
  console.log(
    `  /readyz during burst    p50 ${pct(busy, 50).toFixed(1)} ms  p95 ${pct(busy, 95).toFixed(1)} ms  (p50 ratio ${(pct(busy, 50) / pct(idle, 50)).toFixed(1)}x)`,
  );
  for (const ac of aborts) ac.abort();
} finally {
  await app.close();
}
