// Graceful shutdown of a real `parley serve` (a child process) on SIGTERM, mid-flight: 24 requests in
// flight (chat turns streaming their answers, and API answers), 20 live streams (widget event streams
// and inbox streams). Every request finishes with its normal status, every live stream gets the
// reconnect hint and a clean end, readiness is 503 while draining, no new connection is accepted, and
// the process exits 0 within the grace period with nothing used after the database closed.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FAKE_ANSWER, type FakeLlm } from '../test/fake-llm.js';
import { call } from '../test/http.js';
import { cliDeployment, type CliDeployment, serveChild, sseEvents } from '../test/serve.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://shop.example';
const REFUNDS = '# Returns\n\n## Refund timing\n\nRefunds reach your card within 5 business days after we receive the parcel.';
const GRACE_MS = 30_000;

let deployment: CliDeployment;
let env: Record<string, string>;
let llm: FakeLlm;
let tenant: CliDeployment['tenant'];

beforeAll(async () => {
  deployment = await cliDeployment('shutdown');
  ({ env, llm, tenant } = deployment);
}, 120_000);
afterAll(() => deployment?.close());

/** What a live stream client saw: its events, and how the stream ended. */
async function follow(res: Response): Promise<{ status: number; events: { event: string; retry?: number }[]; end: 'clean' | string }> {
  const events: { event: string; retry?: number }[] = [];
  try {
    for await (const e of sseEvents(res)) events.push(e);
    return { status: res.status, events, end: 'clean' };
  } catch (err) {
    return { status: res.status, events, end: `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}` };
  }
}

describe('parley serve on SIGTERM', () => {
  test('drains: in-flight requests finish, live streams are told to reconnect, exit 0 within the grace period', async () => {
    let release = () => {};
    llm.mode = { kind: 'held', until: new Promise<void>((r) => (release = r)), delayMs: 50 };
    const s = await serveChild({ ...env, PARLEY_SHUTDOWN_GRACE_MS: String(GRACE_MS), PARLEY_SSE_MAX_PER_VISITOR: '50' });
    try {
      const admin = (method: string, path: string, body: unknown) => call(s.url, method, path, { key: tenant.secretKey, body });
      expect((await admin('POST', '/v1/admin/knowledge/sources', { kind: 'markdown', content: REFUNDS, externalId: 'refunds' })).status).toBe(201);
      expect(
        (await admin('PUT', '/v1/admin/providers/openai-compatible', { apiKey: `sk-test-${'k'.repeat(40)}`, model: 'm-1', baseUrl: llm.baseUrl }))
          .status,
      ).toBe(201);
      expect((await admin('PATCH', '/v1/admin/settings', { budget: { requestsPerMinute: 1000, tokensPerDay: 10_000_000 } })).status).toBe(200);
      const v = new Visitor(s.url, tenant.publishableKey, ORIGIN);
      expect((await v.start()).status).toBe(200);
      const conversations: string[] = [];
      for (let i = 0; i < 12; i++) conversations.push((await v.call('POST', '/conversations', {})).body.conversation.id);
      const headers = { origin: ORIGIN, 'x-parley-key': v.key, authorization: `Bearer ${v.token}` };

      // 20 live streams: 15 widget event streams, 5 inbox streams.
      const live = [
        ...Array.from({ length: 15 }, (_, i) =>
          fetch(`${s.url}/v1/widget/conversations/${conversations[i % 12]}/events`, { headers: { ...headers, accept: 'text/event-stream' } }),
        ),
        ...Array.from({ length: 5 }, () =>
          fetch(`${s.url}/v1/admin/inbox/stream`, { headers: { authorization: `Bearer ${tenant.secretKey}`, accept: 'text/event-stream' } }),
        ),
      ];
      const streams = (await Promise.all(live)).map((res) => follow(res));

      // 24 requests in flight: 12 chat turns streaming their answer, 12 API answers; all wait on the model.
      const turns = conversations.map((id, i) =>
        fetch(`${s.url}/v1/widget/conversations/${id}/messages`, {
          method: 'POST',
          headers: { ...headers, accept: 'text/event-stream', 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'How long do refunds take?', clientMessageId: `turn-${i}` }),
        }).then(async (res) => ({ status: res.status, events: (await follow(res)).events })),
      );
      const answers = Array.from({ length: 12 }, () =>
        call(s.url, 'POST', '/v1/answers', { key: tenant.secretKey, body: { question: 'How long do refunds take?' } }),
      );
      for (let i = 0; i < 600 && llm.streams < 24; i++) await new Promise((r) => setTimeout(r, 100));
      expect(llm.streams).toBe(24);

      // A connection whose request has begun (headers not finished): it is in flight, so it may finish.
      const probe = connect(Number(new URL(s.url).port), '127.0.0.1');
      await new Promise<void>((r) => probe.once('connect', () => r()));
      probe.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let probeReply = '';
      probe.on('data', (d: Buffer) => void (probeReply += d.toString()));
      await new Promise((r) => setTimeout(r, 200));

      const signalled = Date.now();
      s.child.kill('SIGTERM');
      // Draining: live streams end first; a new connection is refused; readiness is 503.
      const ended = await Promise.all(streams);
      const refused = await new Promise<string>((resolve) => {
        const c = connect(Number(new URL(s.url).port), '127.0.0.1');
        c.once('connect', () => {
          c.destroy();
          resolve('accepted');
        });
        c.once('error', (err) => resolve(String((err as NodeJS.ErrnoException).code)));
      });
      expect(refused).toBe('ECONNREFUSED');
      probe.write('\r\n');
      await new Promise<void>((r) => probe.once('close', () => r()));
      expect(probeReply).toMatch(/^HTTP\/1\.1 503 /);
      expect(probeReply.toLowerCase()).toContain('connection: close');
      expect(probeReply).toContain('shutting down');

      // The model answers now: every request in flight completes normally.
      release();
      for (const t of await Promise.all(turns)) {
        expect(t.status).toBe(200);
        expect(t.events.at(0)?.event).toBe('message');
        expect(t.events.filter((e) => e.event === 'done')).toHaveLength(1);
      }
      for (const a of await Promise.all(answers)) {
        expect(a.status).toBe(200);
        expect(a.body.message.text).toBe(FAKE_ANSWER);
      }
      for (const st of ended) {
        expect(st.status).toBe(200);
        expect(st.end).toBe('clean');
        expect(st.events.at(-1)).toMatchObject({ event: 'reconnect', retry: expect.any(Number) });
      }

      const code = await s.exited;
      expect(code, s.log()).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(GRACE_MS);
      expect(s.log()).not.toMatch(/Cannot use a pool after calling end/);
      expect(s.log()).not.toMatch(/closing the connections still open/);
    } finally {
      release();
      await s.stop();
    }
  }, 300_000);
});
