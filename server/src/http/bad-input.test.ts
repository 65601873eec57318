// Bad input is a 4xx problem, never a 500: NUL characters and unpaired surrogates in every stored field
// (refused once, by protocol's text schema, naming the field), a Content-Encoding that does not match
// the body, bad percent-encoding in a path, absurdly deep JSON, oversized headers, a body declared over
// the limit or sent chunked past it, a request without Host, ids one request repeats (bulk externalIds, public key kids, a second key without a kid), and
// numbers in a query string or path that are not plain decimal digits.
import { request } from 'node:http';
import { connect } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call, type Res } from '../test/http.js';
import { identityToken, secretBytes } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
const ORIGIN = 'https://help.a.example';
let v: Visitor;
let convId: string;
let handoffId: string;
let secret: { kid: string; secret: string };

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const BAD = { NUL, 'lone surrogate': LONE } as const;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  convId = (await v.call('POST', '/conversations', {})).body.conversation.id;
  handoffId = (await v.call('POST', `/conversations/${convId}/handoff`, {})).body.handoff.id;
  secret = (await admin('POST', '/identity/secrets')).body;
});
afterAll(() => t.close());

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });

/** Row counts of everything these requests could write; compared before and after. */
async function counts() {
  return t.runtime.db.withTenant(a.tenant.id, { requestId: null }, async (tx) => {
    const n = async (sql: string) => Number((await tx.query<{ n: string }>(sql)).rows[0]!.n);
    return {
      messages: await n('SELECT count(*) AS n FROM messages'),
      conversations: await n('SELECT count(*) AS n FROM conversations'),
      sources: await n('SELECT count(*) AS n FROM knowledge_sources'),
      keys: await n('SELECT count(*) AS n FROM api_keys'),
      settings: JSON.stringify((await tx.query('SELECT settings, policy_version FROM tenants')).rows),
      identity: JSON.stringify((await tx.query('SELECT public_keys FROM identity_settings')).rows),
      handoffs: JSON.stringify((await tx.query('SELECT assigned_to, status FROM handoffs')).rows),
      visitors: await n('SELECT count(*) AS n FROM verified_visitors'),
      tokenUses: await n('SELECT count(*) AS n FROM identity_token_uses'),
    };
  });
}

function expectProblem(res: Res, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body.request_id).toMatch(/\S{8,}/);
  expect(res.body.status).toBe(status);
}

/** A 400 validation problem naming the field, and nothing stored. */
async function refused(send: () => Promise<Res>, path: string) {
  const before = await counts();
  const res = await send();
  expectProblem(res, 400);
  expect(res.body.type).toBe('/docs/problems/validation-failed');
  expect(res.body.errors).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(/NUL|surrogate/) }));
  expect(await counts()).toEqual(before);
}

const hsToken = (claims: { sub?: string; jti?: string }, kid = secret.kid) =>
  identityToken({ alg: 'HS256', kid, key: secretBytes(secret.secret) }, claims.sub ?? 'user-1', {}, claims.jti);

