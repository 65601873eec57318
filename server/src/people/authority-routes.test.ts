// A member's authority ends with them in every admin route, not only in the people and key routes
// (authority.test.ts). Approval decisions, knowledge, handoffs and conversations were written in
// transactions that did not hold the member behind the request: an approver removed as their decision was
// on its way still approved (a decision by a member already gone), a knowledge source and a handoff taken by
// a removed member were stored after their removal, and a key made by a removed member still wrote to a
// visitor after its maker was gone. Each now holds that member (tenants/authority.ts): a write that starts
// after the removal is refused, and a removal at the same moment waits for it.
// What a committed write made, read back for its answer, is read on the read path: a member removed between
// the two is answered with what they did, not told that nothing was changed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember } from '../test/console.js';
import { serverUrl } from '../test/db.js';
import { call } from '../test/http.js';
import { discoveryOnlyIssuer } from '../test/oidc-op.js';
import { countRows, writesTo, midTransaction, pauseRequest, SKIP, whilePaused } from '../test/races.js';
import { TestIdp } from '../test/saml-idp.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://help.acme.example';
let t: TestApp;
let acme: CreatedTenant;
beforeAll(async () => {
  t = await startTestApp();
  acme = await t.tenant('Acme', ['help.acme.example']);
  // Privileged keys wait for an approval: the proposals the approvers below decide.
  const marked = await call(t.url, 'PATCH', '/v1/admin/settings', { key: acme.secretKey, body: { approvals: { operations: ['keys.privileged'] } } });
  expect(marked.status, marked.text).toBe(200);
}, 60_000);
afterAll(() => t.close());

const count = (sql: string, params: unknown[] = []) => countRows(t, sql, params);

/** A pending admin proposal, asked for by a fresh admin of its own (so that the others present may decide it). */
async function proposal(): Promise<string> {
  const requester = await signedInMember(t, acme.tenant.id, 'admin');
  const res = await requester.client.call('POST', '/v1/admin/api-keys', { name: `deploy-${Date.now()}`, capabilities: ['keys:write'] });
  expect(res.status, res.text).toBe(202);
  return res.body.proposal.id as string;
}
const decisionsBy = (proposalId: string, memberId: string) =>
  count("SELECT 1 FROM approval_decisions WHERE proposal_id = $1 AND decided_by_kind = 'member' AND decided_by_id = $2", [proposalId, memberId]);
const statusOf = async (proposalId: string) =>
  (await t.runtime.db.withOwner((tx) => tx.query<{ status: string }>('SELECT status FROM approval_proposals WHERE id = $1', [proposalId]))).rows[0]!
    .status;

describe('an approver removed while their decision is on its way', () => {
  test('removed between the decision’s authentication and its write: it is refused, the proposal stays pending', async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'admin');
    const id = await proposal();
    // A rejection: one decision ends the proposal (an approval by a gone member would not count as an admin's).
    const res = await whilePaused(
      pauseRequest(t, acme.tenant.id, SKIP.session),
      () => x.client.call('POST', `/v1/admin/approvals/${id}/reject`, { reason: 'not this week' }),
      async () => expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204),
    );
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/no longer/);
    expect(await decisionsBy(id, x.memberId)).toBe(0);
    expect(await statusOf(id)).toBe('pending');
  });

  test.runIf(serverUrl)(
    'removed while the decision’s transaction is open: the removal waits for it, never a decision after it (PostgreSQL)',
    async () => {
      const owner = await signedInMember(t, acme.tenant.id, 'owner');
      const x = await signedInMember(t, acme.tenant.id, 'admin');
      const id = await proposal();
      const [decided, removed, removedFirst] = await midTransaction(
        t,
        () => x.client.call('POST', `/v1/admin/approvals/${id}/reject`, { reason: 'not this week' }),
        () => owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`),
        // Held at the decision's insert, before its audit entry: a removal's entry waits for one appended earlier.
        writesTo('approval_decisions'),
      );
      expect(removed.status).toBe(204);
      const landed = (await decisionsBy(id, x.memberId)) > 0;
      expect({ landed, removedFirst }, 'a decision landed after its approver had been removed').not.toEqual({ landed: true, removedFirst: true });
      expect(landed ? [200] : [401]).toContain(decided.status);
    },
  );
});

describe('a knowledge write by a member removed at the same moment', () => {
  const sourcesNamed = (externalId: string) => count('SELECT 1 FROM knowledge_sources WHERE external_id = $1', [externalId]);
  const source = (externalId: string) => ({ kind: 'text', content: 'Returns are free within 30 days.', title: 'Returns', externalId });

  test('removed between the write’s authentication and its write: nothing is stored', async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'admin');
    const externalId = `kb-${x.memberId}`;
    const written = await whilePaused(
      pauseRequest(t, acme.tenant.id, SKIP.session),
      () => x.client.call('POST', '/v1/admin/knowledge/sources', source(externalId)),
      async () => expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204),
    );
    expect(written.status).toBe(401);
    expect(await sourcesNamed(externalId)).toBe(0);
  });

  test.runIf(serverUrl)(
    'removed while the write’s transaction is open: the removal waits for it, never a source stored after it (PostgreSQL)',
    async () => {
      const owner = await signedInMember(t, acme.tenant.id, 'owner');
      const x = await signedInMember(t, acme.tenant.id, 'admin');
      const externalId = `kb-mid-${x.memberId}`;
      const [written, removed, removedFirst] = await midTransaction(
        t,
        () => x.client.call('POST', '/v1/admin/knowledge/sources', source(externalId)),
        () => owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`),
        writesTo('knowledge_sources'),
      );
      expect(removed.status).toBe(204);
      const landed = (await sourcesNamed(externalId)) > 0;
      expect({ landed, removedFirst }, 'a source was stored after its writer had been removed').not.toEqual({ landed: true, removedFirst: true });
      expect(landed ? [201] : [401]).toContain(written.status);
    },
  );
});

