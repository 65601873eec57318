// Working a conversation over HTTP, as the visitor and the agent each see it: an agent's words stored as
// typed and shown under their name, internal notes that never reach the visitor, typing both ways,
// assign / resolve / reopen with the visitor's rating, business hours with a left email, and the
// verified profile under the PII policy. With the attacks on each.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember, type ConsoleClient } from '../test/console.js';
import { call } from '../test/http.js';
import { identitySigner } from '../test/identity.js';
import { openStream } from '../test/stream.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let sam: { client: ConsoleClient; memberId: string };
let kim: { client: ConsoleClient; memberId: string };
let ann: { client: ConsoleClient; memberId: string };
const ORIGIN = 'https://help.a.example';

const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin${path}`, { key, body });
const visitorStream = (v: Visitor, id: string, lastEventId?: string) =>
  openStream(`${t.url}/v1/widget/conversations/${id}/events`, {
    origin: v.origin,
    'x-parley-key': v.key,
    authorization: `Bearer ${v.token}`,
    ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
  });
const inbox = (c: ConsoleClient) => openStream(`${t.url}/v1/admin/inbox/stream`, { ...c.pageHeaders, cookie: c.cookieHeader() });

async function handedOff(tenant = a, origin = ORIGIN): Promise<{ v: Visitor; id: string; handoffId: string }> {
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  await v.start();
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  const h = await v.call('POST', `/conversations/${id}/handoff`, {});
  expect(h.status).toBe(201);
  return { v, id, handoffId: h.body.handoff.id };
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  sam = await signedInMember(t, a.tenant.id, 'agent');
  kim = await signedInMember(t, a.tenant.id, 'agent');
  ann = await signedInMember(t, a.tenant.id, 'analyst');
  await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
    tx.query("UPDATE members SET display_name = 'Sam Jones' WHERE id = $1", [sam.memberId]),
  );
});
afterAll(() => t.close());

describe('redaction by author', () => {
  test("an agent's words are stored and shown as typed, under the agent's name (the '[PERSON_1] from [PERSON_2]' bug)", async () => {
    const { v, id } = await handedOff();
    const s = await visitorStream(v, id);
    const typed = 'Hi, this is Sam Jones from Acme. I will email you at help@acme.example.';
    const reply = await sam.client.call('POST', `/v1/admin/conversations/${id}/messages`, { text: typed });
    expect(reply.status).toBe(201);
    expect(reply.body.message).toMatchObject({ role: 'agent', text: typed, author: { id: sam.memberId, name: 'Sam Jones', initial: 'S' } });
    const stored = (await admin('GET', `/conversations/${id}`)).body.messages.find((m: any) => m.role === 'agent');
    expect(stored).toMatchObject({ text: typed, redactions: [], author: sam.memberId, authorName: 'Sam Jones' });
    // The visitor: live and in the transcript, the name and initial, never the member id.
    const live = await s.next((e) => e.event === 'message' && e.data.message.role === 'agent');
    expect(live.data.message).toMatchObject({ text: typed, author: { name: 'Sam Jones', initial: 'S' } });
    const transcript = (await v.call('GET', `/conversations/${id}`)).body.messages.find((m: any) => m.role === 'agent');
    expect(transcript).toMatchObject({ text: typed, author: { name: 'Sam Jones', initial: 'S' } });
    expect(JSON.stringify(s.events) + JSON.stringify(transcript)).not.toContain(sam.memberId);
    s.close();
    // A key's reply carries the label it gives.
    const bot = await admin('POST', `/conversations/${id}/messages`, { text: 'Automated follow-up.', agent: 'Ops bot' });
    expect(bot.body.message.author).toMatchObject({ name: 'Ops bot', initial: 'O' });
  });

  test('the visitor sees their own message as they typed it; agents see it redacted', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const typed = 'I am Maria Keller, write to maria.keller@example.org please';
    const events = await v.say(id, typed);
    expect(events[0]).toMatchObject({ event: 'message', data: { message: { role: 'visitor', text: typed } } });
    expect((await v.call('GET', `/conversations/${id}`)).body.messages[0].text).toBe(typed);
    const stored = (await admin('GET', `/conversations/${id}`)).body.messages[0];
    expect(stored.text).not.toContain('maria.keller@example.org');
    expect(stored.text).toContain('[EMAIL_1]');
  });
});

describe('internal notes', () => {
  test('a note is for agents only: never in the visitor transcript or stream, clearly a note for agents', async () => {
    const { v, id } = await handedOff();
    const s = await visitorStream(v, id);
    const agentSide = await inbox(kim.client);
    const note = await sam.client.call('POST', `/v1/admin/conversations/${id}/notes`, { text: 'VIP customer, refund approved by Dana' });
    expect(note.status).toBe(201);
    expect(note.body.message).toMatchObject({
      role: 'note',
      text: 'VIP customer, refund approved by Dana',
      author: { id: sam.memberId, name: 'Sam Jones' },
    });
    await sam.client.call('POST', `/v1/admin/conversations/${id}/messages`, { text: 'Your refund is on its way.' });
    await s.next((e) => e.event === 'message' && e.data.message.text === 'Your refund is on its way.');
    const onInbox = await agentSide.next((e) => e.event === 'note' && e.data.conversationId === id);
    expect(onInbox.data.message.role).toBe('note');
    expect(JSON.stringify(s.events)).not.toContain('VIP customer');
    expect(JSON.stringify((await v.call('GET', `/conversations/${id}`)).body)).not.toContain('VIP customer');
    // A visitor resuming from the start gets everything but the note.
    const again = await visitorStream(v, id, '1');
    await again.next((e) => e.event === 'message' && e.data.message.text === 'Your refund is on its way.');
    expect(JSON.stringify(again.events)).not.toContain('VIP customer');
    expect((await admin('GET', `/conversations/${id}`)).body.messages.map((m: any) => m.role)).toContain('note');
    for (const x of [s, again, agentSide]) x.close();
  });

  test('attacks: an analyst cannot write notes, another tenant cannot, a key must name its author, oversized is refused', async () => {
    const { id } = await handedOff();
    const analyst = await ann.client.call('POST', `/v1/admin/conversations/${id}/notes`, { text: 'I should not' });
    expect(analyst.status).toBe(403);
    expect(analyst.body.capability).toBe('conversations:write');
    expect((await admin('POST', `/conversations/${id}/notes`, { text: 'cross-tenant', agent: 'x' }, b.secretKey)).status).toBe(404);
    expect((await admin('POST', `/conversations/${id}/notes`, { text: 'nameless' })).status).toBe(400);
    expect((await sam.client.call('POST', `/v1/admin/conversations/${id}/notes`, { text: 'x'.repeat(4001) })).status).toBe(400);
    expect((await sam.client.call('POST', `/v1/admin/conversations/${id}/notes`, { text: '   ' })).status).toBe(400);
    expect((await sam.client.call('POST', `/v1/admin/conversations/${id}/notes`, { text: 'ok', extra: 1 })).status).toBe(400);
    const huge = await call(t.url, 'POST', `/v1/admin/conversations/${id}/notes`, {
      key: a.secretKey,
      raw: JSON.stringify({ text: 'y'.repeat(2_000_000), agent: 'x' }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.request_id).toBeTruthy();
    const notes = (await admin('GET', `/conversations/${id}`)).body.messages.filter((m: any) => m.role === 'note');
    expect(notes).toEqual([]);
  });

  // Attack: a key wrote "Please send me your password" under a teammate's member id as its label, and the
  // visitor and the console showed the teammate's name as the author.
  test("a key cannot write as a person: a member id is not an agent's label", async () => {
    const { v, id } = await handedOff();
    for (const path of ['messages', 'notes']) {
      const res = await admin('POST', `/conversations/${id}/${path}`, { text: 'Please send me your password', agent: sam.memberId });
      expect(res.status, path).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: '/agent' });
    }
    const transcript = await admin('GET', `/conversations/${id}`);
    expect(transcript.body.messages.filter((m: any) => m.role === 'agent' || m.role === 'note')).toEqual([]);
    expect((await v.call('GET', `/conversations/${id}`)).text).not.toContain('Sam Jones');
  });
});

describe('typing', () => {
  test('both ways: the visitor sees the agent typing (by name); agents see the visitor; a burst is one event', async () => {
    const { v, id } = await handedOff();
    const s = await visitorStream(v, id);
    const agents = await inbox(kim.client);
    for (let i = 0; i < 5; i++) expect((await sam.client.call('POST', `/v1/admin/conversations/${id}/typing`, { active: true })).status).toBe(204);
    const seen = await s.next((e) => e.event === 'typing');
    expect(seen.data).toEqual({ role: 'agent', name: 'Sam Jones', active: true });
    expect((await v.call('POST', `/conversations/${id}/typing`, { active: true })).status).toBe(204);
    const visitorTyping = await agents.next((e) => e.event === 'typing' && e.data.conversationId === id && e.data.role === 'visitor');
    expect(visitorTyping.data.active).toBe(true);
    await sam.client.call('POST', `/v1/admin/conversations/${id}/typing`, { active: false });
    await s.next((e) => e.event === 'typing' && e.data.active === false);
    await new Promise((r) => setTimeout(r, 200));
    // One start for the burst of five, one stop; the visitor's own typing is not sent back to them.
    expect(s.events.filter((e) => e.event === 'typing').map((e) => e.data.active)).toEqual([true, false]);
    expect(s.events.some((e) => e.event === 'typing' && e.data.role === 'visitor')).toBe(false);
    // Another visitor cannot type into this conversation.
    const other = new Visitor(t.url, a.publishableKey, ORIGIN);
    await other.start();
    expect((await other.call('POST', `/conversations/${id}/typing`, { active: true })).status).toBe(404);
    expect((await v.call('POST', `/conversations/${id}/typing`, { active: 'yes' })).status).toBe(400);
    expect((await ann.client.call('POST', `/v1/admin/conversations/${id}/typing`, { active: true })).status).toBe(403);
    s.close();
    agents.close();
  });
  test('typing is live only: a stream resuming later does not replay an old indicator', async () => {
    const { v, id } = await handedOff();
    await sam.client.call('POST', `/v1/admin/conversations/${id}/typing`, { active: true });
    // The indicator ages past the live window, as if the visitor reconnected a minute later.
    const aged = await t.runtime.db.withOwner((tx) =>
      tx.query("UPDATE conversation_events SET created_at = now() - interval '1 minute' WHERE conversation_id = $1 AND type = 'typing'", [id]),
    );
    expect(aged.rowCount).toBe(1);
    await sam.client.call('POST', `/v1/admin/conversations/${id}/messages`, { text: 'Back with an answer.' });
    const resumed = await visitorStream(v, id, '1');
    await resumed.next((e) => e.event === 'message' && e.data.message.text === 'Back with an answer.');
    expect(resumed.events.some((e) => e.event === 'typing')).toBe(false);
    resumed.close();
  });
});

describe('assign, resolve, reopen and the rating', () => {
  test('the visitor sees who took it (a name, not an id), the resolved notice, and rates once per resolution', async () => {
    const { v, id, handoffId } = await handedOff();
    const s = await visitorStream(v, id);
    // Before any resolution there is nothing to rate.
    const early = await v.call('POST', `/conversations/${id}/csat`, { score: 5 });
    expect(early.status).toBe(409);
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned', assignedTo: kim.memberId })).status).toBe(204);
    const assigned = await s.next((e) => e.event === 'assigned');
    expect(assigned.data).toEqual({ handoff: { id: handoffId, status: 'assigned' }, assignee: { displayName: 'agent person' } });
    // Given back to the queue, then taken.
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'pending' })).status).toBe(204);
    await s.next((e) => e.event === 'assigned' && e.data.assignee === null);
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned' })).status).toBe(204);
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'resolved' })).status).toBe(204);
    const resolved = await s.next((e) => e.event === 'resolved');
    expect(resolved.data).toEqual({ handoff: { id: handoffId }, resolution: 1, csat: true });
    for (const bad of [
      { score: 0 },
      { score: 6 },
      { score: 3.5 },
      { score: '5' },
      {},
      { score: 4, comment: 'x'.repeat(1001) },
      { score: 4, admin: true },
    ]) {
      expect((await v.call('POST', `/conversations/${id}/csat`, bad)).status, JSON.stringify(bad).slice(0, 40)).toBe(400);
    }
    const other = new Visitor(t.url, a.publishableKey, ORIGIN);
    await other.start();
    expect((await other.call('POST', `/conversations/${id}/csat`, { score: 1 })).status).toBe(404);
    const rated = await v.call('POST', `/conversations/${id}/csat`, { score: 4, comment: 'Quick, thanks! Reach me at pat.doe@example.org' });
    expect(rated.status).toBe(201);
    expect(rated.body.csat).toMatchObject({ handoffId, score: 4 });
    const twice = await v.call('POST', `/conversations/${id}/csat`, { score: 1 });
    expect(twice.status).toBe(409);
    expect(twice.body.request_id).toBeTruthy();
    // A visitor who comes back (the feed replayed) is not asked to rate this resolution again.
    const replay = await visitorStream(v, id);
    expect((await replay.next((e) => e.event === 'resolved')).data).toEqual({ handoff: { id: handoffId }, resolution: 1, csat: false });
    replay.close();
    // The comment is stored redacted, like any visitor text.
    const stored = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ score: number; comment: string; resolution: number }>(
        'SELECT score, comment, resolution FROM csat_responses WHERE handoff_id = $1',
        [handoffId],
      ),
    );
    expect(stored.rows).toEqual([{ score: 4, comment: expect.stringContaining('[EMAIL_1]'), resolution: 1 }]);
    expect(stored.rows[0]!.comment).not.toContain('pat.doe');
    // Reopened and resolved again: a new resolution, rated once more.
    const reopened = await sam.client.call('POST', `/v1/admin/handoffs/${handoffId}/reopen`, {});
    expect(reopened.status).toBe(200);
    expect(reopened.body.handoff).toMatchObject({ id: handoffId, status: 'assigned', resolvedAt: null, assignee: { id: sam.memberId } });
    await s.next((e) => e.event === 'reopened');
    expect((await v.call('GET', `/conversations/${id}`)).body.conversation.status).toBe('handoff');
    expect((await v.call('POST', `/conversations/${id}/csat`, { score: 2 })).status).toBe(409);
    expect((await sam.client.call('POST', `/v1/admin/handoffs/${handoffId}/reopen`, {})).status).toBe(409);
    await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'resolved' });
    expect((await v.call('POST', `/conversations/${id}/csat`, { score: 5 })).status).toBe(201);
    // The agents' side: timings for reports, the rating on the feed (not the visitor's).
    const conv = (await admin('GET', `/conversations/${id}`)).body.conversation;
    expect(conv.handoff).toMatchObject({ id: handoffId, status: 'resolved', resolvedAt: expect.any(String) });
    expect(s.events.some((e) => e.event === 'csat')).toBe(false);
    s.close();
  });

  test('taking is conditional: of two agents taking at once one gets a 409 naming who has it; a taken handoff is not silently taken over', async () => {
    const { id, handoffId } = await handedOff();
    const take = (who: { client: ConsoleClient }, body: Record<string, unknown> = {}) =>
      who.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned', ...body });
    const [bySam, byKim] = await Promise.all([take(sam), take(kim)]);
    expect([bySam.status, byKim.status].sort()).toEqual([204, 409]);
    const [winner, loser] = bySam.status === 204 ? [sam, byKim] : [kim, bySam];
    expect(loser.headers.get('content-type')).toContain('application/problem+json');
    expect(loser.body).toMatchObject({ status: 409, type: expect.stringContaining('conflict'), assignedTo: winner.memberId });
    const held = async () => (await admin('GET', `/conversations/${id}`)).body.conversation.handoff.assignee?.id;
    expect(await held()).toBe(winner.memberId);
    // Take again by the one who lost: still theirs, not silently taken over.
    const other = winner === sam ? kim : sam;
    const again = await take(other);
    expect(again.status).toBe(409);
    expect(again.body.assignedTo).toBe(winner.memberId);
    expect(await held()).toBe(winner.memberId);
    // Taking your own again changes nothing and is fine.
    expect((await take(winner)).status).toBe(204);
    // Taking over on purpose names who the caller expects to take it from; a stale expectation is a 409.
    expect((await take(other, { expectedAssignee: null })).status).toBe(409);
    expect((await take(other, { expectedAssignee: winner.memberId })).status).toBe(204);
    expect(await held()).toBe(other.memberId);
    expect((await take(winner, { expectedAssignee: null })).body).toMatchObject({ status: 409, assignedTo: other.memberId });
    // Naming yourself is taking too; an explicit reassignment to someone else stays possible.
    expect((await take(winner, { assignedTo: winner.memberId })).status).toBe(409);
    expect((await admin('PATCH', `/handoffs/${handoffId}`, { status: 'assigned', assignedTo: winner.memberId })).status).toBe(204);
    expect(await held()).toBe(winner.memberId);
    // Giving back with a stale expectation is refused too.
    const back = await other.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'pending', expectedAssignee: other.memberId });
    expect(back.body).toMatchObject({ status: 409, assignedTo: winner.memberId });
  });

  test('a key takes a handoff for itself as a person does: only from the queue, unless it names whom it takes it from', async () => {
    const { v, id, handoffId } = await handedOff();
    const s = await visitorStream(v, id);
    const made = (
      await admin('POST', '/api-keys', { name: 'helpdesk sync', capabilities: ['handoffs:read', 'handoffs:write', 'conversations:write'] })
    ).body;
    const byKey = (body: Record<string, unknown>) => admin('PATCH', `/handoffs/${handoffId}`, { status: 'assigned', ...body }, made.secret);
    const held = async () => (await admin('GET', `/conversations/${id}`)).body.conversation.handoff.assignee?.id;
    // As the Node SDK's guide shows it: taken only if nobody has it (this was a 400 "Say who takes it").
    expect((await byKey({ expectedAssignee: null })).status).toBe(204);
    const self = await held();
    expect(self).toMatch(/^key:/);
    // The visitor is told "Support" took it, never the key's id.
    expect((await s.next((e) => e.event === 'assigned')).data.assignee).toEqual({ displayName: 'Support' });
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned' })).body).toMatchObject({
      status: 409,
      assignedTo: self,
    });
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned', expectedAssignee: self })).status).toBe(204);
    // Taking it back with no condition is a take too: held by Sam, it is a 409, not a silent takeover.
    expect((await byKey({})).body).toMatchObject({ status: 409, assignedTo: sam.memberId });
    expect(await held()).toBe(sam.memberId);
    s.close();
  });

  test('work goes only to someone who can reply: an analyst, or a key without conversations:write naming its label, is refused', async () => {
    const { id, handoffId } = await handedOff();
    const toAnalyst = await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned', assignedTo: ann.memberId });
    expect(toAnalyst.status).toBe(400);
    expect(toAnalyst.body.errors).toEqual([expect.objectContaining({ path: '/assignedTo', code: 'cannot_reply' })]);
    const byKey = await admin('PATCH', `/handoffs/${handoffId}`, { status: 'assigned', assignedTo: ann.memberId });
    expect(byKey.status).toBe(400);
    const triage = (await admin('POST', '/api-keys', { name: 'triage', capabilities: ['handoffs:read', 'handoffs:write'] })).body.secret;
    const label = await admin('PATCH', `/handoffs/${handoffId}`, { status: 'assigned', assignedTo: 'Triage bot' }, triage);
    expect(label.status).toBe(400);
    expect(label.body.errors[0]).toMatchObject({ path: '/assignedTo', code: 'cannot_reply' });
    expect((await admin('GET', `/conversations/${id}`)).body.conversation.handoff).toMatchObject({ status: 'pending', assignee: null });
    // Someone who can reply may be given it; replying to a conversation assigned to someone else stays allowed.
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoffId}`, { status: 'assigned', assignedTo: kim.memberId })).status).toBe(204);
    expect((await sam.client.call('POST', `/v1/admin/conversations/${id}/messages`, { text: 'Kim is on it.' })).status).toBe(201);
    expect((await admin('GET', `/conversations/${id}`)).body.conversation.handoff.assignee.id).toBe(kim.memberId);
  });

  test("a member replying to a waiting handoff takes it; the first response time is kept; a reply in another tenant's conversation is a 404", async () => {
    const { id, handoffId } = await handedOff();
    await kim.client.call('POST', `/v1/admin/conversations/${id}/messages`, { text: 'I have it.' });
    const h = (await admin('GET', `/conversations/${id}`)).body.conversation.handoff;
    expect(h).toMatchObject({ id: handoffId, status: 'assigned', assignee: { id: kim.memberId }, firstResponseAt: expect.any(String) });
    expect((await admin('POST', `/conversations/${id}/messages`, { text: 'x', agent: 'y' }, b.secretKey)).status).toBe(404);
    expect((await admin('POST', `/handoffs/${handoffId}/reopen`, {}, b.secretKey)).status).toBe(404);
    expect((await admin('PATCH', `/handoffs/${handoffId}`, { status: 'resolved' }, b.secretKey)).status).toBe(404);
  });
});

