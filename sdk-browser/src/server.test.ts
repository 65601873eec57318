// @parley/browser against a real server; the custom fetch only adds the Origin a browser would send.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp, call, openStream } from '@parley/server/testing';
import { createClient, type StoredSession } from './client.js';
import { ParleyError } from './errors.js';

let t: TestApp;
let pk: string;
let sk: string;
const ORIGIN = 'https://www.shop.example';
const fromOrigin =
  (origin: string): typeof fetch =>
  (input, init) =>
    fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), origin } });
const memory = () => {
  let v: StoredSession | null = null;
  return { get: () => v, set: (x: StoredSession | null) => void (v = x) };
};

beforeAll(async () => {
  t = await startTestApp();
  const tenant = await t.tenant('Shop', ['www.shop.example']);
  pk = tenant.publishableKey;
  sk = tenant.secretKey;
  await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
    key: sk,
    body: {
      kind: 'markdown',
      content: '# Help\n\n## Opening hours\nOur stores open at 9 am and close at 8 pm, Monday to Saturday.',
      url: 'https://www.shop.example/help',
    },
  });
});
afterAll(() => t.close());

describe('@parley/browser', () => {
  test('config, a conversation, and a streamed, cited answer', async () => {
    const client = createClient({ apiBase: t.url, publishableKey: pk, storage: memory(), fetch: fromOrigin(ORIGIN) });
    const settings = await client.config();
    expect(settings.tenantName).toBe('Shop');
    const conv = await client.createConversation();
    expect(client.stored).toMatchObject({ conversationId: conv.id, visitorSecret: expect.stringMatching(/^pvs_/) });
    const events = [];
    for await (const e of client.sendMessage(conv.id, 'When do your stores open?')) events.push(e);
    expect(events[0]!.event).toBe('message');
    const done = events.find((e) => e.event === 'done');
    expect(done?.event === 'done' && done.data.message.citations[0]?.url).toBe('https://www.shop.example/help#opening-hours');
  });

  test('the session survives a reload through the store, and an agent reply arrives live', async () => {
    const store = memory();
    const first = createClient({ apiBase: t.url, publishableKey: pk, storage: store, fetch: fromOrigin(ORIGIN) });
    await first.config();
    const conv = await first.createConversation();
    await first.requestHandoff(conv.id);
    const second = createClient({ apiBase: t.url, publishableKey: pk, storage: store, fetch: fromOrigin(ORIGIN) });
    expect((await second.getConversation(conv.id)).conversation.status).toBe('handoff');
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of second.events(conv.id, { signal: ac.signal })) {
        seen.push(e.event === 'message' ? `${e.data.message.role}:${e.data.message.text}` : e.event);
        if (seen.some((s) => s.startsWith('agent:'))) {
          ac.abort();
          break;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await call(t.url, 'POST', `/v1/admin/conversations/${conv.id}/messages`, { key: sk, body: { text: 'Hello, Sam here.', agent: 'Sam' } });
    await reading;
    expect(seen).toContain('handoff');
    expect(seen).toContain('agent:Hello, Sam here.');
  });

  test("with a person: the visitor's typing reaches the agent's inbox; a rating once the agent resolves, not twice", async () => {
    const client = createClient({ apiBase: t.url, publishableKey: pk, storage: memory(), fetch: fromOrigin(ORIGIN) });
    await client.config();
    const conv = await client.createConversation();
    const handoff = await client.requestHandoff(conv.id);
    expect(handoff).toMatchObject({ status: 'pending' });
    expect(handoff.outsideHours).toBeUndefined();
    const inbox = await openStream(`${t.url}/v1/admin/inbox/stream`, { authorization: `Bearer ${sk}` });
    try {
      await client.sendTyping(conv.id, true);
      const typing = await inbox.next((e) => e.event === 'typing' && e.data.conversationId === conv.id);
      expect(typing.data).toMatchObject({ role: 'visitor', active: true });
    } finally {
      inbox.close();
    }
    await expect(client.rate(conv.id, 5)).rejects.toMatchObject({ status: 409 });
    expect((await call(t.url, 'PATCH', `/v1/admin/handoffs/${handoff.id}`, { key: sk, body: { status: 'resolved' } })).status).toBeLessThan(300);
    await client.rate(conv.id, 4, 'Quick and kind');
    await expect(client.rate(conv.id, 5)).rejects.toMatchObject({ status: 409, type: '/docs/problems/conflict' });
  });

  test('outside business hours: the handoff says so, and an email to reply on reaches the agent', async () => {
    const night = await t.tenant('Night shop', ['night.shop.example']);
    // No opening on any day: always outside hours, no next opening to tell.
    expect(
      (await call(t.url, 'PUT', '/v1/admin/settings', { key: night.secretKey, body: { businessHours: { timeZone: 'Europe/Paris', schedule: {} } } }))
        .status,
    ).toBe(200);
    const client = createClient({
      apiBase: t.url,
      publishableKey: night.publishableKey,
      storage: memory(),
      fetch: fromOrigin('https://night.shop.example'),
    });
    await client.config();
    const conv = await client.createConversation();
    expect(await client.requestHandoff(conv.id)).toMatchObject({ status: 'pending', outsideHours: true, nextOpenAt: null });
    await expect(client.leaveContact(conv.id, 'not an email')).rejects.toMatchObject({
      status: 400,
      errors: [expect.objectContaining({ path: '/email' })],
    });
    await client.leaveContact(conv.id, 'ana@example.com');
    const profile = await call(t.url, 'GET', `/v1/admin/conversations/${conv.id}/visitor`, { key: night.secretKey });
    expect(profile.body.contact).toMatchObject({ email: 'ana@example.com' });
  });

  test('problems are typed ParleyErrors; another origin gets no session', async () => {
    const client = createClient({ apiBase: t.url, publishableKey: pk, storage: memory(), fetch: fromOrigin('https://evil.example') });
    const err = await client.config().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({ status: 403, type: '/docs/problems/origin-not-allowed', requestId: expect.stringMatching(/^req_/) });
    const down = createClient({ apiBase: 'http://127.0.0.1:1', publishableKey: pk, storage: memory() });
    await expect(down.config()).rejects.toMatchObject({ status: 0, retryable: true });
  });
});
