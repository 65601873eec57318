// Storing a message moves its conversation's counter and times. None of the columns it moves is in an
// index but the hour of its last message, so the update can stay on its page (HOT) instead of writing a
// new entry into each of the table's indexes for every message.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { appendMessage, createConversation } from './service.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test('no index of conversations holds a column every stored message moves', async () => {
  const indexes = await t.runtime.db.withOwner((tx) =>
    tx.query<{ name: string; def: string }>(
      "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'conversations'::regclass",
    ),
  );
  expect(indexes.rows.length).toBeGreaterThan(3);
  for (const { name, def } of indexes.rows) expect(def, name).not.toMatch(/\b(updated_at|last_seq)\b/);
});

test('a conversation’s updates for its messages stay on their page', async () => {
  const a = await t.tenant('Tenant Hot', ['hot.example']);
  const inTenant = <T>(fn: Parameters<typeof t.runtime.db.withTenant<T>>[2]) => t.runtime.db.withTenant(a.tenant.id, { requestId: null }, fn);
  const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-hot', origin: null, subject: null }));
  const counts = () =>
    t.runtime.db.withOwner(async (tx) => {
      await tx.query('SELECT pg_stat_force_next_flush()');
      return (
        await tx.query<{ upd: number; hot: number }>(
          "SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'conversations'",
        )
      ).rows[0]!;
    });
  const before = await counts();
  // A connection reports its statistics once idle a while (on a PostgreSQL server, up to 10 s), or as soon
  // as its transaction ends when asked to.
  for (let i = 0; i < 40; i++)
    await inTenant(async (tx) => {
      await appendMessage(tx, { tenantId: a.tenant.id, conversationId: conv.id, role: i % 2 ? 'assistant' : 'visitor', text: `m${i}` });
      await tx.query('SELECT pg_stat_force_next_flush()');
    });
  const after = await counts();
  expect(after.upd - before.upd).toBeGreaterThanOrEqual(40);
  // The hour may turn once during the test: that update (and a page that filled up) is not HOT.
  expect(after.hot - before.hot).toBeGreaterThanOrEqual(after.upd - before.upd - 3);
});
