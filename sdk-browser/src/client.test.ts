// @parley/browser against an in-test server that speaks the widget API contract (request bodies are
// checked with the protocol's strict schemas), so the client's edge cases can be forced at will.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AnswerEventSchema,
  CreateConversationRequest,
  HandoffRequest,
  LiveEventSchema,
  SendMessageRequest,
  WidgetConfigResponse,
  WidgetIdentifyRequest,
  WidgetRefreshRequest,
  WidgetSessionRequest,
  WidgetSessionResponse,
} from '@parley/protocol';
import type { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createClient, memorySession, type ClientOptions } from './client.js';
import { ParleyError } from './errors.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

const PK = 'pk_test_abc';
let server: Server;
let base: string;
let seen: Seen[];
let n: number;
// token -> subject; only live tokens are accepted
let tokens: Map<string, string | null>;
// refresh token -> { used, subject }
let refreshTokens: Map<string, { used: boolean; subject: string | null }>;
let live: { id: number; event: string; data: unknown }[];
let dropAfter: number;
let shutdownHint: boolean;
let streamChunks: string[] = [];

const now = () => new Date().toISOString();
const session = (subject: string | null, visitorRef = 'v_1', ttl = 900_000, visitorSecret?: string) => {
  const token = `at_${++n}`;
  const refreshToken = `rt_${n}_0123456789`;
  tokens.set(token, subject);
  refreshTokens.set(refreshToken, { used: false, subject });
  return { token, refreshToken, visitorRef, ...(visitorSecret ? { visitorSecret } : {}), expiresAt: new Date(Date.now() + ttl).toISOString() };
};
let nextTtl = 900_000;

function problem(res: ServerResponse, status: number, slug: string, detail: string) {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'x-request-id': 'req_fake' });
  res.end(JSON.stringify({ type: `/docs/problems/${slug}`, title: slug, status, detail, instance: '/v1/widget', request_id: 'req_fake' }));
}

