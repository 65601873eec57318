// Who a visitor is, as seen by admins, the audit log and the database, must never let anyone become that
// visitor: the credential that resumes a visitor is a secret only its browser holds (stored hashed);
// everything else carries a pseudonymous reference that resumes nothing.
import { AdminConversationResponse, AuditListResponse, HandoffListResponse } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
const ORIGIN = 'https://help.a.example';
const PII = { name: 'Jane Miller', email: 'jane.miller@example.com', phone: '+1 (415) 555-0132' };
let v: Visitor;
/** What the visitor's browser was given to send back as X-Parley-Visitor. */
let held: string;
let convId: string;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  v = new Visitor(t.url, a.publishableKey, ORIGIN);
  const started = await v.start();
  held = started.body.session.visitorSecret;
  convId = (await v.call('POST', '/conversations', {})).body.conversation.id;
  // The visitor asks for a person first (a handoff audited with the visitor as actor), then writes.
  expect((await v.call('POST', `/conversations/${convId}/handoff`, {})).status).toBe(201);
  await v.say(convId, `Hi, I am ${PII.name}, email ${PII.email}, phone ${PII.phone}.`);
});
afterAll(() => t.close());

const admin = (method: string, path: string, key: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key, body });
const keyWith = async (...capabilities: string[]) =>
  (await admin('POST', '/api-keys', a.secretKey, { name: capabilities.join('+'), capabilities })).body.secret as string;

/** Every string anywhere in a JSON value. */
function strings(x: unknown, out: string[] = []): string[] {
  if (typeof x === 'string') out.push(x);
  else if (Array.isArray(x)) for (const y of x) strings(y, out);
  else if (x && typeof x === 'object') for (const y of Object.values(x)) strings(y, out);
  return out;
}
/** Values that could be sent as a header: the shape of any identifier or token. */
const candidates = (xs: string[]) => [...new Set(xs.filter((s) => s.length >= 4 && s.length <= 200 && /^[\x21-\x7e]+$/.test(s)))];

/** A fresh browser presents `value` as the visitor credential, then reads the conversation with the session it gets. */
async function resumeAs(value: string): Promise<{ config: number; read: number | null; text: string }> {
  const thief = new Visitor(t.url, a.publishableKey, ORIGIN);
  const cfg = await thief.call('POST', '/session', {}, { 'x-parley-visitor': value });
  if (cfg.status !== 200) return { config: cfg.status, read: null, text: cfg.text };
  thief.adopt(cfg.body.session);
  const read = await thief.call('GET', `/conversations/${convId}`);
  return { config: cfg.status, read: read.status, text: read.text };
}

async function expectNoneResumes(values: string[]) {
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) {
    const r = await resumeAs(value);
    expect(r.read, `presenting ${JSON.stringify(value)} opened the visitor's conversation`).not.toBe(200);
    for (const pii of Object.values(PII)) expect(r.text).not.toContain(pii);
  }
}

describe('admin surfaces show a pseudonym, not a credential', () => {
  test('a conversations:read key cannot become the visitor with anything the conversation view shows', async () => {
    const reader = await keyWith('conversations:read');
    const res = await admin('GET', `/conversations/${convId}`, reader);
    expect(res.status).toBe(200);
    for (const pii of Object.values(PII)) expect(res.text).not.toContain(pii);
    await expectNoneResumes(candidates(strings(res.body)));
    // What it does show is a stable pseudonymous reference.
    AdminConversationResponse.parse(res.body);
    expect(res.body.conversation.visitorRef).toMatch(/^v_[A-Za-z0-9_-]{16}$/);
    expect(res.body.conversation).not.toHaveProperty('visitorId');
    expect(res.text).not.toContain(held);
  });

  test('an audit:read key cannot become the visitor with the actor of its handoff, nor learn who they are', async () => {
    const auditor = await keyWith('audit:read');
    const res = await admin('GET', '/audit?limit=1000', auditor);
    expect(res.status).toBe(200);
    const entries = res.body.entries as { action: string; actor: { type: string; id: string | null }; target?: { id?: string } | null }[];
    const handoff = entries.find((e) => e.action === 'handoff.create' && e.actor.type === 'visitor');
    // The visitor is not named (the log outlives an erasure); the entry's target is their conversation.
    expect(handoff?.actor.id).toBeNull();
    expect(handoff?.target?.id).toBe(convId);
    await expectNoneResumes(candidates(entries.flatMap((e) => strings([e.actor, e.target ?? null]))));
    AuditListResponse.parse(res.body);
    const conv = await admin('GET', `/conversations/${convId}`, a.secretKey);
    expect(res.text).not.toContain(conv.body.conversation.visitorRef);
    expect(res.text).not.toContain(held);
  });

  test('handoff lists carry the pseudonym too, and nothing that resumes', async () => {
    const res = await admin('GET', '/handoffs', await keyWith('handoffs:read'));
    HandoffListResponse.parse(res.body);
    const h = res.body.handoffs.find((x: { conversationId: string }) => x.conversationId === convId);
    const conv = await admin('GET', `/conversations/${convId}`, a.secretKey);
    expect(h.visitorRef).toMatch(/^v_/);
    expect(h.visitorRef).toBe(conv.body.conversation.visitorRef);
    await expectNoneResumes(candidates(strings(h)));
  });
});

