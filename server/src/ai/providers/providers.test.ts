// Bring-your-own provider keys over HTTP: write-only, tenant-scoped, capability-checked, audited, and
// absent in clear text from a dump of the whole database.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SealError } from '../../crypto/keyring.js';
import { rotateDataKeys } from '../../crypto/rotation.js';
import type { ParleyDb } from '../../db/index.js';
import { startTestApp, type TestApp } from '../../test/app.js';
import { call } from '../../test/http.js';
import type { CreatedTenant } from '../../tenants/service.js';
import { resolveProviderCredentials } from './service.js';

const secret = (prefix: string) => `${prefix}${randomBytes(30).toString('base64url')}`;
const put = (t: TestApp, key: string, provider: string, body: unknown) => call(t.url, 'PUT', `/v1/admin/providers/${provider}`, { key, body });
const list = (t: TestApp, key: string) => call(t.url, 'GET', '/v1/admin/providers', { key });
const newKey = async (t: TestApp, admin: string, capabilities: string[]) =>
  (await call(t.url, 'POST', '/v1/admin/api-keys', { key: admin, body: { name: capabilities.join(' '), capabilities } })).body.secret as string;

async function auditOf(db: ParleyDb, tenantId: string, prefix: string) {
  const r = await db.withOwner((tx) =>
    tx.query<{ action: string; metadata: Record<string, unknown> }>(
      'SELECT action, metadata FROM audit_entries WHERE tenant_id = $1 AND action LIKE $2 ORDER BY id',
      [tenantId, `${prefix}%`],
    ),
  );
  return r.rows;
}

/** Everything a stolen dump would hold: every row of every public table as JSON, and every bytea raw. */
async function dumpDatabase(db: ParleyDb): Promise<{ texts: string[]; tables: string[] }> {
  return db.withOwner(async (tx) => {
    const tables = (
      await tx.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
      )
    ).rows.map((r) => r.table_name);
    const texts: string[] = [];
    for (const table of tables) {
      for (const r of (await tx.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${table}" t`)).rows) texts.push(r.j);
      const bytea = await tx.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'bytea'",
        [table],
      );
      for (const { column_name: col } of bytea.rows) {
        const values = await tx.query<{ v: Uint8Array }>(`SELECT "${col}" AS v FROM "${table}" WHERE "${col}" IS NOT NULL`);
        for (const { v } of values.rows) {
          const b = Buffer.from(v);
          texts.push(b.toString('hex'), b.toString('latin1'), b.toString('utf8'), b.toString('base64'));
        }
      }
    }
    return { texts, tables };
  });
}

function expectNotInDump(texts: string[], key: string) {
  const needles = new Set<string>([key, Buffer.from(key).toString('hex'), Buffer.from(key).toString('base64')]);
  for (let i = 0; i + 8 <= key.length; i++) {
    const sub = key.slice(i, i + 8);
    needles.add(sub);
    needles.add(Buffer.from(sub).toString('hex'));
  }
  for (const text of texts) {
    const lower = text.toLowerCase();
    for (const n of needles) {
      if (text.includes(n) || lower.includes(n.toLowerCase())) throw new Error(`the dump contains part of a provider key (${n.length} characters)`);
    }
  }
}

