// Agents take over: handoffs listed, transcripts read redacted, replies arrive live, break-glass reveal.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { signedInMember } from '../test/console.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const ORIGIN = 'https://help.a.example';
let v: Visitor;
let convId: string;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  convId = (await v.call('POST', '/conversations', {})).body.conversation.id;
  await v.say(convId, 'My email is sam.jones@example.org and I want to talk to a human');
});
afterAll(() => t.close());

const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin${path}`, { key, body });

describe('handoffs', () => {
  test('the visitor request is listed for agents, and not for another tenant', async () => {
    const list = await admin('GET', '/handoffs?status=pending');
    expect(list.body.handoffs).toEqual([
      expect.objectContaining({ conversationId: convId, reason: 'visitor_request', status: 'pending', visitorVerified: false }),
    ]);
    expect((await admin('GET', '/handoffs', undefined, b.secretKey)).body.handoffs).toEqual([]);
    expect((await admin('GET', `/conversations/${convId}`, undefined, b.secretKey)).status).toBe(404);
  });

  test('agents read the transcript redacted, and the read is audited', async () => {
    const res = await admin('GET', `/conversations/${convId}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('sam.jones@example.org');
    expect(res.body.messages[0].text).toContain('[EMAIL_1]');
    expect(res.body.messages[0].redactions).toEqual([expect.objectContaining({ class: 'email', action: 'reversible' })]);
    const audit = await admin('GET', '/audit?limit=1000');
    expect(audit.body.entries.map((e: any) => e.action)).toContain('conversation.read');
  });

  test("an agent's reply reaches the visitor live, with the visitor's own values restored", async () => {
    const ac = new AbortController();
    const stream = await fetch(`${t.url}/v1/widget/conversations/${convId}/events`, {
      headers: { origin: ORIGIN, 'x-parley-key': a.publishableKey, authorization: `Bearer ${v.token}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('event: handoff')) text += new TextDecoder().decode((await reader.read()).value);
    const reply = await admin('POST', `/conversations/${convId}/messages`, { text: 'Hi! I will write to [EMAIL_1] shortly.', agent: 'Kim' });
    expect(reply.status).toBe(201);
    while (!text.includes('"role":"agent"')) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    expect(text).toContain('I will write to sam.jones@example.org shortly.');
  });

  test('reveal needs the capability and a reason, and is audited with the reason', async () => {
    const limited = (await admin('POST', '/api-keys', { name: 'agent', capabilities: ['conversations:read', 'handoffs:read'] })).body.secret;
    expect(
      (await admin('POST', `/conversations/${convId}/reveal`, { token: '[EMAIL_1]', reason: 'customer asked for a callback' }, limited)).status,
    ).toBe(403);
    expect((await admin('POST', `/conversations/${convId}/reveal`, { token: '[EMAIL_1]', reason: 'why' })).status).toBe(400);
    const ok = await admin('POST', `/conversations/${convId}/reveal`, { token: '[EMAIL_1]', reason: 'customer asked for a callback' });
    expect(ok.body).toEqual({ token: '[EMAIL_1]', value: 'sam.jones@example.org' });
    const entry = (await admin('GET', '/audit?limit=1000')).body.entries.find((e: any) => e.action === 'pii.reveal');
    expect(entry).toMatchObject({ reason: 'customer asked for a callback', metadata: { token: '[EMAIL_1]', class: 'email' } });
    expect(JSON.stringify(entry)).not.toContain('sam.jones');
  });

  test('a signed-in agent takes a handoff as themselves and writes as themselves: no typed name is stored', async () => {
    const sam = await signedInMember(t, a.tenant.id, 'agent');
    const h = (await admin('GET', '/handoffs')).body.handoffs[0];
    const typed = await sam.client.call('PATCH', `/v1/admin/handoffs/${h.id}`, { status: 'assigned', assignedTo: 'Somebody Else' });
    expect(typed.status).toBe(400);
    expect(typed.body.errors[0].path).toBe('/assignedTo');
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${h.id}`, { status: 'assigned' })).status).toBe(204);
    const listed = (await admin('GET', '/handoffs')).body.handoffs.find((x: { id: string }) => x.id === h.id);
    expect(listed).toMatchObject({ assignedTo: sam.memberId, assignee: { id: sam.memberId, displayName: 'agent person' } });
    const reply = await sam.client.call('POST', `/v1/admin/conversations/${convId}/messages`, { text: 'On it.', agent: 'Pretending to be Kim' });
    expect(reply.status).toBe(201);
    const entry = (await admin('GET', '/audit?limit=1000')).body.entries.filter((e: any) => e.action === 'conversation.agent_reply').at(-1);
    expect(entry).toMatchObject({ actor: { type: 'member', id: sam.memberId }, metadata: { agent: sam.memberId } });
    // A key (an integration) still names its author, and must.
    expect((await admin('POST', `/conversations/${convId}/messages`, { text: 'Bot note.' })).status).toBe(400);
  });

  test('resolving hands the conversation back', async () => {
    const h = (await admin('GET', '/handoffs')).body.handoffs[0];
    expect((await admin('PATCH', `/handoffs/${h.id}`, { status: 'resolved' })).status).toBe(204);
    expect((await v.call('GET', `/conversations/${convId}`)).body.conversation.status).toBe('open');
    expect((await admin('PATCH', `/handoffs/${h.id}`, { status: 'assigned' })).status).toBe(404);
  });
});

