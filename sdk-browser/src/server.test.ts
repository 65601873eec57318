// @parley/browser against a real server; the custom fetch only adds the Origin a browser would send.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../../server/src/test/app.js';
import { call } from '../../server/src/test/http.js';
import { createClient, type StoredSession } from './client.js';
import { ParleyError } from './errors.js';

let t: TestApp;
let pk: string;
let sk: string;
const ORIGIN = 'https://www.shop.example';
const fromOrigin = (origin: string): typeof fetch => (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), origin } });
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
    body: { kind: 'markdown', content: '# Help\n\n## Opening hours\nOur stores open at 9 am and close at 8 pm, Monday to Saturday.', url: 'https://www.shop.example/help' },
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

  test('problems are typed ParleyErrors; another origin gets no session', async () => {
    const client = createClient({ apiBase: t.url, publishableKey: pk, storage: memory(), fetch: fromOrigin('https://evil.example') });
    const err = await client.config().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({ status: 403, type: '/docs/problems/origin-not-allowed', requestId: expect.stringMatching(/^req_/) });
    const down = createClient({ apiBase: 'http://127.0.0.1:1', publishableKey: pk, storage: memory() });
    await expect(down.config()).rejects.toMatchObject({ status: 0, retryable: true });
  });
});