describe('provider keys (development)', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let b: CreatedTenant;
  const keys = { a: secret('sk-proj-'), a2: secret('sk-proj-'), ant: secret('sk-ant-api03-'), b: secret('sk-proj-') };

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('A', ['a.example']);
    b = await t.tenant('B', ['b.example']);
  });
  afterAll(() => t.close());

  test('PUT stores a key and answers with last4 only; GET never shows the key; replacing is audited', async () => {
    const created = await put(t, a.secretKey, 'openai', { apiKey: keys.a, model: 'gpt-4o-mini', embeddingModel: 'text-embedding-3-small' });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body.provider).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      embeddingModel: 'text-embedding-3-small',
      baseUrl: null,
      last4: keys.a.slice(-4),
    });
    expect(created.text).not.toContain(keys.a.slice(0, -4));

    const replaced = await put(t, a.secretKey, 'openai', { apiKey: keys.a2, model: 'gpt-4o' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.provider).toMatchObject({ last4: keys.a2.slice(-4), embeddingModel: null });
    expect((await put(t, a.secretKey, 'anthropic', { apiKey: keys.ant, model: 'claude-sonnet-4-5' })).status).toBe(201);

    const listed = await list(t, a.secretKey);
    expect(listed.status).toBe(200);
    expect(listed.body.providers.map((p: any) => [p.provider, p.last4])).toEqual([
      ['anthropic', keys.ant.slice(-4)],
      ['openai', keys.a2.slice(-4)],
    ]);
    for (const p of listed.body.providers)
      expect(Object.keys(p).sort()).toEqual(['baseUrl', 'createdAt', 'embeddingModel', 'last4', 'model', 'provider', 'updatedAt']);
    for (const k of [keys.a, keys.a2, keys.ant]) expect(listed.text).not.toContain(k.slice(0, -4));

    const audit = await auditOf(t.runtime.db, a.tenant.id, 'provider.');
    expect(audit.map((e) => [e.action, e.metadata.provider, e.metadata.last4, e.metadata.replaced])).toEqual([
      ['provider.set', 'openai', keys.a.slice(-4), false],
      ['provider.set', 'openai', keys.a2.slice(-4), true],
      ['provider.set', 'anthropic', keys.ant.slice(-4), false],
    ]);
    expect(JSON.stringify(audit)).not.toContain(keys.a.slice(0, 8));
  });

  test("the answering pipeline resolves the keys only inside the tenant's own transaction", async () => {
    const { db, keyring } = t.runtime;
    const creds = await db.withTenant(a.tenant.id, { requestId: null }, (tx) => resolveProviderCredentials(tx, keyring, a.tenant.id));
    expect(creds.map((c) => [c.provider, c.apiKey, c.model])).toEqual([
      ['anthropic', keys.ant, 'claude-sonnet-4-5'],
      ['openai', keys.a2, 'gpt-4o'],
    ]);
    await expect(db.withTenant(b.tenant.id, { requestId: null }, (tx) => resolveProviderCredentials(tx, keyring, a.tenant.id))).rejects.toThrow(
      /own transaction/,
    );
    await expect(db.withoutTenant({ requestId: null }, (tx) => resolveProviderCredentials(tx, keyring, a.tenant.id))).rejects.toThrow(
      /own transaction/,
    );
    await expect(
      db.withPlatform({ requestId: null, actor: { type: 'cli', id: 'test' }, reason: 'test', action: 'test.resolve' }, (tx) =>
        resolveProviderCredentials(tx, keyring, a.tenant.id),
      ),
    ).rejects.toThrow(/own transaction/);
    expect(await db.withTenant(b.tenant.id, { requestId: null }, (tx) => resolveProviderCredentials(tx, keyring, b.tenant.id))).toEqual([]);
  });

  test('another tenant can neither read nor delete nor overwrite the provider', async () => {
    expect((await list(t, b.secretKey)).body.providers).toEqual([]);
    const del = await call(t.url, 'DELETE', '/v1/admin/providers/openai', { key: b.secretKey });
    expect(del.status).toBe(404);
    expect((await put(t, b.secretKey, 'openai', { apiKey: keys.b, model: 'gpt-4o-mini' })).status).toBe(201);
    const aList = (await list(t, a.secretKey)).body.providers;
    expect(aList.find((p: any) => p.provider === 'openai').last4).toBe(keys.a2.slice(-4));
    expect((await list(t, b.secretKey)).body.providers.map((p: any) => p.last4)).toEqual([keys.b.slice(-4)]);
  });

  test('capabilities: settings:read lists, providers:write changes, neither stands in for the other', async () => {
    const reader = await newKey(t, a.secretKey, ['settings:read']);
    const writer = await newKey(t, a.secretKey, ['providers:write']);
    expect((await list(t, reader)).status).toBe(200);
    const denied = await put(t, reader, 'openai', { apiKey: secret('sk-'), model: 'gpt-4o' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ capability: 'providers:write' });
    expect((await call(t.url, 'DELETE', '/v1/admin/providers/openai', { key: reader })).status).toBe(403);
    const noRead = await list(t, writer);
    expect(noRead.status).toBe(403);
    expect(noRead.body.capability).toBe('settings:read');
    expect((await call(t.url, 'GET', '/v1/admin/providers')).status).toBe(401);
    expect((await call(t.url, 'POST', '/v1/admin/providers', { key: a.secretKey, body: {} })).status).toBe(405);
    expect((await list(t, a.secretKey)).body.providers.find((p: any) => p.provider === 'openai').last4).toBe(keys.a2.slice(-4));
  });

  test('bad input is a 400 problem, echoes no key, and stores nothing', async () => {
    const c = await t.tenant('Bad input', []);
    const k = secret('sk-proj-');
    const cases: [string, unknown][] = [
      ['openai', { apiKey: k, model: 'gpt-4o', extra: true }],
      ['openai', { apiKey: k }],
      ['openai', { apiKey: 'short', model: 'gpt-4o' }],
      ['openai', { apiKey: `${k} \n`, model: 'gpt-4o' }],
      ['openai', { apiKey: k, model: 'gpt 4o; DROP TABLE' }],
      ['openai', { apiKey: 42, model: 'gpt-4o' }],
      ['azure', { apiKey: k, model: 'gpt-4o' }],
      ['openai', { apiKey: k, model: 'gpt-4o', baseUrl: 'https://evil.example/v1' }],
      ['anthropic', { apiKey: k, model: 'claude', baseUrl: 'https://api.anthropic.com' }],
      ['anthropic', { apiKey: k, model: 'claude', embeddingModel: 'voyage-3' }],
      ['openai-compatible', { apiKey: k, model: 'llama3' }],
    ];
    for (const [provider, body] of cases) {
      const res = await put(t, c.secretKey, provider, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toMatch(/validation-failed$/);
      expect(res.text).not.toContain(k.slice(8, 16));
    }
    expect((await call(t.url, 'PUT', '/v1/admin/providers/openai', { key: c.secretKey, raw: '{"apiKey":' })).status).toBe(400);
    expect((await list(t, c.secretKey)).body.providers).toEqual([]);
    expect(await auditOf(t.runtime.db, c.tenant.id, 'provider.')).toEqual([]);
  });

  test('development accepts a local openai-compatible server; the key is bound to that base URL', async () => {
    const k = secret('local-');
    const res = await put(t, a.secretKey, 'openai-compatible', { apiKey: k, model: 'llama3:8b', baseUrl: 'http://localhost:11434/v1/' });
    expect(res.status).toBe(201);
    expect(res.body.provider).toMatchObject({ baseUrl: 'http://localhost:11434/v1', last4: k.slice(-4) });
    const { db, keyring } = t.runtime;
    const resolve = () => db.withTenant(a.tenant.id, { requestId: null }, (tx) => resolveProviderCredentials(tx, keyring, a.tenant.id));
    expect((await resolve()).find((c) => c.provider === 'openai-compatible')).toMatchObject({ apiKey: k, baseUrl: 'http://localhost:11434/v1' });

    // Someone with write access to the database points the row at their own host: the key no longer opens.
    await db.withOwner((tx) =>
      tx.query("UPDATE ai_providers SET base_url = 'https://attacker.example/v1' WHERE tenant_id = $1 AND provider = 'openai-compatible'", [
        a.tenant.id,
      ]),
    );
    await expect(resolve()).rejects.toThrow(SealError);
    // Or copies the official OpenAI key's sealed value onto that row.
    await db.withOwner((tx) =>
      tx.query(
        `UPDATE ai_providers SET api_key_sealed = (SELECT api_key_sealed FROM ai_providers WHERE tenant_id = $1 AND provider = 'openai')
          WHERE tenant_id = $1 AND provider = 'openai-compatible'`,
        [a.tenant.id],
      ),
    );
    await expect(resolve()).rejects.toThrow(SealError);
    expect((await call(t.url, 'DELETE', '/v1/admin/providers/openai-compatible', { key: a.secretKey })).status).toBe(204);
    expect((await resolve()).map((c) => c.provider)).toEqual(['anthropic', 'openai']);
  });

  test('DELETE removes the provider and is audited', async () => {
    const res = await call(t.url, 'DELETE', '/v1/admin/providers/anthropic', { key: a.secretKey });
    expect(res.status).toBe(204);
    expect((await call(t.url, 'DELETE', '/v1/admin/providers/anthropic', { key: a.secretKey })).status).toBe(404);
    expect((await list(t, a.secretKey)).body.providers.map((p: any) => p.provider)).toEqual(['openai']);
    const removed = (await auditOf(t.runtime.db, a.tenant.id, 'provider.remove')).map((e) => e.metadata);
    expect(removed.at(-1)).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-5', last4: keys.ant.slice(-4) });
  });

  test('a dump of the whole database holds no provider key, nor any 8 characters of one, before or after rotation', async () => {
    const check = async () => {
      const { texts, tables } = await dumpDatabase(t.runtime.db);
      expect(tables).toContain('ai_providers');
      // The dump did see the sealed rows (so the search below is not vacuous).
      expect(texts.some((x) => x.includes(`"api_key_last4":"${keys.a2.slice(-4)}"`))).toBe(true);
      for (const k of Object.values(keys)) expectNotInDump(texts, k);
    };
    // The search itself finds a key fragment in clear, in hex or in a latin1 rendering of bytes.
    expect(() => expectNotInDump([`{"note":"x${keys.a.slice(5, 13)}y"}`], keys.a)).toThrow();
    expect(() => expectNotInDump([Buffer.from(`..${keys.a.slice(20, 28)}..`).toString('hex')], keys.a)).toThrow();
    await check();
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      rotateDataKeys(tx, a.tenant.id, { keyring: t.runtime.keyring, audit: t.runtime.audit, requestId: null, actor: { type: 'cli', id: 'test' } }),
    );
    await check();
  });
});

