// The schema's readiness to distribute by tenant (Citus): a table with a tenant_id column is sharded on it,
// and a sharded table's primary keys, unique constraints and foreign keys must include that column (the
// shard's own indexes can only enforce what lies inside one shard). This reads the catalog after the
// migrations and fails on any key that does not, unless it is one of the known exceptions below, each with
// its reason. The exception lists must stay exact: a key that is fixed must leave the list, so it only shrinks.
// The operating guide ("Beyond one primary: Citus") describes the same split.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, type TestDb } from '../test/db.js';

/** Tables without tenant_id: reference tables (or coordinator-local ones) under Citus, never sharded. */
const PLATFORM_TABLES: Record<string, string> = {
  tenants: 'the tenants themselves (its id is every other table’s tenant_id): a reference table',
  audit_identity: 'one row naming the deployment’s audit logs: a reference table',
  audit_signing_keys: 'the deployment’s audit signing keys: a reference table',
  job_leases: 'fleet-wide background job leases, written often: a coordinator-local table',
  rate_limit_windows:
    'rate-limit counters keyed by a hash (of an address, key or session), written on every counted request: a coordinator-local table',
  sign_in_throttle: 'sign-in attempts counted before a tenant is known, written often: a coordinator-local table',
  parley_migrations: 'the migrator’s own bookkeeping, on the coordinator',
  tenant_deletions:
    'tenant deletions, keyed by `tenant` (not tenant_id) because each record outlives its tenant’s rows: a small coordinator-local table',
};

/**
 * Keys of tenant tables that do not include tenant_id today, as `<table> <kind> (<columns>)`. Each says why;
 * the ones marked "pending" need a migration (make the existing (tenant_id, …) pair the key) before the
 * table can be distributed, the "lookup" ones a tenant-free lookup (a reference table from the credential's
 * hash to its tenant, or a token that carries its tenant) because the request names no tenant yet.
 */
const KNOWN_EXCEPTIONS: Record<string, string> = {
  // lookup: a credential presented before the tenant is known is found by its (hashed) value alone.
  'publishable_keys UNIQUE (key)': 'lookup: the widget’s publishable key is what names the tenant',
  'api_keys UNIQUE (hash)': 'lookup: a secret key is what names the tenant',
  'identity_secrets UNIQUE (kid)': 'lookup: a signed user session names its key by kid',
  'widget_refresh_tokens UNIQUE (token_hash)': 'lookup: a widget refresh token is presented on its own',
  'member_invites UNIQUE (token_hash)': 'lookup: an invitation link is opened by someone not yet signed in',
  'member_refresh_tokens UNIQUE (token_hash)': 'lookup: a console refresh token is presented on its own',
  'member_passkeys UNIQUE (credential_id)': 'lookup: a passwordless sign-in names only the credential',
  'webauthn_challenges PRIMARY KEY (key)': 'lookup: a challenge is issued before sign-in; tenant_id is nullable there (coordinator-local)',
  // pending: a single-column id that predates the composite keys; FKs already use (tenant_id, id).
  'tenant_domains PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'publishable_keys PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'api_keys PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'knowledge_sources PRIMARY KEY (id)': 'pending: (tenant_id, id) is already unique and referenced',
  'knowledge_chunks PRIMARY KEY (id)': 'pending: (tenant_id, id) is already unique and referenced',
  'knowledge_vectors PRIMARY KEY (chunk_id)': 'pending: make (tenant_id, chunk_id) the key',
  'conversations PRIMARY KEY (id)': 'pending: (tenant_id, id) is already unique and referenced',
  'messages PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'handoffs PRIMARY KEY (id)': 'pending: (tenant_id, id) is already unique and referenced',
  'conversation_events PRIMARY KEY (id)': 'pending: an identity column (the live feed’s replay cursor); make (tenant_id, id) the key',
  'identity_secrets PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'widget_refresh_tokens PRIMARY KEY (id)': 'pending: make (tenant_id, id) the key',
  'crawl_jobs PRIMARY KEY (id)': 'pending: (tenant_id, id) is already unique',
  'visitors UNIQUE (secret_hash)': 'pending: looked up inside the tenant’s transaction, so (tenant_id, secret_hash) will do',
  // pending: unique within a tenant-scoped parent; prefixing tenant_id changes nothing in meaning.
  'knowledge_chunks UNIQUE (source_id, content_hash)': 'pending: per source; add tenant_id in front',
  'messages UNIQUE (conversation_id, seq)': 'pending: per conversation; add tenant_id in front',
  'pii_vault PRIMARY KEY (conversation_id, token)': 'pending: per conversation; add tenant_id in front',
};

