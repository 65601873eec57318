// Tenant isolation, attacked from the API and from the database.
import { randomUUID } from 'node:crypto';
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
// Deployment-wide tables that hold no tenant's data: the migration ledger, and the audit log's identity and
// signing-key history (public: published at /v1/audit/verifier-keys; append-only; a key is trusted only
// through the chain of notes signed by the configured key, so a row written by the app role earns nothing).
const GLOBAL_TABLES = new Set(['parley_migrations', 'audit_identity', 'audit_signing_keys']);

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
  if (serverUrl)
    test('on a server, parley_app cannot switch to the platform role or turn RLS off', async () => {
      await expect(t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query('SET LOCAL ROLE parley_platform'))).rejects.toThrow();
      await expect(
        t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query('ALTER TABLE tenant_domains NO FORCE ROW LEVEL SECURITY')),
      ).rejects.toThrow();
    });
});

// A foreign key check reads the parent table past row-level security. With a single-column key the app
// role could store a row of tenant A that points at B's conversation, and the difference between "no
// such id" (an error) and "B's id" (stored) told A which ids exist in other tenants. Every reference
// between tenant tables is therefore composite, (tenant_id, x_id) -> parent (tenant_id, id).
describe('references between tenant tables carry tenant_id', () => {
  const ids = { a: {} as Record<string, string>, b: {} as Record<string, string> };

  beforeAll(async () => {
    for (const [side, tenant] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const conversation = randomUUID();
      const source = randomUUID();
      const chunk = randomUUID();
      await t.runtime.db.withTenant(tenant.tenant.id, { requestId: null }, async (tx) => {
        await tx.query("INSERT INTO conversations (id, tenant_id, visitor_id) VALUES ($1, $2, 'v')", [conversation, tenant.tenant.id]);
        await tx.query("INSERT INTO knowledge_sources (id, tenant_id, kind, title) VALUES ($1, $2, 'text', 's')", [source, tenant.tenant.id]);
        await tx.query(
          `INSERT INTO knowledge_chunks (id, tenant_id, source_id, position, title, text, content_hash, terms, token_count)
           VALUES ($1, $2, $3, 0, 't', 'x', '\\x00', '{x}', 1)`,
          [chunk, tenant.tenant.id, source],
        );
      });
      ids[side] = { conversation, source, chunk };
    }
  });

  // Each insert names the current tenant and a parent id ($2).
  test.each([
    [
      'messages',
      'conversation',
      "INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text) VALUES (gen_random_uuid(), $1, $2, 1, 'visitor', 'hi')",
    ],
    [
      'handoffs',
      'conversation',
      "INSERT INTO handoffs (id, tenant_id, conversation_id, reason) VALUES (gen_random_uuid(), $1, $2, 'visitor_request')",
    ],
    ['conversation_events', 'conversation', "INSERT INTO conversation_events (tenant_id, conversation_id, type, payload) VALUES ($1, $2, 'x', '{}')"],
    [
      'pii_vault',
      'conversation',
      "INSERT INTO pii_vault (tenant_id, conversation_id, token, class, sealed) VALUES ($1, $2, '[EMAIL_1]', 'email', '\\x00')",
    ],
    [
      'knowledge_chunks',
      'source',
      "INSERT INTO knowledge_chunks (id, tenant_id, source_id, position, title, text, content_hash, terms, token_count) VALUES (gen_random_uuid(), $1, $2, 1, 't', 'y', '\\x01', '{y}', 1)",
    ],
    [
      'knowledge_vectors',
      'chunk',
      "INSERT INTO knowledge_vectors (chunk_id, tenant_id, model, dims, embedding) VALUES ($2, $1, 'm', 1, ARRAY[1]::real[])",
    ],
  ])("as parley_app with A set, a %s row pointing at B's %s fails exactly like an unknown id", async (_table, parent, sql) => {
    const attempt = (parentId: string) =>
      t.runtime.db
        .withTenant(a.tenant.id, { requestId: null }, (tx) => tx.query(sql, [a.tenant.id, parentId]))
        .then(
          () => 'stored',
          (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
        );
    const unknown = await attempt(randomUUID());
    expect(unknown).toMatch(/^23503: /); // foreign_key_violation
    expect(await attempt(ids.b[parent]!)).toBe(unknown);
    expect(await attempt(ids.a[parent]!)).toBe('stored');
  });

  test('every foreign key between tenant tables (found in the catalog, so new ones are covered) includes tenant_id', async () => {
    const fks = (
      await t.runtime.db.withOwner((tx) =>
        tx.query<{ name: string; child: string; parent: string; pairs: string[] }>(
          `SELECT c.conname AS name, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
                  array(SELECT ca.attname || '->' || pa.attname
                          FROM unnest(c.conkey, c.confkey) AS k(ck, pk)
                          JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.ck
                          JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.pk) AS pairs
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE c.contype = 'f' AND n.nspname = 'public'
              AND c.confrelid <> 'tenants'::regclass
              AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'tenant_id' AND NOT attisdropped)
              AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.confrelid AND attname = 'tenant_id' AND NOT attisdropped)
            ORDER BY 1`,
        ),
      )
    ).rows;
    expect(fks.map((f) => f.child)).toEqual(
      expect.arrayContaining(['messages', 'handoffs', 'pii_vault', 'conversation_events', 'knowledge_chunks', 'knowledge_vectors']),
    );
    const weak = fks.filter((f) => !f.pairs.includes('tenant_id->tenant_id')).map((f) => `${f.child}.${f.name} -> ${f.parent}`);
    expect(weak).toEqual([]);
  });

  test('the conversion keeps CASCADE and SET NULL (only the reference is nulled, tenant_id stays) on new tables', async () => {
    const rollBack = new Error('roll back the scratch tables');
    const t1 = randomUUID();
    const [p1, p2, c1, c2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await expect(
      t.runtime.db.withOwner(async (tx) => {
        await tx.exec(`CREATE TABLE fk_scratch_parent (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
          CREATE TABLE fk_scratch_child (id uuid PRIMARY KEY, tenant_id uuid NOT NULL,
            parent_id uuid REFERENCES fk_scratch_parent (id) ON DELETE SET NULL,
            owner_id uuid NOT NULL REFERENCES fk_scratch_parent (id) ON DELETE CASCADE)`);
        expect((await tx.query<{ n: number }>('SELECT parley_tenant_foreign_keys() AS n')).rows[0]!.n).toBe(2);
        expect((await tx.query<{ n: number }>('SELECT parley_tenant_foreign_keys() AS n')).rows[0]!.n).toBe(0);
        const defs = (
          await tx.query<{ def: string }>(
            "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'fk_scratch_child'::regclass AND contype = 'f' ORDER BY 1",
          )
        ).rows.map((r) => r.def);
        expect(defs).toEqual([
          'FOREIGN KEY (tenant_id, owner_id) REFERENCES fk_scratch_parent(tenant_id, id) ON DELETE CASCADE',
          'FOREIGN KEY (tenant_id, parent_id) REFERENCES fk_scratch_parent(tenant_id, id) ON DELETE SET NULL (parent_id)',
        ]);
        await tx.query('INSERT INTO fk_scratch_parent VALUES ($1, $3), ($2, $3)', [p1, p2, t1]);
        await tx.query('INSERT INTO fk_scratch_child VALUES ($1, $3, $4, $5), ($2, $3, $5, $4)', [c1, c2, t1, p1, p2]);
        await tx.query('DELETE FROM fk_scratch_parent WHERE id = $1', [p1]);
        const rows = (
          await tx.query<{ id: string; tenant_id: string; parent_id: string | null }>('SELECT id, tenant_id, parent_id FROM fk_scratch_child')
        ).rows;
        expect(rows).toEqual([{ id: c1, tenant_id: t1, parent_id: null }]); // c2 was owned by p1: cascaded
        throw rollBack;
      }),
    ).rejects.toBe(rollBack);
  });
});
