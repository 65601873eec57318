// What a visitor's turn costs in round trips to PostgreSQL, which a loaded server's turn rate follows: the
// question's transaction (its reads with BEGIN; the owed answer, the message and COMMIT) and the answer's
// (BEGIN, its audit entry, the lock and the statement that settles the question and stores the answer, and
// COMMIT), whatever webhook events they raise. And what opening the widget costs before it: a session and a
// conversation. The rate limits' counts are written apart, every 100 ms for all requests at once.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedDemo } from '../cli/demo.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { serverUrl } from '../test/db.js';
import { fewestRoundTrips } from '../test/round-trips.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let demo: Awaited<ReturnType<typeof seedDemo>>;
beforeAll(async () => {
  t = await startTestApp();
  // Only the turn touches the database while it is counted.
  await t.runtime.audit.integrator?.stop();
  demo = await seedDemo(t.runtime, t.url);
});
afterAll(() => t?.close());

// The rate limits' counts are written on a timer of their own, for all requests at once.
const fewest = <T>(run: (n: number) => Promise<T>) => fewestRoundTrips(run, { except: /parley_rate_limit_/ });

describe.runIf(serverUrl)('opening the widget (PostgreSQL)', () => {
  test("a new visitor's session is one round trip, a conversation two", async () => {
    // Warm: the instance's caches (the key, the settings).
    const warm = new Visitor(t.url, demo.publishableKey, t.url);
    await warm.start();
    await warm.call('POST', '/conversations', {});
    const visitors: Visitor[] = [];
    const [started, sessionTrips] = await fewest(async (n) => {
      visitors[n] = new Visitor(t.url, demo.publishableKey, t.url);
      return visitors[n]!.start();
    });
    expect(started.status).toBe(200);
    expect(sessionTrips).toBe(1);
    const [created, conversationTrips] = await fewest(async (n) => ({ n, res: await visitors[n]!.call('POST', '/conversations', {}) }));
    expect(created.res.status).toBe(201);
    expect(conversationTrips).toBe(2);
    // What was held went with COMMIT: the visitor, its refresh token and the conversation are stored.
    const v = visitors[created.n]!;
    expect((await v.call('POST', '/session/refresh', { refreshToken: v.refreshToken })).status).toBe(200);
    expect((await v.call('GET', `/conversations/${created.res.body.conversation.id}`)).status).toBe(200);
  });
});

describe.runIf(serverUrl)('a visitor turn answered with a citation (PostgreSQL)', () => {
  /** Streamed, then not: each turn's round trips. */
  async function turnTrips(tag: string): Promise<[number, number]> {
    const v = new Visitor(t.url, demo.publishableKey, t.url);
    expect((await v.start()).status).toBe(200);
    const { id } = (await v.call('POST', '/conversations', {})).body.conversation;
    // Warm: the first turns also fill the instance's caches (settings, keys, the knowledge index).
    for (let i = 0; i < 3; i++) await v.say(id, 'How long do refunds take?');
    const [streamed, streamTrips] = await fewest(() => v.say(id, 'How long do refunds take?'));
    expect(streamed.find((e) => e.event === 'done')?.data.message.citations[0].title).toBe('Returns and refunds › Refund timing');
    const [plain, plainTrips] = await fewest((n) =>
      v.call('POST', `/conversations/${id}/messages`, { text: 'How long do refunds take?', clientMessageId: `counted-${tag}-${n}` }),
    );
    expect(plain.body.events.at(-1).message.citations[0].title).toBe('Returns and refunds › Refund timing');
    return [streamTrips, plainTrips];
  }

  test('is three round trips, streamed or not: two for the question, one for the answer', async () => {
    expect(await turnTrips('plain')).toEqual([3, 3]);
  });

  test('is three round trips too when an endpoint wants message.created: the events go in the statements storing the messages', async () => {
    const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin/webhooks${path}`, { key: demo.secretKey, body });
    const { body: created } = await admin('POST', '/endpoints', { url: 'https://hooks.demo.example/parley', events: ['message.created'] });
    try {
      const before = await messageEvents();
      expect(await turnTrips('webhook')).toEqual([3, 3]);
      // Warm-up and counted turns alike: a question and its answer each, every try of `fewest`.
      const events = (await messageEvents()).slice(before.length);
      expect(events.map((e) => e.data.message.role)).toEqual(Array.from({ length: 2 * (3 + 3 + 3) }, (_, i) => (i % 2 ? 'assistant' : 'visitor')));
    } finally {
      await admin('DELETE', `/endpoints/${created.endpoint.id}`);
    }
  });
});

/** The demo tenant's stored message.created events, oldest first. */
async function messageEvents(): Promise<{ data: { message: { role: string } } }[]> {
  const { rows } = await t.runtime.db.withTenant(demo.tenantId, { requestId: null }, (tx) =>
    tx.query<{ body: string }>(
      "SELECT body FROM webhook_events WHERE type = 'message.created' ORDER BY created_at, body::jsonb #>> '{data,message,createdAt}'",
    ),
  );
  return rows.map((r) => JSON.parse(r.body));
}
