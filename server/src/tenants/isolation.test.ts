// Tenant isolation, attacked from the API and from the database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { serverUrl } from '../test/db.js';
import { call } from '../test/http.js';
import type { CreatedTenant } from './service.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let bDomainId: string;
let bKeyId: string;
const GLOBAL_TABLES = new Set(['parley_migrations']);

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  bDomainId = (await call(t.url, 'GET', '/v1/admin/domains', { key: b.secretKey })).body.domains[0].id;
  bKeyId = (await call(t.url, 'GET', '/v1/admin/api-keys', { key: b.secretKey })).body.apiKeys[0].id;
});
afterAll(() => t.close());

describe("tenant A's key can read or change nothing of tenant B", () => {
  test('listings show only A', async () => {
    const domains = await call(t.url, 'GET', '/v1/admin/domains', { key: a.secretKey });
    expect(domains.body.domains.map((d: any) => d.pattern)).toEqual(['a.example']);
    const keys = await call(t.url, 'GET', '/v1/admin/api-keys', { key: a.secretKey });
    expect(keys.body.apiKeys.map((k: any) => k.id)).not.toContain(bKeyId);
    const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey });
    expect(audit.body.entries.length).toBeGreaterThan(0);
    expect(audit.body.entries.every((e: any) => e.tenantId === a.tenant.id)).toBe(true);
    const cp = await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: a.secretKey });
    expect(cp.body.origin).toContain(a.tenant.id);
    expect(cp.body.size).toBe(audit.body.entries.length);
  });

  test.each([
    ['DELETE', () => `/v1/admin/domains/${bDomainId}`, undefined],
    ['POST', () => `/v1/admin/api-keys/${bKeyId}/rotate`, { graceSeconds: 0 }],
    ['DELETE', () => `/v1/admin/api-keys/${bKeyId}`, undefined],
  ])("%s on B's resource is a 404 and changes nothing", async (method, path, body) => {
    const res = await call(t.url, method, path(), { key: a.secretKey, body });
    expect(res.status).toBe(404);
    const domains = await call(t.url, 'GET', '/v1/admin/domains', { key: b.secretKey });
    expect(domains.body.domains.map((d: any) => d.id)).toContain(bDomainId);
    const keys = await call(t.url, 'GET', '/v1/admin/api-keys', { key: b.secretKey });
    expect(keys.status).toBe(200);
    expect(keys.body.apiKeys.find((k: any) => k.id === bKeyId)).toMatchObject({ revokedAt: null, expiresAt: null });
  });

  test("B's audit proofs are out of A's reach: A's proofs describe A's log only", async () => {
    const bSize = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: b.secretKey })).body.size;
    const aSize = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: a.secretKey })).body.size;
    const res = await call(t.url, 'GET', `/v1/admin/audit/proof/inclusion?index=0&size=${aSize + 1}`, { key: a.secretKey });
    expect(res.status).toBe(400);
    expect(bSize).toBeGreaterThan(0);
  });
});

describe('row-level security in the database', () => {
  const tenantTables = async () =>
    (
      await t.runtime.db.withOwner((tx) =>
        tx.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean; policies: number }>(
          `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                  (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
        ),
      )
    ).rows.filter((r) => !GLOBAL_TABLES.has(r.relname));

  test('every table (found in the catalog, so new ones are covered) has ENABLE + FORCE RLS and a policy', async () => {
    const tables = await tenantTables();
    expect(tables.length).toBeGreaterThanOrEqual(8);
    const weak = tables.filter((r) => !r.relrowsecurity || !r.relforcerowsecurity || r.policies === 0).map((r) => r.relname);
    expect(weak).toEqual([]);
  });

  test('as parley_app with no tenant set, every table shows zero rows', async () => {
    const tables = await tenantTables();
    const counts = await t.runtime.db.withoutTenant({ requestId: null }, async (tx) => {
      const out: Record<string, number> = {};
      for (const { relname } of tables) out[relname] = (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${relname}`)).rows[0]!.n;
      return out;
    });
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    const owner = await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_domains'));
    expect(owner.rows[0]!.n).toBeGreaterThan(0); // the rows exist; RLS hides them
  });

  test('with tenant A set, writing a row of B fails and reading B finds nothing', async () => {
    await expect(
      t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
        tx.query("INSERT INTO tenant_domains (id, tenant_id, pattern) VALUES (gen_random_uuid(), $1, 'evil.example')", [b.tenant.id]),
      ),
    ).rejects.toThrow(/row-level security/);
    const seen = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query('SELECT * FROM tenant_domains WHERE tenant_id = $1', [b.tenant.id]),
    );
    expect(seen.rows).toEqual([]);
    const moved = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query('UPDATE api_keys SET tenant_id = $1', [b.tenant.id]).then(
        () => 'updated',
        (e: Error) => e.message,
      ),
    );
    expect(moved).toMatch(/row-level security/);
  });

  test('the tenant setting does not leak past its transaction', async () => {
    await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query('SELECT 1'));
    const n = await t.runtime.db.withoutTenant({ requestId: null }, (tx) => tx.query('SELECT * FROM tenants'));
    expect(n.rows).toEqual([]);
  });

  // On a server the app logs in as parley_app itself, so even injected SQL cannot change role. The
  // embedded database has one superuser session and switches role per transaction, which keeps
  // application queries under RLS but is no barrier to injected SQL: it is for development only, and
  // this property exists (and is tested) only on a server.
  if (serverUrl) test('on a server, parley_app cannot switch to the platform role or turn RLS off', async () => {
    await expect(t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query('SET LOCAL ROLE parley_platform'))).rejects.toThrow();
    await expect(
      t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query('ALTER TABLE tenant_domains NO FORCE ROW LEVEL SECURITY')),
    ).rejects.toThrow();
  });
});
