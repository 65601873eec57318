// No question left behind: an instance killed between storing a visitor's question and storing its
// answer (SIGKILL of a real `parley serve` whose model never answers) leaves the answer owed. A retry of
// the message on another instance runs it, exactly once even when two retries race; with no retry, the
// turn sweeper on another instance answers it. On the embedded database "another instance" is the next
// process on the same data folder; on PostgreSQL it could run beside.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FAKE_ANSWER, type FakeLlm } from '../test/fake-llm.js';
import { call } from '../test/http.js';
import { cliDeployment, type CliDeployment, serveChild, sseEvents, type ServedChild } from '../test/serve.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://shop.example';
const REFUNDS = '# Returns\n\n## Refund timing\n\nRefunds reach your card within 5 business days after we receive the parcel.';

let deployment: CliDeployment;
let env: Record<string, string>;
let llm: FakeLlm;
let tenant: CliDeployment['tenant'];

beforeAll(async () => {
  deployment = await cliDeployment('lost-turn');
  ({ env, llm, tenant } = deployment);
}, 120_000);
afterAll(() => deployment?.close());

function send(v: Visitor, conversationId: string, text: string, clientMessageId: string): Promise<Response> {
  return fetch(`${v.base}/v1/widget/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      'x-parley-key': v.key,
      authorization: `Bearer ${v.token}`,
      accept: 'text/event-stream',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ text, clientMessageId }),
  });
}

async function all(res: Response) {
  const out = [];
  for await (const e of sseEvents(res)) out.push(e);
  return out;
}

const messages = async (v: Visitor, id: string) =>
  (await v.call('GET', `/conversations/${id}`)).body as { conversation: { status: string }; messages: { role: string; text: string }[] };

describe('a question stored by an instance that died before answering', () => {
  test('a retry of the message answers it once; with no retry, the turn sweeper elsewhere does', async () => {
    // Instance A: the tenant's model never answers, and A is killed while it waits.
    llm.mode = { kind: 'hang' };
    const a: ServedChild = await serveChild({ ...env, PARLEY_ANSWER_CLAIM_MS: '2000' });
    const v = new Visitor(a.url, tenant.publishableKey, ORIGIN);
    const conv: string[] = [];
    try {
      const admin = (method: string, path: string, body: unknown) => call(a.url, method, path, { key: tenant.secretKey, body });
      expect((await admin('POST', '/v1/admin/knowledge/sources', { kind: 'markdown', content: REFUNDS, externalId: 'refunds' })).status).toBe(201);
      expect(
        (await admin('PUT', '/v1/admin/providers/openai-compatible', { apiKey: `sk-test-${'k'.repeat(40)}`, model: 'm-1', baseUrl: llm.baseUrl }))
          .status,
      ).toBe(201);
      expect((await v.start()).status).toBe(200);
      for (const n of [0, 1]) {
        conv.push((await v.call('POST', '/conversations', {})).body.conversation.id);
        const asked = llm.nextRequest();
        const res = await send(v, conv[n]!, 'How long do refunds take?', `q-${n}`);
        const it = sseEvents(res);
        // The question is stored (its event comes after the commit) and the model was asked.
        expect((await it.next()).value).toMatchObject({ event: 'message', data: { message: { role: 'visitor' } } });
        await asked;
      }
      // A's own turn sweeper (every second with a 2 s claim) takes the first question up once its claim
      // lapses, asks the model again and hangs with it, holding the sweep lease: A dies holding it.
      await llm.nextRequest();
    } finally {
      a.child.kill('SIGKILL');
      await a.exited;
    }

    // Instance B (its own turn sweeper runs only every 30 s): the model answers now.
    llm.mode = { kind: 'answer' };
    const b = await serveChild({ ...env, PARLEY_ANSWER_CLAIM_MS: '60000' });
    try {
      const vb = new Visitor(b.url, tenant.publishableKey, ORIGIN);
      vb.secret = v.secret;
      expect((await vb.start()).status).toBe(200);
      // The lost turn: the question and nothing else.
      expect((await messages(vb, conv[0]!)).messages.map((m) => m.role)).toEqual(['visitor']);
      // A's claim on it lapses 2 s after it was stored; then two retries race.
      await new Promise((r) => setTimeout(r, 2500));
      const [r1, r2] = await Promise.all([
        send(vb, conv[0]!, 'How long do refunds take?', 'q-0'),
        send(vb, conv[0]!, 'How long do refunds take?', 'q-0'),
      ]);
      const runs = [await all(r1), await all(r2)];
      for (const events of runs) expect(events[0]).toMatchObject({ event: 'message', data: { message: { role: 'visitor' } } });
      const answered = runs.filter((events) => events.some((e) => e.event === 'done'));
      expect(answered).toHaveLength(1);
      expect(answered[0]!.at(-1)).toMatchObject({ event: 'done', data: { message: { role: 'assistant', text: FAKE_ANSWER } } });
      const after = await messages(vb, conv[0]!);
      expect(after.messages.map((m) => m.role)).toEqual(['visitor', 'assistant']);
      expect(after.conversation.status).toBe('open');
      // Answered: a further retry is the stored message again, and nothing runs.
      expect((await all(await send(vb, conv[0]!, 'How long do refunds take?', 'q-0'))).map((e) => e.event)).toEqual(['message']);
      // The other orphan is still waiting: B's sweeper has not run yet.
      expect((await messages(vb, conv[1]!)).messages.map((m) => m.role)).toEqual(['visitor']);
    } finally {
      expect(await b.stop()).toBe(0);
    }

    // Instance C, with no retry from the visitor: its turn sweeper finishes the other orphan.
    const c = await serveChild({ ...env, PARLEY_ANSWER_CLAIM_MS: '2000' });
    try {
      const vc = new Visitor(c.url, tenant.publishableKey, ORIGIN);
      vc.secret = v.secret;
      expect((await vc.start()).status).toBe(200);
      // A died holding the sweep lease, which lapses with the answer claim (2 s, at least 5 s), not a
      // minute later; C sweeps every second, so it answers well within the wait (generous for loaded CI).
      let roles: string[] = [];
      for (let i = 0; i < 50 && roles.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 500));
        roles = (await messages(vc, conv[1]!)).messages.map((m) => m.role);
      }
      expect(roles).toEqual(['visitor', 'assistant']);
      const done = await messages(vc, conv[1]!);
      expect(done.messages[1]!.text).toBe(FAKE_ANSWER);
      expect(done.conversation.status).toBe('open');
      // Only once, however many sweeps ran since.
      await new Promise((r) => setTimeout(r, 2500));
      expect((await messages(vc, conv[1]!)).messages.map((m) => m.role)).toEqual(['visitor', 'assistant']);
    } finally {
      expect(await c.stop()).toBe(0);
    }
  }, 240_000);
});