describe('business hours and a left email', () => {
  test('settings validate the schedule and its time zone; null removes it', async () => {
    for (const bad of [
      { timeZone: 'Mars/Olympus', schedule: {} },
      { timeZone: 'UTC', schedule: { mon: [['10:00', '09:00']] } },
      {
        timeZone: 'UTC',
        schedule: {
          mon: [
            ['09:00', '12:00'],
            ['11:00', '13:00'],
          ],
        },
      },
      { timeZone: 'UTC', schedule: { funday: [['09:00', '12:00']] } },
      { timeZone: 'UTC', schedule: { mon: [['9am', '5pm']] } },
    ]) {
      const res = await admin('PATCH', '/settings', { businessHours: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.errors[0].path).toMatch(/^\/businessHours/);
    }
    expect(
      (await admin('PATCH', '/settings', { businessHours: { timeZone: 'Europe/Berlin', schedule: { mon: [['09:00', '17:00']] } } })).status,
    ).toBe(200);
    expect((await admin('GET', '/settings')).body.settings.businessHours).toMatchObject({ timeZone: 'Europe/Berlin' });
    expect((await admin('PATCH', '/settings', { businessHours: null })).status).toBe(200);
    expect((await admin('GET', '/settings')).body.settings.businessHours).toBeUndefined();
    expect((await ann.client.call('PATCH', '/v1/admin/settings', { businessHours: null })).status).toBe(403);
  });

  test('a handoff outside hours says when people answer; the email left is sealed, and the agent reads it (audited)', async () => {
    // Open one minute a week, tomorrow at midnight UTC: closed now.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][tomorrow.getUTCDay()]!;
    expect((await admin('PATCH', '/settings', { businessHours: { timeZone: 'UTC', schedule: { [day]: [['00:00', '00:01']] } } })).status).toBe(200);
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const s = await visitorStream(v, id);
    const h = await v.call('POST', `/conversations/${id}/handoff`, {});
    const expected = `${tomorrow.toISOString().slice(0, 10)}T00:00:00.000Z`;
    expect(h.body).toMatchObject({ outsideHours: true, nextOpenAt: expected });
    const live = await s.next((e) => e.event === 'handoff');
    expect(live.data).toMatchObject({ outsideHours: true, nextOpenAt: expected });
    // The assistant handing off (no knowledge here) says so too, in its answer stream.
    const asked = new Visitor(t.url, a.publishableKey, ORIGIN);
    await asked.start();
    const askedId = (await asked.call('POST', '/conversations', {})).body.conversation.id as string;
    const answer = await asked.say(askedId, 'What is the warranty on the blue kettle?');
    expect(answer.at(-1)).toMatchObject({ event: 'handoff', data: { outsideHours: true, nextOpenAt: expected } });
    // Without a stream, the turn's handoff event carries the same notice beside it.
    const plain = new Visitor(t.url, a.publishableKey, ORIGIN);
    await plain.start();
    const plainId = (await plain.call('POST', '/conversations', {})).body.conversation.id as string;
    const turn = await plain.call('POST', `/conversations/${plainId}/messages`, {
      text: 'What is the warranty on the blue kettle?',
      clientMessageId: 'plain-1',
    });
    expect(turn.body.events.at(-1)).toMatchObject({ type: 'handoff', handoff: { status: 'pending' }, outsideHours: true, nextOpenAt: expected });
    expect((await v.call('POST', `/conversations/${id}/contact`, { email: 'not-an-email' })).status).toBe(400);
    const other = new Visitor(t.url, a.publishableKey, ORIGIN);
    await other.start();
    expect((await other.call('POST', `/conversations/${id}/contact`, { email: 'thief@example.org' })).status).toBe(404);
    const left = await v.call('POST', `/conversations/${id}/contact`, { email: 'Lee.Visitor@Example.org' });
    expect(left.status).toBe(201);
    // Coming back, the visitor is not asked for an email again.
    const replay = await visitorStream(v, id);
    expect((await replay.next((e) => e.event === 'handoff')).data).toMatchObject({ outsideHours: true, contactLeft: true });
    replay.close();
    expect(live.data).not.toHaveProperty('contactLeft');
    // Sealed at rest: the address is not in the row.
    const raw = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ sealed: Buffer }>('SELECT contact_email_sealed AS sealed FROM conversations WHERE id = $1', [id]),
    );
    expect(Buffer.from(raw.rows[0]!.sealed).toString('latin1')).not.toContain('lee.visitor');
    const row = (await admin('GET', '/inbox?view=open')).body.rows.find((r: any) => r.conversationId === id);
    expect(row.contactLeft).toBe(true);
    const profile = await sam.client.call('GET', `/v1/admin/conversations/${id}/visitor`);
    expect(profile.status).toBe(200);
    expect(profile.body.contact).toMatchObject({ email: 'lee.visitor@example.org' });
    const audit = (await admin('GET', '/audit?limit=1000')).body.entries;
    expect(audit.filter((e: any) => e.action === 'visitor.profile.read').at(-1)).toMatchObject({
      actor: { type: 'member', id: sam.memberId },
      metadata: { contact: true },
    });
    expect(JSON.stringify(audit)).not.toContain('lee.visitor');
    expect((await admin('GET', `/conversations/${id}/visitor`, undefined, b.secretKey)).status).toBe(404);
    await admin('PATCH', '/settings', { businessHours: null });
    s.close();
  });
});

