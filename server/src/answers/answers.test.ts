// The API channel over HTTP with a real server and database. The only double is the hosted model (the
// ai SDK's test model), which records every prompt it receives.
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { parseSse, Visitor } from '../test/widget.js';

const usage = { inputTokens: { total: 100, noCache: 100, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 20, text: 20, reasoning: 0 } };
const model = new MockLanguageModelV3({
  doStream: async () => {
    const words = 'Refunds reach your card within 5 business days [1].'.match(/\S+\s*/g)!;
    return {
      stream: simulateReadableStream({
        chunks: [
          { type: 'text-start' as const, id: 't' },
          ...words.map((w) => ({ type: 'text-delta' as const, id: 't', delta: w })),
          { type: 'text-end' as const, id: 't' },
          { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
        ],
      }),
    };
  },
  doGenerate: async () => ({
    content: [{ type: 'text' as const, text: '0.95' }],
    finishReason: { unified: 'stop' as const, raw: 'stop' },
    usage,
    warnings: [],
  }),
});
const prompts = () => [...model.doStreamCalls, ...model.doGenerateCalls].map((c) => JSON.stringify(c.prompt)).join('\n');

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const REFUNDS = '# Returns\n\n## Refund timing\n\nRefunds reach your card within 5 business days after we receive the parcel.';

const ask = (key: string, body: unknown, headers: Record<string, string> = {}) => call(t.url, 'POST', '/v1/answers', { key, body, headers });
const counts = async (tenant: CreatedTenant) =>
  (
    await t.runtime.db.withTenant(tenant.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ conversations: number; messages: number }>(
        'SELECT (SELECT count(*)::int FROM conversations) AS conversations, (SELECT count(*)::int FROM messages) AS messages',
      ),
    )
  ).rows[0]!;
const withProvider = async (name: string, budget: Record<string, number>) => {
  const tenant = await t.tenant(name, [`${name.toLowerCase().replace(/\W/g, '')}.example`]);
  await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
    key: tenant.secretKey,
    body: { kind: 'markdown', content: REFUNDS, externalId: 'refunds' },
  });
  expect(
    (
      await call(t.url, 'PUT', '/v1/admin/providers/openai', {
        key: tenant.secretKey,
        body: { apiKey: `sk-test-${'k'.repeat(40)}`, model: 'gpt-test' },
      })
    ).status,
  ).toBe(201);
  expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: tenant.secretKey, body: { budget } })).status).toBe(200);
  return tenant;
};

beforeAll(async () => {
  t = await startTestApp({}, { modelFor: () => model });
  a = await t.tenant('Shop A', ['shop.a.example']);
  b = await t.tenant('Shop B', ['shop.b.example']);
  for (const tenant of [a, b]) {
    await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key: tenant.secretKey,
      body: { kind: 'markdown', content: REFUNDS, externalId: 'refunds' },
    });
  }
});
afterAll(() => t.close());