describe.each(Object.entries(BAD))('a %s', (_name, bad) => {
  test('in a widget message text or clientMessageId', async () => {
    await refused(() => v.call('POST', `/conversations/${convId}/messages`, { text: bad, clientMessageId: 'c-1' }), '/text');
    await refused(() => v.call('POST', `/conversations/${convId}/messages`, { text: 'hello', clientMessageId: bad }), '/clientMessageId');
  });

  test('in a source title, content or externalId, and in bulk sources', async () => {
    await refused(() => admin('POST', '/knowledge/sources', { kind: 'markdown', content: '# Hi\n\nthere', title: bad }), '/title');
    await refused(() => admin('POST', '/knowledge/sources', { kind: 'markdown', content: `# Hi\n\n${bad}` }), '/content');
    await refused(() => admin('POST', '/knowledge/sources', { kind: 'text', content: 'hello there', externalId: bad }), '/externalId');
    await refused(
      () =>
        admin('POST', '/knowledge/sources/bulk', {
          sources: [
            { kind: 'text', content: 'fine' },
            { kind: 'text', content: 'also fine', title: bad },
          ],
        }),
      '/sources/1/title',
    );
  });

  test('in a key name, the greeting or sensitiveTopics', async () => {
    await refused(() => admin('POST', '/api-keys', { name: bad, capabilities: ['keys:read'] }), '/name');
    await refused(() => admin('PUT', '/settings', { widget: { greeting: bad } }), '/widget/greeting');
    await refused(() => admin('PUT', '/settings', { handoff: { sensitiveTopics: ['refunds', bad] } }), '/handoff/sensitiveTopics/1');
  });

  test('in an agent reply text or name, or a handoff assignedTo', async () => {
    await refused(() => admin('POST', `/conversations/${convId}/messages`, { text: bad, agent: 'Kim' }), '/text');
    await refused(() => admin('POST', `/conversations/${convId}/messages`, { text: 'Hello', agent: bad }), '/agent');
    await refused(() => admin('PATCH', `/handoffs/${handoffId}`, { status: 'assigned', assignedTo: bad }), '/assignedTo');
  });

  test("in a data subject's id, for an export or an erasure", async () => {
    for (const type of ['user', 'visitor']) {
      await refused(() => admin('POST', '/privacy/export', { type, id: bad, reason: 'ticket 4711: access request' }), '/id');
      await refused(() => admin('POST', '/privacy/erase', { type, id: bad }), '/id');
    }
  });

  test('in the /v1/answers question', async () => {
    await refused(() => call(t.url, 'POST', '/v1/answers', { key: a.secretKey, body: { question: bad } }), '/question');
  });

  test('in a public key member', async () => {
    await refused(() => admin('PUT', '/identity', { mode: 'optional', publicKeys: [{ kty: 'OKP', crv: 'Ed25519', x: bad }] }), '/publicKeys/0/x');
    await refused(() => admin('PUT', '/identity', { mode: 'optional', publicKeys: [{ kty: 'OKP', crv: 'Ed25519', kid: bad }] }), '/publicKeys/0/kid');
  });

  test("in a Sign-In Pro token's sub, jti or kid", async () => {
    const identify = async (token: string) => {
      const w = new Visitor(t.url, a.publishableKey, ORIGIN);
      await w.start();
      return w.call('POST', '/identify', { token });
    };
    await refused(async () => identify(await hsToken({ sub: bad })), '/token');
    await refused(async () => identify(await hsToken({ jti: `${bad}-0123456789abcdef` })), '/token');
    await refused(async () => identify(await hsToken({}, bad)), '/token');
    for (const claim of ['sub', 'jti', 'kid']) {
      const res = await identify(
        await hsToken(claim === 'kid' ? {} : { [claim]: claim === 'jti' ? `${bad}-0123456789abcdef` : bad }, claim === 'kid' ? bad : secret.kid),
      );
      expect(res.body.errors[0].message).toContain(claim);
    }
  });
});

test('bulk sources naming one externalId twice are refused, naming the second, and nothing is stored', async () => {
  const before = await counts();
  const res = await admin('POST', '/knowledge/sources/bulk', {
    sources: [
      { kind: 'text', content: 'Returns are free for 30 days.', externalId: 'returns' },
      { kind: 'text', content: 'Shipping takes two days.', externalId: 'shipping' },
      { kind: 'text', content: 'Returns cost 5 euros.', externalId: ' returns ' },
    ],
  });
  expectProblem(res, 400);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: '/sources/2/externalId', message: expect.stringContaining('externalId') })]);
  expect(await counts()).toEqual(before);
});

test('two public keys under one kid are refused, naming the second, and the keys in place keep verifying', async () => {
  const pair = () => generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const [first, second] = [await pair(), await pair()];
  const jwk = async (k: Parameters<typeof exportJWK>[0]) => ({ ...(await exportJWK(k)), kid: 'main' });
  expect((await admin('PUT', '/identity', { mode: 'optional', publicKeys: [await jwk(first.publicKey)] })).status).toBe(204);
  const before = await counts();
  const res = await admin('PUT', '/identity', { mode: 'optional', publicKeys: [await jwk(first.publicKey), await jwk(second.publicKey)] });
  expectProblem(res, 400);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: '/publicKeys/1/kid' })]);
  expect(await counts()).toEqual(before);
  // Sign-In Pro still works with the key registered before.
  const w = new Visitor(t.url, a.publishableKey, ORIGIN);
  await w.start();
  const token = await identityToken({ alg: 'EdDSA', kid: 'main', key: first.privateKey, tenant: a.tenant.id }, 'user-kid');
  expect((await w.call('POST', '/identify', { token })).status).toBe(200);
  expect((await admin('PUT', '/identity', { mode: 'optional' })).status).toBe(204);
});

