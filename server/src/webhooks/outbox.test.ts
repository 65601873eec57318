// The outbox below HTTP, on a real database: what a transaction read of the tenant's subscriptions lets
// it skip, and that a write of them in the same transaction is seen by the events after it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { wireRuntime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { makeTenant } from '../test/tenant.js';
import { enqueueWebhook, readSubscriptions } from './outbox.js';
import { deleteEndpoint, insertEndpoint } from './store.js';

let t: TestDb;
let tenant: string;
beforeAll(async () => {
  t = await createTestDb();
  tenant = await makeTenant(wireRuntime(testConfig(), t.db), 'Outbox');
});
afterAll(() => t?.close());

const invited = { invite: { id: randomUUID(), role: 'agent', expiresAt: new Date().toISOString() } };
const events = () =>
  t.db.withTenant(
    tenant,
    { requestId: null },
    async (tx) => (await tx.query<{ type: string }>('SELECT type FROM webhook_events ORDER BY created_at')).rows,
  );

test('with the subscriptions read, an event no endpoint wants is skipped, one that an endpoint just made in the transaction wants is written', async () => {
  const id = randomUUID();
  const written = await t.db.withTenant(tenant, { requestId: null }, async (tx) => {
    await readSubscriptions(tx, tenant);
    const before = await enqueueWebhook(tx, tenant, 'member.invited', invited);
    await insertEndpoint(tx, {
      tenantId: tenant,
      id,
      url: 'https://example.com/hook',
      description: null,
      events: ['member.invited'],
      secretSealed: Buffer.from('x'),
    });
    const after = await enqueueWebhook(tx, tenant, 'member.invited', invited);
    await deleteEndpoint(tx, id);
    const gone = await enqueueWebhook(tx, tenant, 'member.invited', invited);
    return { before, after, gone };
  });
  expect(written.before).toBeNull();
  expect(written.after).toMatch(/^msg_/);
  expect(written.gone).toBeNull();
  expect(await events()).toEqual([{ type: 'member.invited' }]);
});