describe('policy and settings', () => {
  test('pii scan reports UTF-16 offsets under the tenant policy and stores nothing', async () => {
    const text = '🙂 Call me on +1 (415) 555-0132, card 4242 4242 4242 4242';
    const res = await admin('POST', '/pii/scan', { text, channel: 'widget' });
    expect(res.status).toBe(200);
    for (const m of res.body.matches) expect(['phone', 'payment_card']).toContain(m.class);
    const card = res.body.matches.find((m: any) => m.class === 'payment_card');
    expect(text.slice(card.start, card.end)).toBe('4242 4242 4242 4242');
    expect(card.action).toBe('strict');
    expect(res.body.redacted).not.toContain('4242');
  });

  test("pii scan: a name's span covers the honorific masked with it", async () => {
    const text = 'Please ask Dr. Lena Park about it';
    const res = await admin('POST', '/pii/scan', { text, channel: 'widget' });
    const person = res.body.matches.find((m: any) => m.class === 'person');
    expect(text.slice(person.start, person.end)).toBe('Dr. Lena Park');
    expect(res.body.redacted).toBe('Please ask [PERSON_1] about it');
  });

  test('sensitive topics and the threshold come from settings; a bad policy is refused', async () => {
    const put = await admin('PATCH', '/settings', { handoff: { threshold: 0.5, sensitiveTopics: ['chargeback'] } });
    expect(put.status).toBe(200);
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const events = await v.say(conv, 'How do I file a chargeback?');
    expect(events.at(-1)!.data.handoff).toMatchObject({ reason: 'sensitive_topic' });
    expect((await admin('PATCH', '/settings', { pii: { classes: { email: { mode: 'shout', minScore: 0.5 } } } })).status).toBe(400);
    expect((await admin('PATCH', '/settings', { pii: { classes: { email: { mode: 'strict', minScore: 0.5 } } } })).status).toBe(200);
    const scan = await admin('POST', '/pii/scan', { text: 'mail me: x.y@example.com' });
    expect(scan.body.matches[0].action).toBe('strict');
  });

  test('a PII policy of the wrong shape is a 400 naming the field, and the stored policy is untouched (never a silent reset to defaults)', async () => {
    expect((await admin('PATCH', '/settings', { pii: { classes: { email: { mode: 'strict', minScore: 0.5 } } } })).status).toBe(200);
    const before = (await admin('GET', '/settings')).body;
    for (const [body, path] of [
      [{ pii: { email: 'strict' } }, '/pii/email'],
      [{ pii: { classes: { email: { mode: 'strict', minscore: 0.9 } } } }, '/pii/classes/email/minscore'],
      [{ pii: { classes: { emails: { mode: 'strict', minScore: 0.5 } } } }, '/pii/classes/emails'],
    ] as const) {
      for (const method of ['PUT', 'PATCH']) {
        const res = await admin(method, '/settings', body);
        expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(400);
        expect(res.body.request_id).toBeTruthy();
        expect(JSON.stringify(res.body.errors)).toContain(path);
      }
    }
    const after = (await admin('GET', '/settings')).body;
    expect(after).toEqual(before);
    const scan = await admin('POST', '/pii/scan', { text: 'mail me: x.y@example.com' });
    expect(scan.body.matches[0].action).toBe('strict');
  });
});
