// Property test over the widget and admin request bodies: arbitrary JSON, nasty strings (NUL, unpaired
// surrogates, bidi controls, huge), deep values, wrong types and extra fields, shaped after valid bodies
// so many reach the services. Whatever comes in, the answer is never a 5xx, and every 4xx is a problem
// body with the request id. Fixed seed, so a failure replays.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call, type Res } from '../test/http.js';
import { Visitor } from '../test/widget.js';

const SEED = 20261130;
const RUNS = Number(process.env.PARLEY_FUZZ_RUNS ?? 100);

let t: TestApp;
let a: CreatedTenant;
let v: Visitor;
let convId: string;
let handoffId: string;
let keyId: string;
const ORIGIN = 'https://help.a.example';

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Fuzz', ['help.a.example']);
  v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  convId = (await v.call('POST', '/conversations', {})).body.conversation.id;
  handoffId = (await v.call('POST', `/conversations/${convId}/handoff`, {})).body.handoff.id;
  keyId = (await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'spare', capabilities: ['keys:read'] } })).body.apiKey
    .id;
}, 60_000);
afterAll(() => t.close());

// --- values ------------------------------------------------------------------------------------------
const nest = (n: number, leaf: unknown, obj: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = obj ? { k: v } : [v];
  return v;
};
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udc00y',
      '\udbff\udfff',
      '\u202eevil.exe',
      '\u2066x\u2069',
      '\ufeff',
      '',
      ' ',
      '\n\t',
      '%',
      '%zz',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      "'; DROP TABLE messages;--",
      '[EMAIL_1]',
      '\\u0000',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('A'.repeat(5_000), 'word '.repeat(1_000), 'é'.repeat(20_000)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map((s) => s + '\u0000' + s) },
);
const deep = fc.tuple(fc.integer({ min: 20, max: 3_000 }), fc.boolean()).map(([n, obj]) => nest(n, 'x', obj));
const scalar = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(-1, 0, 1, 2 ** 53, 1e308, -0.5));
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.array(nasty, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nasty, scalar, { maxKeys: 3 }) },
);

/** A value shaped after a valid one, recursively: each field valid, a nasty string, anything, or left
 * out; objects maybe with extra fields. */
function shaped(valid: unknown): fc.Arbitrary<unknown> {
  if (Array.isArray(valid) && valid.length && typeof valid[0] === 'object') {
    return fc.oneof({ weight: 4, arbitrary: fc.array(shaped(valid[0]), { minLength: 1, maxLength: 2 }) }, { weight: 1, arbitrary: anyValue });
  }
  if (valid !== null && typeof valid === 'object' && !Array.isArray(valid)) {
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(valid)) fields[k] = shaped(v);
    const obj = fc
      .tuple(
        fc.record(fields),
        fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.dictionary(nasty, anyValue, { minKeys: 1, maxKeys: 2 }) }),
      )
      .map(([body, extra]) => ({ ...body, ...(extra ?? {}) }));
    return fc.oneof({ weight: 6, arbitrary: obj }, { weight: 1, arbitrary: anyValue });
  }
  // A valid string with a NUL or an unpaired surrogate slipped in: it passes every other check.
  const corrupted =
    typeof valid === 'string' ? fc.constantFrom('\u0000', '\ud800', '\udfff').map((bad) => valid.slice(0, 1) + bad + valid.slice(1)) : anyValue;
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(valid) },
    { weight: 3, arbitrary: corrupted },
    { weight: 1, arbitrary: nasty },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}
const bodyFor = (template: Record<string, unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: shaped(template) },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.dictionary(nasty, anyValue, { maxKeys: 4 }) },
  );

// --- the check --------------------------------------------------------------------------------------
function expectProblemOrSuccess(res: Res, what: string) {
  const where = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
    expect(res.body?.status, where).toBe(res.status);
    expect(res.body?.request_id, where).toMatch(/^\S{8,}$/);
  }
}

