// Data-subject requests over the real app: export (everything about one person, personal values put back)
// and erase (conversations, vault entries, profile, sessions), by verified user id or visitor reference;
// another tenant's subject is out of reach, a key without the capability is refused, and across a
// realistic flow (chat with PII, handoff, agent reply, export, erase) no audit payload holds a value the
// PII engine detects.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { detect } from '../ai/pii/index.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { identityToken } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let signer: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const ORIGIN_A = 'https://a.example';

const EMAIL = 'ada.lovelace@example.com';
const CARD = '4111 1111 1111 1111';
const PHONE = '+44 20 7946 0958';

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Subjects A', ['a.example']);
  b = await t.tenant('Subjects B', ['b.example']);
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  signer = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  for (const tenant of [a, b])
    expect((await call(t.url, 'PUT', '/v1/admin/identity', { key: tenant.secretKey, body: { mode: 'optional', publicKeys: [jwk] } })).status).toBe(
      204,
    );
  // Tenant A's webhooks carry what visitors say (no such host: the stored events are what is checked).
  const hook = await call(t.url, 'POST', '/v1/admin/webhooks/endpoints', {
    key: a.secretKey,
    body: { url: 'https://hooks.a.example/parley', events: ['conversation.created', 'message.created', 'handoff.requested'] },
  });
  expect(hook.status, hook.text).toBe(201);
}, 120_000);
afterAll(() => t?.close());

const owner = (sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<any>(sql, params));
const privacy = (key: string, op: 'export' | 'erase', body: unknown) => call(t.url, 'POST', `/v1/admin/privacy/${op}`, { key, body });
/** An export's reason: required, kept in the audit log. */
const WHY = 'Subject access request, ticket DSR-7';

function userToken(tenant: CreatedTenant, sub: string, name: string, email: string) {
  return identityToken({ alg: 'ES256', kid: 'k1', key: signer, tenant: tenant.tenant.id }, sub, { name, email });
}

/** A visitor (signed in as `sub` when given) who chats once; the visitor and the conversation id. */
async function chat(tenant: CreatedTenant, origin: string, text: string, sub?: string) {
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  expect((await v.start()).status).toBe(200);
  if (sub) {
    const res = await v.call('POST', '/identify', { token: await userToken(tenant, sub, 'Ada Lovelace', EMAIL) });
    expect(res.status).toBe(200);
    v.adopt(res.body.session);
  }
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, text);
  return { v, id };
}

