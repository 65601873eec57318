// Platform operators: people of the deployment, signed in like everyone else, must use a second factor,
// hold no tenant capability, and act across tenants only through the platform routes, audited in the
// platform log.
import { PLATFORM_TENANT } from '../db/index.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createInvite } from '../people/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { ConsoleClient, peopleDeps, signedInMember, STRONG_PASSWORD } from '../test/console.js';
import { call } from '../test/http.js';

let t: TestApp;
let operator: ConsoleClient;
let operatorId: string;

const platformLog = async (action: string) =>
  (
    await t.runtime.db.withOwner((tx) =>
      tx.query<{ actor_type: string; actor_id: string }>('SELECT actor_type, actor_id FROM audit_entries WHERE tenant_id = $1 AND action = $2', [
        PLATFORM_TENANT,
        action,
      ]),
    )
  ).rows;

beforeAll(async () => {
  t = await startTestApp();
  const { url } = await createInvite(
    peopleDeps(t),
    { requestId: null, actor: { type: 'cli', id: 'test' }, tenantId: PLATFORM_TENANT, role: null },
    { email: 'ops@deploy.example', role: 'operator' },
  );
  operator = new ConsoleClient(t.url);
  const accepted = await operator.call('POST', '/v1/auth/invites/accept', {
    token: url.split('#invite=')[1],
    displayName: 'Ops',
    password: STRONG_PASSWORD,
  });
  // Operators must enrol a second factor before they get a session.
  expect(accepted.body).toEqual({ status: 'mfa_enrolment_required', methods: ['totp', 'passkey'] });
  expect(operator.jar.has('__Host-parley_access')).toBe(false);
  // The second factor is the MFA suite's subject; here the platform's policy is relaxed to reach the routes.
  await t.runtime.db.withOwner((tx) => tx.query("UPDATE tenants SET settings = '{}' WHERE id = $1", [PLATFORM_TENANT]));
  const signedIn = await operator.call('POST', '/v1/auth/password', { email: 'ops@deploy.example', password: STRONG_PASSWORD });
  expect(signedIn.body).toMatchObject({ status: 'signed_in', member: { role: 'operator', capabilities: [] } });
  operatorId = signedIn.body.member.id;
});
afterAll(() => t.close());

describe('platform operators', () => {
  test('hold no tenant capability: the admin API answers 403 everywhere but /me', async () => {
    const me = await operator.call('GET', '/v1/admin/me');
    expect(me.body).toMatchObject({ tenant: { id: PLATFORM_TENANT }, capabilities: [], member: { role: 'operator' } });
    for (const path of ['/members', '/domains', '/audit', '/handoffs']) expect((await operator.call('GET', `/v1/admin${path}`)).status).toBe(403);
  });

  test('list tenants, create one and invite its first owner: each audited in the platform log as the operator', async () => {
    const acme = await t.tenant('Acme', ['acme.example']);
    const listed = await operator.call('GET', '/v1/platform/tenants');
    expect(listed.status).toBe(200);
    expect(listed.body.tenants.map((x: { id: string }) => x.id)).toContain(acme.tenant.id);
    expect(listed.body.tenants.map((x: { id: string }) => x.id)).not.toContain(PLATFORM_TENANT);
    const made = await operator.call('POST', '/v1/platform/tenants', { name: 'Globex', domains: ['globex.example'] });
    expect(made.status).toBe(201);
    const invited = await operator.call('POST', `/v1/platform/tenants/${made.body.tenant.id}/invites`, {
      email: 'boss@globex.example',
      role: 'owner',
    });
    expect(invited.status).toBe(201);
    const boss = new ConsoleClient(t.url);
    const accepted = await boss.call('POST', '/v1/auth/invites/accept', {
      token: invited.body.invite.inviteUrl.split('#invite=')[1],
      displayName: 'Boss',
      password: STRONG_PASSWORD,
    });
    expect(accepted.body).toMatchObject({ status: 'signed_in', member: { role: 'owner' }, tenant: { id: made.body.tenant.id } });
    for (const action of ['platform.tenants_list', 'tenant.create', 'platform.invite']) {
      expect(
        (await platformLog(action)).some((e) => e.actor_type === 'member' && e.actor_id === operatorId),
        action,
      ).toBe(true);
    }
    // The invite in the tenant's own log names the operator too.
    const inTenant = (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: made.body.secretKey })).body.entries.find(
      (e: { action: string }) => e.action === 'member.invite',
    );
    expect(inTenant.actor).toEqual({ type: 'platform', id: operatorId });
  });

  test('tenant people, keys and other sites cannot use the platform API; a tenant cannot mint an operator', async () => {
    const acme = await t.tenant('Initech', ['initech.example']);
    const owner = await signedInMember(t, acme.tenant.id, 'owner');
    expect((await owner.client.call('GET', '/v1/platform/tenants')).status).toBe(403);
    expect((await call(t.url, 'GET', '/v1/platform/tenants', { key: acme.secretKey })).status).toBe(401);
    expect(
      (await operator.call('POST', '/v1/platform/tenants', { name: 'Evil' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }))
        .status,
    ).toBe(403);
    expect((await owner.client.call('POST', '/v1/admin/invites', { email: 'x@initech.example', role: 'operator' })).status).toBe(400);
    const count = await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>("SELECT count(*)::int AS n FROM tenants WHERE name = 'Evil'"));
    expect(count.rows[0]!.n).toBe(0);
  });
});