describe('provider keys (production)', () => {
  let t: TestApp;
  let a: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({
      PARLEY_ENV: 'production',
      PARLEY_PUBLIC_URL: 'https://api.example.com',
      DATABASE_URL: 'postgres://unused.invalid/parley',
    });
    a = await t.tenant('Prod', ['prod.example']);
  });
  afterAll(() => t.close());

  test.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    'https://user:pass@llm.example.com/v1',
    'https://llm.example.com/v1?api_key=abc',
    'http://llm.example.com/v1',
    'https://169.254.169.254/latest/meta-data',
    'https://localhost:8080/v1',
    'https://[::1]/v1',
    'https://10.0.0.7/v1',
    'https://[::ffff:7f00:1]/v1',
    'https://metadata.google.internal./v1',
    // Accepted before the one outbound rule: 6to4 and IPv4-compatible forms of internal addresses.
    'https://[2002:a9fe:a9fe::1]/latest/meta-data',
    'https://[::a9fe:a9fe]/latest/meta-data',
    'https://127.0.0.1../v1',
  ])('an openai-compatible baseUrl of %s is refused with 400 and nothing is stored', async (baseUrl) => {
    const k = secret('sk-');
    const res = await put(t, a.secretKey, 'openai-compatible', { apiKey: k, model: 'llama3', baseUrl });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('/baseUrl');
    expect(res.text).not.toContain(k.slice(3));
    expect((await list(t, a.secretKey)).body.providers).toEqual([]);
  });

  test('a public https endpoint is accepted', async () => {
    const res = await put(t, a.secretKey, 'openai-compatible', { apiKey: secret('sk-'), model: 'llama3', baseUrl: 'https://llm.example.com/v1' });
    expect(res.status).toBe(201);
    expect(res.body.provider.baseUrl).toBe('https://llm.example.com/v1');
  });
});
