// Admin operations through the approval rail, over the real app. A tenant marks every high-risk operation
// (settings `approvals.operations`); then each one's request is proposed (202), nothing changes until an
// owner or admin other than the requester approves, and only the requester repeating the exact request
// with `Parley-Approval` runs it, once. Attacks: self-approval (as the person, or through a key they
// made), an agent's or a key's approval, another requester or another request under an approval, a
// replay, a rejected or expired approval, a secret changed after approval, and the database refusing an
// admin proposal approved without an admin.
import { exportJWK, generateKeyPair } from 'jose';
import { unzipSync } from 'fflate';
import { ADMIN_OPERATIONS, ROLE_CAPABILITIES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { discoveryOnlyIssuer } from '../test/oidc-op.js';
import { TestIdp } from '../test/saml-idp.js';
import { startTestSmtp, type TestSmtp } from '../test/smtp.js';
import type { ApprovalDeps } from './service.js';
import { approvalSweep } from './sweep.js';
import { createKey } from '../tenants/service.js';
import { relaxesApprovals, writeSettings } from '../tenants/settings.js';

let t: TestApp;
let a: CreatedTenant;
const people: Record<'owner' | 'owner2' | 'admin' | 'agent', { client: ConsoleClient; memberId: string; email: string }> = {} as never;
let smtp: TestSmtp;
let jwk: Record<string, unknown>;

const owner = <T = any>(sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<T>(sql, params));
const as = (who: keyof typeof people, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  people[who].client.call(method, path, body, headers);
const decide = (who: keyof typeof people, id: string, decision: 'approve' | 'reject') =>
  as(who, 'POST', `/v1/admin/approvals/${id}/${decision}`, decision === 'reject' ? { reason: 'not this week' } : {});
const approval = (id: string) => ({ 'parley-approval': id });
const auditOf = async (id: string) =>
  (await owner<{ action: string }>('SELECT action FROM audit_entries WHERE target_id = $1 ORDER BY id', [id])).rows.map((r) => r.action);
const keyNamed = async (name: string) =>
  (await call(t.url, 'GET', '/v1/admin/api-keys', { key: a.secretKey })).body.apiKeys.some((k: { name: string }) => k.name === name);

beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await startTestApp({ PARLEY_SMTP_URL: smtp.url });
  a = await t.tenant('Gate A', ['a.example']);
  for (const role of ['owner', 'owner2', 'admin', 'agent'] as const)
    people[role] = await signedInMember(t, a.tenant.id, role === 'owner2' ? 'owner' : role);
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: a.secretKey, body: { mode: 'optional', publicKeys: [jwk] } })).status).toBe(204);
  expect((await call(t.url, 'PUT', '/v1/admin/sign-in-policy', { key: a.secretKey, body: { requireMfa: 'admins' } })).status).toBe(200);
  // Marking operations is not itself gated (it asks for more approvals, not fewer).
  const marked = await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } });
  expect(marked.status, marked.text).toBe(200);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

/** Every high-risk operation a tenant can mark, as a request and a check that it had no effect. */
const OPERATIONS = [
  {
    operation: 'keys.privileged',
    who: 'admin',
    method: 'POST',
    path: '/v1/admin/api-keys',
    body: { name: 'deploy-bot', capabilities: ['keys:write'] },
    unchanged: async () => expect(await keyNamed('deploy-bot')).toBe(false),
  },
  {
    operation: 'ai.provider',
    who: 'admin',
    method: 'PUT',
    path: '/v1/admin/providers/openai-compatible',
    body: { apiKey: 'sk-gate-secret-0123456789', model: 'llama-3', baseUrl: 'https://llm.example.com/v1' },
    unchanged: async () => expect((await call(t.url, 'GET', '/v1/admin/providers', { key: a.secretKey })).body.providers).toEqual([]),
  },
  {
    operation: 'identity.mode',
    who: 'admin',
    method: 'PUT',
    path: '/v1/admin/identity',
    body: () => ({ mode: 'required', publicKeys: [jwk] }),
    unchanged: async () => expect((await call(t.url, 'GET', '/v1/admin/identity', { key: a.secretKey })).body.mode).toBe('optional'),
  },
  {
    operation: 'signin.relax',
    who: 'admin',
    method: 'PUT',
    path: '/v1/admin/sign-in-policy',
    body: { requireMfa: 'off' },
    unchanged: async () => expect((await call(t.url, 'GET', '/v1/admin/sign-in-policy', { key: a.secretKey })).body.policy.requireMfa).toBe('admins'),
  },
  {
    operation: 'export.restricted',
    who: 'owner',
    method: 'POST',
    path: '/v1/admin/tenant/export',
    body: { includeRestricted: true, reason: 'Regulator request R-2026-42' },
    unchanged: async () => expect((await owner("SELECT 1 FROM audit_entries WHERE action = 'tenant.export'")).rows).toEqual([]),
  },
  {
    operation: 'tenant.delete',
    who: 'owner',
    method: 'POST',
    path: '/v1/admin/tenant/deletion',
    body: { graceDays: 7 },
    unchanged: async () => expect((await as('owner', 'GET', '/v1/admin/tenant/deletion')).body.state).toBe('none'),
  },
  {
    operation: 'approvals.relax',
    who: 'admin',
    method: 'PATCH',
    path: '/v1/admin/settings',
    body: { approvals: { operations: ['tenant.delete'] } },
    unchanged: async () =>
      expect((await call(t.url, 'GET', '/v1/admin/settings', { key: a.secretKey })).body.effective.approvals.operations).toHaveLength(
        ADMIN_OPERATIONS.length,
      ),
  },
] as const;
const bodyOf = (o: (typeof OPERATIONS)[number]) => (typeof o.body === 'function' ? o.body() : o.body);