test('a second public key without a kid is refused, naming its kid; the one kid-less key verifies kid-less tokens, beside keys with one too', async () => {
  const pair = () => generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const [first, second, next] = [await pair(), await pair(), await pair()];
  const jwk = async (k: Parameters<typeof exportJWK>[0], kid?: string) => ({ ...(await exportJWK(k)), ...(kid ? { kid } : {}) });
  expect((await admin('PUT', '/identity', { mode: 'optional', publicKeys: [await jwk(first.publicKey)] })).status).toBe(204);
  const before = await counts();
  const res = await admin('PUT', '/identity', { mode: 'optional', publicKeys: [await jwk(first.publicKey), await jwk(second.publicKey)] });
  expectProblem(res, 400);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: '/publicKeys/1/kid', message: expect.stringMatching(/at most one key/) })]);
  expect(await counts()).toEqual(before);
  // A rotation under way: the kid-less key and a new one with a kid. A token without a kid is the kid-less
  // key's (not ambiguous between the two), a token with the kid the new key's.
  const both = await admin('PUT', '/identity', { mode: 'optional', publicKeys: [await jwk(first.publicKey), await jwk(next.publicKey, 'next')] });
  expect(both.status, both.text).toBe(204);
  const tenant = a.tenant.id;
  for (const [signing, sub] of [
    [{ alg: 'EdDSA', kid: undefined, key: first.privateKey, tenant }, 'user-kidless'],
    [{ alg: 'EdDSA', kid: 'next', key: next.privateKey, tenant }, 'user-next'],
  ] as const) {
    const w = new Visitor(t.url, a.publishableKey, ORIGIN);
    await w.start();
    const ok = await w.call('POST', '/identify', { token: await identityToken(signing, sub) });
    expect(ok.status, ok.text).toBe(200);
  }
  // The second key's own kid-less token is refused: it was never registered.
  const w = new Visitor(t.url, a.publishableKey, ORIGIN);
  await w.start();
  expect(
    (await w.call('POST', '/identify', { token: await identityToken({ alg: 'EdDSA', kid: undefined, key: second.privateKey, tenant }, 'u') })).status,
  ).toBe(401);
  expect((await admin('PUT', '/identity', { mode: 'optional' })).status).toBe(204);
});

/** A raw HTTP/1.1 exchange, for what fetch will not send. */
function raw(opts: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Res> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), body, text });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('numbers in a query string or path', () => {
  // Read as plain decimal digits or not at all: a blank, hex, an exponent, a fraction, a sign or a repeat was
  // read as a number (Number(' ') is 0, so `?index=%20` was a proof for entry 0).
  const NOT_NUMBERS = ['%20', '', '0x1', '1e0', '1.0', '%2B1', '1%20', '0b1', 'Infinity', '99999999999999999999'];
  const PLACES = [
    { at: '/index', path: (v: string) => `/audit/proof/inclusion?index=${v}&size=2` },
    { at: '/size', path: (v: string) => `/audit/proof/inclusion?index=0&size=${v}` },
    { at: '/from', path: (v: string) => `/audit/proof/consistency?from=${v}&to=2` },
    { at: '/after', path: (v: string) => `/audit?after=${v}` },
    { at: '/limit', path: (v: string) => `/audit?limit=${v}` },
    { at: '/limit', path: (v: string) => `/handoffs?limit=${v}` },
    { at: '/limit', path: (v: string) => `/conversations?limit=${v}` },
    { at: '/limit', path: (v: string) => `/webhooks/endpoints/00000000-0000-4000-8000-000000000000/deliveries?limit=${v}` },
    { at: '/version', path: (v: string) => `/evidence/packs/${v || '%20'}` },
  ];

  test.each(PLACES)('$path: anything but decimal digits is a 400 problem naming $at', async ({ at, path }) => {
    for (const v of NOT_NUMBERS) {
      const res = await admin('GET', path(v));
      expect(res.status, `${path(v)}: ${res.text}`).toBe(400);
      expect(
        res.body.errors.map((e: { path: string }) => e.path),
        path(v),
      ).toContain(at);
    }
  });

  test('a repeated parameter is a 400 problem naming it', async () => {
    const res = await admin('GET', '/audit/proof/inclusion?index=0&index=0&size=2');
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors[0].path).toBe('/index');
  });

  test('decimal digits are read as before, and after=-1 still means from the start', async () => {
    const proof = await admin('GET', '/audit/proof/inclusion?index=0&size=2');
    expect(proof.status, proof.text).toBe(200);
    expect(proof.body).toMatchObject({ index: 0, size: 2 });
    expect((await admin('GET', '/audit/proof/inclusion?index=01&size=2')).body).toMatchObject({ index: 1, size: 2 });
    const list = await admin('GET', '/audit?after=-1&limit=1');
    expect(list.status, list.text).toBe(200);
    expect(list.body.entries).toHaveLength(1);
    expect((await admin('GET', '/audit?after=-2')).status).toBe(400);
    expect((await admin('GET', '/handoffs?limit=201')).status).toBe(400);
  });
});

