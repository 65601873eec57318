// A decision counts only while whoever made it may still decide, over the real app. Attacks: member A
// approves a sensitive action, then A is removed (or disabled, or demoted to a role without
// approvals:decide), or the key that approved is revoked; B's single approval then approved it and the
// tenant's endpoint was called. An admin operation approved by an admin since demoted ran when its requester
// repeated it; an action approved but not yet called ran from the sweep after its approver was removed. Now
// such a decision is shown as no longer counting, the proposal waits for another person (an approved one goes
// back to pending, audited approval.reopen), nothing is called, and the database refuses the same.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { identityToken } from '../test/identity.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';
import { Visitor } from '../test/widget.js';
import type { ApprovalDeps } from './service.js';
import * as store from './store.js';
import { approvalSweep, STRANDED_AFTER_MS } from './sweep.js';

type Person = { client: ConsoleClient; memberId: string };

let t: TestApp;
let a: CreatedTenant;
let deps: ApprovalDeps;
let signer: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const endpoint = new WebhookReceiver();
const ORIGIN = 'https://a.example';

const owner = <T = any>(sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<T>(sql, params));
const auditOf = async (id: string) =>
  (await owner<{ action: string }>('SELECT action FROM audit_entries WHERE target_id = $1 ORDER BY id', [id])).rows.map((r) => r.action);
const approve = (p: Person, id: string) => p.client.call('POST', `/v1/admin/approvals/${id}/approve`, {});
const proposal = async (id: string) => (await call(t.url, 'GET', `/v1/admin/approvals/${id}`, { key: a.secretKey })).body.proposal;
const counting = async (id: string) => (await proposal(id)).decisions.map((d: any) => [d.by.id, d.counts]);
/** As the tenant's admin (its own key): the real routes that remove, disable, demote and revoke. */
const asTenant = (method: string, path: string, body?: unknown) => call(t.url, method, path, { key: a.secretKey, ...(body ? { body } : {}) });

async function defineAction(risk: 'write' | 'sensitive') {
  const res = await asTenant('POST', '/v1/admin/actions', {
    name: `${risk}_${crypto.randomUUID().slice(0, 8)}`,
    description: `A ${risk} action`,
    inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    endpoint: endpoint.url,
    risk,
  });
  expect(res.status, res.text).toBe(201);
  endpoint.secrets.push(res.body.secret);
  return res.body.action.id as string;
}

/** A verified visitor asks for the action in a new conversation: the proposal's id. */
async function ask(actionId: string): Promise<string> {
  const v = new Visitor(t.url, a.publishableKey, ORIGIN);
  expect((await v.start()).status).toBe(200);
  const token = await identityToken({ alg: 'ES256', kid: 'k1', key: signer, tenant: a.tenant.id }, 'user-ada', { name: 'Ada' });
  const identified = await v.call('POST', '/identify', { token });
  expect(identified.status, identified.text).toBe(200);
  v.adopt(identified.body.session);
  const conversation = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  const res = await v.call('POST', `/conversations/${conversation}/actions`, { actionId, arguments: { orderId: 'AB12' } });
  expect(res.status, res.text).toBe(201);
  expect(res.body.proposal.status).toBe('pending');
  return res.body.proposal.id as string;
}

/** A status written straight to the database as the app's role, bypassing the app's rules. */
const direct = (id: string, status: string) =>
  t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
    tx.query('UPDATE approval_proposals SET status = $2, executing_at = now() WHERE id = $1', [id, status]),
  );
const member = (role: 'owner' | 'admin' | 'agent') => signedInMember(t, a.tenant.id, role);

beforeAll(async () => {
  await endpoint.start();
  t = await startTestApp();
  a = await t.tenant('Standing A', ['a.example']);
  deps = t.app.locals.approvals as ApprovalDeps;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  signer = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  expect((await asTenant('PUT', '/v1/admin/identity', { mode: 'optional', publicKeys: [jwk] })).status).toBe(204);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await endpoint.close();
});

