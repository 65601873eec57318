// Concurrent writes to one conversation: visitor sends, agent replies and API questions racing each
// other are all stored in one total order (seq 1..N, no gaps, no duplicates), each answered, no 5xx.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadMigrations, migrate } from '../db/migrate.js';
import { createTestDb } from '../test/db.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import { appendMessage } from './service.js';

let t: TestApp;
let a: CreatedTenant;
const ORIGIN = 'https://help.a.example';
const ROUNDS = 6;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  // Confident answers, so the assistant keeps answering (a low-confidence handoff would silence it).
  expect((await admin('PATCH', '/settings', { handoff: { threshold: 0 } })).status).toBe(200);
  const src = await admin('POST', '/knowledge/sources', {
    kind: 'markdown',
    title: 'Shipping',
    content:
      '# Shipping\n\nOrders ship within two business days. Shipping to Europe takes five days.\n\n# Returns\n\nReturns are free for thirty days.',
  });
  expect(src.status).toBe(201);
});
afterAll(() => t.close());

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });

async function stored(conversationId: string) {
  return t.runtime.db.withTenant(
    a.tenant.id,
    { requestId: null },
    async (tx) =>
      (
        await tx.query<{ seq: number; role: string; text: string }>('SELECT seq, role, text FROM messages WHERE conversation_id = $1 ORDER BY seq', [
          conversationId,
        ])
      ).rows,
  );
}

function expectTotalOrder(rows: { seq: number }[]) {
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
}

describe('concurrent writes to one conversation', () => {
  test('visitor messages and agent replies racing each other: no 5xx, each answered, seq 1..N', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const convId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const statuses: number[] = [];
    let answered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const sends = Array.from({ length: 4 }, (_, i) =>
        v.call('POST', `/conversations/${convId}/messages`, {
          text: `How long does shipping take? (${round}.${i})`,
          clientMessageId: `r${round}-m${i}`,
        }),
      );
      const replies = Array.from({ length: 2 }, (_, i) =>
        admin('POST', `/conversations/${convId}/messages`, { text: `Agent note ${round}.${i}`, agent: 'Kim' }),
      );
      const results = await Promise.all([...sends, ...replies]);
      for (const r of results) statuses.push(r.status);
      for (const r of results.slice(0, 4)) if (r.status === 200 && r.body.events.some((e: { type: string }) => e.type === 'done')) answered++;
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(answered).toBe(ROUNDS * 4);
    const rows = await stored(convId);
    expectTotalOrder(rows);
    const count = (role: string) => rows.filter((r) => r.role === role).length;
    expect(count('visitor')).toBe(ROUNDS * 4);
    expect(count('assistant')).toBe(ROUNDS * 4);
    expect(count('agent')).toBe(ROUNDS * 2);
    // Each answer comes after its question.
    let open = 0;
    for (const r of rows) {
      if (r.role === 'visitor') open++;
      if (r.role === 'assistant') expect(--open).toBeGreaterThanOrEqual(0);
    }
    // The live feed carries every message once, in the same order.
    const events = await t.runtime.db.withTenant(
      a.tenant.id,
      { requestId: null },
      async (tx) =>
        (
          await tx.query<{ payload: { message: { id: string } } }>(
            "SELECT payload FROM conversation_events WHERE conversation_id = $1 AND type = 'message' ORDER BY id",
            [convId],
          )
        ).rows,
    );
    expect(events).toHaveLength(rows.length);
  });

  test('one send retried while the first is still running, and again after: stored once, seq 1..N, the same message each time', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const convId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const send = () => v.call('POST', `/conversations/${convId}/messages`, { text: 'Do you ship abroad?', clientMessageId: 'once' });
    const raced = await Promise.all([send(), send(), send(), send()]);
    const later = await send();
    const ids = [...raced, later].map((r) => {
      expect(r.status).toBe(200);
      return r.body.events.find((e: { type: string }) => e.type === 'message')?.message.id ?? r.body.message?.id;
    });
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(1);
    const rows = await stored(convId);
    expectTotalOrder(rows);
    expect(rows.filter((r) => r.role === 'visitor')).toHaveLength(1);
    expect(rows.filter((r) => r.role === 'assistant')).toHaveLength(1);
  });

  test('API questions and agent replies racing on one API conversation: no 5xx, each answered, seq 1..N', async () => {
    const first = await call(t.url, 'POST', '/v1/answers', { key: a.secretKey, body: { question: 'How long does shipping take?' } });
    expect(first.status).toBe(200);
    const conversationId = first.body.conversationId as string;
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const asks = Array.from({ length: 4 }, (_, i) =>
        call(t.url, 'POST', '/v1/answers', { key: a.secretKey, body: { question: `Are returns free? (${round}.${i})`, conversationId } }),
      );
      const replies = Array.from({ length: 2 }, (_, i) =>
        admin('POST', `/conversations/${conversationId}/messages`, { text: `Agent note ${round}.${i}`, agent: 'Kim' }),
      );
      for (const r of await Promise.all([...asks, ...replies])) statuses.push(r.status);
    }
    expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);
    const rows = await stored(conversationId);
    expectTotalOrder(rows);
    expect(rows.filter((r) => r.role === 'visitor')).toHaveLength(13);
    expect(rows.filter((r) => r.role === 'assistant')).toHaveLength(13);
  });
});

describe('migration 071', () => {
  test('backfills the counter from the messages already stored, so the next append follows them', async () => {
    const d = await createTestDb({ migrate: false });
    try {
      const all = loadMigrations();
      await d.db.withOwner((tx) =>
        migrate(
          tx,
          all.filter((m) => m.name < '071'),
        ),
      );
      const tenant = randomUUID();
      const conv = randomUUID();
      await d.db.withOwner(async (tx) => {
        await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Old')", [tenant]);
        await tx.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
        await tx.query('INSERT INTO conversations (id, tenant_id, visitor_id) VALUES ($1, $2, $3)', [conv, tenant, 'v']);
        for (const seq of [1, 2, 3]) {
          await tx.query("INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text) VALUES ($1, $2, $3, $4, 'visitor', 'hi')", [
            randomUUID(),
            tenant,
            conv,
            seq,
          ]);
        }
      });
      expect(await d.db.withOwner((tx) => migrate(tx, all))).toContain('071_conversation_seq.sql');
      const seqs = await d.db.withTenant(tenant, { requestId: null }, async (tx) => {
        await appendMessage(tx, { tenantId: tenant, conversationId: conv, role: 'agent', text: 'later' });
        return (await tx.query<{ seq: number }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conv])).rows.map((r) => r.seq);
      });
      expect(seqs).toEqual([1, 2, 3, 4]);
    } finally {
      await d.close();
    }
  });
});
