// What Node's HTTP parser refuses before Express, answered on the raw socket: each a problem with a request id.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { answerClientErrors } from './client-error.js';

let server: Server;
beforeAll(async () => {
  // Timeouts short enough to wait for, checked often; the production server keeps Node's defaults.
  server = createServer({ headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok'));
  answerClientErrors(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Writes `bytes` and reads what the server sends until it closes the connection. */
function exchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c) => (text += c));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

test('headers that never finish get a 408 problem with a request id, not a bare status line', async () => {
  const answer = await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 408 /);
  expect(head).toMatch(/content-type: application\/problem\+json/i);
  const id = /x-request-id: (req_\w+)/i.exec(head!)?.[1];
  expect(JSON.parse(body!)).toMatchObject({ status: 408, type: '/docs/problems/request-timeout', request_id: id });
});

test('broken HTTP is a 400 problem', async () => {
  const answer = await exchange('NOT HTTP AT ALL\r\n\r\n');
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(JSON.parse(answer.split('\r\n\r\n')[1]!)).toMatchObject({ status: 400, type: '/docs/problems/malformed-request' });
});
