// The approval rail over the real app: a tenant defines actions, a verified visitor asks for them, people
// approve or reject, the sweep expires what waited too long, and the one executor calls the tenant's
// endpoint (a real local HTTP server verifying every call with @parley/node's verifyWebhook). Attacks:
// approving one's own proposal, from another tenant, executing a proposal that is not approved (pending,
// rejected, expired, executed: replay), a sensitive proposal with one agent's approval, an unverified
// visitor, arguments off the schema, a subject smuggled in the arguments, an endpoint that is not public;
// and the database itself refusing illegal transitions and self-approval when the app is bypassed.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@parley/node';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vectorStoreFor } from '../runtime.js';
import { deleteTenantNow } from '../tenants/deletion.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { openStream } from '../test/stream.js';
import { identityToken } from '../test/identity.js';
import { Visitor } from '../test/widget.js';
import { execute } from './executor.js';
import { propose, type ApprovalDeps } from './service.js';
import * as store from './store.js';
import { approvalSweep, EXECUTING_TIMEOUT_MS, STRANDED_AFTER_MS } from './sweep.js';

interface Call {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  event: any;
}

/** The tenant's action endpoint: verifies each call with the action's secret, answers as told. */
class Endpoint {
  calls: Call[] = [];
  secret = '';
  answer: { status: number; body: string } = { status: 200, body: '{"ok":true}' };
  url = '';
  private server!: Server;
  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event: unknown;
        try {
          event = verifyWebhook(body, req.headers, this.secret);
        } catch {
          return void res.writeHead(401).end('bad signature');
        }
        this.calls.push({ headers: req.headers, body, event });
        res.writeHead(this.answer.status, { 'content-type': 'application/json' }).end(this.answer.body);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/actions`;
    return this;
  }
  close() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let deps: ApprovalDeps;
let signer: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const endpoint = new Endpoint();
const ORIGIN = 'https://a.example';
const people: Record<string, { client: ConsoleClient; memberId: string }> = {};

const ORDER_SCHEMA = {
  type: 'object',
  properties: { orderId: { type: 'string', pattern: '^[A-Z0-9]{4,12}$' }, note: { type: 'string' } },
  required: ['orderId'],
};

function userToken(sub: string) {
  return identityToken({ alg: 'ES256', kid: 'k1', key: signer, tenant: a.tenant.id }, sub, { name: 'Ada' });
}

/** A visitor of tenant A in a new conversation, signed in as `sub` unless null. */
async function visitor(sub: string | null = 'user-ada') {
  const v = new Visitor(t.url, a.publishableKey, ORIGIN);
  expect((await v.start()).status).toBe(200);
  if (sub) {
    const res = await v.call('POST', '/identify', { token: await userToken(sub) });
    expect(res.status).toBe(200);
    v.adopt(res.body.session);
  }
  const conversation = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  return { v, conversation };
}

async function defineAction(risk: 'read' | 'write' | 'sensitive', extra: Record<string, unknown> = {}) {
  const res = await call(t.url, 'POST', '/v1/admin/actions', {
    key: a.secretKey,
    body: {
      name: `${risk}_${crypto.randomUUID().slice(0, 8)}`,
      description: `A ${risk} action`,
      inputSchema: ORDER_SCHEMA,
      endpoint: endpoint.url,
      risk,
      ...extra,
    },
  });
  expect(res.status, res.text).toBe(201);
  endpoint.secret = res.body.secret;
  return res.body.action.id as string;
}

const ask = (v: Visitor, conversation: string, actionId: string, args: Record<string, unknown> = { orderId: 'AB12' }) =>
  v.call('POST', `/conversations/${conversation}/actions`, { actionId, arguments: args });
const approveAs = (who: string, id: string, reason?: string) =>
  people[who]!.client.call('POST', `/v1/admin/approvals/${id}/approve`, reason ? { reason } : {});
const rejectAs = (who: string, id: string) => people[who]!.client.call('POST', `/v1/admin/approvals/${id}/reject`, { reason: 'not today' });
const owner = <T = any>(sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<T>(sql, params));
const auditActions = async (id: string) =>
  (await owner<{ action: string }>('SELECT action FROM audit_entries WHERE target_id = $1 ORDER BY id', [id])).rows.map((r) => r.action);
/** Moves a proposal's clock: its expiry (or claim time) into the past, as time passing would. */
async function age(id: string, column: 'expires_at' | 'executing_at') {
  await owner('ALTER TABLE approval_proposals DISABLE TRIGGER approval_proposals_transition');
  try {
    await owner(`UPDATE approval_proposals SET ${column} = now() - interval '1 hour' WHERE id = $1`, [id]);
  } finally {
    await owner('ALTER TABLE approval_proposals ENABLE TRIGGER approval_proposals_transition');
  }
}

beforeAll(async () => {
  await endpoint.start();
  t = await startTestApp();
  a = await t.tenant('Rail A', ['a.example']);
  b = await t.tenant('Rail B', ['b.example']);
  deps = t.app.locals.approvals as ApprovalDeps;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  signer = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: a.secretKey, body: { mode: 'optional', publicKeys: [jwk] } })).status).toBe(204);
  for (const [name, role] of [
    ['agent1', 'agent'],
    ['agent2', 'agent'],
    ['admin', 'admin'],
    ['analyst', 'analyst'],
  ] as const)
    people[name] = await signedInMember(t, a.tenant.id, role);
  people.otherAdmin = await signedInMember(t, b.tenant.id, 'admin');
  // A webhook endpoint subscribed to the rail's events (nothing listens there: the events are what is checked).
  const hook = await call(t.url, 'POST', '/v1/admin/webhooks/endpoints', {
    key: a.secretKey,
    body: { url: 'http://127.0.0.1:9/hooks', events: ['approval.requested', 'approval.decided', 'action.executed', 'action.failed'] },
  });
  expect(hook.status, hook.text).toBe(201);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await endpoint.close();
});

describe('actions', () => {
  test('an admin defines an action (secret shown once); an agent cannot; an endpoint that is not public is refused', async () => {
    const id = await defineAction('write');
    const list = await call(t.url, 'GET', '/v1/admin/actions', { key: a.secretKey });
    expect(list.body.actions.find((x: any) => x.id === id)).toMatchObject({ risk: 'write', enabled: true, expiresAfterSeconds: 86400 });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    expect((await people.agent1!.client.call('GET', '/v1/admin/actions')).status).toBe(403);
    const bad = await call(t.url, 'POST', '/v1/admin/actions', {
      key: a.secretKey,
      body: { name: 'metadata', description: 'x', inputSchema: ORDER_SCHEMA, endpoint: 'http://169.254.169.254/latest', risk: 'read' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('/endpoint');
    const noObject = await call(t.url, 'POST', '/v1/admin/actions', {
      key: a.secretKey,
      body: { name: 'scalar', description: 'x', inputSchema: { type: 'string' }, endpoint: endpoint.url, risk: 'read' },
    });
    expect(noObject.status).toBe(400);
    // Property names reach the model as the schema's shape: personal data as one is refused, naming where, and not stored.
    const ordinary = {
      type: 'object',
      properties: {
        email: { type: 'string' },
        phoneNumber: { type: 'string' },
        customer_name: { type: 'string' },
        address_line_1: { type: 'string' },
      },
    };
    const plain = await call(t.url, 'POST', '/v1/admin/actions', {
      key: a.secretKey,
      body: { name: 'ordinary_keys', description: 'x', inputSchema: ordinary, endpoint: endpoint.url, risk: 'read' },
    });
    expect(plain.status, plain.text).toBe(201);
    const leaky = { type: 'object', properties: { orderId: { type: 'string' }, 'refund to jane.doe@example.com': { type: 'boolean' } } };
    const named = await call(t.url, 'POST', '/v1/admin/actions', {
      key: a.secretKey,
      body: { name: 'leaky_keys', description: 'x', inputSchema: leaky, endpoint: endpoint.url, risk: 'read' },
    });
    expect(named.status).toBe(400);
    expect(named.body.errors).toEqual([expect.objectContaining({ path: '/inputSchema/properties', code: 'personal_data_in_key' })]);
    expect(named.text).not.toContain('jane.doe');
    const deep = { type: 'object', $defs: { addr: { type: 'object', properties: { '+44 20 7946 0958': { type: 'string' } } } } };
    const patched = await call(t.url, 'PATCH', `/v1/admin/actions/${id}`, { key: a.secretKey, body: { inputSchema: deep } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors[0]).toMatchObject({ path: '/inputSchema/$defs/addr/properties', code: 'personal_data_in_key' });
    expect((await call(t.url, 'GET', '/v1/admin/actions', { key: a.secretKey })).body.actions.map((x: any) => x.name)).not.toContain('leaky_keys');
    // Another tenant does not see it.
    expect((await call(t.url, 'GET', '/v1/admin/actions', { key: b.secretKey })).body.actions).toEqual([]);
    expect((await call(t.url, 'PATCH', `/v1/admin/actions/${id}`, { key: b.secretKey, body: { risk: 'read' } })).status).toBe(404);
  });
});

describe('the rail', () => {
  // Found by an eighth outside review: the summary was numbered from 1 on its own, so its [EMAIL_1] was the
  // visitor's [EMAIL_1], and an answer about the recipient showed the visitor their own name and address.
  test("a result's personal data gets placeholders of its own, never the visitor's, and they are never restored", async () => {
    const id = await defineAction('read');
    const { v, conversation } = await visitor('user-ada');
    await v.say(conversation, 'I am Ingrid Solberg, ingrid.solberg@example.no');
    endpoint.answer = { status: 200, body: JSON.stringify({ status: 'delivered', to: 'Bob Stone', email: 'bob.stone@example.net' }) };
    const res = await ask(v, conversation, id, { orderId: 'AB12', note: 'who got it' });
    expect(res.status, res.text).toBe(201);
    const summary = res.body.proposal.result.summary as string;
    expect(summary).toContain('delivered');
    expect(summary).not.toMatch(/bob\.stone|\[EMAIL_1\]|\[PERSON_1\]/);
    expect(summary).toMatch(/\[EMAIL_K1\]/);
    // As the visitor reads the thread, the visitor's own values are not put in its place.
    const thread = JSON.stringify((await v.call('GET', `/conversations/${conversation}`)).body);
    expect(thread).not.toMatch(/delivered[^"]*ingrid/i);
  });

  test('a read action runs at once: the signed call carries the verified subject, the result is a bounded, redacted summary', async () => {
    const id = await defineAction('read');
    const { v, conversation } = await visitor('user-ada');
    endpoint.calls = [];
    endpoint.answer = { status: 200, body: JSON.stringify({ status: 'shipped', contact: 'ada.lovelace@example.com', pad: 'x'.repeat(5000) }) };
    const res = await ask(v, conversation, id, { orderId: 'AB12', note: 'where is it' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.proposal).toMatchObject({ status: 'executed', result: { statusCode: 200 }, error: null });
    expect(res.body.proposal.result.summary).toContain('shipped');
    expect(res.body.proposal.result.summary).not.toContain('ada.lovelace@example.com');
    expect(res.body.proposal.result.summary.length).toBeLessThanOrEqual(1000);
    expect(endpoint.calls).toHaveLength(1);
    const c = endpoint.calls[0]!;
    expect(c.headers['webhook-id']).toBe(res.body.proposal.id);
    expect(c.event).toMatchObject({
      type: 'action.call',
      tenantId: a.tenant.id,
      data: {
        proposalId: res.body.proposal.id,
        conversationId: conversation,
        subject: 'user-ada',
        arguments: { orderId: 'AB12', note: 'where is it' },
      },
    });
    // A wrong secret does not verify it.
    expect(() => verifyWebhook(c.body, c.headers as Record<string, string>, 'whsec_' + Buffer.alloc(24).toString('base64'))).toThrow();
    const got = await v.call('GET', `/conversations/${conversation}/actions/${res.body.proposal.id}`);
    expect(got.body.proposal.status).toBe('executed');
    expect(await auditActions(res.body.proposal.id)).toEqual(['approval.propose', 'action.execute', 'action.executed']);
  });

  test('a write action waits for an agent; the visitor sees it wait, then the result; approval.requested and action.executed webhooks', async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    endpoint.answer = { status: 200, body: '{"refund":"queued"}' };
    const res = await ask(v, conversation, id);
    expect(res.body.proposal.status).toBe('pending');
    expect(endpoint.calls).toHaveLength(0);
    const pid = res.body.proposal.id as string;
    const pending = await people.agent1!.client.call('GET', '/v1/admin/approvals?status=pending');
    expect(pending.body.proposals.map((p: any) => p.id)).toContain(pid);
    expect(pending.body.proposals.find((p: any) => p.id === pid)).toMatchObject({ subject: 'user-ada', requestedBy: { kind: 'visitor' } });
    // An analyst holds no approvals:decide.
    expect((await approveAs('analyst', pid)).status).toBe(403);
    const ok = await approveAs('agent1', pid, 'checked the order');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.proposal).toMatchObject({ status: 'executed', result: { statusCode: 200 } });
    expect(ok.body.proposal.decisions).toEqual([
      expect.objectContaining({ by: { kind: 'member', id: people.agent1!.memberId }, decision: 'approve', reason: 'checked the order' }),
    ]);
    expect(endpoint.calls).toHaveLength(1);
    expect(endpoint.calls[0]!.event.data.subject).toBe('user-ada');
    // The visitor's feed: waiting, approved, executing, executed.
    const feed = await owner<{ payload: any }>("SELECT payload FROM conversation_events WHERE conversation_id = $1 AND type = 'action' ORDER BY id", [
      conversation,
    ]);
    expect(feed.rows.map((r) => r.payload.proposal.status)).toEqual(['pending', 'approved', 'executing', 'executed']);
    const hooks = await owner<{ type: string }>('SELECT type FROM webhook_events WHERE tenant_id = $1 AND body LIKE $2 ORDER BY created_at', [
      a.tenant.id,
      `%${pid}%`,
    ]);
    expect(hooks.rows.map((r) => r.type)).toEqual(['approval.requested', 'approval.decided', 'action.executed']);
    expect(await auditActions(pid)).toEqual(['approval.propose', 'approval.approve', 'action.execute', 'action.executed']);
    // Replay: approving or executing again calls nothing.
    expect((await approveAs('agent2', pid)).status).toBe(409);
    await expect(execute(deps, a.tenant.id, pid, null)).rejects.toMatchObject({ code: 'conflict' });
    expect(endpoint.calls).toHaveLength(1);
  });

  test('a rejected proposal is never executed; a failing endpoint fails the proposal (action.failed)', async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const rejected = (await ask(v, conversation, id)).body.proposal.id as string;
    const r = await rejectAs('agent1', rejected);
    expect(r.body.proposal.status).toBe('rejected');
    expect((await approveAs('agent2', rejected)).status).toBe(409);
    await expect(execute(deps, a.tenant.id, rejected, null)).rejects.toMatchObject({ code: 'conflict' });
    expect(endpoint.calls).toHaveLength(0);

    endpoint.answer = { status: 500, body: 'boom' };
    const failing = (await ask(v, conversation, id)).body.proposal.id as string;
    const f = await approveAs('agent1', failing);
    expect(f.body.proposal).toMatchObject({ status: 'failed', result: { statusCode: 500 }, error: 'The endpoint answered HTTP 500.' });
    expect(await auditActions(failing)).toEqual(['approval.propose', 'approval.approve', 'action.execute', 'action.failed']);
    endpoint.answer = { status: 200, body: '{}' };
  });

  test('a sensitive proposal needs an admin, or two different people: one agent is not enough, nor the same agent twice', async () => {
    const id = await defineAction('sensitive');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const p1 = (await ask(v, conversation, id)).body.proposal.id as string;
    expect((await approveAs('agent1', p1)).body.proposal.status).toBe('pending');
    expect((await approveAs('agent1', p1)).status).toBe(409);
    await expect(execute(deps, a.tenant.id, p1, null)).rejects.toMatchObject({ code: 'conflict' });
    expect(endpoint.calls).toHaveLength(0);
    expect((await approveAs('agent2', p1)).body.proposal.status).toBe('executed');
    const p2 = (await ask(v, conversation, id)).body.proposal.id as string;
    expect((await approveAs('admin', p2)).body.proposal.status).toBe('executed');
    expect(endpoint.calls).toHaveLength(2);
  });

  test("two keys are not two people: a sensitive proposal counts a key as its maker's decision, and a key no person made as none", async () => {
    const id = await defineAction('sensitive');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const key = async (by: { key: string } | { client: ConsoleClient }, capabilities: string[]) => {
      const body = { name: `decider ${crypto.randomUUID().slice(0, 6)}`, capabilities };
      const res =
        'key' in by
          ? await call(t.url, 'POST', '/v1/admin/api-keys', { key: by.key, body })
          : await by.client.call('POST', '/v1/admin/api-keys', body);
      expect(res.status, res.text).toBe(201);
      return res.body.secret as string;
    };
    const approveWith = (secret: string, pid: string) => call(t.url, 'POST', `/v1/admin/approvals/${pid}/approve`, { key: secret, body: {} });
    // The attack: a key that makes keys mints a second decider; together they executed the action.
    const maker = await key({ key: a.secretKey }, ['approvals:decide', 'keys:write']);
    const minted = await key({ key: maker }, ['approvals:decide']);
    const p1 = (await ask(v, conversation, id)).body.proposal.id as string;
    expect((await approveWith(maker, p1)).body.proposal.status).toBe('pending');
    expect((await approveWith(minted, p1)).body.proposal.status).toBe('pending');
    // A key a person made counts as that person: with another person's approval, that is two.
    const admin = people.admin!;
    const own = await key(admin, ['approvals:decide']);
    const p2 = (await ask(v, conversation, id)).body.proposal.id as string;
    expect((await approveWith(own, p2)).body.proposal.status).toBe('pending');
    expect((await approveAs('agent1', p2)).body.proposal.status).toBe('executed');
    expect(endpoint.calls).toHaveLength(1);
    // The database counts the same way: two keys no person made do not approve, even written directly.
    await expect(
      t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
        tx.query("UPDATE approval_proposals SET status = 'approved' WHERE id = $1", [p1]),
      ),
    ).rejects.toThrow(/approval rail/);
  });

  // Attack (third review): an admin's key that decides and writes actions weighed as an admin's approval
  // after its maker was demoted to agent, and approved a sensitive proposal alone. A key weighs what its
  // maker's current role weighs.
  test("a key's approval weighs what its maker is now: demoted to agent, one approval is not enough", async () => {
    const id = await defineAction('sensitive');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const maker = await signedInMember(t, a.tenant.id, 'admin');
    const made = await maker.client.call('POST', '/v1/admin/api-keys', { name: 'decider', capabilities: ['approvals:decide', 'actions:write'] });
    expect(made.status).toBe(201);
    const owner = await signedInMember(t, a.tenant.id, 'owner');
    expect((await owner.client.call('PATCH', `/v1/admin/members/${maker.memberId}`, { role: 'agent' })).status).toBe(200);
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    const approved = await call(t.url, 'POST', `/v1/admin/approvals/${pid}/approve`, { key: made.body.secret, body: {} });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.proposal.status).toBe('pending');
    expect(endpoint.calls).toHaveLength(0);
    // Another person's approval makes two.
    expect((await approveAs('agent1', pid)).body.proposal.status).toBe('executed');
  });

  test('expiry: the sweep expires a pending proposal past its time; it can then be neither approved nor executed', async () => {
    const id = await defineAction('write', { expiresAfterSeconds: 60 });
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    await age(pid, 'expires_at');
    const swept = await approvalSweep(deps);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect((await v.call('GET', `/conversations/${conversation}/actions/${pid}`)).body.proposal.status).toBe('expired');
    expect((await approveAs('agent1', pid)).status).toBe(409);
    await expect(execute(deps, a.tenant.id, pid, null)).rejects.toMatchObject({ code: 'conflict' });
    expect(endpoint.calls).toHaveLength(0);
    expect(await auditActions(pid)).toEqual(['approval.propose', 'approval.expire']);
  });

  test('a crash between claim and call leaves executing; the sweep fails it after the timeout and nothing is ever called', async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    // Approved by a decision, then "the process dies" right after claiming it.
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, async (tx) => {
      await store.insertDecision(tx, a.tenant.id, {
        proposalId: pid,
        by: { kind: 'member', id: people.agent1!.memberId },
        decision: 'approve',
        reason: null,
      });
      expect(await store.transition(tx, pid, 'pending', 'approved')).toBe(true);
      expect(await store.claimApproved(tx, pid)).toEqual({ id: pid });
    });
    await age(pid, 'executing_at');
    expect((await approvalSweep(deps)).interrupted).toBeGreaterThanOrEqual(1);
    const after = await people.agent1!.client.call('GET', `/v1/admin/approvals/${pid}`);
    expect(after.body.proposal.status).toBe('failed');
    expect(after.body.proposal.error).toMatch(/interrupted/);
    await expect(execute(deps, a.tenant.id, pid, null)).rejects.toMatchObject({ code: 'conflict' });
    expect(endpoint.calls).toHaveLength(0);
  });
});

describe('the visitor and the sweep', () => {
  test("the visitor's reason is redacted before it is stored, as their messages are", async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    const reason = 'Please email jane.doe@example.com, or call +1 415 555 0132; my card 4111 1111 1111 1111 was charged twice';
    const res = await v.call('POST', `/conversations/${conversation}/actions`, { actionId: id, arguments: { orderId: 'AB12' }, reason });
    expect(res.status, res.text).toBe(201);
    const pid = res.body.proposal.id as string;
    const stored = (await owner<{ reason: string }>('SELECT reason FROM approval_proposals WHERE id = $1', [pid])).rows[0]!.reason;
    for (const value of ['jane.doe@example.com', '555 0132', '4111 1111 1111 1111']) expect(stored).not.toContain(value);
    expect(stored).toContain('was charged twice');
    // What an approver reads is the stored text.
    expect((await people.agent1!.client.call('GET', `/v1/admin/approvals/${pid}`)).body.proposal.reason).toBe(stored);
  });

  test("the visitor's live stream shows the wait for a person, then the result", async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    const live = await openStream(`${t.url}/v1/widget/conversations/${conversation}/events`, {
      origin: ORIGIN,
      'x-parley-key': a.publishableKey,
      authorization: `Bearer ${v.token}`,
    });
    try {
      expect(live.status).toBe(200);
      const pid = (await ask(v, conversation, id)).body.proposal.id as string;
      const waiting = await live.next((e) => e.event === 'action' && e.data.proposal.status === 'pending');
      expect(waiting.data.proposal).toMatchObject({ id: pid, action: { id, risk: 'write' } });
      expect(waiting.data.proposal.subject).toBeUndefined();
      expect(waiting.data.proposal.decisions).toBeUndefined();
      await approveAs('agent1', pid);
      const done = await live.next((e) => e.event === 'action' && e.data.proposal.status === 'executed');
      expect(done.data.proposal.result.statusCode).toBe(200);
    } finally {
      live.close();
    }
  });

  test('an approved proposal whose executor died before claiming it is executed by the sweep, once', async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    // The approval committed, then the process died before the call.
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, async (tx) => {
      await store.insertDecision(tx, a.tenant.id, {
        proposalId: pid,
        by: { kind: 'member', id: people.agent2!.memberId },
        decision: 'approve',
        reason: null,
      });
      expect(await store.transition(tx, pid, 'pending', 'approved')).toBe(true);
    });
    // Late enough that the approval is stranded, not so late that the claimed call looks interrupted
    // (the other sweep would then mark it failed while it runs).
    const later = Date.now() + STRANDED_AFTER_MS + 20_000;
    expect(later).toBeLessThan(Date.now() + EXECUTING_TIMEOUT_MS);
    const [one, two] = await Promise.all([approvalSweep(deps, { now: later }), approvalSweep(deps, { now: later })]);
    expect(one.executed + two.executed).toBe(1);
    expect(endpoint.calls.filter((c) => c.event.data.proposalId === pid)).toHaveLength(1);
    expect((await v.call('GET', `/conversations/${conversation}/actions/${pid}`)).body.proposal.status).toBe('executed');
  });

  test('one module calls action endpoints: only executor.ts opens an action secret or signs a call', () => {
    const dir = new URL('..', import.meta.url).pathname;
    const sources = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const openers = sources.filter((f) => /openString\([^)]*ACTION_SECRET/.test(readFileSync(dir + f, 'utf8').replace(/\s+/g, ' ')));
    expect(openers).toEqual(['approvals/executor.ts']);
    const signers = sources.filter((f) => readFileSync(dir + f, 'utf8').includes('signatureHeader('));
    expect(signers.sort()).toEqual(['approvals/executor.ts', 'webhooks/worker.ts']);
  });
});

describe('attacks', () => {
  test('an unverified visitor cannot ask; nor with arguments off the schema; nor smuggling a subject', async () => {
    const id = await defineAction('read');
    endpoint.calls = [];
    const anon = await visitor(null);
    const refused = await ask(anon.v, anon.conversation, id);
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('/docs/problems/identity-required');
    const { v, conversation } = await visitor('user-ada');
    const off = await ask(v, conversation, id, { orderId: 'no!' });
    expect(off.status).toBe(400);
    expect(off.body.errors[0].path).toBe('/arguments/orderId');
    const missing = await ask(v, conversation, id, {});
    expect(missing.status).toBe(400);
    const smuggled = await ask(v, conversation, id, { orderId: 'AB12', subject: 'user-mallory' });
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.errors[0].path).toBe('/arguments/subject');
    expect(endpoint.calls).toHaveLength(0);
    expect((await owner('SELECT 1 FROM approval_proposals WHERE conversation_id = ANY($1)', [[anon.conversation, conversation]])).rows).toEqual([]);
    // Another visitor's conversation is not theirs to ask in, or to read.
    const other = await visitor('user-bob');
    expect((await ask(v, other.conversation, id)).status).toBe(404);
    // Every refused ask is audited, with why and never the arguments.
    const refusals = await owner<{ target_id: string; metadata: any }>(
      "SELECT target_id, metadata FROM audit_entries WHERE action = 'approval.refuse' AND target_id = ANY($1) ORDER BY id",
      [[anon.conversation, conversation, other.conversation]],
    );
    expect(refusals.rows.map((r) => [r.target_id, r.metadata.code])).toEqual([
      [anon.conversation, 'identity_required'],
      [conversation, 'invalid_input'],
      [conversation, 'invalid_input'],
      [conversation, 'invalid_input'],
      [other.conversation, 'not_found'],
    ]);
    expect(JSON.stringify(refusals.rows)).not.toContain('user-mallory');
  });

  test("a proposal reaches whoever decides live, in a conversation with no handoff; an analyst's inbox stream does not get it", async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor('user-ada');
    const streamOf = (who: string) =>
      openStream(`${t.url}/v1/admin/inbox/stream`, { ...people[who]!.client.pageHeaders, cookie: people[who]!.client.cookieHeader() });
    const [agent, analyst] = await Promise.all([streamOf('agent2'), streamOf('analyst')]);
    try {
      expect([agent.status, analyst.status]).toEqual([200, 200]);
      const pid = (await ask(v, conversation, id)).body.proposal.id as string;
      const seen = await agent.next((e) => e.event === 'action' && e.data.proposal.id === pid);
      expect(seen.data).toMatchObject({ conversationId: conversation, proposal: { status: 'pending', action: { id } } });
      // The analyst's stream carries on (a later presence or counts event), without the proposal.
      await new Promise((r) => setTimeout(r, 300));
      expect(analyst.events.some((e) => e.event === 'action')).toBe(false);
    } finally {
      agent.close();
      analyst.close();
    }
  });

  test("a person's data-subject export holds the actions asked for about them, and erasing them takes the proposals too", async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor('user-dsr');
    const asked = await ask(v, conversation, id, { orderId: 'DSR123', note: 'leave it with the neighbour' });
    expect(asked.status).toBe(201);
    const out = await call(t.url, 'POST', '/v1/admin/privacy/export', {
      key: a.secretKey,
      body: { type: 'user', id: 'user-dsr', reason: 'Access request, ticket DSR-12' },
    });
    expect(out.status, out.text).toBe(200);
    expect(out.body.conversations[0].actions).toEqual([
      expect.objectContaining({ arguments: { orderId: 'DSR123', note: 'leave it with the neighbour' }, status: 'pending', result: null }),
    ]);
    expect((await call(t.url, 'POST', '/v1/admin/privacy/erase', { key: a.secretKey, body: { type: 'user', id: 'user-dsr' } })).status).toBe(200);
    expect((await owner('SELECT 1 FROM approval_proposals WHERE id = $1', [asked.body.proposal.id])).rows).toEqual([]);
  });

  test('the requester cannot approve their own proposal; another tenant cannot approve or see it', async () => {
    const id = await defineAction('write');
    endpoint.calls = [];
    // A member's own proposal (as later callers of propose(), e.g. admin operations, make them).
    const own = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      propose(
        tx,
        deps,
        { tenantId: a.tenant.id, requestId: null, actor: { type: 'member', id: people.agent1!.memberId } },
        {
          actionId: id,
          arguments: { orderId: 'AB12' },
          reason: null,
          conversationId: null,
          subject: null,
          requestedBy: { kind: 'member', id: people.agent1!.memberId },
        },
      ),
    );
    const self = await approveAs('agent1', own.id);
    expect(self.status).toBe(403);
    const cross = await people.otherAdmin!.client.call('POST', `/v1/admin/approvals/${own.id}/approve`, {});
    expect(cross.status).toBe(404);
    expect((await call(t.url, 'GET', `/v1/admin/approvals/${own.id}`, { key: b.secretKey })).status).toBe(404);
    expect((await call(t.url, 'GET', '/v1/admin/approvals', { key: b.secretKey })).body.proposals).toEqual([]);
    await expect(execute(deps, b.tenant.id, own.id, null)).rejects.toMatchObject({ code: 'not_found' });
    expect(endpoint.calls).toHaveLength(0);
    expect((await approveAs('agent2', own.id)).body.proposal.status).toBe('executed');
  });

  test('an endpoint that is not public is refused at call time too (outbound/): the proposal fails, nothing is called', async () => {
    const id = await defineAction('write');
    await owner("UPDATE actions SET endpoint = 'http://10.1.2.3/actions' WHERE id = $1", [id]);
    const { v, conversation } = await visitor();
    endpoint.calls = [];
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    const res = await approveAs('agent1', pid);
    expect(res.body.proposal.status).toBe('failed');
    expect(res.body.proposal.error).toMatch(/public host/);
    expect(endpoint.calls).toHaveLength(0);
  });

  test('the database refuses what buggy code might try: illegal transitions, approval without decisions, self-decision, content changes', async () => {
    const id = await defineAction('sensitive');
    const { v, conversation } = await visitor();
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    const visitorRef = (await owner<{ requested_by_id: string }>('SELECT requested_by_id FROM approval_proposals WHERE id = $1', [pid])).rows[0]!
      .requested_by_id;
    const asApp = (sql: string, params: unknown[]) => t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query(sql, params));
    const refused = /approval rail/;
    // Straight to approved, executing or executed: refused.
    for (const to of ['approved', 'executing', 'executed', 'failed'])
      await expect(asApp('UPDATE approval_proposals SET status = $2 WHERE id = $1', [pid, to])).rejects.toThrow(refused);
    // One agent's approval is not enough for a sensitive proposal, even written directly.
    await asApp(
      "INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision, admin) VALUES ($1, $2, 'member', $3, 'approve', true)",
      [a.tenant.id, pid, people.agent1!.memberId],
    );
    expect((await owner('SELECT admin FROM approval_decisions WHERE proposal_id = $1', [pid])).rows).toEqual([{ admin: false }]);
    await expect(asApp("UPDATE approval_proposals SET status = 'approved' WHERE id = $1", [pid])).rejects.toThrow(refused);
    // A second person's approval is recorded; the proposal's content still never changes.
    await asApp(
      "INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision) VALUES ($1, $2, 'member', $3, 'approve')",
      [a.tenant.id, pid, people.agent2!.memberId],
    );
    await expect(asApp(`UPDATE approval_proposals SET arguments = '{"orderId":"ZZZZ"}' WHERE id = $1`, [pid])).rejects.toThrow(refused);
    await expect(asApp("UPDATE approval_proposals SET subject = 'user-mallory' WHERE id = $1", [pid])).rejects.toThrow(refused);
    expect(visitorRef).toBeTruthy();
    // A read proposal of a write action, inserted approved: refused.
    const write = await defineAction('write');
    await expect(
      asApp(
        `INSERT INTO approval_proposals (tenant_id, id, action_id, risk, arguments, requested_by_kind, requested_by_id, status, expires_at)
         VALUES ($1, gen_random_uuid(), $2, 'read', '{}', 'key', 'k', 'approved', now() + interval '1 hour')`,
        [a.tenant.id, write],
      ),
    ).rejects.toThrow(refused);
    // A member deciding a proposal they requested: refused by the trigger.
    const own = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      propose(
        tx,
        deps,
        { tenantId: a.tenant.id, requestId: null, actor: { type: 'member', id: people.admin!.memberId } },
        {
          actionId: write,
          arguments: { orderId: 'AB12' },
          reason: null,
          conversationId: null,
          subject: null,
          requestedBy: { kind: 'member', id: people.admin!.memberId },
        },
      ),
    );
    await expect(
      asApp(
        "INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision) VALUES ($1, $2, 'member', $3, 'approve')",
        [a.tenant.id, own.id, people.admin!.memberId],
      ),
    ).rejects.toThrow(refused);
    // Under another tenant's RLS the proposal does not exist: the claim finds nothing.
    const claimed = await t.runtime.db.withTenant(b.tenant.id, { requestId: null }, (tx) => store.claimApproved(tx, own.id));
    expect(claimed).toBeNull();
  });
});

describe('data-subject erasure', () => {
  test("erasing a verified user takes their conversations' proposals (and decisions) with them", async () => {
    const id = await defineAction('write');
    const { v, conversation } = await visitor('user-eve');
    const pid = (await ask(v, conversation, id)).body.proposal.id as string;
    expect((await rejectAs('agent1', pid)).status).toBe(200);
    const erased = await call(t.url, 'POST', '/v1/admin/privacy/erase', { key: a.secretKey, body: { type: 'user', id: 'user-eve' } });
    expect(erased.status, erased.text).toBe(200);
    expect((await owner('SELECT 1 FROM approval_proposals WHERE id = $1', [pid])).rows).toEqual([]);
    expect((await owner('SELECT 1 FROM approval_decisions WHERE proposal_id = $1', [pid])).rows).toEqual([]);
    expect((await owner("SELECT 1 FROM approval_proposals WHERE subject = 'user-ada'")).rows.length).toBeGreaterThan(0);
  });
});

describe('tenant deletion', () => {
  test("a tenant's hard delete removes its actions, proposals and decisions (found from the catalog), and no other tenant's", async () => {
    const bAction = await call(t.url, 'POST', '/v1/admin/actions', {
      key: b.secretKey,
      body: { name: 'b_action', description: 'x', inputSchema: ORDER_SCHEMA, endpoint: endpoint.url, risk: 'write' },
    });
    expect(bAction.status).toBe(201);
    const count = async (table: string, tenantId: string) =>
      (await owner<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenantId])).rows[0]!.n;
    for (const table of ['actions', 'approval_proposals', 'approval_decisions']) expect(await count(table, a.tenant.id)).toBeGreaterThan(0);
    const { tombstone } = await deleteTenantNow({ ...t.runtime, vectors: vectorStoreFor(t.config) }, a.tenant.id, {
      requestId: null,
      actor: { type: 'cli', id: 'test' },
    });
    expect(tombstone.counts.approval_proposals).toBeGreaterThan(0);
    for (const table of ['actions', 'approval_proposals', 'approval_decisions']) expect(await count(table, a.tenant.id)).toBe(0);
    expect(await count('actions', b.tenant.id)).toBe(1);
  });
});