describe('marked operations wait for approval', () => {
  test('every high-risk admin operation is proposed (202) and changes nothing; the approver sees the request, never its secret', async () => {
    expect(OPERATIONS.map((o) => o.operation).sort()).toEqual([...ADMIN_OPERATIONS].sort());
    for (const o of OPERATIONS) {
      const res = await as(o.who, o.method, o.path, bodyOf(o));
      expect(res.status, `${o.operation}: ${res.text}`).toBe(202);
      expect(res.body.proposal).toMatchObject({
        kind: 'admin',
        operation: o.operation,
        action: null,
        status: 'pending',
        requestedBy: { kind: 'member' },
      });
      await o.unchanged();
      const seen = await as('owner2', 'GET', `/v1/admin/approvals/${res.body.proposal.id}`);
      expect(seen.body.proposal.operation).toBe(o.operation);
      expect(await auditOf(res.body.proposal.id)).toEqual(['approval.propose']);
    }
    const provider = (await as('owner2', 'GET', '/v1/admin/approvals?status=pending')).body.proposals.find((p: any) => p.operation === 'ai.provider');
    expect(provider.arguments).toEqual({
      provider: 'openai-compatible',
      model: 'llama-3',
      baseUrl: 'https://llm.example.com/v1',
      apiKey: '[secret]',
    });
    const stored = await owner('SELECT arguments::text AS a FROM approval_proposals');
    const everything = JSON.stringify(stored.rows) + JSON.stringify((await owner('SELECT metadata FROM audit_entries')).rows);
    expect(everything).not.toContain('sk-gate-secret-0123456789');
  });

  test('what is not high risk runs at once: a key without keys:write or pii:reveal, stricter sign-in, marking more operations, an export without restricted data', async () => {
    expect((await as('admin', 'POST', '/v1/admin/api-keys', { name: 'reader', capabilities: ['knowledge:read'] })).status).toBe(201);
    const plain = await as('admin', 'POST', '/v1/admin/tenant/export', {});
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/zip');
  });

  test('only an owner with a reason may ask for restricted data at all: an admin is refused before anything is proposed', async () => {
    const before = (await owner('SELECT count(*)::int AS n FROM approval_proposals')).rows[0].n;
    const res = await as('admin', 'POST', '/v1/admin/tenant/export', { includeRestricted: true, reason: 'Looking around the data' });
    expect(res.status).toBe(403);
    expect((await owner('SELECT count(*)::int AS n FROM approval_proposals')).rows[0].n).toBe(before);
  });
});

