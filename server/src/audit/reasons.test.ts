// Reasons people type to reach personal data (revealing a redacted value, a visitor's profile, restricted
// values in a workspace export) are kept as the audit log keeps every reason: with the personal values the
// PII engine finds in them taken out. The log is never edited, so an address typed into a reason would
// outlive the person's erasure; a data-subject request's reason was already treated so.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { identitySigner } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let owner: ConsoleClient;
let conversationId = '';
const ORIGIN = 'https://help.reasons.example';
/** What a person types: the customer's address, in clear. */
const TYPED = 'customer jane.roe@mail.reasons.example asked';
const CLEAR = 'jane.roe@mail.reasons.example';

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, path, { key: a.secretKey, body });
const db = (sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<any>(sql, params));
const reasonsOf = async (action: string) =>
  (await db('SELECT reason FROM audit_entries WHERE tenant_id = $1 AND action = $2 ORDER BY id', [a.tenant.id, action])).rows.map(
    (r) => r.reason as string,
  );

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Reasons A', ['help.reasons.example']);
  const sign = await identitySigner(t.url, a.secretKey);
  const v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  const identified = await v.call('POST', '/identify', { token: await sign('user-jr', { name: 'Jane Roe', email: CLEAR }) });
  expect(identified.status, identified.text).toBe(200);
  v.adopt(identified.body.session);
  conversationId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(conversationId, `Please write to ${CLEAR} about my refund`);
  owner = (await signedInMember(t, a.tenant.id, 'owner')).client;
}, 120_000);
afterAll(() => t?.close());

describe('a reason typed to reach personal data is audited with personal values taken out', () => {
  test('pii:reveal of a redacted value', async () => {
    const stored = (await admin('GET', `/v1/admin/conversations/${conversationId}`)).body;
    const token = JSON.stringify(stored).match(/\[EMAIL_\d+\]/)?.[0];
    expect(token).toBeDefined();
    const res = await admin('POST', `/v1/admin/conversations/${conversationId}/reveal`, { token, reason: TYPED });
    expect(res.status, res.text).toBe(200);
    expect(res.body.value).toBe(CLEAR);
    expect(await reasonsOf('pii.reveal')).toEqual(['customer [EMAIL_K1] asked']);
  });

  test('the visitor profile reveal', async () => {
    const res = await admin('POST', `/v1/admin/conversations/${conversationId}/visitor/reveal`, { reason: TYPED });
    expect(res.status, res.text).toBe(200);
    expect(res.body.visitor).toMatchObject({ email: CLEAR });
    expect(await reasonsOf('visitor.profile.reveal')).toEqual(['customer [EMAIL_K1] asked']);
  });

  test('restricted values in a workspace export, and its approval request where one is needed', async () => {
    const res = await owner.call('POST', '/v1/admin/tenant/export', { includeRestricted: true, reason: TYPED });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(await reasonsOf('tenant.export')).toEqual(['customer [EMAIL_K1] asked']);

    // Held for another person's approval, the request (reason and all) waits as a proposal.
    await signedInMember(t, a.tenant.id, 'admin');
    expect((await admin('PATCH', '/v1/admin/settings', { approvals: { operations: ['export.restricted'] } })).status).toBe(200);
    const held = await owner.call('POST', '/v1/admin/tenant/export', { includeRestricted: true, reason: TYPED });
    expect(held.status, held.text.slice(0, 300)).toBe(202);
    expect(held.text).not.toContain(CLEAR);
    const proposals = (
      await db("SELECT reason, arguments FROM approval_proposals WHERE tenant_id = $1 AND operation = 'export.restricted'", [a.tenant.id])
    ).rows;
    expect(proposals).toHaveLength(1);
    expect(JSON.stringify(proposals)).not.toContain(CLEAR);
    expect(proposals[0].reason).toBe('customer [EMAIL_K1] asked');

    // Nothing anywhere in the audit log holds the address.
    const all = (await db('SELECT reason, metadata FROM audit_entries')).rows;
    expect(JSON.stringify(all)).not.toContain(CLEAR);
  });
});