describe('the database holds no visitor credential in clear', () => {
  const dump = () =>
    t.runtime.db.withOwner(async (tx) => {
      const tables = await tx.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      const rows: Record<string, unknown[]> = {};
      for (const { name } of tables.rows)
        rows[name] = (await tx.query<{ r: unknown }>(`SELECT to_jsonb(x) AS r FROM "${name}" x`)).rows.map((r) => r.r);
      return rows;
    });

  test('nothing stored about visitors, conversations or widget sessions resumes the visitor', async () => {
    const rows = await dump();
    const visitorTables = Object.keys(rows).filter((n) => /visitor|widget/.test(n) || n === 'conversations');
    expect(visitorTables).toEqual(expect.arrayContaining(['conversations', 'widget_refresh_tokens']));
    await expectNoneResumes(candidates(visitorTables.flatMap((n) => strings(rows[n]))));
  });

  test("the browser's secret is nowhere in the database; only its SHA-256 is", async () => {
    expect(held).toMatch(/^pvs_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(await dump())).not.toContain(held);
    const { rows } = await t.runtime.db.withOwner((tx) =>
      tx.query<{ n: number }>("SELECT count(*)::int AS n FROM visitors WHERE secret_hash = sha256(convert_to($1, 'UTF8'))", [held]),
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe('the visitor itself', () => {
  test('resumes its own conversation with its secret and sees its own values restored', async () => {
    const back = new Visitor(t.url, a.publishableKey, ORIGIN);
    const cfg = await back.call('POST', '/session', {}, { 'x-parley-visitor': held });
    expect(cfg.status).toBe(200);
    // Known visitor: the same pseudonym, and the secret is not handed out again.
    expect(cfg.body.session.visitorRef).toBe(v.visitorRef);
    expect(cfg.body.session).not.toHaveProperty('visitorSecret');
    back.adopt(cfg.body.session);
    const read = await back.call('GET', `/conversations/${convId}`);
    expect(read.status).toBe(200);
    for (const pii of Object.values(PII)) expect(read.body.messages[0].text).toContain(pii);
  });

  test('a new browser, or an unknown or malformed secret, is a new visitor with a new secret', async () => {
    for (const header of [undefined, `pvs_${'A'.repeat(43)}`, 'v_not-a-secret', held.slice(0, -1)]) {
      const other = new Visitor(t.url, a.publishableKey, ORIGIN);
      const cfg = await other.call('POST', '/session', {}, header ? { 'x-parley-visitor': header } : {});
      expect(cfg.status).toBe(200);
      expect(cfg.body.session.visitorSecret).toMatch(/^pvs_[A-Za-z0-9_-]{43}$/);
      expect(cfg.body.session.visitorSecret).not.toBe(held);
      expect(cfg.body.session.visitorRef).not.toBe(v.visitorRef);
      other.adopt(cfg.body.session);
      expect((await other.call('GET', `/conversations/${convId}`)).status).toBe(404);
    }
  });

  test("a tenant's visitor secret resumes nothing at another tenant", async () => {
    const b = await t.tenant('Tenant B', ['help.b.example']);
    const there = new Visitor(t.url, b.publishableKey, 'https://help.b.example');
    const cfg = await there.call('POST', '/session', {}, { 'x-parley-visitor': held });
    expect(cfg.status).toBe(200);
    expect(cfg.body.session.visitorRef).not.toBe(v.visitorRef);
    expect(cfg.body.session.visitorSecret).toMatch(/^pvs_/);
  });
});