describe('malformed requests', () => {
  test.each(['gzip', 'deflate', 'br'])('Content-Encoding: %s on a body that is not compressed is a 400 problem', async (encoding) => {
    for (const path of ['/v1/platform/tenants', '/v1/admin/api-keys']) {
      const res = await raw({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${a.secretKey}` },
        body: '{"name":"k","capabilities":["keys:read"]}',
      });
      expectProblem(res, 400);
    }
  });

  test('bad percent-encoding in a path is a 400 problem, on static and API routes', async () => {
    for (const path of ['/demo/help/%', '/demo/%E0%A4%A', '/console/%zz', '/docs/%', '/v1/admin/conversations/%ff', '/v1/widget/conversations/%']) {
      const res = await raw({ method: 'GET', path, headers: { authorization: `Bearer ${a.secretKey}` } });
      expect(res.status, path).toBeLessThan(500);
      expectProblem(res, res.status);
    }
  });

  test('a value nested 100,000 levels deep is refused before anything recurses into it', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const before = await counts();
    const res = await call(t.url, 'PUT', '/v1/admin/identity', {
      key: a.secretKey,
      raw: `{"mode":"optional","publicKeys":[{"kty":"OKP","x":${deep}}]}`,
    });
    expectProblem(res, 400);
    expect(await counts()).toEqual(before);
    const settings = await call(t.url, 'PUT', '/v1/admin/settings', {
      key: a.secretKey,
      raw: `{"pii":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`,
    });
    expectProblem(settings, 400);
  });

  test('a body declared larger than the limit is refused at once, before it is sent, and nothing is stored', async () => {
    // What arrives on the socket within `ms` of sending only the head of a request (and a few bytes).
    const head = (lines: string[], ms: number) =>
      new Promise<string>((resolve, reject) => {
        const u = new URL(t.url);
        const s = connect(Number(u.port), u.hostname, () => s.write(`${lines.join('\r\n')}\r\n\r\n{"na`));
        let got = '';
        s.on('data', (d) => (got += d.toString('utf8')));
        s.on('error', reject);
        const done = () => {
          s.destroy();
          resolve(got);
        };
        const timer = setTimeout(done, ms);
        s.on('close', () => {
          clearTimeout(timer);
          resolve(got);
        });
      });
    const before = await counts();
    for (const [path, type, extra] of [
      ['/v1/admin/api-keys', 'application/json', [`Authorization: Bearer ${a.secretKey}`]],
      ['/v1/platform/tenants', 'application/json', []],
      ['/v1/widget/session', 'application/json', [`Origin: ${ORIGIN}`, `X-Parley-Key: ${a.publishableKey}`]],
      [`/v1/auth/sso/saml/${a.tenant.id}/acs`, 'application/x-www-form-urlencoded', []],
    ] as const) {
      const got = await head(
        [`POST ${path} HTTP/1.1`, 'Host: parley.test', `Content-Type: ${type}`, `Content-Length: ${50 * 1024 * 1024}`, ...extra],
        3000,
      );
      expect(got, path).toMatch(/^HTTP\/1\.1 413 /);
      expect(got, path).toMatch(/content-type: application\/problem\+json/i);
      expect(got, path).toMatch(/"request_id":"req_/);
    }
    expect(await counts()).toEqual(before);
  });

  test('a chunked body that grows past the limit is refused as it passes it, not after the sender stops', async () => {
    // A sender that never says how long its body is and never ends it: the server must answer once the
    // limit is passed and close the connection, not read (and drop) whatever keeps coming.
    const overLimit = (path: string, type: string, extra: readonly string[], limit: number) =>
      new Promise<{ got: string; closed: boolean }>((resolve, reject) => {
        const u = new URL(t.url);
        const s = connect(Number(u.port), u.hostname);
        const chunk = Buffer.alloc(64 * 1024, type.includes('json') ? 0x20 : 0x61);
        let sent = 0;
        let got = '';
        let trickle: NodeJS.Timeout | undefined;
        const finish = (closed: boolean) => {
          clearInterval(trickle);
          clearTimeout(timer);
          s.destroy();
          resolve({ got, closed });
        };
        s.on('connect', () => {
          s.write(
            `${[`POST ${path} HTTP/1.1`, 'Host: parley.test', `Content-Type: ${type}`, 'Transfer-Encoding: chunked', ...extra].join('\r\n')}\r\n\r\n`,
          );
          s.write(type.includes('json') ? '3\r\n{"a\r\n' : '2\r\na=\r\n');
          // Past the limit at once, then a chunk every 50 ms for as long as the socket takes them.
          while (sent <= limit) {
            s.write(`${chunk.length.toString(16)}\r\n`);
            s.write(chunk);
            s.write('\r\n');
            sent += chunk.length;
          }
          trickle = setInterval(() => {
            if (s.writable) s.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`);
          }, 50);
        });
        s.on('data', (d) => (got += d.toString('utf8')));
        s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish(true) : reject(err)));
        s.on('close', () => finish(true));
        const timer = setTimeout(() => finish(false), 5000);
      });
    const before = await counts();
    for (const [path, type, extra, limit] of [
      ['/v1/admin/api-keys', 'application/json', [`Authorization: Bearer ${a.secretKey}`], 1024 * 1024],
      ['/v1/widget/session', 'application/json', [`Origin: ${ORIGIN}`, `X-Parley-Key: ${a.publishableKey}`], 1024 * 1024],
      [`/v1/auth/sso/saml/${a.tenant.id}/acs`, 'application/x-www-form-urlencoded', [], 512 * 1024],
    ] as const) {
      const { got, closed } = await overLimit(path, type, extra, limit);
      expect(got, path).toMatch(/^HTTP\/1\.1 413 /);
      expect(got, path).toMatch(/content-type: application\/problem\+json/i);
      expect(got, path).toMatch(/connection: close/i);
      expect(got, path).toMatch(/"request_id":"req_/);
      expect(closed, `${path}: the server closes the connection`).toBe(true);
    }
    expect(await counts()).toEqual(before);
    // A chunked body within the limit (mostly whitespace, sent chunked) is read as before.
    const within = await raw({
      method: 'POST',
      path: '/v1/admin/api-keys',
      headers: { authorization: `Bearer ${a.secretKey}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: `{"name":"chunked","capabilities":["keys:read"]${' '.repeat(200_000)}}`,
    });
    expect(within.status, within.text).toBe(201);
  });

  test('an HTTP/1.1 request without a Host header gets a 400 problem with a request id', async () => {
    const u = new URL(t.url);
    for (const path of ['/healthz', '/v1/admin/api-keys']) {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect(Number(u.port), u.hostname, () => s.write(`GET ${path} HTTP/1.1\r\nAuthorization: Bearer ${a.secretKey}\r\n\r\n`));
        let text = '';
        s.on('data', (d) => (text += d.toString('utf8')));
        s.on('error', reject);
        s.on('close', () => resolve(text));
        setTimeout(() => s.destroy(), 3000);
      });
      expect(got, path).toMatch(/^HTTP\/1\.1 400 /);
      expect(got, path).toMatch(/content-type: application\/problem\+json/i);
      expect(got, path).toMatch(/"request_id":"req_[0-9a-f]{32}"/);
      expect(got, path).toMatch(/x-request-id: req_[0-9a-f]{32}/i);
    }
  });

  test('headers over 16 KB get a 431 problem with a request id', async () => {
    const res = await raw({ method: 'GET', path: '/healthz', headers: { 'x-filler': 'x'.repeat(20_000) } });
    expectProblem(res, 431);
    expect(res.body.request_id).toMatch(/^req_/);
  });
});