interface Key {
  table: string;
  kind: 'PRIMARY KEY' | 'UNIQUE' | 'EXCLUDE' | 'UNIQUE INDEX' | 'FOREIGN KEY';
  columns: string[];
  /** For a foreign key: the referenced table and its columns, position by position. */
  refTable: string | null;
  refColumns: string[] | null;
}

let t: TestDb;
let tenantTables: Set<string>;
let allTables: string[];
let keys: Key[];

beforeAll(async () => {
  t = await createTestDb();
  await t.db.withOwner(async (tx) => {
    const tables = await tx.query<{ name: string; tenant: boolean }>(
      `SELECT c.relname AS name,
              EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    allTables = tables.rows.map((r) => r.name).sort();
    tenantTables = new Set(tables.rows.filter((r) => r.tenant).map((r) => r.name));
    // Constraints, and unique indexes that back none (CREATE UNIQUE INDEX), with their columns in order.
    const cols = (rel: string, nums: string) =>
      `ARRAY(SELECT a.attname::text FROM unnest(${nums}) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.num ORDER BY k.ord)`;
    const { rows } = await tx.query<Key>(
      `SELECT r.relname AS "table",
              CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' WHEN 'x' THEN 'EXCLUDE' ELSE 'FOREIGN KEY' END AS kind,
              ${cols('c.conrelid', 'c.conkey')} AS columns,
              f.relname AS "refTable",
              CASE WHEN c.contype = 'f' THEN ${cols('c.confrelid', 'c.confkey')} END AS "refColumns"
         FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
         LEFT JOIN pg_class f ON f.oid = c.confrelid
        WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'x', 'f')
       UNION ALL
       SELECT r.relname, 'UNIQUE INDEX', ${cols('i.indrelid', 'i.indkey::int2[]')}, NULL, NULL
         FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE n.nspname = current_schema() AND i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))`,
    );
    keys = rows;
  });
});
afterAll(() => t?.close());

const label = (k: Key) => `${k.table} ${k.kind} (${k.columns.join(', ')})`;
/** The column that holds the tenant in a table: tenant_id, or the tenants table's own id. */
const tenantColumn = (table: string) => (table === 'tenants' ? 'id' : tenantTables.has(table) ? 'tenant_id' : null);

describe('distribution by tenant_id', () => {
  test('the catalog was read (tenant tables and their keys are there)', () => {
    expect(tenantTables.size).toBeGreaterThan(30);
    expect(keys.filter((k) => k.kind === 'FOREIGN KEY').length).toBeGreaterThan(30);
  });

  test('the tables without tenant_id are exactly the platform tables', () => {
    expect(allTables.filter((name) => !tenantTables.has(name))).toEqual(Object.keys(PLATFORM_TABLES).sort());
  });

  test('every primary key, unique constraint and unique index of a tenant table includes tenant_id (bar the listed exceptions)', () => {
    const offending = keys.filter((k) => k.kind !== 'FOREIGN KEY' && tenantTables.has(k.table) && !k.columns.includes('tenant_id')).map(label);
    expect(offending.filter((l) => !(l in KNOWN_EXCEPTIONS)).sort(), 'new keys without tenant_id').toEqual([]);
    expect(
      Object.keys(KNOWN_EXCEPTIONS)
        .filter((l) => !offending.includes(l))
        .sort(),
      'exceptions that no longer exist: remove them from the list',
    ).toEqual([]);
  });

  test('every foreign key between tenant tables joins tenant_id to tenant_id (co-located), and none points into a tenant table from outside', () => {
    const offending: string[] = [];
    for (const k of keys.filter((key) => key.kind === 'FOREIGN KEY')) {
      const from = tenantColumn(k.table);
      const to = tenantColumn(k.refTable!);
      const text = `${label(k)} REFERENCES ${k.refTable} (${k.refColumns!.join(', ')})`;
      if (!to) continue; // a reference to a platform table: allowed from anywhere (a reference table)
      if (!tenantTables.has(k.table)) {
        if (k.refTable !== 'tenants') offending.push(`${text}: a platform table cannot reference a sharded one`);
        continue;
      }
      const at = k.columns.indexOf(from!);
      if (at < 0 || k.refColumns![at] !== to) offending.push(`${text}: tenant_id must map onto the referenced table's tenant column`);
    }
    expect(offending).toEqual([]);
  });
});
