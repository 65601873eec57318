// Reports over HTTP with a real server and database. Two kinds of data: conversations made through the
// widget today (the assistant's real answers, handoffs and redaction), and rows written in the tenant's own
// transaction on fixed January days, so times, ratings and day boundaries have exact expected figures.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import { knownTimeZone } from './store.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const ORIGIN = 'https://help.a.example';
const REFUNDS = '# Returns\n\n## Refund timing\n\nRefunds reach your card within 5 business days after we receive the parcel.';

const report = (query: string, key = a.secretKey) => call(t.url, 'GET', `/v1/admin/reports?${query}`, { key });
const today = () => new Date().toISOString().slice(0, 10);

/** One conversation per question, as a visitor would start it; returns the assistant's last event. */
async function ask(tenant: CreatedTenant, origin: string, question: string) {
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  const events = await v.say(id, question);
  return { id, v, handoff: events.find((e) => e.event === 'handoff')?.data.handoff ?? null };
}

interface Fixture {
  at: string;
  assistant?: boolean;
  visitor?: boolean;
  handoff?: { reason: string; firstResponse?: number; resolved?: number; csat?: number };
}
/** January: six conversations on the 10th–12th (UTC), one just before, one nobody wrote in. */
const JANUARY: Fixture[] = [
  { at: '2026-01-09T23:59:00Z', assistant: true },
  { at: '2026-01-10T09:00:00Z', assistant: true },
  { at: '2026-01-10T10:00:00Z', assistant: true, handoff: { reason: 'low_confidence', firstResponse: 60, resolved: 600, csat: 5 } },
  { at: '2026-01-10T11:00:00Z', visitor: false },
  { at: '2026-01-11T12:00:00Z', handoff: { reason: 'visitor_request', firstResponse: 120, resolved: 1200, csat: 4 } },
  { at: '2026-01-11T23:30:00Z', assistant: true },
  { at: '2026-01-12T08:00:00Z', handoff: { reason: 'visitor_request', firstResponse: 300 } },
  { at: '2026-01-12T09:00:00Z', assistant: true, handoff: { reason: 'sensitive_topic', firstResponse: 30, resolved: 90, csat: 1 } },
];

