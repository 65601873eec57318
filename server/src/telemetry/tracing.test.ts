// Tracing end to end: `parley serve` with OTEL_EXPORTER_OTLP_ENDPOINT exports its spans over OTLP/HTTP
// (JSON) to a receiver here; a widget chat turn makes one trace, request → transaction → retrieval
// and the answer, carrying the request id and never the visitor's words. Without the variable, the SDK
// is never loaded at all.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, serverDir, serveChild as serveCli } from '../test/serve.js';
import { createTestDb, newDataDir, serverUrl, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';
import { parseSse, Visitor } from '../test/widget.js';

const run = promisify(execFile);
const denySdk = fileURLToPath(new URL('../test/deny-otel-sdk.mjs', import.meta.url));

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 2 server, 3 client. */
  kind?: number;
  attributes?: { key: string; value: OtlpValue }[];
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[];
  /** code 2 is an error. */
  status?: { code?: number; message?: string };
}

/** A plain OTLP/HTTP receiver: POST /v1/traces with the JSON encoding, spans kept in arrival order. */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; raw: string[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const raw: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      raw.push(body);
      const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    raw,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue;
};

let env: Record<string, string>;
let testDb: TestDb | null = null;
beforeAll(async () => {
  env = { PARLEY_DATA_DIR: await newDataDir('parley-otel-'), LOG_LEVEL: 'silent', PORT: '0' };
  if (serverUrl) {
    testDb = await createTestDb();
    env.DATABASE_URL = testDb.url!;
  }
});
afterAll(() => testDb?.close());

/** `parley serve` exporting to `receiver` every 100 ms. */
const tracedServe = (receiver: { url: string }) =>
  serveCli({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_SERVICE_NAME: 'parley-test' });