describe('the verified profile', () => {
  test('name, email and plan from the signed claims, each shown or withheld by the PII policy; a read is audited', async () => {
    const sign = await identitySigner(t.url, a.secretKey);
    const token = await sign('user-ada', { name: 'Ada Lovelace', email: 'ada@example.com', traits: { plan: 'Enterprise' } });
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const identified = await v.call('POST', '/identify', { token });
    expect(identified.status).toBe(200);
    v.adopt(identified.body.session);
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    await v.call('POST', `/conversations/${id}/handoff`, {});
    // Default policy: names and emails are reversible, so an agent (no pii:reveal) sees the plan only.
    const agent = await sam.client.call('GET', `/v1/admin/conversations/${id}/visitor`);
    expect(agent.body.visitor).toEqual({
      ref: v.visitorRef,
      verified: true,
      id: 'user-ada',
      plan: 'Enterprise',
      redacted: ['name', 'email'],
      revealable: [],
    });
    // The owner's key may reveal them, but reads them withheld like anyone until it gives a reason.
    const owner = await admin('GET', `/conversations/${id}/visitor`);
    expect(owner.body.visitor).toMatchObject({ plan: 'Enterprise', redacted: ['name', 'email'], revealable: ['name', 'email'] });
    expect(owner.text).not.toContain('Lovelace');
    const reveal = (body: unknown, key = a.secretKey) => admin('POST', `/conversations/${id}/visitor/reveal`, body, key);
    const revealed = await reveal({ reason: 'Customer asked us to confirm the account email on file' });
    expect(revealed.status, revealed.text).toBe(200);
    expect(revealed.headers.get('cache-control')).toBe('no-store');
    expect(revealed.body.visitor).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', plan: 'Enterprise', redacted: [] });
    const revealEntry = (await admin('GET', '/audit?limit=1000')).body.entries.findLast((e: any) => e.action === 'visitor.profile.reveal');
    expect(revealEntry).toMatchObject({
      reason: 'Customer asked us to confirm the account email on file',
      metadata: { revealed: ['name', 'email'] },
    });
    expect(JSON.stringify(revealEntry)).not.toMatch(/Lovelace|ada@example/);
    // The attacks: no reason, a reason too short to mean anything, an unknown field, a person without
    // pii:reveal, another tenant's key.
    for (const body of [{}, { reason: 'because' }, { reason: 'Customer asked for it twice', fields: ['email'] }]) {
      const bad = await reveal(body);
      expect(bad.status).toBe(400);
      expect(bad.body.request_id).toBeTruthy();
    }
    expect(
      (await sam.client.call('POST', `/v1/admin/conversations/${id}/visitor/reveal`, { reason: 'I would like to see who this is' })).status,
    ).toBe(403);
    expect((await reveal({ reason: 'Customer asked us to confirm the account email' }, b.secretKey)).status).toBe(404);
    // A strict kind stays withheld even from a reveal.
    expect((await admin('PATCH', '/settings', { pii: { classes: { email: { mode: 'strict', minScore: 0.5 } } } })).status).toBe(200);
    expect((await admin('GET', `/conversations/${id}/visitor`)).body.visitor).toMatchObject({ redacted: ['name', 'email'], revealable: ['name'] });
    const strict = await reveal({ reason: 'Customer asked us to confirm the name on file' });
    expect(strict.body.visitor).toMatchObject({ name: 'Ada Lovelace', redacted: ['email'], revealable: [] });
    expect(strict.text).not.toContain('ada@example.com');
    await admin('PATCH', '/settings', { pii: { classes: { email: { mode: 'reversible', minScore: 0.5 } } } });
    // A tenant that only flags names shows them to everyone, agents included, and in the inbox row.
    expect((await admin('PATCH', '/settings', { pii: { classes: { person: { mode: 'flag', minScore: 0.5 } } } })).status).toBe(200);
    expect((await sam.client.call('GET', `/v1/admin/conversations/${id}/visitor`)).body.visitor).toMatchObject({
      name: 'Ada Lovelace',
      redacted: ['email'],
    });
    const row = (await admin('GET', `/inbox?view=open&q=user-ada`)).body.rows[0];
    expect(row).toMatchObject({ conversationId: id, visitor: { verified: true, name: 'Ada Lovelace' } });
    await admin('PATCH', '/settings', { pii: { classes: { person: { mode: 'reversible', minScore: 0.5 } } } });
    const reads = (await admin('GET', '/audit?limit=1000')).body.entries.filter((e: any) => e.action === 'visitor.profile.read');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(reads)).not.toContain('Lovelace');
    expect((await ann.client.call('GET', `/v1/admin/conversations/${id}/visitor`)).status).toBe(200);
    // With nothing withheld that may be revealed (an anonymous visitor), a reveal is refused, not audited.
    const anonymous = await handedOff();
    expect((await admin('POST', `/conversations/${anonymous.id}/visitor/reveal`, { reason: 'Customer asked us to confirm the name' })).status).toBe(
      409,
    );
  });
});