function parse<T>(schema: z.ZodType<T>, body: unknown, res: ServerResponse): T | null {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  res.writeHead(400, { 'content-type': 'application/problem+json' });
  res.end(
    JSON.stringify({
      type: '/docs/problems/validation-failed',
      title: 'invalid',
      status: 400,
      request_id: 'req_v',
      errors: [{ path: '/', message: r.error.message, code: 'invalid' }],
    }),
  );
  return null;
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const msg = (id: string, role: string, text: string) => ({ id, role, text, citations: [], createdAt: now() });

async function handle(req: IncomingMessage, res: ServerResponse) {
  const u = new URL(req.url!, 'http://x');
  let raw = '';
  for await (const c of req) raw += c;
  const body = raw ? JSON.parse(raw) : undefined;
  seen.push({ method: req.method!, path: u.pathname, headers: req.headers, body });
  if (req.headers['x-parley-key'] !== PK || u.searchParams.get('key') !== PK) return problem(res, 401, 'unauthenticated', 'no key');
  if (req.headers.origin === 'https://evil.example') return problem(res, 403, 'origin-not-allowed', 'not allowed');
  const p = u.pathname.replace('/v1/widget', '');
  if (p === '/config') {
    // As the server: settings only, nothing started for a page view.
    return json(res, 200, {
      settings: {
        tenantName: 'Shop',
        greeting: 'Hi',
        launcherText: 'Chat',
        locale: 'auto',
        theme: 'auto',
        accentColor: '#2f6feb',
        position: 'bottom-right',
        identityMode: 'optional',
      },
    });
  }
  if (p === '/session' && req.method === 'POST') {
    if (!parse(WidgetSessionRequest, body, res)) return;
    // As the server: a known secret (here pvs_<k> resumes v_<k>) resumes its visitor; anything else is a
    // new visitor, whose secret comes with this one response.
    const visitor = req.headers['x-parley-visitor'];
    const known = typeof visitor === 'string' && /^pvs_\d+$/.test(visitor) ? visitor.slice(4) : null;
    return json(res, 200, { session: known ? session(null, `v_${known}`, nextTtl) : session(null, `v_${n + 1}`, nextTtl, `pvs_${n + 1}`) });
  }
  if (p === '/session/refresh') {
    const b = parse(WidgetRefreshRequest, body, res);
    if (!b) return;
    const rt = refreshTokens.get(b.refreshToken);
    if (!rt) return problem(res, 401, 'token-invalid', 'unknown');
    if (rt.used) return problem(res, 401, 'token-replayed', 'reused');
    rt.used = true;
    return json(res, 200, { session: session(rt.subject) });
  }
  const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer || !tokens.has(bearer)) return problem(res, 401, 'token-expired', 'expired');
  const subject = tokens.get(bearer)!;
  if (p === '/identify') {
    const b = parse(WidgetIdentifyRequest, body, res);
    if (!b) return;
    if (b.token !== 'signin_valid_token') return problem(res, 401, 'token-invalid', 'bad signature');
    return json(res, 200, { visitor: { verified: true, id: 'user-1', name: 'Ada' }, session: session('user-1') });
  }
  if (p === '/conversations' && req.method === 'POST') {
    if (!parse(CreateConversationRequest, body, res)) return;
    return json(res, 201, { conversation: { id: 'c1', status: 'open', verified: subject !== null, createdAt: now() } });
  }
  const m = /^\/conversations\/([^/]+)(\/\w+)?$/.exec(p);
  if (!m || m[1] !== 'c1') return problem(res, 404, 'not-found', 'No such conversation.');
  if (!m[2])
    return json(res, 200, { conversation: { id: 'c1', status: 'open', verified: false, createdAt: now() }, messages: [msg('m1', 'visitor', 'hi')] });
  if (m[2] === '/messages') {
    const b = parse(SendMessageRequest, body, res);
    if (!b) return;
    sse(res);
    for (const chunk of streamChunks) {
      res.write(chunk);
      await new Promise((r) => setTimeout(r, 2));
    }
    return res.end();
  }
  if (m[2] === '/handoff') {
    const b = parse(HandoffRequest, body, res);
    if (!b) return;
    return json(res, 201, { handoff: { id: 'h1', status: 'pending', reason: 'visitor_request' } });
  }
  if (m[2] === '/events') {
    sse(res);
    res.write(': connected\n\n');
    const after = Number(req.headers['last-event-id'] ?? 0);
    const pending = live.filter((e) => e.id > after).slice(0, dropAfter);
    for (const e of pending) res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    // A server shutting down says when to come back (to another instance).
    if (shutdownHint && pending.length < live.filter((e) => e.id > after).length)
      res.write(`retry: 50\nevent: reconnect\ndata: ${JSON.stringify({ reason: 'shutdown', retryMs: 50 })}\n\n`);
    // Dropping the connection mid-conversation is what a restarting server or a flaky network does.
    return void setTimeout(() => res.end(), 10);
  }
  problem(res, 404, 'not-found', 'no route');
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res).catch((err) => problem(res, 500, 'internal', String(err))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen = [];
  n = 0;
  tokens = new Map();
  refreshTokens = new Map();
  live = [];
  dropAfter = Infinity;
  shutdownHint = false;
  nextTtl = 900_000;
});

const client = (o: Partial<ClientOptions> = {}) =>
  createClient({ apiBase: base, publishableKey: PK, storage: memorySession(), reconnect: { min: 5, max: 20 }, ...o });
const calls = (path: string) => seen.filter((s) => s.path === `/v1/widget${path}`).length;