describe('approval, then the requester runs it', () => {
  test('nobody approves their own request, nor does an agent or a key; another admin does; only the same request by the same requester runs it, once', async () => {
    const name = `ci-${crypto.randomUUID().slice(0, 6)}`;
    const body = { name, capabilities: ['keys:write', 'knowledge:read'] };
    const proposed = await as('admin', 'POST', '/v1/admin/api-keys', body);
    expect(proposed.status).toBe(202);
    const id = proposed.body.proposal.id as string;
    expect((await decide('admin', id, 'approve')).status).toBe(403);
    // Those who may not decide an admin operation do not see it either: deciding it is the 404 reading it is.
    expect((await decide('agent', id, 'approve')).status).toBe(404);
    expect((await call(t.url, 'POST', `/v1/admin/approvals/${id}/approve`, { key: a.secretKey, body: {} })).status).toBe(404);
    // Not approved yet: the header runs nothing.
    expect((await as('admin', 'POST', '/v1/admin/api-keys', body, approval(id))).status).toBe(409);
    const ok = await decide('owner', id, 'approve');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.proposal.status).toBe('approved');
    expect(await keyNamed(name)).toBe(false);
    // Another requester, another request, a made-up id: refused, nothing runs.
    expect((await as('owner2', 'POST', '/v1/admin/api-keys', body, approval(id))).status).toBe(409);
    expect((await as('admin', 'POST', '/v1/admin/api-keys', { ...body, capabilities: ['keys:write', 'pii:reveal'] }, approval(id))).status).toBe(409);
    expect((await as('admin', 'POST', '/v1/admin/api-keys', body, approval(crypto.randomUUID()))).status).toBe(409);
    expect((await as('admin', 'POST', '/v1/admin/api-keys', body, approval('not-an-id'))).status).toBe(400);
    expect(await keyNamed(name)).toBe(false);
    const ran = await as('admin', 'POST', '/v1/admin/api-keys', body, approval(id));
    expect(ran.status, ran.text).toBe(201);
    expect(ran.body.secret).toMatch(/^sk_/);
    expect(await keyNamed(name)).toBe(true);
    // A replay: the approval is spent.
    expect((await as('admin', 'POST', '/v1/admin/api-keys', body, approval(id))).status).toBe(409);
    expect((await as('owner', 'GET', `/v1/admin/approvals/${id}`)).body.proposal.status).toBe('executed');
    expect(await auditOf(id)).toEqual(['approval.propose', 'approval.approve', 'approval.execute', 'approval.executed']);
  });

  test('a key asks: the person who made the key cannot approve it', async () => {
    const made = await as('owner', 'POST', '/v1/admin/api-keys', { name: 'owner-script', capabilities: ['keys:write'] });
    expect(made.status).toBe(202);
    expect((await decide('admin', made.body.proposal.id, 'approve')).status).toBe(200);
    const key = (
      await as('owner', 'POST', '/v1/admin/api-keys', { name: 'owner-script', capabilities: ['keys:write'] }, approval(made.body.proposal.id))
    ).body.secret as string;
    const asked = await call(t.url, 'POST', '/v1/admin/api-keys', { key, body: { name: 'script-child', capabilities: ['pii:reveal'] } });
    expect(asked.status).toBe(202);
    expect(asked.body.proposal.requestedBy.kind).toBe('key');
    expect((await decide('owner', asked.body.proposal.id, 'approve')).status).toBe(403);
    expect((await decide('owner2', asked.body.proposal.id, 'approve')).status).toBe(200);
  });

  // Attack (second review): a key made by the owner's key had no maker, so the owner approved its request
  // and passed the two-person rule alone. A key made by a key is its maker's person too.
  test("a key made by a person's key is that person's: they cannot approve its request either", async () => {
    const made = await as('owner', 'POST', '/v1/admin/api-keys', { name: 'owner-parent', capabilities: ['keys:write', 'signin:write'] });
    expect((await decide('admin', made.body.proposal.id, 'approve')).status).toBe(200);
    const parent = (
      await as(
        'owner',
        'POST',
        '/v1/admin/api-keys',
        { name: 'owner-parent', capabilities: ['keys:write', 'signin:write'] },
        approval(made.body.proposal.id),
      )
    ).body.secret as string;
    const child = await call(t.url, 'POST', '/v1/admin/api-keys', {
      key: parent,
      body: { name: 'owner-grandchild', capabilities: ['signin:write'] },
    });
    expect(child.status).toBe(201);
    const asked = await call(t.url, 'PUT', '/v1/admin/sign-in-policy', { key: child.body.secret, body: { requireMfa: 'off' } });
    expect(asked.status).toBe(202);
    expect((await decide('owner', asked.body.proposal.id, 'approve')).status).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/sign-in-policy', { key: a.secretKey })).body.policy.requireMfa).toBe('admins');
  });

  test('a provider key changed after approval is another request; the approved one runs', async () => {
    const body = { apiKey: 'sk-approved-key-abcdef123456', model: 'gpt-4o-mini' };
    const proposed = await as('admin', 'PUT', '/v1/admin/providers/openai', body);
    const id = proposed.body.proposal.id as string;
    expect((await decide('owner', id, 'approve')).status).toBe(200);
    expect((await as('admin', 'PUT', '/v1/admin/providers/openai', { ...body, apiKey: 'sk-swapped-key-abcdef654321' }, approval(id))).status).toBe(
      409,
    );
    const ran = await as('admin', 'PUT', '/v1/admin/providers/openai', body, approval(id));
    expect(ran.status, ran.text).toBe(201);
    expect(ran.body.provider.last4).toBe('3456');
  });

  test('a restricted export runs under its approval, which its manifest and audit entry name', async () => {
    const body = { includeRestricted: true, reason: 'Court order 2026-117 for the DPO' };
    const proposed = await as('owner', 'POST', '/v1/admin/tenant/export', body);
    const id = proposed.body.proposal.id as string;
    expect((await decide('admin', id, 'approve')).status).toBe(200);
    const res = await fetch(`${t.url}/v1/admin/tenant/export`, {
      method: 'POST',
      headers: {
        ...people.owner.client.pageHeaders,
        cookie: people.owner.client.cookieHeader(),
        'content-type': 'application/json',
        'parley-approval': id,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const manifest = JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(await res.arrayBuffer()))['manifest.json']!));
    expect(JSON.stringify(manifest)).toContain(id);
    const entry = await owner<{ metadata: any }>("SELECT metadata FROM audit_entries WHERE action = 'tenant.export' ORDER BY id DESC LIMIT 1");
    expect(entry.rows[0]!.metadata.approval).toBe(id);
  });

  test('rejected or expired, an approval runs nothing', async () => {
    const deletion = await as('owner', 'POST', '/v1/admin/tenant/deletion', { graceDays: 30 });
    expect((await decide('owner2', deletion.body.proposal.id, 'reject')).status).toBe(200);
    expect((await as('owner', 'POST', '/v1/admin/tenant/deletion', { graceDays: 30 }, approval(deletion.body.proposal.id))).status).toBe(409);
    expect((await as('owner', 'GET', '/v1/admin/tenant/deletion')).body.state).toBe('none');

    const body = { mode: 'required', publicKeys: [jwk] };
    const waiting = await as('admin', 'PUT', '/v1/admin/identity', body);
    const approved = await as('admin', 'PUT', '/v1/admin/identity', body);
    expect((await decide('owner', approved.body.proposal.id, 'approve')).status).toBe(200);
    await owner('ALTER TABLE approval_proposals DISABLE TRIGGER approval_proposals_transition');
    try {
      await owner("UPDATE approval_proposals SET expires_at = now() - interval '1 minute' WHERE id = ANY($1)", [
        [waiting.body.proposal.id, approved.body.proposal.id],
      ]);
    } finally {
      await owner('ALTER TABLE approval_proposals ENABLE TRIGGER approval_proposals_transition');
    }
    // Past its expiry, an approved operation no longer runs, even before the sweep marks it.
    expect((await as('admin', 'PUT', '/v1/admin/identity', body, approval(approved.body.proposal.id))).status).toBe(409);
    const swept = await approvalSweep(t.app.locals.approvals as ApprovalDeps);
    expect(swept.expired).toBeGreaterThanOrEqual(2);
    expect(swept.executed).toBe(0);
    for (const p of [waiting, approved])
      expect((await as('owner', 'GET', `/v1/admin/approvals/${p.body.proposal.id}`)).body.proposal.status).toBe('expired');
    expect((await call(t.url, 'GET', '/v1/admin/identity', { key: a.secretKey })).body.mode).toBe('optional');
  });

  test('taking operations off the list needs approval too; once approved and run, they run at once again', async () => {
    const body = { approvals: { operations: ['tenant.delete'] } };
    const proposed = await as('admin', 'PATCH', '/v1/admin/settings', body);
    expect((await decide('owner', proposed.body.proposal.id, 'approve')).status).toBe(200);
    expect((await as('admin', 'PATCH', '/v1/admin/settings', body, approval(proposed.body.proposal.id))).status).toBe(200);
    expect((await as('admin', 'PUT', '/v1/admin/sign-in-policy', { requireMfa: 'off' })).status).toBe(200);
  });
});

