// Conversations asked through the API without a userRef before migration 120 all had the visitor reference
// `api`: one data subject for every such caller. The migration gives each a reference of its own, so an
// export or erasure of one reaches no other; a userRef's conversations keep theirs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { subjectConversations } from '../lifecycle/store.js';
import { loadMigrations, migrate } from '../db/migrate.js';
import { createTestDb, type TestDb } from '../test/db.js';

const tenant = randomUUID();
const anonymous = [randomUUID(), randomUUID(), randomUUID()];
const named = randomUUID();
const widget = randomUUID();
let testDb: TestDb;

beforeAll(async () => {
  testDb = await createTestDb({ migrate: false });
  const all = loadMigrations();
  await testDb.db.withOwner((tx) =>
    migrate(
      tx,
      all.filter((m) => m.name < '120'),
    ),
  );
  await testDb.db.withOwner(async (tx) => {
    await tx.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
    await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Before 120')", [tenant]);
    const rows: [string, string, string][] = [
      ...anonymous.map((id): [string, string, string] => [id, 'api', 'api']),
      [named, 'api:acct-1', 'api'],
      [widget, 'api', 'widget'],
    ];
    for (const [id, visitor, channel] of rows)
      await tx.query('INSERT INTO conversations (id, tenant_id, visitor_id, channel) VALUES ($1, $2, $3, $4)', [id, tenant, visitor, channel]);
  });
  await testDb.db.withOwner((tx) => migrate(tx, all));
}, 120_000);
afterAll(() => testDb?.close());

test('each API conversation asked for nobody named becomes a subject of its own; others keep their reference', async () => {
  const refs = await testDb.db.withTenant(tenant, { requestId: null }, async (tx) => {
    const { rows } = await tx.query<{ id: string; visitor_id: string }>('SELECT id, visitor_id FROM conversations');
    return new Map(rows.map((r) => [r.id, r.visitor_id]));
  });
  const fresh = anonymous.map((id) => refs.get(id)!);
  for (const r of fresh) expect(r).toMatch(/^api_[A-Za-z0-9_-]{16}$/);
  expect(new Set(fresh).size).toBe(3);
  expect(refs.get(named)).toBe('api:acct-1');
  // Only the API channel's: a row of another channel is not this migration's to touch.
  expect(refs.get(widget)).toBe('api');
  const found = await testDb.db.withTenant(tenant, { requestId: null }, async (tx) => ({
    one: (await subjectConversations(tx, { type: 'visitor', id: fresh[0]! })).map((c) => c.id),
    api: (await subjectConversations(tx, { type: 'visitor', id: 'api' })).map((c) => c.id),
  }));
  expect(found).toEqual({ one: [anonymous[0]], api: [widget] });
});