describe('a handoff taken, or a visitor answered, as a member removed at the same moment', () => {
  /** A conversation a visitor asked a human for: its pending handoff. */
  async function handoff(): Promise<{ conversationId: string; handoffId: string }> {
    const v = new Visitor(t.url, acme.publishableKey, ORIGIN);
    await v.start();
    const conversationId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    await v.say(conversationId, 'I want to talk to a human');
    const pending = (await call(t.url, 'GET', '/v1/admin/handoffs?status=pending', { key: acme.secretKey })).body.handoffs as {
      id: string;
      conversationId: string;
    }[];
    return { conversationId, handoffId: pending.find((h) => h.conversationId === conversationId)!.id };
  }
  const assignedTo = async (handoffId: string) =>
    (await t.runtime.db.withOwner((tx) => tx.query<{ assigned_to: string | null }>('SELECT assigned_to FROM handoffs WHERE id = $1', [handoffId])))
      .rows[0]!.assigned_to;

  const agentMessages = (conversationId: string) => count("SELECT 1 FROM messages WHERE conversation_id = $1 AND role = 'agent'", [conversationId]);

  test('an agent removed between their reply’s authentication and its write: nothing reaches the visitor', async () => {
    const { conversationId } = await handoff();
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'agent');
    const sent = await whilePaused(
      pauseRequest(t, acme.tenant.id, SKIP.session),
      () => x.client.call('POST', `/v1/admin/conversations/${conversationId}/messages`, { text: 'Written as I leave.' }),
      async () => expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204),
    );
    expect(sent.status).toBe(401);
    expect(await agentMessages(conversationId)).toBe(0);
  });

  test.runIf(serverUrl)(
    'an agent removed while taking a handoff: the removal waits for it, never a handoff taken after it (PostgreSQL)',
    async () => {
      const { handoffId } = await handoff();
      const owner = await signedInMember(t, acme.tenant.id, 'owner');
      const x = await signedInMember(t, acme.tenant.id, 'agent');
      const [taken, removed, removedFirst] = await midTransaction(
        t,
        () => x.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned' }),
        () => owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`),
      );
      expect(removed.status).toBe(204);
      const landed = (await assignedTo(handoffId)) === x.memberId;
      expect({ landed, removedFirst }, 'a handoff was taken after its agent had been removed').not.toEqual({ landed: true, removedFirst: true });
      expect(landed ? [204] : [401]).toContain(taken.status);
    },
  );

  test('a key whose maker is removed between its reply’s authentication and its write: nothing reaches the visitor', async () => {
    const { conversationId } = await handoff();
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'admin');
    const made = await x.client.call('POST', '/v1/admin/api-keys', {
      name: 'helpdesk bot',
      capabilities: ['conversations:read', 'conversations:write'],
    });
    expect(made.status).toBe(201);
    const pause = pauseRequest(t, acme.tenant.id, SKIP.key);
    try {
      const sent = call(t.url, 'POST', `/v1/admin/conversations/${conversationId}/messages`, {
        key: made.body.secret,
        body: { text: 'Sent as my maker leaves.', agent: 'Bot' },
      });
      await pause.atPause;
      expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204);
      pause.release();
      expect((await sent).status).toBe(401);
    } finally {
      pause.restore();
    }
    expect(await agentMessages(conversationId)).toBe(0);
  });
});

describe('every other admin write of a member removed between its authentication and its write', () => {
  /** What the member did while a member: audit entries naming them as the actor. */
  const entriesBy = (memberId: string) => count("SELECT 1 FROM audit_entries WHERE actor_type = 'member' AND actor_id = $1", [memberId]);

  const WRITES: { what: string; method: string; path: (other: string) => string; body?: unknown }[] = [
    {
      what: 'an action definition',
      method: 'POST',
      path: () => '/v1/admin/actions',
      body: {
        name: `refund_${Date.now()}`,
        description: 'Refunds an order.',
        inputSchema: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'], additionalProperties: false },
        endpoint: 'https://orders.acme.example/refund',
        risk: 'write',
      },
    },
    { what: 'a canned reply', method: 'POST', path: () => '/v1/admin/canned-replies', body: { title: 'Refunds', body: 'Refunds take 5 days.' } },
    { what: 'an evidence subscription', method: 'PUT', path: () => '/v1/admin/evidence/subscription', body: { framework: 'soc2', periodDays: 30 } },
    { what: 'a data subject’s erasure', method: 'POST', path: () => '/v1/admin/privacy/erase', body: { type: 'visitor', id: 'v_nobody_here' } },
    { what: 'a reset of another member’s second factors', method: 'DELETE', path: (other) => `/v1/admin/members/${other}/mfa` },
  ];

  test.each(WRITES)('$what: refused, nothing done in their name', async ({ method, path, body }) => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const other = await signedInMember(t, acme.tenant.id, 'agent');
    const x = await signedInMember(t, acme.tenant.id, 'admin');
    const before = await entriesBy(x.memberId);
    const pause = pauseRequest(t, acme.tenant.id, SKIP.session);
    try {
      const sent = x.client.call(method, path(other.memberId), body);
      // A request answered before it reaches its write (refused on the way) would never reach the pause.
      await Promise.race([
        pause.atPause,
        sent.then((r) => {
          throw new Error(`answered before its write: ${r.status} ${r.text}`);
        }),
      ]);
      expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204);
      pause.release();
      const res = await sent;
      expect(res.status).toBe(401);
    } finally {
      pause.restore();
    }
    expect(await entriesBy(x.memberId)).toBe(before);
  });
});

describe('the SSO admin of an owner removed at the same moment', () => {
  test('removing the SAML connection, removed between its authentication and its write: the connection stays', async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'owner');
    // Reaching no member and granting no admin, the save is not held for approval.
    const idp = new TestIdp('https://idp.acme.example/metadata');
    const connection = {
      entryPoint: 'https://idp.acme.example/sso',
      idpIssuer: idp.entityId,
      idpCertificates: [idp.certPem],
      allowedDomains: ['staff.acme.example'],
      defaultRole: 'agent',
      groupRoles: [],
    };
    expect((await owner.client.call('PUT', '/v1/admin/sso/saml', connection)).status).toBeLessThan(300);
    const removing = await whilePaused(
      pauseRequest(t, acme.tenant.id, SKIP.session),
      () => x.client.call('DELETE', '/v1/admin/sso/saml'),
      async () => expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204),
    );
    expect(removing.status).toBe(401);
    expect((await owner.client.call('GET', '/v1/admin/sso/saml')).status).toBe(200);
  });
});

describe('a save whose result is read back after it committed, by a member removed in between', () => {
  test('the OIDC connection saved, its owner removed before it is read back: the save is answered, not “nothing was changed”', async () => {
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    const x = await signedInMember(t, acme.tenant.id, 'owner');
    // An issuer that answers discovery (a save is checked before it is written).
    const issuer = await discoveryOnlyIssuer();
    // Reaching no member and granting no admin, the save is not held for approval.
    const connection = {
      issuer,
      clientId: 'parley-reread',
      clientSecret: 'oidc-reread-secret-0123456789',
      allowedDomains: ['reread.acme.example'],
      defaultRole: 'agent',
    };
    // Its authentication, the check of what is saved, the save: then whatever reads the result back.
    const pause = pauseRequest(t, acme.tenant.id, SKIP.session + 2, { reads: true });
    try {
      const saving = x.client.call('PUT', '/v1/admin/sso/oidc', connection);
      await Promise.race([
        pause.atPause,
        saving.then((r) => {
          throw new Error(`answered without reading its result back: ${r.status} ${r.text}`);
        }),
      ]);
      // The save has committed.
      const saved = await owner.client.call('GET', '/v1/admin/sso/oidc');
      expect(saved.status, saved.text).toBe(200);
      expect(saved.body.clientId).toBe('parley-reread');
      expect((await owner.client.call('DELETE', `/v1/admin/members/${x.memberId}`)).status).toBe(204);
      pause.release();
      const res = await saving;
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ issuer, clientId: 'parley-reread', hasClientSecret: true });
    } finally {
      pause.restore();
    }
    expect((await owner.client.call('DELETE', '/v1/admin/sso/oidc')).status).toBe(204);
  });
});