describe('sessions', () => {
  test('config sends the key and starts nothing; the first call that needs a session starts one, a reload resumes it', async () => {
    const storage = memorySession();
    const first = client({ storage });
    const settings = await first.config();
    expect(settings.tenantName).toBe('Shop');
    expect(storage.get()).toBeNull();
    expect(calls('/session')).toBe(0);
    await first.createConversation();
    expect(calls('/session')).toBe(1);
    expect(seen.find((s) => s.path.endsWith('/session'))!.headers['x-parley-visitor']).toBeUndefined();
    expect(storage.get()).toEqual({ visitorSecret: 'pvs_1', refreshToken: 'rt_1_0123456789', conversationId: 'c1' });
    expect(JSON.stringify(storage.get())).not.toContain('at_');
    // A reload: settings again, the session resumed through the stored refresh token.
    const second = client({ storage });
    await second.config();
    expect(seen.at(-1)!.headers['x-parley-visitor']).toBeUndefined();
    await second.getConversation('c1');
    expect(calls('/session/refresh')).toBe(1);
    expect(calls('/session')).toBe(1);
    expect(storage.get()).toMatchObject({ visitorSecret: 'pvs_1', conversationId: 'c1' });
    // Without a refresh token (it expired, or another tab spent it), the secret resumes the visitor.
    storage.set({ visitorSecret: 'pvs_1' });
    await client({ storage }).getConversation('c1');
    expect(seen.filter((s) => s.path.endsWith('/session')).at(-1)!.headers['x-parley-visitor']).toBe('pvs_1');
  });

  test('a visitor id kept by an older version is never sent, and is dropped from storage', async () => {
    const storage = memorySession();
    storage.set({ visitorId: 'v_legacy0123456789012345' } as never);
    const c = client({ storage });
    await c.config();
    await c.refresh();
    expect(seen.at(-1)!.headers['x-parley-visitor']).toBeUndefined();
    expect(storage.get()).toEqual({ visitorSecret: 'pvs_1', refreshToken: 'rt_1_0123456789' });
  });

  test('a 401 token-expired is refreshed once and the call retried', async () => {
    const c = client();
    await c.refresh(); // the session the first call would start
    tokens.clear();
    expect((await c.getConversation('c1')).messages[0]!.text).toBe('hi');
    expect(calls('/session/refresh')).toBe(1);
    expect(calls('/conversations/c1')).toBe(2);
  });

  test('a token about to expire is refreshed before the call, once for concurrent calls', async () => {
    nextTtl = 5_000;
    const c = client();
    await c.refresh(); // the session the first call would start
    await Promise.all([c.getConversation('c1'), c.getConversation('c1'), c.requestHandoff('c1')]);
    expect(calls('/session/refresh')).toBe(1);
  });

  test('a refused refresh token falls back to a new anonymous session and reports the lost identity', async () => {
    const resets: boolean[] = [];
    const storage = memorySession();
    const c = client({ storage, onSessionReset: (had) => resets.push(had) });
    await c.config();
    expect(await c.identify('signin_valid_token')).toMatchObject({ verified: true, id: 'user-1' });
    expect(storage.get()?.identity).toBe('user-1');
    // Reading settings again must not trade the verified session for an anonymous one.
    await c.config();
    expect((await c.createConversation()).verified).toBe(true);
    refreshTokens.clear();
    tokens.clear();
    await c.createConversation();
    expect(resets).toEqual([true]);
    expect(storage.get()?.identity).toBeUndefined();
  });

  test('problems become ParleyErrors with every field; a second 401 is not retried', async () => {
    const evil = client({
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), origin: 'https://evil.example' } }),
    });
    const err = await evil.config().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({
      status: 403,
      type: '/docs/problems/origin-not-allowed',
      title: 'origin-not-allowed',
      detail: 'not allowed',
      instance: '/v1/widget',
      requestId: 'req_fake',
      retryable: false,
    });
    const c = client();
    await c.config();
    await expect(c.identify('signin_bad_token')).rejects.toMatchObject({ status: 401, type: '/docs/problems/token-invalid' });
    expect(calls('/identify')).toBe(2);
    await expect(c.getConversation('nope')).rejects.toMatchObject({ status: 404 });
    const down = createClient({ apiBase: 'http://127.0.0.1:1', publishableKey: PK, storage: memorySession() });
    await expect(down.config()).rejects.toMatchObject({ status: 0, type: 'network', retryable: true });
  });

  test('validation problems carry their field errors', async () => {
    const c = client();
    await c.config();
    const err = (await (async () => {
      for await (const _ of c.sendMessage('c1', 'x'.repeat(4001))) void _;
    })().catch((e: unknown) => e)) as ParleyError;
    expect(err.status).toBe(400);
    expect(err.errors[0]).toMatchObject({ path: '/', code: 'invalid' });
  });
});