async function fuzz(send: (body: unknown) => Promise<Res>, template: Record<string, unknown>, what: string) {
  await fc.assert(
    fc.asyncProperty(bodyFor(template), async (body) => {
      expectProblemOrSuccess(await send(body), what);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
}

const widget = (method: string, path: string) => (body: unknown) => v.call(method, path, body);
const admin = (method: string, path: string) => (body: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });

describe('fuzzed widget bodies', () => {
  test.each([
    ['POST', '/session/refresh', { refreshToken: 'r'.repeat(40) }],
    ['POST', '/identify', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' }],
    ['POST', '/conversations', {}],
    ['POST', '/conversations/:conv/messages', { text: 'How do I return an order?', clientMessageId: 'c-1' }],
    ['POST', '/conversations/:conv/handoff', { reason: 'please' }],
  ] as const)(
    '%s %s',
    async (method, path, template) => {
      const p = path.replace(':conv', convId);
      await fuzz(widget(method, p), template, `${method} /v1/widget${path}`);
    },
    120_000,
  );
});

describe('fuzzed admin bodies', () => {
  test.each([
    ['POST', '/domains', { pattern: 'shop.example.com' }],
    ['POST', '/api-keys', { name: 'k', capabilities: ['keys:read'], expiresInSeconds: 3600 }],
    ['POST', '/api-keys/:key/rotate', { graceSeconds: 60 }],
    [
      'PUT',
      '/identity',
      { mode: 'optional', publicKeys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] },
    ],
    ['PATCH', '/handoffs/:handoff', { status: 'assigned', assignedTo: 'Kim' }],
    ['POST', '/conversations/:conv/messages', { text: 'Hello from a person', agent: 'Kim' }],
    ['POST', '/conversations/:conv/reveal', { token: '[EMAIL_1]', reason: 'the customer asked for a callback' }],
    ['POST', '/pii/scan', { text: 'mail me at sam@example.org', channel: 'api' }],
    ['PUT', '/settings', { widget: { greeting: 'Hi' }, handoff: { threshold: 0.5, sensitiveTopics: ['refunds'] }, retrieval: { mode: 'bm25' } }],
    [
      'POST',
      '/knowledge/sources',
      { kind: 'markdown', content: '# Returns\n\nReturns are free for 30 days.', title: 'Returns', externalId: 'returns' },
    ],
    ['POST', '/knowledge/sources/bulk', { sources: [{ kind: 'text', content: 'Shipping takes two days.', externalId: 'shipping' }] }],
    ['POST', '/knowledge/search', { query: 'returns', limit: 5, mode: 'bm25' }],
    ['POST', '/knowledge/embeddings', {}],
  ] as const)(
    '%s %s',
    async (method, path, template) => {
      const p = path.replace(':conv', convId).replace(':handoff', handoffId).replace(':key', keyId);
      await fuzz(admin(method, p), template, `${method} /v1/admin${path}`);
    },
    120_000,
  );

  test('POST /v1/answers', async () => {
    await fuzz(
      (body) => call(t.url, 'POST', '/v1/answers', { key: a.secretKey, body }),
      { question: 'Are returns free?', userRef: 'user-1' },
      'POST /v1/answers',
    );
  }, 120_000);
});

describe('fuzzed raw requests', () => {
  test('unparsable bodies and odd encodings', async () => {
    const raw = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('{', '{"a":', '[1,]', '\u0000', '{"text":"\\ud800"}', '{"a":"\\u0000"}', 'nul\u0000l'),
    );
    const encoding = fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown');
    const type = fc.constantFrom(
      'application/json',
      'application/merge-patch+json',
      'text/plain',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
    );
    await fc.assert(
      fc.asyncProperty(
        raw,
        encoding,
        type,
        fc.constantFrom('/healthz', '/v1/admin/api-keys', '/v1/widget/conversations'),
        async (body, enc, contentType, path) => {
          const headers: Record<string, string> = enc ? { 'content-encoding': enc } : {};
          const res = await call(t.url, 'POST', path, {
            key: a.secretKey,
            raw: body,
            contentType,
            headers: { ...headers, origin: ORIGIN, 'x-parley-key': a.publishableKey },
          });
          expectProblemOrSuccess(res, `POST ${path} (${enc}, ${contentType})`);
        },
      ),
      { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
    );
  }, 120_000);

  test('odd paths and query strings', async () => {
    const segment = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff', '%00', '..', '.', '%2e%2e', '%2F', convId, '%uD800'),
    );
    const prefix = fc.constantFrom(
      '/demo/',
      '/demo/help/',
      '/console/',
      '/docs/',
      '/docs/problems/',
      '/v1/widget/conversations/',
      '/v1/admin/conversations/',
      '/v1/admin/handoffs/',
      '/v1/admin/knowledge/sources/',
      '/',
      '/v1/admin/audit?after=',
      '/v1/admin/handoffs?status=',
      '/v1/admin/audit/proof/inclusion?size=2&index=',
      '/v1/widget/config?key=',
    );
    await fc.assert(
      fc.asyncProperty(
        prefix,
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('GET', 'POST', 'DELETE'),
        async (p, segments, method) => {
          const path = p + segments.map((s) => s.replaceAll('?', '%3F').replaceAll('#', '%23')).join('/');
          const res = await call(t.url, method, path, { key: a.secretKey, headers: { origin: ORIGIN, 'x-parley-key': a.publishableKey } });
          expectProblemOrSuccess(res, `${method} ${path}`);
        },
      ),
      { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
    );
  }, 120_000);
  test('odd header values', async () => {
    const latin1 = fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((c) => c !== 0x7f)
        .map((c) => String.fromCharCode(c)),
      maxLength: 300,
    });
    const value = fc.oneof(
      latin1,
      fc.constantFrom(
        '',
        'null',
        'https://help.a.example',
        a.publishableKey,
        `Bearer ${a.secretKey}`,
        'Bearer ',
        '-1',
        '99999999999999999999',
        'x'.repeat(8_000),
      ),
    );
    const name = fc.constantFrom(
      'origin',
      'x-parley-key',
      'authorization',
      'x-parley-visitor',
      'x-request-id',
      'last-event-id',
      'accept',
      'content-type',
      'accept-encoding',
      'cookie',
    );
    const target = fc.constantFrom(
      ['GET', '/v1/widget/config'],
      ['POST', '/v1/widget/conversations'],
      ['GET', '/v1/admin/audit'],
      ['GET', `/v1/widget/conversations/${convId}`],
      ['GET', '/healthz'],
    );
    await fc.assert(
      fc.asyncProperty(target, fc.dictionary(name, value, { minKeys: 1, maxKeys: 4 }), async ([method, path], odd) => {
        const headers = { origin: ORIGIN, 'x-parley-key': a.publishableKey, authorization: `Bearer ${v.token}`, ...odd };
        let res: Res;
        try {
          res = await call(t.url, method, path, { headers, ...(method === 'POST' ? { raw: '{}' } : {}) });
        } catch (err) {
          // The client refused to send a header value: nothing reached the server. A failed exchange
          // with the server is not excused.
          const cause = (err as { cause?: { code?: string } }).cause?.code;
          if (err instanceof TypeError && (err.message !== 'fetch failed' || cause === 'UND_ERR_INVALID_ARG')) return;
          throw err;
        }
        expectProblemOrSuccess(res, `${method} ${path} ${JSON.stringify(Object.keys(odd))}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);
});