describe('data-subject requests', () => {
  test('export by verified user id: every conversation with the personal values put back, the profile; audited with counts only', async () => {
    const { v, id } = await chat(a, ORIGIN_A, `I am Ada, mail me at ${EMAIL} or call ${PHONE}`, 'user-ada');
    // What is stored is redacted…
    const stored = (await owner('SELECT text FROM messages WHERE conversation_id = $1 ORDER BY seq', [id])).rows.map((r) => r.text).join('\n');
    expect(stored).not.toContain(EMAIL);
    // …a handoff, an agent's reply.
    expect((await v.call('POST', `/conversations/${id}/handoff`, { reason: 'wants a person' })).status).toBe(201);
    expect(
      (await call(t.url, 'POST', `/v1/admin/conversations/${id}/messages`, { key: a.secretKey, body: { text: 'Hello Ada, on it.', agent: 'Sam' } }))
        .status,
    ).toBe(201);

    const res = await privacy(a.secretKey, 'export', { type: 'user', id: 'user-ada', reason: WHY });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.subject).toEqual({ type: 'user', id: 'user-ada' });
    expect(res.body.profile).toMatchObject({ name: 'Ada Lovelace', email: EMAIL });
    expect(res.body.conversations).toHaveLength(1);
    const c = res.body.conversations[0];
    expect(c).toMatchObject({ id, userId: 'user-ada', visitorRef: v.visitorRef });
    expect(c.messages[0].text).toContain(EMAIL);
    expect(c.messages.map((m: any) => m.role)).toContain('agent');
    expect(c.handoffs).toHaveLength(1);
    expect(res.body.visitors.map((x: any) => x.ref)).toEqual([v.visitorRef]);
    // The audit entry: the action and counts, never the subject.
    const entry = (await owner("SELECT target_id, metadata FROM audit_entries WHERE action = 'privacy.export' AND tenant_id = $1", [a.tenant.id]))
      .rows;
    expect(entry).toHaveLength(1);
    expect(entry[0].metadata).toMatchObject({ subjectType: 'user', conversations: 1, profile: true });
    expect(JSON.stringify(entry)).not.toContain('user-ada');
  });

  // Attack (eleventh review): an export put back every original value the PII engine took out, for anyone
  // named, with no reason given; its audit entry held counts only, so nobody could tell why, nor whose.
  test('an export states a reason: without one it is a 400; the audit entry keeps the reason (personal values taken out) and the conversations it opened, never the subject', async () => {
    const { id } = await chat(a, ORIGIN_A, `Write to me at ${EMAIL}`, 'user-reason');
    const exports = async () =>
      (
        await owner("SELECT reason, target_id, metadata FROM audit_entries WHERE action = 'privacy.export' AND tenant_id = $1 ORDER BY id", [
          a.tenant.id,
        ])
      ).rows;
    const before = (await exports()).length;
    for (const body of [
      { type: 'user', id: 'user-reason' },
      { type: 'user', id: 'user-reason', reason: 'because' },
    ]) {
      const refused = await privacy(a.secretKey, 'export', body);
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(['/reason']);
    }
    expect(await exports()).toHaveLength(before);

    const res = await privacy(a.secretKey, 'export', { type: 'user', id: 'user-reason', reason: `Access request from ${EMAIL}, ticket DSR-7` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.subject).toEqual({ type: 'user', id: 'user-reason' });
    expect(res.body.conversations[0].messages[0].text).toContain(EMAIL);
    const entry = (await exports()).at(-1);
    expect(entry.reason).toMatch(/^Access request from \[EMAIL_K\d+\], ticket DSR-7$/);
    expect(entry.metadata).toMatchObject({ subjectType: 'user', conversations: 1, conversationIds: [id] });
    expect(JSON.stringify(entry)).not.toContain('user-reason');
    expect(JSON.stringify(entry)).not.toContain(EMAIL);
  });

  // Questions asked through POST /v1/answers without a userRef all belonged to one visitor, `api`: exporting
  // that subject handed over every such caller's words, and erasing it deleted them all.
  test('API questions without a userRef are each their own subject; a userRef is one subject; neither export nor erasure reaches another', async () => {
    const ask = async (question: string, userRef?: string) => {
      const res = await call(t.url, 'POST', '/v1/answers', { key: a.secretKey, body: { question, ...(userRef ? { userRef } : {}) } });
      expect(res.status, res.text).toBe(200);
      return res.body.conversationId as string;
    };
    const ref = async (id: string) => (await owner('SELECT visitor_id FROM conversations WHERE id = $1', [id])).rows[0].visitor_id as string;
    const first = await ask('My address is first.caller@example.com, where is my refund?');
    const second = await ask('My address is second.caller@example.com, can I change plans?');
    const acct = [await ask('Invoices for acct, please', 'acct-981'), await ask('And the refund for acct?', 'acct-981')];
    const other = await ask('Another account asks', 'acct-982');

    const [r1, r2] = [await ref(first), await ref(second)];
    expect(r1).not.toBe(r2);
    for (const r of [r1, r2]) expect(r).toMatch(/^api_[A-Za-z0-9_-]{16}$/);
    expect(await ref(acct[0]!)).toBe('api:acct-981');
    expect(await ref(other)).toBe('api:acct-982');

    // The reference an agent is shown is the one a request names.
    const listed = await call(t.url, 'GET', `/v1/admin/conversations?q=${encodeURIComponent(r1)}`, { key: a.secretKey });
    expect(listed.body.conversations.map((c: any) => [c.id, c.visitorRef])).toEqual([[first, r1]]);

    const one = await privacy(a.secretKey, 'export', { type: 'visitor', id: r1, reason: WHY });
    expect(one.status, one.text).toBe(200);
    expect(one.body.conversations.map((c: any) => c.id)).toEqual([first]);
    expect(JSON.stringify(one.body)).toContain('first.caller@example.com');
    expect(JSON.stringify(one.body)).not.toContain('second.caller@example.com');
    const byRef = await privacy(a.secretKey, 'export', { type: 'visitor', id: 'api:acct-981', reason: WHY });
    expect(byRef.body.conversations.map((c: any) => c.id).sort()).toEqual([...acct].sort());
    // Nobody is `api` any more.
    expect((await privacy(a.secretKey, 'export', { type: 'visitor', id: 'api', reason: WHY })).body.conversations).toEqual([]);

    const erased = await privacy(a.secretKey, 'erase', { type: 'visitor', id: r1 });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body.deleted).toMatchObject({ conversations: 1 });
    const left = (await owner('SELECT id FROM conversations WHERE id = ANY($1)', [[first, second, ...acct, other]])).rows.map((r) => r.id);
    expect(left.sort()).toEqual([second, ...acct, other].sort());
    expect((await privacy(a.secretKey, 'erase', { type: 'visitor', id: 'api:acct-982' })).body.deleted).toMatchObject({ conversations: 1 });
    expect((await owner('SELECT count(*)::int AS n FROM conversations WHERE id = ANY($1)', [acct])).rows[0].n).toBe(2);
  });

  test("another tenant's subject is out of reach: its key exports nothing and erases nothing", async () => {
    const { v, id } = await chat(a, ORIGIN_A, `Card ${CARD}`, 'user-cross');
    for (const subject of [
      { type: 'user', id: 'user-cross' },
      { type: 'visitor', id: v.visitorRef },
    ]) {
      const exported = await privacy(b.secretKey, 'export', { ...subject, reason: WHY });
      expect(exported.status).toBe(200);
      expect(exported.body).toMatchObject({ profile: null, visitors: [], conversations: [] });
      const erased = await privacy(b.secretKey, 'erase', subject);
      expect(erased.body.deleted).toEqual({
        conversations: 0,
        messages: 0,
        vaultEntries: 0,
        profiles: 0,
        visitors: 0,
        sessions: 0,
        webhookEvents: 0,
      });
    }
    expect((await owner('SELECT count(*)::int AS n FROM conversations WHERE id = $1', [id])).rows[0].n).toBe(1);
    expect((await owner("SELECT count(*)::int AS n FROM verified_visitors WHERE subject = 'user-cross'")).rows[0].n).toBe(1);
  });

  test('a key without the capability is refused, with nothing exported or deleted; a bad subject is a 400', async () => {
    const { v } = await chat(a, ORIGIN_A, 'Hello there');
    const reader = await call(t.url, 'POST', '/v1/admin/api-keys', {
      key: a.secretKey,
      body: { name: 'reader', capabilities: ['conversations:read', 'pii:reveal'] },
    });
    const exporter = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'dpo', capabilities: ['privacy:export'] } });
    const subject = { type: 'visitor', id: v.visitorRef, reason: WHY };
    for (const [key, op] of [
      [reader.body.secret, 'export'],
      [reader.body.secret, 'erase'],
      [exporter.body.secret, 'erase'],
    ] as const) {
      const res = await privacy(key, op, subject);
      expect([op, res.status]).toEqual([op, 403]);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    expect((await privacy(exporter.body.secret, 'export', subject)).status).toBe(200);
    expect((await owner('SELECT count(*)::int AS n FROM visitors WHERE id = $1', [v.visitorRef])).rows[0].n).toBe(1);
    for (const bad of [{ type: 'member', id: 'x' }, { type: 'user' }, { type: 'user', id: '' }, { type: 'user', id: 'x', extra: 1 }])
      expect((await privacy(a.secretKey, 'export', { ...bad, reason: WHY })).status).toBe(400);
  });

  test("erase by visitor reference and by user id: the person's data goes, others' stays, the audit log is intact and holds no PII", async () => {
    const auditBefore = (await owner('SELECT tenant_id, seq, leaf_hash FROM audit_entries WHERE seq IS NOT NULL ORDER BY tenant_id, seq')).rows;
    const anon = await chat(a, ORIGIN_A, `My card is ${CARD}, email ${EMAIL}`);
    expect((await anon.v.call('POST', `/conversations/${anon.id}/handoff`, {})).status).toBe(201);
    expect(
      (
        await call(t.url, 'POST', `/v1/admin/conversations/${anon.id}/messages`, {
          key: a.secretKey,
          body: { text: 'Thanks, looking.', agent: 'Sam' },
        })
      ).status,
    ).toBe(201);
    const bystander = await chat(a, ORIGIN_A, 'I only have a question about plans');
    const bob = await chat(a, ORIGIN_A, `Bob here, ${PHONE}`, 'user-bob');
    // A signed-in visitor asks for a person and leaves an email: the audit entries of both name the
    // conversation, never the visitor (their reference or user id would outlive an erasure in the log).
    expect((await bob.v.call('POST', `/conversations/${bob.id}/handoff`, {})).status).toBe(201);
    expect((await bob.v.call('POST', `/conversations/${bob.id}/contact`, { email: EMAIL })).status).toBeLessThan(300);
    const vault = (await owner('SELECT count(*)::int AS n FROM pii_vault WHERE conversation_id = $1', [anon.id])).rows[0].n;
    // The webhook events naming a conversation, by type, and their deliveries.
    const events = async (conversation: string) =>
      (
        await owner(
          `SELECT e.type, (SELECT count(*)::int FROM webhook_deliveries d WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id) AS deliveries
             FROM webhook_events e WHERE e.body LIKE '%' || $1 || '%' ORDER BY e.type`,
          [conversation],
        )
      ).rows;
    const anonEvents = await events(anon.id);
    expect(new Set(anonEvents.map((e: any) => e.type))).toEqual(new Set(['conversation.created', 'message.created', 'handoff.requested']));
    expect(anonEvents.every((e: any) => e.deliveries === 1)).toBe(true);
    const bystanderEvents = (await events(bystander.id)).length;
    expect(bystanderEvents).toBeGreaterThan(0);

    const erased = await privacy(a.secretKey, 'erase', { type: 'visitor', id: anon.v.visitorRef });
    expect(erased.status).toBe(200);
    expect(erased.body.deleted).toMatchObject({ conversations: 1, vaultEntries: vault, visitors: 1 });
    expect(erased.body.deleted.messages).toBeGreaterThanOrEqual(3);
    expect(erased.body.deleted.sessions).toBeGreaterThanOrEqual(1);
    // Sent or not, the events about the person's conversation go, and their deliveries with them.
    expect(erased.body.deleted.webhookEvents).toBe(anonEvents.length);
    expect(await events(anon.id)).toEqual([]);
    expect((await events(bystander.id)).length).toBe(bystanderEvents);
    for (const table of ['messages', 'pii_vault', 'handoffs', 'conversation_events'])
      expect([table, (await owner(`SELECT count(*)::int AS n FROM ${table} WHERE conversation_id = $1`, [anon.id])).rows[0].n]).toEqual([table, 0]);
    expect((await owner('SELECT count(*)::int AS n FROM visitors WHERE id = $1', [anon.v.visitorRef])).rows[0].n).toBe(0);
    // The erased visitor's session no longer works; the bystander is untouched.
    expect((await anon.v.call('POST', '/session/refresh', { refreshToken: anon.v.refreshToken })).status).not.toBe(200);
    // Nor does the access token it still holds (valid for minutes) start new data about them (second review).
    expect((await anon.v.call('POST', '/conversations', {})).status).toBe(401);
    expect((await owner('SELECT count(*)::int AS n FROM conversations WHERE visitor_id = $1', [anon.v.visitorRef])).rows[0].n).toBe(0);
    // Nor signs in: a 401 that sends the widget to a new session, not a 500 (third review).
    const identify = await anon.v.call('POST', '/identify', { token: await userToken(a, 'after-erasure', 'Erin', 'erin@example.com') });
    expect(identify.status, identify.text).toBe(401);
    expect((await owner('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1', [bystander.id])).rows[0].n).toBeGreaterThan(0);
    // Again: nothing left to delete.
    expect((await privacy(a.secretKey, 'erase', { type: 'visitor', id: anon.v.visitorRef })).body.deleted.conversations).toBe(0);

    // By user id: the verified conversations, the stored profile and the visitor record go.
    const byUser = await privacy(a.secretKey, 'erase', { type: 'user', id: 'user-bob' });
    expect(byUser.body.deleted).toMatchObject({ conversations: 1, profiles: 1, visitors: 1 });
    expect((await owner('SELECT count(*)::int AS n FROM conversations WHERE id = $1', [bob.id])).rows[0].n).toBe(0);
    expect((await owner("SELECT count(*)::int AS n FROM verified_visitors WHERE subject = 'user-bob'")).rows[0].n).toBe(0);
    expect((await privacy(a.secretKey, 'export', { type: 'user', id: 'user-bob', reason: WHY })).body).toMatchObject({
      profile: null,
      conversations: [],
    });

    // The audit log was appended to, never edited: every entry integrated before is still there, byte for byte
    // (entries still pending have no index yet; the integrator may give them one at any moment).
    const after = (await owner('SELECT tenant_id, seq, leaf_hash FROM audit_entries WHERE seq IS NOT NULL ORDER BY tenant_id, seq')).rows;
    const key = (r: any) => `${r.tenant_id}/${r.seq}/${Buffer.from(r.leaf_hash).toString('hex')}`;
    const kept = new Set(after.map(key));
    expect(auditBefore.filter((r) => !kept.has(key(r)))).toEqual([]);
    const erase = (await owner("SELECT metadata FROM audit_entries WHERE action = 'privacy.erase' AND tenant_id = $1 ORDER BY id", [a.tenant.id]))
      .rows;
    expect(erase.length).toBeGreaterThanOrEqual(2);

    // Every audit payload of this whole flow, every tenant and the platform log: nothing the PII engine
    // detects, and none of the values or subject ids used here.
    const rows = (await owner('SELECT action, actor_id, target_id, reason, metadata FROM audit_entries')).rows;
    expect(rows.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const r of rows) {
      const payload = JSON.stringify([r.actor_id, r.target_id, r.reason, r.metadata]);
      for (const m of detect(payload)) found.push(`${r.action}: ${m.class}`);
      for (const value of [EMAIL, CARD, PHONE, 'Ada Lovelace', 'user-ada', 'user-bob', anon.v.visitorRef, bob.v.visitorRef])
        if (payload.includes(value)) found.push(`${r.action}: ${value}`);
    }
    expect([...new Set(found)]).toEqual([]);
  });
});