describe('streams', () => {
  test('an answer streams: split chunks, CRLF, comments and multi-line data are parsed', async () => {
    const visitor = JSON.stringify({ message: msg('m1', 'visitor', 'Opening hours?') });
    const done = JSON.stringify({
      message: {
        ...msg('m2', 'assistant', 'We open at 9.\nSee [1].'),
        citations: [{ title: 'Hours', url: 'https://shop.example/h', chunkId: 'k1' }],
        confidence: 0.8,
      },
    });
    streamChunks = [
      `event: message\ndata: ${visitor}\n\n: keep-alive\n\n`,
      'event: delta\r\ndata: {"text":',
      '"We open"}\r\n\r\nevent: delta\ndata: {"text":" at 9."}\n',
      '\n',
      `event: done\ndata: ${done.slice(0, 30)}`,
      `${done.slice(30)}\n\nevent: handoff\ndata: {"handoff":\ndata: {"id":"h1","status":"pending"}}\n\n`,
    ];
    const c = client();
    await c.config();
    const events = [];
    for await (const e of c.sendMessage('c1', 'Opening hours?')) events.push(AnswerEventSchema.parse(e));
    expect(events.map((e) => e.event)).toEqual(['message', 'delta', 'delta', 'done', 'handoff']);
    expect(
      events
        .filter((e) => e.event === 'delta')
        .map((e) => (e.data as { text: string }).text)
        .join(''),
    ).toBe('We open at 9.');
    const sent = seen.find((s) => s.path.endsWith('/messages'))!;
    expect(sent.headers.accept).toBe('text/event-stream');
    expect(sent.body).toMatchObject({ text: 'Opening hours?', clientMessageId: expect.any(String) });
  });

  test('picking a "Did you mean" offer sends its heading and its chunk, and streams the answer', async () => {
    const CHUNK = '00000000-0000-4000-8000-0000000000a7';
    const done = JSON.stringify({
      message: {
        ...msg('m3', 'assistant', 'Refunds take 5 days. [1]'),
        citations: [{ title: 'Returns › Refund timing', url: null, chunkId: CHUNK }],
      },
    });
    streamChunks = [`event: done\ndata: ${done}\n\n`];
    const c = client();
    await c.config();
    const events = [];
    for await (const e of c.pick('c1', { title: 'Returns › Refund timing', url: null, chunkId: CHUNK, suggested: true }))
      events.push(AnswerEventSchema.parse(e));
    expect(events.map((e) => e.event)).toEqual(['done']);
    const sent = seen.filter((s) => s.path.endsWith('/messages')).at(-1)!;
    expect(sent.body).toMatchObject({ text: 'Refund timing', pick: CHUNK, clientMessageId: expect.any(String) });
  });

  test('live events reconnect after a drop and resume from Last-Event-ID', async () => {
    live = [
      { id: 1, event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } } },
      { id: 2, event: 'status', data: { handoff: { id: 'h1', status: 'assigned' } } },
      { id: 3, event: 'message', data: { message: msg('m9', 'agent', 'Sam here') } },
    ];
    dropAfter = 2;
    const c = client();
    await c.config();
    const ac = new AbortController();
    const got = [];
    for await (const e of c.events('c1', { signal: ac.signal })) {
      got.push(LiveEventSchema.parse(e));
      if (got.length === 3) ac.abort();
    }
    expect(got.map((e) => `${e.id}:${e.event}`)).toEqual(['1:handoff', '2:status', '3:message']);
    const opens = seen.filter((s) => s.path.endsWith('/events'));
    expect(opens.map((s) => s.headers['last-event-id'])).toEqual([undefined, '2']);
  });

  test('a server shutting down ends the stream with a reconnect hint: the client comes back when told, not after its own backoff', async () => {
    live = [
      { id: 1, event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } } },
      { id: 2, event: 'message', data: { message: msg('m9', 'agent', 'Sam here') } },
    ];
    dropAfter = 1;
    shutdownHint = true;
    // Its own backoff would wait a minute before reconnecting.
    const c = client({ reconnect: { min: 60_000, max: 60_000 } });
    await c.config();
    const ac = new AbortController();
    const got = [];
    for await (const e of c.events('c1', { signal: ac.signal })) {
      got.push(LiveEventSchema.parse(e));
      if (got.length === 2) ac.abort();
    }
    expect(got.map((e) => `${e.id}:${e.event}`)).toEqual(['1:handoff', '2:message']);
    const opens = seen.filter((s) => s.path.endsWith('/events'));
    expect(opens.map((s) => s.headers['last-event-id'])).toEqual([undefined, '1']);
  });

  test('live events stop on abort while waiting to reconnect, and on a final refusal', async () => {
    dropAfter = 0;
    const c = client({ reconnect: { min: 60_000, max: 60_000 } });
    await c.config();
    const ac = new AbortController();
    const reading = (async () => {
      for await (const _ of c.events('c1', { signal: ac.signal })) void _;
    })();
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await reading;
    expect(calls('/conversations/c1/events')).toBe(1);
    const gone = (async () => {
      for await (const _ of c.events('missing', { signal: new AbortController().signal })) void _;
    })();
    await expect(gone).rejects.toMatchObject({ status: 404 });
  });
});

test('config and session responses of the fake match the protocol', async () => {
  const res = await fetch(`${base}v1/widget/config?key=${PK}`, { headers: { 'x-parley-key': PK } });
  expect(WidgetConfigResponse.safeParse(await res.json()).success).toBe(true);
  const started = await fetch(`${base}v1/widget/session?key=${PK}`, { method: 'POST', headers: { 'x-parley-key': PK }, body: '{}' });
  expect(WidgetSessionResponse.safeParse(await started.json()).success).toBe(true);
});
