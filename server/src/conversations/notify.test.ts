// The LISTEN side of cross-instance fan-out, on PostgreSQL only (the embedded database serves one
// process): a committed event wakes a listening bus once, with ids only; a rolled-back one never; and a
// listener that lost its connection reconnects and wakes every room, since what was committed meanwhile
// was never heard. The same connection hears key changes (tenants/key-cache.ts), whose owner is told
// whenever the connection stops or starts listening.
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { serverUrl } from '../test/db.js';
import { Visitor } from '../test/widget.js';
import { ConversationBus } from './bus.js';
import { KEY_CHANGES_CHANNEL } from '../tenants/key-cache.js';
import { NoticeListener } from '../db/notices.js';
import { conversationEvents, EVENTS_CHANNEL, parseEventNotice } from './notify.js';
import { recordEvent } from './service.js';

const until = async (ok: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a notification names ids only; anything else is ignored', () => {
  const t = '0b6c5f0e-8a5e-4c1e-9d7a-2f1f3c4d5e6f';
  const c = '1c7d6a1f-9b6f-4d2f-8e8b-3a2b4c5d6e7f';
  expect(parseEventNotice(`${t}:${c}:42`)).toEqual({ tenantId: t, conversationId: c, id: 42 });
  expect(parseEventNotice(`${t}::7`)).toEqual({ tenantId: t, conversationId: null, id: 7 });
  for (const bad of [undefined, '', `${t}:${c}`, `${t}:${c}:x`, `${t}:${c}:-1`, `:${c}:3`]) expect(parseEventNotice(bad)).toBeNull();
});

test('the bus wakes a room once per event, whether the route or the notification comes first', () => {
  const bus = new ConversationBus();
  let conversation = 0;
  let tenant = 0;
  bus.subscribe('c1', () => conversation++);
  bus.subscribeTenant('t1', () => tenant++);
  bus.publish({ id: 1, tenantId: 't1', conversationId: 'c1' });
  bus.publish({ id: 1, tenantId: 't1', conversationId: 'c1' });
  bus.publish({ id: 2, tenantId: 't1', conversationId: null });
  expect([conversation, tenant]).toEqual([1, 2]);
  bus.wakeAll();
  expect([conversation, tenant]).toEqual([2, 3]);
});

describe.skipIf(!serverUrl)('listening on PostgreSQL', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let conversationId: string;
  const bus = new ConversationBus();
  let listener: NoticeListener;
  let wakes = 0;
  // Another channel on the same connection, as the key cache is (tenants/key-cache.ts).
  const keyPayloads: (string | undefined)[] = [];
  const keyStates: boolean[] = [];
  const keyNotices = {
    channel: KEY_CHANGES_CHANNEL,
    heard: (p?: string) => void keyPayloads.push(p),
    listening: (on: boolean) => void keyStates.push(on),
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('Tenant A', ['a.example']);
    const v = new Visitor(t.url, a.publishableKey, 'https://a.example');
    await v.start();
    conversationId = (await v.call('POST', '/conversations', {})).body.conversation.id;
    listener = new NoticeListener({
      url: t.testDb.url!,
      channels: [conversationEvents(bus), keyNotices],
      logger: pino({ level: 'silent' }),
      backoffMs: { first: 800, max: 800 },
    });
    await listener.start();
    bus.subscribe(conversationId, () => wakes++);
  });
  afterAll(async () => {
    await listener.stop();
    await t.close();
  });

  const record = (type: string, rollback = false) =>
    t.runtime.db
      .withTenant(a.tenant.id, { requestId: null }, async (tx) => {
        const e = await recordEvent(tx, a.tenant.id, conversationId, type, { secret: 'never in a notification' });
        if (rollback) throw new Error('rolled back');
        return e;
      })
      .catch((err: Error) => {
        if (err.message !== 'rolled back') throw err;
        return null;
      });

  test('a committed event wakes the room once, though this process also published it; the notification carries ids only', async () => {
    const spy = new pg.Client({ connectionString: t.testDb.url! });
    await spy.connect();
    const heard: string[] = [];
    spy.on('notification', (m) => heard.push(m.payload ?? ''));
    await spy.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      wakes = 0;
      const e = (await record('status'))!;
      bus.publish(e); // as the route does after commit
      await until(() => heard.length === 1, 'the notification');
      await new Promise((r) => setTimeout(r, 100));
      expect(wakes).toBe(1);
      expect(heard).toEqual([`${a.tenant.id}:${conversationId}:${e.id}`]);
      expect(await record('status', true)).toBeNull();
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toHaveLength(1);
      expect(wakes).toBe(1);
    } finally {
      await spy.end();
    }
  });

  test('the same connection hears key changes on their own channel, naming the tenant only', async () => {
    expect(keyStates).toEqual([true]);
    await t.runtime.db.withOwner((tx) => tx.query('UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1', [a.tenant.id]));
    await until(() => keyPayloads.length === 1, 'the key notice');
    expect(keyPayloads).toEqual([a.tenant.id]);
  });

  test('after its connection is cut, the listener reconnects and wakes every room to read what it missed', async () => {
    expect(listener.connections).toBe(1);
    const owner = new pg.Client({ connectionString: t.testDb.url! });
    await owner.connect();
    try {
      // This listener's connection and the test app's own.
      const killed = await owner.query(
        "SELECT pg_terminate_backend(pid, 5000) AS ok FROM pg_stat_activity WHERE application_name = 'parley-listen' AND datname = current_database()",
      );
      expect(killed.rows).toEqual([{ ok: true }, { ok: true }]);
    } finally {
      await owner.end();
    }
    wakes = 0;
    // Committed while nobody listens (the first retry waits at least 400 ms): its notification is lost.
    await record('status');
    await new Promise((r) => setTimeout(r, 100));
    expect(wakes).toBe(0);
    // The other channel's owner was told it is not heard: the key cache stops keeping keys.
    expect(keyStates).toEqual([true, false]);
    await until(() => listener.connections === 2, 'the reconnection');
    expect(wakes).toBe(1);
    expect(keyStates).toEqual([true, false, true]);
    // And it hears new events again.
    await record('status');
    await until(() => wakes === 2, 'the next event');
  });
});
