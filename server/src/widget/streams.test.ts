// Live event streams under load: each event is read from the database once per conversation and fanned
// out to every open stream (not once per stream), streams are capped per visitor and per tenant, a
// closed stream frees its place, and Last-Event-ID resumes without losing or repeating an event.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConversationRedactor } from '../ai/pii/redactor.js';
import { ConversationBus, type ConversationEvent } from '../conversations/bus.js';
import { ConversationHub } from '../conversations/hub.js';
import type { Db } from '../db/index.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { parseSse, Visitor, type SseEvent } from '../test/widget.js';

const ORIGIN = 'https://shop.a.example';

interface OpenStream {
  status: number;
  headers: Headers;
  body: string;
  events: SseEvent[];
  close(): void;
  /** Resolves once the stream holds at least n events (or rejects after a while). */
  waitFor(n: number): Promise<SseEvent[]>;
}

async function openStream(v: Visitor, conversationId: string, lastEventId?: string, extra: Record<string, string> = {}): Promise<OpenStream> {
  const ac = new AbortController();
  const res = await fetch(`${v.base}/v1/widget/conversations/${conversationId}/events`, {
    headers: {
      origin: v.origin,
      'x-parley-key': v.key,
      authorization: `Bearer ${v.token}`,
      accept: 'text/event-stream',
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      ...extra,
    },
    signal: ac.signal,
  });
  const s: OpenStream = {
    status: res.status,
    headers: res.headers,
    body: '',
    events: [],
    close: () => ac.abort(),
    async waitFor(n) {
      const until = Date.now() + 10_000;
      while (s.events.length < n) {
        if (Date.now() > until) throw new Error(`stream has ${s.events.length} events, waited for ${n}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return s.events;
    },
  };
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    s.body = await res.text();
    return s;
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
        s.events = parseSse(text);
      }
    } catch {
      /* aborted */
    }
  })();
  return s;
}

/** Counts transactions the app opens, by wrapping the Db it was given. */
function countTransactions(db: Db) {
  const counter = { n: 0 };
  const withTenant = db.withTenant.bind(db);
  (db as { withTenant: Db['withTenant'] }).withTenant = (tenantId, ctx, fn) => {
    counter.n++;
    return withTenant(tenantId, ctx, fn);
  };
  return counter;
}

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('fan-out: one read per event, whatever the number of streams', () => {
  let t: TestApp;
  let a: CreatedTenant;
  const streams: OpenStream[] = [];
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_SSE_MAX_PER_VISITOR: '100', PARLEY_SSE_MAX_PER_TENANT: '100' });
    a = await t.tenant('Tenant A', ['*.a.example']);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await t.close();
  });

  test('N streams on one conversation: O(1) transactions per event, each stream gets every event once', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    await v.say(conv.id, 'Hello there'); // the first turn may hand off; later ones are alike
    const tx = countTransactions(t.runtime.db);

    tx.n = 0;
    await v.say(conv.id, 'What are your opening hours?');
    await v.say(conv.id, 'And on weekends?');
    const withoutStreams = tx.n;

    const N = 40;
    for (let i = 0; i < N; i++) streams.push(await openStream(v, conv.id));
    for (const s of streams) expect(s.status).toBe(200);
    const stored = await t.runtime.db.withOwner((q) => q.query('SELECT id FROM conversation_events WHERE conversation_id = $1', [conv.id]));
    const history = stored.rows.length;
    await until(() => streams.every((s) => s.events.length === history), 'history');

    tx.n = 0;
    await v.say(conv.id, 'What are your opening hours?');
    await v.say(conv.id, 'And on weekends?');
    await until(() => new Set(streams.map((s) => s.events.length)).size === 1 && streams[0]!.events.length > history, 'fan-out');
    await new Promise((r) => setTimeout(r, 200)); // anything late would show here
    const after = tx.n;
    const newEvents = streams[0]!.events.length - history;
    expect(newEvents).toBeGreaterThanOrEqual(2);
    // Without a hub this is N reads per event (here 80 or more); with one it is at most one per event.
    expect(after - withoutStreams).toBeLessThanOrEqual(newEvents);

    const ids = streams[0]!.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of streams) expect(s.events.map((e) => e.id)).toEqual(streams[0]!.events.map((e) => e.id));
  });

  test('visitor streams get their own values back; the stored event stays redacted', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const s = await openStream(v, conv.id);
    streams.push(s);
    await v.say(conv.id, 'My email is jane.miller@example.com');
    const [first] = await s.waitFor(1);
    expect(first!.data.message.text).toContain('jane.miller@example.com');
    const stored = await t.runtime.db.withOwner((tx) =>
      tx.query<{ payload: unknown }>('SELECT payload FROM conversation_events WHERE conversation_id = $1', [conv.id]),
    );
    expect(JSON.stringify(stored.rows)).not.toContain('jane.miller@example.com');
  });

  test('in one room, visitor streams get restored values and agent streams the redacted form, from one read', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    await v.say(conv.id, 'Reach me at jane.miller@example.com');
    const bus = new ConversationBus();
    const hub = new ConversationHub({
      db: t.runtime.db,
      bus,
      redactor: new ConversationRedactor(t.runtime.keyring),
      limits: { perVisitor: 5, perTenant: 5 },
    });
    const got: Record<'visitor' | 'agent', ConversationEvent[]> = { visitor: [], agent: [] };
    const tx = countTransactions(t.runtime.db);
    tx.n = 0;
    const leave = (['visitor', 'agent'] as const).map((view) =>
      hub.join(a.tenant.id, conv.id, { view, last: 0, send: (e) => got[view].push(e), close: () => {} }),
    );
    await until(() => got.visitor.length > 0 && got.agent.length === got.visitor.length, 'both views');
    const text = (e: ConversationEvent | undefined) => (e?.payload as { message: { text: string } } | undefined)?.message.text;
    expect(text(got.visitor[0])).toContain('jane.miller@example.com');
    expect(text(got.agent[0])).not.toContain('jane.miller');
    expect(text(got.agent[0])).toMatch(/\[EMAIL_1\]/);
    expect(tx.n).toBeLessThanOrEqual(2); // the two joins fold into at most two reads
    for (const l of leave) l();
  });

  test('Last-Event-ID resumes: no event missed, none repeated, across a disconnect and live traffic', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const s1 = await openStream(v, conv.id);
    await v.say(conv.id, 'What are your opening hours?');
    const seen = await s1.waitFor(2);
    const lastId = seen.at(-1)!.id!;
    await new Promise((r) => setTimeout(r, 100));
    const firstPart = [...s1.events];
    s1.close();
    await v.say(conv.id, 'And on weekends?'); // while disconnected
    const other = await openStream(v, conv.id); // another listener already on the conversation
    streams.push(other);
    const s2 = await openStream(v, conv.id, firstPart.at(-1)!.id);
    streams.push(s2);
    await v.say(conv.id, 'Thanks!'); // live, after the reconnect
    const all = await t.runtime.db.withOwner((tx) =>
      tx.query<{ id: string }>('SELECT id FROM conversation_events WHERE conversation_id = $1 ORDER BY id', [conv.id]),
    );
    const allIds = all.rows.map((r) => String(r.id));
    await until(() => other.events.length === allIds.length, 'the other listener');
    await until(() => firstPart.length + s2.events.length >= allIds.length, 'the resumed listener');
    await new Promise((r) => setTimeout(r, 200));
    expect(Number(lastId)).toBeGreaterThan(0);
    expect([...firstPart, ...s2.events].map((e) => e.id)).toEqual(allIds);
    expect(other.events.map((e) => e.id)).toEqual(allIds);
    // Resuming from the newest id gives nothing old.
    const s3 = await openStream(v, conv.id, allIds.at(-1));
    streams.push(s3);
    await new Promise((r) => setTimeout(r, 200));
    expect(s3.events).toEqual([]);
  });

  test('a Last-Event-ID that is not an id is refused; one past every event resumes from the newest', async () => {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    await v.say(conv.id, 'What are your opening hours?');
    // Read as a number, '1e3' was 1000 and ' 7' was 7; 'abc' replayed the whole conversation.
    for (const given of ['abc', '1e3', '0x10', '-1', '99999999999999999999']) {
      const s = await openStream(v, conv.id, given);
      streams.push(s);
      expect(s.status, given).toBe(400);
      expect(JSON.parse(s.body).type, given).toMatch(/validation-failed$/);
    }
    // Past every event (a page open while events were swept, or a made-up id): what comes next still
    // arrives; before, the stream waited for ids to catch up and the visitor saw nothing.
    const ahead = await openStream(v, conv.id, '900000000000');
    streams.push(ahead);
    expect(ahead.status).toBe(200);
    await v.say(conv.id, 'And on weekends?');
    const got = await ahead.waitFor(1);
    expect(got.some((e) => e.event === 'message' && e.data.message.text === 'And on weekends?')).toBe(true);
  });
});

describe('caps: streams per visitor and per tenant', () => {
  let t: TestApp;
  let a: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_SSE_MAX_PER_VISITOR: '2', PARLEY_SSE_MAX_PER_TENANT: '3', PARLEY_SSE_MAX_PER_ADDRESS: '3' });
    a = await t.tenant('Tenant A', ['*.a.example']);
  });
  afterAll(() => t.close());

  async function visitorWithConversation() {
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    return { v, id: conv.id as string };
  }

  test('over the per-visitor cap is a 429 problem with Retry-After, before any stream opens; closing one frees its place', async () => {
    const { v, id } = await visitorWithConversation();
    const s1 = await openStream(v, id);
    const s2 = await openStream(v, id);
    expect([s1.status, s2.status]).toEqual([200, 200]);
    const s3 = await openStream(v, id);
    expect(s3.status).toBe(429);
    expect(s3.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(s3.headers.get('retry-after'))).toBeGreaterThan(0);
    const problem = JSON.parse(s3.body);
    expect(problem).toMatchObject({ type: '/docs/problems/rate-limited', status: 429, request_id: expect.any(String) });
    expect(problem.detail).toMatch(/stream/i);

    s1.close();
    let s4: OpenStream | undefined;
    await until(async () => {
      s4 = await openStream(v, id);
      if (s4.status === 200) return true;
      return false;
    }, 'a freed place');
    s2.close();
    s4!.close();
  });

  test('over the per-tenant cap is a 429 too; places come back when streams close', async () => {
    const visitors = await Promise.all([0, 1, 2, 3].map(() => visitorWithConversation()));
    // Earlier streams may still be closing: wait until this tenant's places are free.
    const opened: OpenStream[] = [];
    await until(async () => {
      const s = await openStream(visitors[0]!.v, visitors[0]!.id);
      if (s.status === 200) opened.push(s);
      return s.status === 200;
    }, 'free places');
    opened.push(await openStream(visitors[1]!.v, visitors[1]!.id));
    opened.push(await openStream(visitors[2]!.v, visitors[2]!.id));
    expect(opened.map((s) => s.status)).toEqual([200, 200, 200]);
    const over = await openStream(visitors[3]!.v, visitors[3]!.id);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body).detail).toMatch(/site|tenant/i);

    for (const s of opened) s.close();
    const back: OpenStream[] = [];
    await until(async () => {
      const s = await openStream(visitors[3]!.v, visitors[3]!.id);
      if (s.status === 200) back.push(s);
      return s.status === 200;
    }, 'places released on disconnect');
    back.push(await openStream(visitors[0]!.v, visitors[0]!.id), await openStream(visitors[1]!.v, visitors[1]!.id));
    expect(back.map((s) => s.status)).toEqual([200, 200, 200]);
    for (const s of back) s.close();
  });

  test('a refused stream (unknown conversation) takes no place', async () => {
    const { v, id } = await visitorWithConversation();
    for (let i = 0; i < 5; i++) {
      const s = await openStream(v, '00000000-0000-4000-8000-000000000000');
      expect(s.status).toBe(404);
    }
    await until(async () => {
      const s = await openStream(v, id);
      s.close();
      return s.status === 200;
    }, 'a place');
  });
});

// Attack (third review): visitors cost one request each, and count only against their address's request
// limit, so one address minted a hundred of them, opened five streams each and took every place of the
// tenant: a real visitor elsewhere got 429 and no live replies. One address holds a share of the places.
describe('caps: streams per address', () => {
  let t: TestApp;
  let a: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_SSE_MAX_PER_VISITOR: '2', PARLEY_SSE_MAX_PER_TENANT: '50', PARLEY_SSE_MAX_PER_ADDRESS: '3' });
    a = await t.tenant('Tenant A', ['*.a.example']);
  });
  afterAll(() => t.close());

  test("one address takes at most its share of the tenant's places, however many visitors it mints", async () => {
    const open: OpenStream[] = [];
    for (let i = 0; i < 2; i++) {
      const v = new Visitor(t.url, a.publishableKey, ORIGIN);
      await v.start();
      const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
      open.push(await openStream(v, id), await openStream(v, id));
    }
    expect(open.map((s) => s.status)).toEqual([200, 200, 200, 429]);
    expect(JSON.parse(open[3]!.body).detail).toMatch(/address/);
    for (const s of open) s.close();
  });
});

// Sixth review: behind a proxy, addresses of one IPv6 network (one home line or host holds a /64 or more)
// each counted as their own, and so did the forms one IPv4 address takes in IPv6.
describe('caps: an address is read as the rate limits read it', () => {
  let t: TestApp;
  let a: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({
      PARLEY_TRUST_PROXY: 'true',
      PARLEY_SSE_MAX_PER_VISITOR: '1',
      PARLEY_SSE_MAX_PER_TENANT: '50',
      PARLEY_SSE_MAX_PER_ADDRESS: '2',
    });
    a = await t.tenant('Tenant A', ['*.a.example']);
  });
  afterAll(() => t.close());

  test.each([
    ['one IPv6 network', ['2001:db8:1:1::1', '2001:db8:1:1::2', '2001:db8:1:2::3']],
    ['one IPv4 address written three ways', ['203.0.113.7', '::ffff:203.0.113.7', '::ffff:cb00:7107']],
  ])('%s holds one share', async (_what, addresses) => {
    const statuses: number[] = [];
    const open: OpenStream[] = [];
    for (const address of addresses) {
      const v = new Visitor(t.url, a.publishableKey, ORIGIN);
      await v.start();
      const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
      const s = await openStream(v, id, undefined, { 'x-forwarded-for': address });
      statuses.push(s.status);
      open.push(s);
    }
    expect(statuses).toEqual([200, 200, 429]);
    for (const s of open) s.close();
  });
});