describe('a sensitive action: an approval stops counting when its approver can no longer decide', () => {
  const losses: [string, (m: Person) => Promise<number>][] = [
    ['removed from the workspace', async (m) => (await asTenant('DELETE', `/v1/admin/members/${m.memberId}`)).status],
    ['disabled', async (m) => (await asTenant('PATCH', `/v1/admin/members/${m.memberId}`, { status: 'disabled' })).status],
    [
      'demoted to analyst (no approvals:decide)',
      async (m) => (await asTenant('PATCH', `/v1/admin/members/${m.memberId}`, { role: 'analyst' })).status,
    ],
  ];
  for (const [how, lose] of losses)
    test(`A approves, A is ${how}, B approves: still pending, nothing is called; a third person completes it`, async () => {
      const pid = await ask(await defineAction('sensitive'));
      const [memberA, memberB, memberC] = [await member('agent'), await member('agent'), await member('agent')];
      endpoint.requests.length = 0;
      expect((await approve(memberA, pid)).body.proposal.status).toBe('pending');
      expect([200, 204]).toContain(await lose(memberA));
      const second = await approve(memberB, pid);
      expect(second.status, second.text).toBe(200);
      expect(second.body.proposal.status).toBe('pending');
      expect(endpoint.requests).toHaveLength(0);
      // The view shows A's approval, as no longer counting.
      expect(await counting(pid)).toEqual([
        [memberA.memberId, false],
        [memberB.memberId, true],
      ]);
      // The database counts the same way, even written directly.
      await expect(direct(pid, 'approved')).rejects.toThrow(/approval rail: a sensitive proposal needs more approvals/);
      // Another person who may decide makes two.
      expect((await approve(memberC, pid)).body.proposal.status).toBe('executed');
      expect(endpoint.requests).toHaveLength(1);
    });

  test("the key that approved is revoked: its maker's approval no longer counts", async () => {
    const pid = await ask(await defineAction('sensitive'));
    const maker = await member('admin');
    // A key an admin made that decides (without actions:write it weighs as one person, its maker).
    const made = await maker.client.call('POST', '/v1/admin/api-keys', { name: 'decider', capabilities: ['approvals:decide'] });
    expect(made.status, made.text).toBe(201);
    const [memberB, memberC] = [await member('agent'), await member('agent')];
    endpoint.requests.length = 0;
    const byKey = await call(t.url, 'POST', `/v1/admin/approvals/${pid}/approve`, { key: made.body.secret, body: {} });
    expect(byKey.body.proposal.status).toBe('pending');
    expect((await asTenant('DELETE', `/v1/admin/api-keys/${made.body.apiKey.id}`)).status).toBe(204);
    expect((await approve(memberB, pid)).body.proposal.status).toBe('pending');
    expect(endpoint.requests).toHaveLength(0);
    expect(await counting(pid)).toEqual([
      [made.body.apiKey.id, false],
      [memberB.memberId, true],
    ]);
    expect((await approve(memberC, pid)).body.proposal.status).toBe('executed');
    expect(endpoint.requests).toHaveLength(1);
  });
});

describe('an approved proposal not yet run is checked again when it runs', () => {
  test('approved, then its approver removed: the sweep does not call the endpoint; it is pending again for another person', async () => {
    const pid = await ask(await defineAction('write'));
    const [memberA, memberB] = [await member('agent'), await member('agent')];
    endpoint.requests.length = 0;
    // Approved, and the process dies before the call (the sweep runs what is stranded so).
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, async (tx) => {
      await store.insertDecision(tx, a.tenant.id, {
        proposalId: pid,
        by: { kind: 'member', id: memberA.memberId },
        decision: 'approve',
        reason: null,
      });
      expect(await store.transition(tx, pid, 'pending', 'approved')).toBe(true);
    });
    expect((await asTenant('DELETE', `/v1/admin/members/${memberA.memberId}`)).status).toBe(204);
    // The database refuses to run it as well, with the app bypassed.
    await expect(direct(pid, 'executing')).rejects.toThrow(/approval rail: the approval no longer holds/);
    const swept = await approvalSweep(deps, { now: Date.now() + STRANDED_AFTER_MS + 5_000 });
    expect(swept.failures).toEqual([]);
    expect(endpoint.requests).toHaveLength(0);
    const after = await proposal(pid);
    expect(after.status).toBe('pending');
    expect(after.decisions).toEqual([expect.objectContaining({ by: { kind: 'member', id: memberA.memberId }, counts: false })]);
    expect(await auditOf(pid)).toEqual(['approval.propose', 'approval.reopen']);
    // A decision by someone who may decide runs it.
    expect((await approve(memberB, pid)).body.proposal.status).toBe('executed');
    expect(endpoint.requests).toHaveLength(1);
  });
});

// Last in the file: it marks an operation for approval, which later tests would meet.
describe('an admin operation approved by an admin since demoted', () => {
  test("the requester's repeat does not run it: it is pending again, and another admin's approval runs it", async () => {
    const marked = await asTenant('PATCH', '/v1/admin/settings', { approvals: { operations: ['keys.privileged'] } });
    expect(marked.status, marked.text).toBe(200);
    const [requester, approver, other] = [await member('admin'), await member('admin'), await member('owner')];
    const body = { name: 'deploy-bot', capabilities: ['keys:write'] };
    const asked = await requester.client.call('POST', '/v1/admin/api-keys', body);
    expect(asked.status, asked.text).toBe(202);
    const pid = asked.body.proposal.id as string;
    expect((await approve(approver, pid)).body.proposal.status).toBe('approved');
    expect((await asTenant('PATCH', `/v1/admin/members/${approver.memberId}`, { role: 'agent' })).status).toBe(200);
    const repeat = await requester.client.call('POST', '/v1/admin/api-keys', body, { 'parley-approval': pid });
    expect(repeat.status, repeat.text).toBe(409);
    expect(repeat.body.detail).toMatch(/no longer holds/);
    const keys = (await asTenant('GET', '/v1/admin/api-keys')).body.apiKeys.map((k: { name: string }) => k.name);
    expect(keys).not.toContain('deploy-bot');
    // Admin operations are an owner's or admin's to see.
    expect((await other.client.call('GET', `/v1/admin/approvals/${pid}`)).body.proposal).toMatchObject({
      status: 'pending',
      decisions: [expect.objectContaining({ by: { kind: 'member', id: approver.memberId }, counts: false })],
    });
    expect(await auditOf(pid)).toEqual(['approval.propose', 'approval.approve', 'approval.reopen']);
    expect((await approve(other, pid)).body.proposal.status).toBe('approved');
    // An approval that holds is never sent back to pending, even written directly.
    await expect(direct(pid, 'pending')).rejects.toThrow(/approval rail: the approval still holds/);
    const ran = await requester.client.call('POST', '/v1/admin/api-keys', body, { 'parley-approval': pid });
    expect(ran.status, ran.text).toBe(201);
  });
});