// Attack (eighth review): an agent holds approvals:decide to decide visitors' actions, and with it read every
// admin operation waiting for approval in full (a pending admin invitation, a provider change), which its
// role is refused elsewhere. An admin proposal is seen only by those who could decide it, and by who asked.
describe('who sees admin proposals', () => {
  test("an agent sees neither the list's admin proposals nor one by its id; an owner does, and so does the key that asked", async () => {
    // A tenant of its own, every operation held.
    const v = await t.tenant('Gate V', ['v.example']);
    const [vOwner, vAdmin, vAgent] = [
      await signedInMember(t, v.tenant.id, 'owner'),
      await signedInMember(t, v.tenant.id, 'admin'),
      await signedInMember(t, v.tenant.id, 'agent'),
    ];
    const settings = { approvals: { operations: [...ADMIN_OPERATIONS] } };
    expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: v.secretKey, body: settings })).status).toBe(200);

    const invite = { email: `second-admin-${Date.now()}@v.example`, role: 'admin' };
    const asked = await vAdmin.client.call('POST', '/v1/admin/invites', invite);
    expect(asked.status).toBe(202);
    const id = asked.body.proposal.id as string;
    expect((await vAgent.client.call('GET', '/v1/admin/invites')).status).toBe(403);
    const listed = await vAgent.client.call('GET', '/v1/admin/approvals?status=pending');
    expect(listed.status).toBe(200);
    expect(listed.body.proposals.filter((p: { kind: string }) => p.kind === 'admin')).toEqual([]);
    expect(JSON.stringify(listed.body)).not.toContain(invite.email);
    const one = await vAgent.client.call('GET', `/v1/admin/approvals/${id}`);
    expect(one.status).toBe(404);
    expect(one.text).not.toContain(invite.email);
    const rejected = await vAgent.client.call('POST', `/v1/admin/approvals/${id}/reject`, { reason: 'probing' });
    expect(rejected.status).toBe(404);
    expect(rejected.body.detail).toBe(one.body.detail);

    // A key cannot decide an admin operation either, so it does not see others'; it sees the one it asked for.
    const made = await vOwner.client.call('POST', '/v1/admin/api-keys', {
      name: 'approvals-reader',
      capabilities: ['approvals:decide', 'providers:write'],
    });
    expect(made.status, made.text).toBe(201);
    const key = made.body.secret as string;
    expect((await call(t.url, 'GET', `/v1/admin/approvals/${id}`, { key })).status).toBe(404);
    const provider = await call(t.url, 'PUT', '/v1/admin/providers/openai', {
      key,
      body: { apiKey: 'sk-reader-key-abcdef123456', model: 'gpt-4o-mini' },
    });
    expect(provider.status, provider.text).toBe(202);
    expect((await call(t.url, 'GET', `/v1/admin/approvals/${provider.body.proposal.id}`, { key })).status).toBe(200);
    const keyList = (await call(t.url, 'GET', '/v1/admin/approvals', { key })).body.proposals.filter((p: { kind: string }) => p.kind === 'admin');
    expect(keyList.map((p: { id: string }) => p.id)).toEqual([provider.body.proposal.id]);
    // Nor does the agent see the provider change.
    expect((await vAgent.client.call('GET', `/v1/admin/approvals/${provider.body.proposal.id}`)).status).toBe(404);

    // Those who could decide them see them whole.
    const seen = await vOwner.client.call('GET', `/v1/admin/approvals/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.proposal.arguments).toMatchObject({ email: invite.email, role: 'admin' });
    const ownerList = (await vOwner.client.call('GET', '/v1/admin/approvals?status=pending')).body.proposals.map((p: { id: string }) => p.id);
    expect(ownerList).toEqual(expect.arrayContaining([id, provider.body.proposal.id]));
    expect((await vAdmin.client.call('GET', `/v1/admin/approvals/${provider.body.proposal.id}`)).status).toBe(200);
  });
});

describe('every route of an operation', () => {
  test('removing a provider and replacing the whole settings document are held as well as setting one and patching', async () => {
    // The tests above took most operations off the list: mark them all again (adding runs at once).
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } })).status,
    ).toBe(200);
    const removal = await as('admin', 'DELETE', '/v1/admin/providers/openai');
    expect(removal.status, removal.text).toBe(202);
    expect(removal.body.proposal).toMatchObject({ operation: 'ai.provider', arguments: { provider: 'openai', remove: true } });
    expect((await call(t.url, 'GET', '/v1/admin/providers', { key: a.secretKey })).body.providers.map((p: any) => p.provider)).toContain('openai');
    const replaced = await as('admin', 'PUT', '/v1/admin/settings', { approvals: { operations: [] } });
    expect(replaced.status, replaced.text).toBe(202);
    expect(replaced.body.proposal.operation).toBe('approvals.relax');
    expect((await call(t.url, 'GET', '/v1/admin/settings', { key: a.secretKey })).body.effective.approvals.operations).toContain('approvals.relax');
  });

  // Attack (third review): a lone owner could not invite an admin past the rail, so they set their SSO
  // connection to make admins (default role or group mapping), signed in as an IdP account they held, and
  // that new admin approved the owner's privileged requests. Making admins through SSO is held as well.
  test('an SSO connection that makes admins (default role or group mapping) is held; one that makes agents is not', async () => {
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } })).status,
    ).toBe(200);
    const idp = new TestIdp('https://idp.gate.example/');
    const saml = (defaultRole: string, groupRoles: { group: string; role: string }[] = []) => ({
      entryPoint: 'https://idp.gate.example/sso',
      idpIssuer: 'https://idp.gate.example/',
      idpCertificates: [idp.certPem],
      allowedDomains: ['a.example'],
      defaultRole,
      groupsClaim: 'groups',
      groupRoles,
    });
    // An issuer that answers discovery (a save is checked before it is held).
    const issuer = await discoveryOnlyIssuer();
    const oidc = {
      issuer,
      clientId: 'parley',
      clientSecret: 'oidc-gate-secret-0123456789',
      allowedDomains: ['a.example'],
    };
    const held = [
      await as('owner', 'PUT', '/v1/admin/sso/saml', saml('admin')),
      await as('owner', 'PUT', '/v1/admin/sso/saml', saml('agent', [{ group: 'it', role: 'admin' }])),
      await as('owner', 'PUT', '/v1/admin/sso/oidc', { ...oidc, defaultRole: 'admin' }),
    ];
    for (const res of held) {
      expect(res.status, res.text).toBe(202);
      expect(res.body.proposal.operation).toBe('keys.privileged');
    }
    expect(held[2]!.body.proposal.arguments).toMatchObject({ defaultRole: 'admin', clientSecret: '[secret]' });
    expect(JSON.stringify((await owner('SELECT arguments::text AS a FROM approval_proposals')).rows)).not.toContain(oidc.clientSecret);
    expect((await as('owner', 'GET', '/v1/admin/sso/saml')).status).toBe(404);
    // Approved by another owner, the same request runs; one that makes agents runs at once.
    expect((await decide('owner2', held[0]!.body.proposal.id, 'approve')).status).toBe(200);
    const ran = await as('owner', 'PUT', '/v1/admin/sso/saml', saml('admin'), approval(held[0]!.body.proposal.id));
    expect(ran.status, ran.text).toBe(201);
    expect((await as('owner', 'PUT', '/v1/admin/sso/saml', saml('agent', [{ group: 'support', role: 'agent' }]))).status).toBe(200);
    expect((await as('owner', 'DELETE', '/v1/admin/sso/saml')).status).toBe(204);
  });

  // Attack (fourth review): a lone owner could not invite an admin past the rail, but the tenant's key made
  // by the command line (nobody's) could ask, and the owner approved it as "another person".
  test('a key no person made cannot ask for a held operation: nobody could tell who asked', async () => {
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } })).status,
    ).toBe(200);
    const invite = { email: `nobody-${Date.now()}@a.example`, role: 'admin' };
    const asked = await call(t.url, 'POST', '/v1/admin/invites', { key: a.secretKey, body: invite });
    expect(asked.status, asked.text).toBe(403);
    expect(asked.body.detail).toMatch(/no person made/);
    // Nor a key such a key made; a key a person made asks as that person.
    const minted = await call(t.url, 'POST', '/v1/admin/api-keys', {
      key: a.secretKey,
      body: { name: 'minted', capabilities: ['members:write', 'members:read'] },
    });
    expect((await call(t.url, 'POST', '/v1/admin/invites', { key: minted.body.secret, body: invite })).status).toBe(403);
    expect(
      (await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'plain', capabilities: ['knowledge:read'] } })).status,
    ).toBe(201);
    expect((await as('owner', 'POST', '/v1/admin/invites', invite)).status).toBe(202);
  });

  // Attack (fourth review): the same lone owner disabled an admin they held, and enabled them again with
  // { status: 'active' } alone, which was not held: an approver back without approval.
  test('enabling a disabled admin again is held, as making one is', async () => {
    const held = await signedInMember(t, a.tenant.id, 'admin');
    expect((await as('owner', 'PATCH', `/v1/admin/members/${held.memberId}`, { status: 'disabled' })).status).toBe(200);
    const enabled = await as('owner', 'PATCH', `/v1/admin/members/${held.memberId}`, { status: 'active' });
    expect(enabled.status, enabled.text).toBe(202);
    expect(enabled.body.proposal).toMatchObject({ operation: 'keys.privileged', arguments: { member: held.memberId, status: 'active' } });
    expect((await owner('SELECT status FROM members WHERE id = $1', [held.memberId])).rows[0].status).toBe('disabled');
    // An agent enabled again is not.
    const agent = await signedInMember(t, a.tenant.id, 'agent');
    expect((await as('owner', 'PATCH', `/v1/admin/members/${agent.memberId}`, { status: 'disabled' })).status).toBe(200);
    expect((await as('owner', 'PATCH', `/v1/admin/members/${agent.memberId}`, { status: 'active' })).status).toBe(200);
  });

  // Attack (eleventh review): with identity.mode held, only a change of mode was: keeping the mode and
  // pointing the JWKS URL at an attacker's keys was a 204, and POST /identity/secrets a 201 with a new
  // signing secret. Either lets whoever holds it sign in as any verified user.
  test('what Sign-In Pro trusts is held with its mode: a new JWKS URL, public key or signing secret; taking trust out is not', async () => {
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } })).status,
    ).toBe(200);
    const identity = async () => (await call(t.url, 'GET', '/v1/admin/identity', { key: a.secretKey })).body;
    const before = await identity();
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const other = { ...(await exportJWK(publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' };
    const held = [
      await as('admin', 'PUT', '/v1/admin/identity', { mode: before.mode, jwksUrl: 'https://attacker.example/jwks.json' }),
      await as('admin', 'PUT', '/v1/admin/identity', { mode: before.mode, publicKeys: [jwk], jwksUrl: 'https://attacker.example/jwks.json' }),
      await as('admin', 'PUT', '/v1/admin/identity', { mode: before.mode, publicKeys: [jwk, other] }),
      await as('admin', 'POST', '/v1/admin/identity/secrets', {}),
    ];
    for (const res of held) {
      expect(res.status, res.text).toBe(202);
      expect(res.body.proposal.operation).toBe('identity.mode');
      expect(res.body.secret).toBeUndefined();
    }
    expect(await identity()).toEqual(before);
    // Approved by another admin, the secret is made for the one who asked, once.
    const asked = held[3]!.body.proposal.id as string;
    expect((await decide('owner2', asked, 'approve')).status).toBe(200);
    const made = await as('admin', 'POST', '/v1/admin/identity/secrets', {}, approval(asked));
    expect(made.status, made.text).toBe(201);
    expect(made.body.secret).toMatch(/^idsec_/);
    expect((await as('admin', 'POST', '/v1/admin/identity/secrets', {}, approval(asked))).status).toBe(409);
    // Taking trust out runs at once, as does saving what is already trusted.
    expect((await as('admin', 'DELETE', `/v1/admin/identity/secrets/${made.body.id}`)).status).toBe(204);
    expect((await as('admin', 'PUT', '/v1/admin/identity', { mode: before.mode, publicKeys: before.publicKeys })).status).toBe(204);
  });

  // Attack (eleventh review): with keys.privileged and export.restricted held, a new key with only
  // privacy:export and conversations:read was made at once, and looped over every visitor through
  // /privacy/export, which puts back the original values the PII engine took out (what pii:reveal guards one
  // by one, with a reason) and opens each left email. privacy:erase made mass erasure as easy.
  test('a key that exports or erases data subjects is privileged: making it is held like one with pii:reveal', async () => {
    expect(
      (await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } })).status,
    ).toBe(200);
    for (const capabilities of [['privacy:export', 'conversations:read'], ['privacy:erase']]) {
      const name = `dsr-${capabilities[0]!.replace(':', '-')}`;
      const res = await as('admin', 'POST', '/v1/admin/api-keys', { name, capabilities });
      expect(res.status, res.text).toBe(202);
      expect(res.body.secret).toBeUndefined();
      expect(res.body.proposal).toMatchObject({ operation: 'keys.privileged', arguments: { name, capabilities } });
      expect(await keyNamed(name)).toBe(false);
    }
  });

  test('rotating a privileged key is held like making one (the new secret has its capabilities); a plain key rotates at once', async () => {
    const deps = { db: t.runtime.db, audit: t.runtime.audit, env: t.config.env };
    const ctx = { tenantId: a.tenant.id, requestId: null, actor: { type: 'cli' as const, id: 'test' }, held: new Set(ROLE_CAPABILITIES.owner) };
    // Made past the gate, as if approved earlier.
    const privileged = (await createKey(deps, ctx, { name: 'ops-bot', capabilities: ['keys:write', 'keys:read'] })).apiKey;
    const plain = (await createKey(deps, ctx, { name: 'inbox-bot', capabilities: ['handoffs:read'] })).apiKey;
    const keys = async () => (await call(t.url, 'GET', '/v1/admin/api-keys', { key: a.secretKey })).body.apiKeys as { rotatedFrom: string | null }[];
    const count = (await keys()).length;

    const held = await as('admin', 'POST', `/v1/admin/api-keys/${privileged.id}/rotate`, { graceSeconds: 0 });
    expect(held.status, held.text).toBe(202);
    expect(held.body.secret).toBeUndefined();
    expect(held.body.proposal).toMatchObject({
      operation: 'keys.privileged',
      arguments: { rotate: { id: privileged.id, name: 'ops-bot', capabilities: ['keys:write', 'keys:read'] }, graceSeconds: 0 },
    });
    expect(await keys()).toHaveLength(count);
    expect((await keys()).some((k) => k.rotatedFrom === privileged.id)).toBe(false);
    // Approved by another admin, the same request by the same person runs it.
    expect((await decide('owner', held.body.proposal.id, 'approve')).status).toBe(200);
    const done = await as('admin', 'POST', `/v1/admin/api-keys/${privileged.id}/rotate`, { graceSeconds: 0 }, approval(held.body.proposal.id));
    expect(done.status, done.text).toBe(201);
    expect(done.body).toMatchObject({ apiKey: { rotatedFrom: privileged.id }, secret: expect.stringMatching(/^sk_/) });

    const now = await as('admin', 'POST', `/v1/admin/api-keys/${plain.id}/rotate`, {});
    expect(now.status, now.text).toBe(201);
    expect(now.body.apiKey.rotatedFrom).toBe(plain.id);
  });

  test('an operation marked after a write was checked does not come off with that write: the write is refused under the lock', async () => {
    const ctx = { tenantId: a.tenant.id, requestId: null, actor: { type: 'member' as const, id: people.admin.memberId } };
    const list = () => call(t.url, 'GET', '/v1/admin/settings', { key: a.secretKey }).then((r) => r.body.effective.approvals.operations);
    const before = await list();
    // Checked while the list was empty: nothing to approve. Then another admin marks tenant deletion.
    const write = { approvals: { operations: ['keys.privileged'] } };
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      writeSettings(tx, t.runtime.audit, ctx, 'replace', { approvals: { operations: [] } }, true),
    );
    const applies = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => relaxesApprovals(tx, 'replace', write));
    expect(applies).toBe(false);
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      writeSettings(tx, t.runtime.audit, ctx, 'merge', { approvals: { operations: ['tenant.delete'] } }, false),
    );
    // The checked write now would take tenant.delete off the list: refused, and nothing stored.
    await expect(
      t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => writeSettings(tx, t.runtime.audit, ctx, 'replace', write, applies)),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await list()).toEqual(['tenant.delete']);
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      writeSettings(tx, t.runtime.audit, ctx, 'replace', { approvals: { operations: before } }, true),
    );
  });
});

describe('the database', () => {
  test('a request nobody else could approve is refused at once, not left to expire: a lone owner, a key whose maker is the only admin', async () => {
    const b = await t.tenant('Gate B', ['b.example']);
    const lone = await signedInMember(t, b.tenant.id, 'owner');
    const made = await lone.client.call('POST', '/v1/admin/api-keys', { name: 'ops', capabilities: ['keys:write'] });
    expect(made.status, made.text).toBe(201);
    const mark = await lone.client.call('PATCH', '/v1/admin/settings', { approvals: { operations: ['keys.privileged'] } });
    expect(mark.status, mark.text).toBe(200);
    const privileged = { name: 'root', capabilities: ['keys:write'] };
    for (const ask of [
      () => lone.client.call('POST', '/v1/admin/api-keys', privileged),
      () => call(t.url, 'POST', '/v1/admin/api-keys', { key: made.body.secret, body: privileged }),
    ]) {
      const refused = await ask();
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toContain('Nobody else can approve this');
      expect(refused.body.request_id).toBeTruthy();
    }
    const none = await owner<{ n: number }>('SELECT count(*)::int AS n FROM approval_proposals WHERE tenant_id = $1', [b.tenant.id]);
    expect(none.rows[0]!.n).toBe(0);
    // With a second admin it is proposed, as anywhere.
    await signedInMember(t, b.tenant.id, 'admin');
    expect((await lone.client.call('POST', '/v1/admin/api-keys', privileged)).status).toBe(202);
  });

  test('the approvers are emailed once that an admin operation waits: every active owner and admin but the requester, never the request', async () => {
    const sweep = () => approvalSweep(t.app.locals.approvals as ApprovalDeps);
    await sweep(); // what earlier tests left waiting
    smtp.inbox.length = 0;
    const asked = await as('admin', 'POST', '/v1/admin/api-keys', { name: 'notice-me', capabilities: ['keys:write'] });
    expect(asked.status, asked.text).toBe(202);
    expect((await sweep()).notified).toBe(1);
    const to = smtp.inbox.flatMap((m) => m.to).sort();
    expect(to).toEqual([people.owner.email, people.owner2.email].sort());
    // Unfolded: long headers continue on indented lines, quoted-printable lines end in '='.
    const mail = smtp.inbox[0]!.raw.replace(/\r?\n[ \t]+/g, ' ').replace(/=\r?\n/g, '');
    expect(mail).toContain('Subject: Approval needed: Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin');
    expect(mail).toContain(`${t.config.publicUrl}/console/#approvals`);
    expect(mail).toContain('in Gate A');
    // The request is read in the console, signed in: not its arguments in an email.
    expect(mail).not.toContain('notice-me');
    // Once: the next sweep sends nothing; a decided request is not announced again.
    expect((await sweep()).notified).toBe(0);
    expect(smtp.inbox).toHaveLength(2);
    expect((await decide('owner', asked.body.proposal.id, 'reject')).status).toBe(200);
    // A key asks: the person who made it cannot decide, so is not asked to.
    smtp.inbox.length = 0;
    const made = await as('owner', 'POST', '/v1/admin/api-keys', { name: 'notice-script', capabilities: ['providers:write'] });
    expect(made.status, made.text).toBe(201);
    const byKey = await call(t.url, 'PUT', '/v1/admin/providers/openai-compatible', {
      key: made.body.secret,
      body: { apiKey: 'sk-notice-secret-0123456789', model: 'llama-3', baseUrl: 'https://llm.example.com/v1' },
    });
    expect(byKey.status, byKey.text).toBe(202);
    expect((await sweep()).notified).toBe(1);
    expect(smtp.inbox.flatMap((m) => m.to).sort()).toEqual([people.owner2.email, people.admin.email].sort());
    expect((await decide('owner2', byKey.body.proposal.id, 'reject')).status).toBe(200);
  });

  test('refuses an admin operation approved without an owner or admin, or one that starts approved, even when the app is bypassed', async () => {
    const res = await as('owner', 'POST', '/v1/admin/tenant/deletion', { graceDays: 9 });
    const id = res.body.proposal.id as string;
    await owner(
      `INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision) VALUES ($1, $2, 'member', $3, 'approve')`,
      [a.tenant.id, id, people.agent.memberId],
    );
    await expect(owner("UPDATE approval_proposals SET status = 'approved' WHERE id = $1", [id])).rejects.toThrow(/needs more approvals/);
    await expect(
      owner(
        `INSERT INTO approval_proposals (tenant_id, id, kind, operation, arguments, arguments_hash, risk, requested_by_kind, requested_by_id, status, expires_at)
         VALUES ($1, gen_random_uuid(), 'admin', 'tenant.delete', '{}', repeat('a', 64), 'sensitive', 'member', $2, 'approved', now() + interval '1 day')`,
        [a.tenant.id, people.owner.memberId],
      ),
    ).rejects.toThrow(/starts pending/);
    // A key's maker deciding its request, written straight to the table.
    const [key] = (await owner<{ id: string; m: string }>("SELECT id::text, created_by_member::text AS m FROM api_keys WHERE name = 'owner-script'"))
      .rows;
    const byKey = (
      await owner<{ id: string }>(
        `INSERT INTO approval_proposals (tenant_id, id, kind, operation, arguments, arguments_hash, risk, requested_by_kind, requested_by_id, status, expires_at)
         VALUES ($1, gen_random_uuid(), 'admin', 'keys.privileged', '{}', repeat('b', 64), 'sensitive', 'key', $2, 'pending', now() + interval '1 day') RETURNING id`,
        [a.tenant.id, key!.id],
      )
    ).rows[0]!;
    await expect(
      owner(
        `INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision) VALUES ($1, $2, 'member', $3, 'approve')`,
        [a.tenant.id, byKey.id, key!.m],
      ),
    ).rejects.toThrow(/cannot decide their own proposal/);
  });
});
