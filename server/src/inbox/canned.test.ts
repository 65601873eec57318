// Canned replies over HTTP: agents curate them (conversations:write), analysts read them, variables are
// checked on write and rendered by the one protocol function the console uses.
import { renderCannedReply } from '@parley/protocol';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember, type ConsoleClient } from '../test/console.js';
import { call } from '../test/http.js';
import { MAX_CANNED_REPLIES } from './service.js';
import { countCanned, insertCanned } from './store.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let agent: ConsoleClient;
let analyst: ConsoleClient;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  agent = (await signedInMember(t, a.tenant.id, 'agent')).client;
  analyst = (await signedInMember(t, a.tenant.id, 'analyst')).client;
});
afterAll(() => t.close());

describe('canned replies', () => {
  test('create, list, edit, delete; audited; variables rendered with the protocol function', async () => {
    const made = await agent.call('POST', '/v1/admin/canned-replies', {
      title: 'Greeting',
      body: 'Hi {{visitor.name}}, {{ agent.name }} here.',
      shortcut: 'hi',
    });
    expect(made.status).toBe(201);
    const id = made.body.cannedReply.id;
    expect(made.body.cannedReply).toMatchObject({ title: 'Greeting', shortcut: 'hi' });
    expect((await analyst.call('GET', '/v1/admin/canned-replies')).body.cannedReplies.map((c: any) => c.id)).toEqual([id]);
    const body = made.body.cannedReply.body;
    expect(renderCannedReply(body, { visitorName: 'Ada', agentName: 'Sam' })).toBe('Hi Ada, Sam here.');
    expect(renderCannedReply(body, { agentName: 'Sam' })).toBe('Hi there, Sam here.');
    const edited = await agent.call('PATCH', `/v1/admin/canned-replies/${id}`, { body: 'Hello {{visitor.name}}!', shortcut: null });
    expect(edited.body.cannedReply).toMatchObject({ title: 'Greeting', body: 'Hello {{visitor.name}}!', shortcut: null });
    expect((await agent.call('DELETE', `/v1/admin/canned-replies/${id}`)).status).toBe(204);
    expect((await agent.call('DELETE', `/v1/admin/canned-replies/${id}`)).status).toBe(404);
    const actions = (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey })).body.entries.map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['canned_reply.create', 'canned_reply.update', 'canned_reply.delete']));
  });

  test('attacks: an analyst cannot write, another tenant cannot see or touch, bad variables and shapes are refused', async () => {
    const denied = await analyst.call('POST', '/v1/admin/canned-replies', { title: 'x', body: 'y' });
    expect(denied.status).toBe(403);
    const mine = (await agent.call('POST', '/v1/admin/canned-replies', { title: 'Refunds', body: 'Refunds take 5 days.', shortcut: 'refund' })).body
      .cannedReply;
    expect((await call(t.url, 'GET', '/v1/admin/canned-replies', { key: b.secretKey })).body.cannedReplies).toEqual([]);
    expect((await call(t.url, 'PATCH', `/v1/admin/canned-replies/${mine.id}`, { key: b.secretKey, body: { title: 'pwned' } })).status).toBe(404);
    expect((await call(t.url, 'DELETE', `/v1/admin/canned-replies/${mine.id}`, { key: b.secretKey })).status).toBe(404);
    for (const bad of [
      { title: 'x', body: 'Hi {{visitor.password}}' },
      { title: '', body: 'y' },
      { title: 'x', body: 'y'.repeat(4001) },
      { title: 'x', body: 'y', shortcut: 'Has Spaces' },
      { title: 'x', body: 'y', html: '<b>' },
    ]) {
      const res = await agent.call('POST', '/v1/admin/canned-replies', bad);
      expect(res.status, JSON.stringify(bad).slice(0, 50)).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    const taken = await agent.call('POST', '/v1/admin/canned-replies', { title: 'Other', body: 'z', shortcut: 'refund' });
    expect(taken.status).toBe(400);
    expect(taken.body.errors[0].path).toBe('/shortcut');
    const second = (await agent.call('POST', '/v1/admin/canned-replies', { title: 'Other', body: 'z' })).body.cannedReply;
    expect((await agent.call('PATCH', `/v1/admin/canned-replies/${second.id}`, { shortcut: 'refund' })).status).toBe(400);
    expect((await agent.call('PATCH', '/v1/admin/canned-replies/not-a-uuid', { title: 'x' })).status).toBe(404);
  });

  test('replies created at once stop at the cap', async () => {
    await t.runtime.db.withTenant(b.tenant.id, { requestId: null }, async (tx) => {
      const have = await countCanned(tx);
      for (let i = have; i < MAX_CANNED_REPLIES - 10; i++)
        await insertCanned(tx, { tenantId: b.tenant.id, id: randomUUID(), title: `Filler ${i}`, body: 'x', shortcut: null, by: null });
    });
    // The count and the insert were separate steps: on PostgreSQL 50 creates at once went past the cap.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(t.url, 'POST', '/v1/admin/canned-replies', { key: b.secretKey, body: { title: `Burst ${i}`, body: 'y' } }),
      ),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(10);
    expect(answers.filter((r) => r.status !== 201).map((r) => r.status)).toEqual(Array(30).fill(409));
    expect(await t.runtime.db.withTenant(b.tenant.id, { requestId: null }, countCanned)).toBe(MAX_CANNED_REPLIES);
  });
});