/** Polls until `done()` holds (the batch goes out every 100 ms), for up to 10 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
}

async function createTenant(): Promise<{ tenant: { id: string }; publishableKey: string; secretKey: string }> {
  const { stdout } = await run(process.execPath, cliArgv(['tenants', 'create', '--name', 'Traced', '--domain', 'traced.example', '--json']), {
    cwd: serverDir,
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return JSON.parse(stdout);
}

describe('tracing with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('a widget chat turn is one trace: request → transaction → retrieval, and the answer, with the request id and no message text', async () => {
    const created = await createTenant();
    const receiver = await otlpReceiver();
    const served = await serveCli({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'parley-test',
    });
    const secretText = 'Zebra-quokka 7731-9046-2258: how do refunds work for order jane.roe@example.com?';
    let requestId: string;
    try {
      const source = await call(served.url, 'POST', '/v1/admin/knowledge/sources', {
        key: created.secretKey,
        body: { kind: 'markdown', content: '# Refunds\n\nRefunds are paid within 14 days of the return arriving.', externalId: 'refunds' },
      });
      expect(source.status).toBe(201);
      const v = new Visitor(served.url, created.publishableKey, 'https://traced.example');
      expect((await v.start()).status).toBe(200);
      const conv = (await v.call('POST', '/conversations', {})).body.conversation;
      const res = await fetch(`${served.url}/v1/widget/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: {
          origin: v.origin,
          'x-parley-key': v.key,
          authorization: `Bearer ${v.token}`,
          accept: 'text/event-stream',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ text: secretText, clientMessageId: 'c-traced-1' }),
      });
      expect(res.status).toBe(200);
      requestId = res.headers.get('x-request-id')!;
      expect(parseSse(await res.text()).some((e) => e.event === 'done')).toBe(true);
      // The batch goes out every 100 ms; wait for the turn's spans to arrive.
      for (let i = 0; i < 100 && !receiver.spans.some((s) => s.name === 'ai.answer' && attr(s, 'parley.request_id') === requestId); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await served.stop();
      await receiver.close();
    }

    const request = receiver.spans.find((s) => attr(s, 'parley.request_id') === requestId && !s.parentSpanId);
    expect(request, 'the request span (root, with the request id)').toBeDefined();
    expect(attr(request!, 'http.route') ?? attr(request!, 'http.target')).toMatch(/^\/v1\/widget\/conversations\//);
    const trace = receiver.spans.filter((s) => s.traceId === request!.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const ancestors = (s: OtlpSpan): OtlpSpan[] => {
      const out: OtlpSpan[] = [];
      for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) out.push(p);
      return out;
    };
    const retrieval = trace.find((s) => s.name === 'knowledge.retrieve');
    const answer = trace.find((s) => s.name === 'ai.answer');
    expect(retrieval, 'a retrieval span in the request trace').toBeDefined();
    expect(answer, 'an answer span in the request trace').toBeDefined();
    // Retrieval runs inside a read-only tenant transaction (the read path) the answer opened, within the request.
    const transaction = byId.get(retrieval!.parentSpanId!)!;
    expect(transaction.name).toBe('db.transaction');
    expect(attr(transaction, 'parley.db.scope')).toBe('tenant_read');
    expect(attr(transaction, 'parley.tenant_id')).toBe(created.tenant.id);
    expect(ancestors(transaction)).toContain(answer);
    expect(ancestors(answer!)).toContain(request);
    // The visitor's message was stored, and the answer saved, in transactions of the same request, outside the answer.
    const turnTransactions = trace.filter((s) => s.name === 'db.transaction' && ancestors(s).includes(request!) && !ancestors(s).includes(answer!));
    expect(turnTransactions.length).toBeGreaterThanOrEqual(2);
    expect(attr(answer!, 'gen_ai.request.model')).toBe('extractive-v2');
    expect(attr(answer!, 'gen_ai.system')).toBe('builtin');
    expect(attr(answer!, 'parley.ai.outcome')).toMatch(/^(answered|handoff:low_confidence)$/);
    expect(Number(attr(answer!, 'gen_ai.usage.input_tokens'))).toBe(0);
    expect(attr(retrieval!, 'parley.retrieval.mode')).toBe('bm25');

    // Nothing of what the visitor wrote, in any span, attribute, event or name (nor the keys).
    const exported = receiver.raw.join('\n');
    for (const leak of ['Zebra', 'quokka', '7731-9046-2258', 'jane.roe', created.publishableKey, created.secretKey])
      expect(exported).not.toContain(leak);
  }, 180_000);
});

describe('what spans never carry', () => {
  it('an outbound request (a webhook delivery) is traced by its origin only: no path, no query, in any attribute or name', async () => {
    const created = await createTenant();
    const receiver = await otlpReceiver();
    const hook = await new WebhookReceiver().start();
    const origin = new URL(hook.url).origin;
    const port = Number(new URL(origin).port);
    // A Slack-style webhook URL: the token is the path (and, here, a query parameter too).
    const secretUrl = `${origin}/services/T0001/B0002/SECRETPATH-4f9a?token=QUERYSECRET-77c1`;
    const served = await tracedServe(receiver);
    try {
      const made = await call(served.url, 'POST', '/v1/admin/webhooks/endpoints', {
        key: created.secretKey,
        body: { url: secretUrl, events: ['handoff.requested'], description: 'traced' },
      });
      expect(made.status, made.text).toBe(201);
      hook.secrets = [made.body.secret];
      const sent = await call(served.url, 'POST', `/v1/admin/webhooks/endpoints/${made.body.endpoint.id}/test`, { key: created.secretKey });
      expect(sent.status, sent.text).toBe(202);
      await hook.waitFor(1, 10_000);
      expect(hook.requests[0]).toBeDefined();
      await until(
        () =>
          receiver.spans.some((s) => s.kind === 3 && Number(attr(s, 'server.port')) === port) &&
          receiver.spans.some((s) => s.name === 'webhook.delivery'),
      );
    } finally {
      await served.stop();
      await receiver.close();
      await hook.close();
    }

    const delivery = receiver.spans.find((s) => s.name === 'webhook.delivery');
    expect(delivery, 'the delivery span').toBeDefined();
    // The HTTP client span to the receiver (on PostgreSQL the trace also holds the pg client's query spans).
    const client = receiver.spans.find((s) => s.kind === 3 && s.traceId === delivery!.traceId && Number(attr(s, 'server.port')) === port);
    expect(client, 'the HTTP client span of the delivery').toBeDefined();
    // The destination by its origin: enough to tell which receiver is slow or failing.
    expect(attr(client!, 'url.full')).toBe(origin);
    for (const key of ['url.path', 'url.query', 'http.target', 'http.url']) expect(attr(client!, key), key).toBeUndefined();
    expect(client!.name).not.toContain('/');
    // Nowhere in the export: not in an attribute, an event, a span name.
    const exported = receiver.raw.join('\n');
    for (const leak of ['SECRETPATH-4f9a', 'QUERYSECRET-77c1', '/services/', 'T0001', 'B0002']) expect(exported).not.toContain(leak);
  }, 180_000);

  it('a request with an unparsable body: no visitor address or user agent, and the failure by class name only', async () => {
    const receiver = await otlpReceiver();
    const served = await tracedServe(receiver);
    let requestId: string;
    try {
      // V8's JSON.parse error quotes the text it could not parse.
      const res = await fetch(`${served.url}/v1/admin/knowledge/sources`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ProbeBrowser/9.9 (fingerprint-Kx7Q)',
          'x-forwarded-for': '203.0.113.77',
        },
        body: '{"email": j.probe@example.com}',
      });
      expect(res.status).toBe(400);
      requestId = res.headers.get('x-request-id')!;
      await res.text();
      await until(() => receiver.spans.some((s) => attr(s, 'parley.request_id') === requestId && !s.parentSpanId));
    } finally {
      await served.stop();
      await receiver.close();
    }

    const request = receiver.spans.find((s) => attr(s, 'parley.request_id') === requestId && !s.parentSpanId);
    expect(request, 'the request span').toBeDefined();
    const trace = receiver.spans.filter((s) => s.traceId === request!.traceId);
    const visitorKeys = [
      'client.address',
      'client.port',
      'network.peer.address',
      'network.peer.port',
      'user_agent.original',
      'http.client_ip',
      'http.user_agent',
      'net.sock.peer.addr',
      'net.peer.ip',
    ];
    for (const s of trace) for (const key of visitorKeys) expect(attr(s, key), `${s.name}: ${key}`).toBeUndefined();
    // The parser's failure is recorded, as its class name and nothing of its message.
    const failed = trace.filter((s) => s.status?.code === 2);
    expect(failed.length, 'a failed span').toBeGreaterThan(0);
    expect(failed.map((s) => s.status?.message)).toContain('SyntaxError');
    for (const s of trace) {
      if (s.status?.message) expect(s.status.message, s.name).toMatch(/^[A-Za-z]+$/);
      for (const e of s.events ?? []) {
        if (e.name !== 'exception') continue;
        const ev = { name: s.name, attributes: e.attributes } as OtlpSpan;
        expect(attr(ev, 'exception.message'), s.name).toMatch(/^[A-Za-z]+$/);
        expect(attr(ev, 'exception.stacktrace'), s.name).toBeUndefined();
      }
    }
    const exported = receiver.raw.join('\n');
    for (const leak of ['j.probe', 'example.com}', 'ProbeBrowser', 'fingerprint-Kx7Q', '203.0.113.77']) expect(exported).not.toContain(leak);
  }, 120_000);
});

describe('tracing without an endpoint', () => {
  it('never loads the SDK: serve runs with SDK imports forbidden, and the same guard stops it once an endpoint is set', async () => {
    const served = await serveCli(env, ['--import', denySdk]);
    try {
      expect((await call(served.url, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await served.stop();
    }
    expect(served.log()).not.toMatch(/tracing SDK was loaded/);
    // The guard bites: with an endpoint, loading the SDK is refused and serve cannot start.
    await expect(serveCli({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, ['--import', denySdk])).rejects.toThrow(
      /tracing SDK was loaded/,
    );
  }, 120_000);
});
