// The history a turn reads: the last messages the assistant sees, notes never, and at a cost that does not
// grow with the conversation, whatever plan the database picks for it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Tx } from '../db/types.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { appendMessage, createConversation, messagesBefore, type NewMessage } from './service.js';

let t: TestApp;
let a: CreatedTenant;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant History', ['history.example']);
});
afterAll(() => t.close());

const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => t.runtime.db.withTenant(a.tenant.id, { requestId: null }, fn);

async function conversation(messages: Omit<NewMessage, 'tenantId' | 'conversationId'>[]) {
  const conv = await inTenant((tx) => createConversation(tx, { tenantId: a.tenant.id, visitorId: 'v-h', origin: null, subject: null }));
  const ids: string[] = [];
  await inTenant(async (tx) => {
    for (const m of messages) ids.push((await appendMessage(tx, { ...m, tenantId: a.tenant.id, conversationId: conv.id })).message.id);
  });
  return { id: conv.id, ids };
}
const visitor = (text: string) => ({ role: 'visitor' as const, text });
const assistant = (text: string) => ({ role: 'assistant' as const, text });
const note = (text: string) => ({ role: 'note' as const, text, author: { id: 'agent-1', name: null } });

describe('the history before a question', () => {
  test('the last messages oldest first, notes never; before a message, what came before it', async () => {
    const c = await conversation([visitor('q1'), assistant('a1'), note('n1'), visitor('q2'), assistant('a2'), visitor('q3')]);
    const texts = (messageId: string | null, limit: number) =>
      inTenant((tx) => messagesBefore(tx, c.id, messageId, limit)).then((r) => r.map((m) => m.text));
    expect(await texts(null, 8)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3']);
    expect(await texts(null, 2)).toEqual(['a2', 'q3']);
    expect(await texts(c.ids[5]!, 3)).toEqual(['a1', 'q2', 'a2']);
    expect(await texts(c.ids[0]!, 8)).toEqual([]);
    const empty = await conversation([]);
    expect(await inTenant((tx) => messagesBefore(tx, empty.id, null, 8))).toEqual([]);
  });

  test('notes that fill the window do not hide the messages before them', async () => {
    const c = await conversation([visitor('q1'), assistant('a1'), ...Array.from({ length: 70 }, (_, i) => note(`n${i}`)), visitor('q2')]);
    const history = await inTenant((tx) => messagesBefore(tx, c.id, null, 8));
    expect(history.map((m) => m.text)).toEqual(['q1', 'a1', 'q2']);
  });

  test('a long conversation is read through a window of its last messages, under every plan the database may pick', async () => {
    const c = await conversation(Array.from({ length: 300 }, (_, i) => (i % 2 ? assistant(`a${i}`) : visitor(`q${i}`))));
    // The statement as the history read sends it.
    let sent: { sql: string; params: readonly unknown[] } | undefined;
    await inTenant((tx) =>
      messagesBefore(
        { ...tx, query: (sql: string, params?: readonly unknown[]) => ((sent = { sql, params: params ?? [] }), tx.query(sql, params)) } as Tx,
        c.id,
        null,
        8,
      ),
    );
    const window = 32;
    for (const planner of ['', 'enable_indexscan', 'enable_bitmapscan', 'enable_sort']) {
      const read = await inTenant(async (tx) => {
        if (planner) await tx.query(`SELECT set_config('${planner}', 'off', true)`);
        const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sent!.sql}`, sent!.params);
        return rowsReadFrom('messages', rows[0]!['QUERY PLAN']);
      });
      expect(read, planner || 'default plan').toBeGreaterThan(0);
      expect(read, planner || 'default plan').toBeLessThanOrEqual(window);
    }
  });
});

/** The rows the plan's scans of `table` read: those they returned and those their filters dropped. */
function rowsReadFrom(table: string, plan: unknown): number {
  const root = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: Node }[];
  interface Node {
    'Relation Name'?: string;
    'Actual Rows': number;
    'Actual Loops': number;
    'Rows Removed by Filter'?: number;
    'Rows Removed by Index Recheck'?: number;
    Plans?: Node[];
  }
  const walk = (n: Node): number =>
    (n['Relation Name'] === table
      ? (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops']
      : 0) + (n.Plans ?? []).reduce((s, p) => s + walk(p), 0);
  return walk(root[0]!.Plan);
}
