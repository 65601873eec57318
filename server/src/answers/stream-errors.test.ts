// An error after an answer stream has opened: the `error` event is the same problem a response would
// carry (built by the one builder: type, title, status, instance, request id), and the failure is
// logged with the request id, never with what the visitor asked.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { parseSse, Visitor } from '../test/widget.js';

const QUESTION = 'My email is jane.roe@example.com: how long do refunds take?';
const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  }),
);

let t: TestApp;
let a: CreatedTenant;
beforeAll(async () => {
  // Retrieval fails inside the turn, after the stream has opened.
  t = await startTestApp(
    {},
    {
      logger,
      retrieve: async () => {
        throw new Error('the index is unavailable');
      },
    },
  );
  a = await t.tenant('Acme', ['shop.acme.example']);
});
afterAll(() => t.close());

const logged = (requestId: string) => lines.filter((l) => l.requestId === requestId && l.msg === 'stream failed');

describe('errors during streamed answers', () => {
  test('the API channel sends the problem as an error event and logs it', async () => {
    const res = await fetch(`${t.url}/v1/answers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.secretKey}`, accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ question: QUESTION }),
    });
    const requestId = res.headers.get('x-request-id')!;
    const error = parseSse(await res.text()).find((e) => e.event === 'error');
    expect(error?.data).toEqual({
      type: '/docs/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'The answer failed; try again.',
      instance: '/v1/answers',
      request_id: requestId,
    });
    expect(logged(requestId)).toHaveLength(1);
    expect(logged(requestId)[0]).toMatchObject({ level: 50, err: { message: 'the index is unavailable' } });
    expect(JSON.stringify(lines)).not.toMatch(/jane\.roe|refunds take/);
  });

  test('the widget sends the problem as an error event and logs it', async () => {
    const v = new Visitor(t.url, a.publishableKey, 'https://shop.acme.example');
    await v.start();
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const error = (await v.say(id, QUESTION)).find((e) => e.event === 'error');
    expect(error?.data).toMatchObject({
      type: '/docs/problems/internal',
      title: 'Internal error',
      status: 500,
      instance: `/v1/widget/conversations/${id}/messages`,
    });
    expect(logged(error!.data.request_id)).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toMatch(/jane\.roe|refunds take/);
  });
});