/** Writes the fixtures in the tenant's own transaction (row security applies, as for the app). */
async function seed(tenant: CreatedTenant, fixtures: Fixture[]) {
  await t.runtime.db.withTenant(tenant.tenant.id, { requestId: null }, async (tx) => {
    for (const f of fixtures) {
      const at = new Date(f.at);
      const plus = (s: number) => new Date(at.getTime() + s * 1000);
      const c = randomUUID();
      const tid = tenant.tenant.id;
      await tx.query('INSERT INTO conversations (id, tenant_id, visitor_id, created_at) VALUES ($1, $2, $3, $4)', [c, tid, `v_${c.slice(0, 8)}`, at]);
      const messages: [string, string, Date][] = [];
      if (f.visitor !== false) messages.push(['visitor', 'Where is my parcel?', at]);
      if (f.assistant) messages.push(['assistant', 'It is on its way.', plus(2)]);
      for (const [i, [role, text, when]] of messages.entries())
        await tx.query('INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          randomUUID(),
          tid,
          c,
          i + 1,
          role,
          text,
          when,
        ]);
      const h = f.handoff;
      if (!h) continue;
      const hid = randomUUID();
      await tx.query(
        `INSERT INTO handoffs (id, tenant_id, conversation_id, reason, status, created_at, first_response_at, resolved_at, resolutions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          hid,
          tid,
          c,
          h.reason,
          h.resolved ? 'resolved' : 'assigned',
          plus(5),
          h.firstResponse ? plus(5 + h.firstResponse) : null,
          h.resolved ? plus(5 + h.resolved) : null,
          h.resolved ? 1 : 0,
        ],
      );
      if (h.csat)
        await tx.query(
          'INSERT INTO csat_responses (tenant_id, id, conversation_id, handoff_id, resolution, score, created_at) VALUES ($1, $2, $3, $4, 1, $5, $6)',
          [tid, randomUUID(), c, hid, h.csat, plus(5 + h.resolved! + 30)],
        );
    }
  });
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Reports A', ['help.a.example']);
  b = await t.tenant('Reports B', ['help.b.example']);
  await call(t.url, 'POST', '/v1/admin/knowledge/sources', { key: a.secretKey, body: { kind: 'markdown', content: REFUNDS, externalId: 'refunds' } });
  await seed(a, JANUARY);
  // Tenant B has the same January and more: none of it may reach A's report.
  await seed(b, [...JANUARY, ...JANUARY, { at: '2026-01-11T10:00:00Z', handoff: { reason: 'budget', firstResponse: 5, resolved: 5, csat: 2 } }]);
}, 60_000);
afterAll(() => t.close());

describe('GET /v1/admin/reports', () => {
  test('exact figures for a range: conversations, reasons, times, ratings and the daily series', async () => {
    const res = await report('from=2026-01-10&to=2026-01-12');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      range: { from: '2026-01-10', to: '2026-01-12', timeZone: 'UTC', days: 3 },
      conversations: { total: 6, answered: 2, handedOff: 4 },
      handoffs: {
        total: 4,
        byReason: [
          { reason: 'visitor_request', count: 2 },
          { reason: 'low_confidence', count: 1 },
          { reason: 'sensitive_topic', count: 1 },
        ],
      },
      // First replies 30, 60, 120, 300 s; resolutions 90, 600, 1200 s (one still open). Linear percentiles.
      firstResponse: { count: 4, medianSeconds: 90, p90Seconds: 246 },
      resolution: { count: 3, medianSeconds: 600, p90Seconds: 1080 },
      csat: {
        count: 3,
        average: 3.33,
        distribution: [
          { score: 1, count: 1 },
          { score: 2, count: 0 },
          { score: 3, count: 0 },
          { score: 4, count: 1 },
          { score: 5, count: 1 },
        ],
      },
      daily: [
        { date: '2026-01-10', conversations: 2, answered: 1, handedOff: 1 },
        { date: '2026-01-11', conversations: 2, answered: 1, handedOff: 1 },
        { date: '2026-01-12', conversations: 2, answered: 0, handedOff: 2 },
      ],
    });
  });

  test('days are the time zone’s days: a conversation at 23:30 UTC is the next day in Oslo', async () => {
    const res = await report('from=2026-01-10&to=2026-01-12&timeZone=Europe/Oslo');
    expect(res.status).toBe(200);
    expect(res.body.conversations).toEqual({ total: 7, answered: 3, handedOff: 4 });
    expect(res.body.daily).toEqual([
      { date: '2026-01-10', conversations: 3, answered: 2, handedOff: 1 },
      { date: '2026-01-11', conversations: 1, answered: 0, handedOff: 1 },
      { date: '2026-01-12', conversations: 3, answered: 1, handedOff: 2 },
    ]);
  });

  test('a range without data is all zeros, every day listed', async () => {
    const res = await report('from=2025-02-01&to=2025-02-03');
    expect(res.body).toMatchObject({
      conversations: { total: 0, answered: 0, handedOff: 0 },
      handoffs: { total: 0, byReason: [] },
      firstResponse: { count: 0, medianSeconds: null, p90Seconds: null },
      csat: { count: 0, average: null },
      unanswered: { total: 0, clusters: [] },
    });
    expect(res.body.daily.map((d: { date: string }) => d.date)).toEqual(['2025-02-01', '2025-02-02', '2025-02-03']);
  });

  test('attack: another tenant’s conversations are never counted, with its own key it sees only its own', async () => {
    const mine = await report('from=2026-01-10&to=2026-01-12');
    const theirs = await report('from=2026-01-10&to=2026-01-12', b.secretKey);
    expect(mine.body.conversations.total).toBe(6);
    expect(theirs.body.conversations).toEqual({ total: 13, answered: 4, handedOff: 9 });
    expect(theirs.body.handoffs.byReason).toContainEqual({ reason: 'budget', count: 1 });
    expect(mine.body.handoffs.byReason.map((r: { reason: string }) => r.reason)).not.toContain('budget');
    expect(mine.body.csat.distribution[1]).toEqual({ score: 2, count: 0 });
  });

  test('a bad range is a 400 problem naming the field, with the request id', async () => {
    for (const [query, path] of [
      ['', '/from'],
      ['from=2026-01-10', '/to'],
      ['from=2026-01-12&to=2026-01-10', '/to'],
      ['from=2025-01-01&to=2026-01-02', '/to'],
      ['from=2026-02-30&to=2026-03-01', '/from'],
      ['from=0000-01-01&to=0000-01-01', '/from'],
      ['from=yesterday&to=2026-03-01', '/from'],
      ['from=2026-01-10&to=2026-01-12&timeZone=Mars/Olympus', '/timeZone'],
      ['from=2026-01-10&to=2026-01-12&from=2026-01-11', '/from'],
      ['from=2026-01-10&to=2026-01-12&extra=1', '/extra'],
    ] as const) {
      const res = await report(query);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.request_id).toBeTruthy();
      expect(
        res.body.errors.map((e: { path: string }) => e.path),
        query,
      ).toContain(path);
    }
    // Anything else in the query string is a 200 or a 400 problem, never a failure of the server.
    const part = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('2026-01-10', '2026-13-01', '0000-01-01', '9999-12-31', 'UTC', 'Europe/Oslo', '+05:00', "'; DROP TABLE x; --"),
    );
    await fc.assert(
      fc.asyncProperty(part, part, part, async (from, to, timeZone) => {
        const res = await report(new URLSearchParams({ from, to, timeZone }).toString());
        expect([200, 400], `${from} ${to} ${timeZone}: ${res.text.slice(0, 200)}`).toContain(res.status);
      }),
      { numRuns: 60 },
    );
    // A year with a leap day is the longest range.
    expect((await report('from=2024-01-01&to=2024-12-31')).status).toBe(200);
    expect((await report('from=9999-12-31&to=9999-12-31')).status).toBe(200);
  });

  test('a zone the database does not know is refused, and the transaction goes on', async () => {
    const out = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, async (tx) => {
      const known = [await knownTimeZone(tx, 'Mars/Olympus'), await knownTimeZone(tx, 'Europe/Oslo')];
      return { known, n: (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM conversations')).rows[0]!.n };
    });
    expect(out).toEqual({ known: [false, true], n: JANUARY.length });
  });

  test('people: agents and analysts read reports (redacted aggregates of what they already read); a key without conversations:read does not', async () => {
    for (const role of ['agent', 'analyst', 'admin'] as const) {
      const { client } = await signedInMember(t, a.tenant.id, role);
      const res = await client.call('GET', '/v1/admin/reports?from=2026-01-10&to=2026-01-12');
      expect(res.status, role).toBe(200);
      expect(res.body.conversations.total).toBe(6);
    }
    const limited = (
      await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'knowledge only', capabilities: ['knowledge:read'] } })
    ).body.secret;
    const denied = await report('from=2026-01-10&to=2026-01-12', limited);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await call(t.url, 'GET', '/v1/admin/reports?from=2026-01-10&to=2026-01-12')).toMatchObject({ status: 401 });
  });

  test('today through the widget: answered vs handed off, and unanswered questions grouped by shared terms, redacted', async () => {
    const answered = await ask(a, ORIGIN, 'How long do refunds take to reach my card?');
    expect(answered.handoff).toBeNull();
    const questions = [
      'Hi there!',
      'Hello? [PHONE_1]',
      'How do I reset my password?',
      'The password reset mail never arrived, write to sam.jones@example.org',
      'Can I change my password in the mobile app?',
      'Do you ship to Norway?',
      'What does shipping to Norway cost?',
      'Is there a student discount?',
    ];
    for (const q of questions) expect((await ask(a, ORIGIN, q)).handoff, q).toMatchObject({ reason: 'low_confidence' });
    expect((await ask(a, ORIGIN, 'I want to talk to a human please')).handoff).toMatchObject({ reason: 'visitor_request' });
    // Another tenant's unanswered question about passwords does not join A's group.
    await ask(b, 'https://help.b.example', 'My password reset does not work');

    const res = await report(`from=${today()}&to=${today()}`);
    expect(res.status).toBe(200);
    expect(res.body.conversations).toEqual({ total: 10, answered: 1, handedOff: 9 });
    expect(res.body.handoffs.byReason).toEqual([
      { reason: 'low_confidence', count: 8 },
      { reason: 'visitor_request', count: 1 },
    ]);
    expect(res.body.unanswered.total).toBe(8);
    const clusters = res.body.unanswered.clusters as { terms: string[]; count: number; examples: { text: string }[] }[];
    expect(clusters.map((c) => [c.terms.slice(0, 2), c.count])).toEqual([
      [['password', 'reset'], 3],
      [['norway', 'ship'], 2],
      [['discount', 'student'], 1],
      // Greetings and redaction tokens are no topic: together, unnamed, after the topics.
      [[], 2],
    ]);
    // The question is shown as stored: the redaction token, never the address.
    expect(clusters[0]!.examples.map((e) => e.text)).toContainEqual(expect.stringContaining('[EMAIL_1]'));
    expect(res.text).not.toContain('sam.jones');
    expect(res.text).not.toContain('does not work');
  });

  test('the workspace flow counts: an agent takes a handoff, replies, resolves, the visitor rates', async () => {
    const c = await t.tenant('Reports C', ['help.c.example']);
    const asked = await ask(c, 'https://help.c.example', 'I want to talk to a human');
    const agent = await signedInMember(t, c.tenant.id, 'agent');
    const to = (path: string, method: string, body?: unknown) => agent.client.call(method, `/v1/admin${path}`, body);
    expect((await to(`/handoffs/${asked.handoff.id}`, 'PATCH', { status: 'assigned' })).status).toBe(204);
    expect((await to(`/conversations/${asked.id}/messages`, 'POST', { text: 'Hi, Sam here. How can I help?' })).status).toBe(201);
    expect((await to(`/handoffs/${asked.handoff.id}`, 'PATCH', { status: 'resolved' })).status).toBe(204);
    expect(
      (await asked.v.call('POST', `/conversations/${asked.id}/csat`, { score: 4, comment: 'Quick, thanks! Write to kim@example.org' })).status,
    ).toBe(201);

    const res = await report(`from=${today()}&to=${today()}`, c.secretKey);
    expect(res.body).toMatchObject({
      conversations: { total: 1, answered: 0, handedOff: 1 },
      handoffs: { total: 1, byReason: [{ reason: 'visitor_request', count: 1 }] },
      firstResponse: { count: 1 },
      resolution: { count: 1 },
      csat: { count: 1, average: 4 },
    });
    expect(res.body.firstResponse.medianSeconds).toBeGreaterThanOrEqual(0);
    expect(res.body.resolution.medianSeconds).toBeGreaterThanOrEqual(res.body.firstResponse.medianSeconds);
    // Ratings are counted, their comments are not part of a report.
    expect(res.text).not.toContain('Quick, thanks');
  });
});