describe('POST /v1/answers', () => {
  test('a cited answer on a new API conversation, which the next question continues', async () => {
    const first = await ask(a.secretKey, { question: 'How long do refunds take?', userRef: 'user-4711' });
    expect(first.status).toBe(200);
    expect(first.body.message.text).toContain('5 business days');
    expect(first.body.message.citations).toEqual([expect.objectContaining({ title: expect.stringContaining('Refund timing') })]);
    expect(first.body.handoff).toBeNull();
    expect(first.body.confidence).toBeGreaterThan(0.45);
    // Whose conversation it is: the reference a privacy export or erasure names.
    expect(first.body.visitorRef).toBe('api:user-4711');
    const next = await ask(a.secretKey, { question: 'And after you receive the parcel?', conversationId: first.body.conversationId });
    expect(next.status).toBe(200);
    expect(next.body.conversationId).toBe(first.body.conversationId);
    const stored = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ channel: string; visitor_id: string; n: number }>(
        'SELECT c.channel, c.visitor_id, (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS n FROM conversations c WHERE c.id = $1',
        [first.body.conversationId],
      ),
    );
    expect(stored.rows).toEqual([{ channel: 'api', visitor_id: 'api:user-4711', n: 4 }]);
  });

  test('an unanswerable question is handed to a person, not invented', async () => {
    const res = await ask(a.secretKey, { question: 'Do you sell replacement tent poles for the Ridgeline 2?' });
    expect(res.status).toBe(200);
    expect(res.body.handoff).toMatchObject({ id: expect.any(String), reason: 'low_confidence' });
    expect(res.body.message.citations).toEqual([]);
    // Asked for nobody named: a subject of its own, which the caller learns only here.
    expect(res.body.visitorRef).toMatch(/^api_[A-Za-z0-9_-]{16}$/);
    // The conversation is now a person's: the API does not answer over them.
    const again = await ask(a.secretKey, { question: 'Hello?', conversationId: res.body.conversationId });
    expect(again.status).toBe(409);
  });

  test('a streamed answer when asked for text/event-stream', async () => {
    const res = await fetch(`${t.url}/v1/answers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.secretKey}`, accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'How long do refunds take?' }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events[0]).toMatchObject({
      event: 'conversation',
      data: { conversationId: expect.any(String), visitorRef: expect.stringMatching(/^api_[A-Za-z0-9_-]{16}$/) },
    });
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({
      event: 'done',
      data: { message: { role: 'assistant', text: expect.stringContaining('5 business days') } },
    });
  });

  test('a key without answers:write is refused; publishable keys and no key are unauthenticated', async () => {
    const limited = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'reader', capabilities: ['knowledge:read'] } });
    const before = await counts(a);
    const res = await ask(limited.body.secret, { question: 'How long do refunds take?' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ capability: 'answers:write', request_id: expect.any(String) });
    expect((await ask(a.publishableKey, { question: 'How long do refunds take?' })).status).toBe(401);
    expect((await call(t.url, 'POST', '/v1/answers', { body: { question: 'How long do refunds take?' } })).status).toBe(401);
    expect(await counts(a)).toEqual(before);
  });

  test("another tenant's conversation, or a widget conversation, is not found and nothing changes", async () => {
    const mine = await ask(a.secretKey, { question: 'How long do refunds take?' });
    const before = await counts(a);
    const theirs = await ask(b.secretKey, { question: 'How long do refunds take?', conversationId: mine.body.conversationId });
    expect(theirs.status).toBe(404);
    const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
    await v.start();
    const widgetConversation = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const viaApi = await ask(a.secretKey, { question: 'How long do refunds take?', conversationId: widgetConversation });
    expect(viaApi.status).toBe(404);
    expect(await counts(a)).toEqual({ ...before, conversations: before.conversations + 1 });
  });

  test('malformed, oversized and unknown-field bodies are problems with the request id, and nothing is stored', async () => {
    const before = await counts(a);
    const bad = [
      { raw: '{"question":', status: 400 },
      { body: { question: '' }, status: 400 },
      { body: { question: 'x'.repeat(4001) }, status: 400 },
      { body: { question: 'Refunds?', admin: true }, status: 400 },
      { body: { question: 'Refunds?', conversationId: 'not-a-uuid' }, status: 400 },
      { body: { question: 'Refunds?', userRef: 'has spaces in it' }, status: 400 },
      // An email address would become a data subject's reference in clear (`api:jane@…`), in the console,
      // exports and webhooks: a userRef is the caller's opaque id.
      { body: { question: 'Refunds?', userRef: 'jane.doe@example.com' }, status: 400, path: '/userRef' },
      { body: ['question'], status: 400 },
      { raw: JSON.stringify({ question: 'a'.repeat(2 * 1024 * 1024) }), status: 413 },
    ];
    for (const c of bad) {
      const res = await call(t.url, 'POST', '/v1/answers', { key: a.secretKey, ...(c.raw !== undefined ? { raw: c.raw } : { body: c.body }) });
      expect(res.status, JSON.stringify(c).slice(0, 80)).toBe(c.status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
      if (c.path) expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([c.path]);
    }
    expect(await counts(a)).toEqual(before);
  });
});

describe('the API channel with a provider', () => {
  test("personal data is redacted by the tenant's api-channel policy before the model sees it", async () => {
    const tenant = await withProvider('Private Co', { requestsPerMinute: 100 });
    const email = 'jane.roe@example-mail.com';
    const card = '4111 1111 1111 1111';
    const res = await ask(tenant.secretKey, { question: `I paid with ${card}, reply to ${email}: how long do refunds take?` });
    expect(res.status).toBe(200);
    expect(res.body.message.text).toContain('5 business days');
    expect(prompts()).toContain('5 business days');
    for (const value of [email, card, '4111111111111111']) expect(prompts()).not.toContain(value);
  });

  test('over the requests-per-minute budget: 429 with Retry-After, nothing stored, audited', async () => {
    const tenant = await withProvider('Busy Co', { requestsPerMinute: 1 });
    expect((await ask(tenant.secretKey, { question: 'How long do refunds take?' })).status).toBe(200);
    const before = await counts(tenant);
    const calls = model.doStreamCalls.length;
    const res = await ask(tenant.secretKey, { question: 'How long do refunds take?' });
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ type: '/docs/problems/budget-exceeded', status: 429, request_id: expect.any(String) });
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(await counts(tenant)).toEqual(before);
    expect(model.doStreamCalls.length).toBe(calls);
    const audit = (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: tenant.secretKey })).body.entries;
    expect(audit.at(-1)).toMatchObject({ action: 'ai.budget_refused', metadata: { channel: 'api', budget: 'requestsPerMinute' } });
    expect(JSON.stringify(audit.at(-1))).not.toContain('refunds take');
  });

  test('over the tokens-per-day budget: 429 until the next day', async () => {
    const tenant = await withProvider('Thrifty Co', { requestsPerMinute: 100, tokensPerDay: 1 });
    expect((await ask(tenant.secretKey, { question: 'How long do refunds take?' })).status).toBe(200);
    const res = await ask(tenant.secretKey, { question: 'How long do refunds take?' });
    expect(res.status).toBe(429);
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(24 * 3600);
    expect(res.body.detail).toMatch(/token budget/);
  });

  test('the same spent budget hands a widget visitor to a person instead', async () => {
    const tenant = await withProvider('Widget Co', { requestsPerMinute: 1 });
    expect((await ask(tenant.secretKey, { question: 'How long do refunds take?' })).status).toBe(200);
    const v = new Visitor(t.url, tenant.publishableKey, 'https://widgetco.example');
    expect((await v.start()).status).toBe(200);
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const events = await v.say(id, 'How long do refunds take?');
    expect(events.at(-1)).toMatchObject({ event: 'handoff', data: { handoff: { reason: 'budget' } } });
  });
});
