// Webhook events written before migration 099 stored no conversation id: the migration fills it from the
// four places the catalog named a conversation then, so a data-subject erasure still deletes those events.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadMigrations, migrate } from '../db/migrate.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { eraseSubject } from './store.js';

const tenant = randomUUID();
const conversation = randomUUID();
const other = randomUUID();
let testDb: TestDb;

// One event per shape that names a conversation, one about another conversation, two about none.
const events: [type: string, data: unknown][] = [
  ['conversation.created', { conversation: { id: conversation, status: 'open' } }],
  ['message.created', { conversationId: conversation, message: { id: 'm1', role: 'visitor', text: 'hello' } }],
  ['handoff.requested', { handoff: { id: 'h1', conversationId: conversation } }],
  ['action.executed', { proposal: { id: 'p1', conversationId: conversation } }],
  ['message.created', { conversationId: other, message: { id: 'm2', role: 'visitor', text: 'hi' } }],
  ['approval.requested', { proposal: { id: 'p2', conversationId: null } }],
  ['key.created', { apiKey: { id: 'k1' } }],
];

beforeAll(async () => {
  testDb = await createTestDb({ migrate: false });
  const all = loadMigrations();
  await testDb.db.withOwner((tx) =>
    migrate(
      tx,
      all.filter((m) => m.name < '099'),
    ),
  );
  await testDb.db.withOwner(async (tx) => {
    await tx.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
    await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Before 099')", [tenant]);
    for (const [i, [type, data]] of events.entries())
      await tx.query('INSERT INTO webhook_events (tenant_id, id, type, body) VALUES ($1, $2, $3, $4)', [
        tenant,
        `msg_${i}`,
        type,
        JSON.stringify({ id: `msg_${i}`, type, createdAt: new Date().toISOString(), tenantId: tenant, data }),
      ]);
  });
  await testDb.db.withOwner((tx) => migrate(tx, all));
}, 120_000);
afterAll(() => testDb?.close());

test('the migration fills each earlier event’s conversation, and erasing the conversation deletes exactly its events', async () => {
  const rows = await testDb.db.withTenant(
    tenant,
    { requestId: null },
    async (tx) => (await tx.query<{ id: string; conversation_id: string | null }>('SELECT id, conversation_id FROM webhook_events ORDER BY id')).rows,
  );
  expect(rows.map((r) => r.conversation_id)).toEqual([conversation, conversation, conversation, conversation, other, null, null]);

  const erased = await testDb.db.withTenant(tenant, { requestId: null }, (tx) =>
    eraseSubject(tx, { type: 'visitor', id: 'v_x' }, [conversation], []),
  );
  expect(erased.webhookEvents).toBe(4);
  const left = await testDb.db.withTenant(
    tenant,
    { requestId: null },
    async (tx) => (await tx.query<{ id: string }>('SELECT id FROM webhook_events ORDER BY id')).rows,
  );
  expect(left.map((r) => r.id)).toEqual(['msg_4', 'msg_5', 'msg_6']);
});
