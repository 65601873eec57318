// What a visitor's turn costs in round trips to PostgreSQL, which a loaded server's turn rate follows: the
// question's transaction (its reads with BEGIN; the owed answer, the message and COMMIT) and the answer's
// (its audit entry, the lock and the statement that settles the question and stores the answer, with
// BEGIN; COMMIT). The rate limits' counts are written apart, every 100 ms for all requests at once.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedDemo } from '../cli/demo.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { serverUrl } from '../test/db.js';
import { watchRoundTrips } from '../test/round-trips.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // Only the turn touches the database while it is counted.
  await t.runtime.audit.integrator?.stop();
});
afterAll(() => t?.close());

describe.runIf(serverUrl)('a visitor turn answered with a citation (PostgreSQL)', () => {
  test('is four round trips, streamed or not: two for the question, two for the answer', async () => {
    const demo = await seedDemo(t.runtime, t.url);
    const v = new Visitor(t.url, demo.publishableKey, t.url);
    expect((await v.start()).status).toBe(200);
    const { id } = (await v.call('POST', '/conversations', {})).body.conversation;
    // Warm: the first turns also fill the instance's caches (settings, keys, the knowledge index).
    for (let i = 0; i < 3; i++) await v.say(id, 'How long do refunds take?');
    // The fewest of three turns: work of this process's other apps (another test file's, in the same
    // worker) may add a trip to one, never take one away.
    const fewest = async <T>(turn: (n: number) => Promise<T>): Promise<[T, number]> => {
      let best: [T, number] | null = null;
      for (let n = 0; n < 3; n++) {
        const trips = watchRoundTrips({ except: /parley_rate_limit_/ });
        try {
          const result = await turn(n);
          if (!best || trips.count() < best[1]) best = [result, trips.count()];
        } finally {
          trips.stop();
        }
      }
      return best!;
    };
    const [streamed, streamTrips] = await fewest(() => v.say(id, 'How long do refunds take?'));
    expect(streamed.find((e) => e.event === 'done')?.data.message.citations[0].title).toBe('Returns and refunds › Refund timing');
    expect(streamTrips).toBe(4);
    const [plain, plainTrips] = await fewest((n) =>
      v.call('POST', `/conversations/${id}/messages`, { text: 'How long do refunds take?', clientMessageId: `counted-plain-${n}` }),
    );
    expect(plain.body.events.at(-1).message.citations[0].title).toBe('Returns and refunds › Refund timing');
    expect(plainTrips).toBe(4);
  });
});
