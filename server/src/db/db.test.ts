import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, type TestDb } from '../test/db.js';
import { loadMigrations, migrate } from './migrate.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

describe('migrations', () => {
  test('re-running applies nothing', async () => {
    expect(await t.db.withOwner((tx) => migrate(tx))).toEqual([]);
  });

  test('an applied migration edited afterwards is refused', async () => {
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'x' } : m));
    await expect(t.db.withOwner((tx) => migrate(tx, edited))).rejects.toThrow(/changed after it was applied/);
  });

  test('every tenant table is isolated by the one function: forced RLS and the same policy', async () => {
    const { rows } = await t.db.withOwner((tx) =>
      tx.query<{ tables: string[]; qual: string; with_check: string }>(
        `SELECT array_agg(p.tablename::text ORDER BY p.tablename) AS tables, p.qual, p.with_check FROM pg_policies p
          WHERE p.policyname = 'tenant_isolation' AND p.tablename <> 'tenants' GROUP BY p.qual, p.with_check`,
      ),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tables).toEqual(expect.arrayContaining(['knowledge_chunks', 'knowledge_sources', 'knowledge_stats', 'members']));
    const forced = await t.db.withOwner((tx) =>
      tx.query<{ relname: string }>('SELECT relname FROM pg_class WHERE relname = ANY($1::text[]) AND relrowsecurity AND relforcerowsecurity', [
        rows[0]!.tables,
      ]),
    );
    expect(forced.rows).toHaveLength(rows[0]!.tables.length);
  });
});

describe('the platform role', () => {
  test('housekeeping without an audit entry, read-only when asked', async () => {
    const housekeeping = { requestId: null, audit: false as const, reason: 'test' };
    const size = () => t.db.withOwner(async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries')).rows[0]!.n);
    const before = await size();
    expect(await t.db.withPlatform(housekeeping, async (tx) => (await tx.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u)).toBe(
      'parley_platform',
    );
    await expect(t.db.withPlatform({ ...housekeeping, readOnly: true }, (tx) => tx.query('UPDATE tenants SET name = name'))).rejects.toThrow(
      /read-only/,
    );
    expect(await size()).toBe(before);
  });
});

describe('roles', () => {
  test('parley_app is not superuser, cannot bypass RLS and owns no table', async () => {
    const rows = await t.db.withOwner(async (tx) => {
      const role = await tx.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'parley_app'",
      );
      const owned = await tx.query("SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'parley_app'");
      return { role: role.rows[0], owned: owned.rows };
    });
    expect(rows.role).toEqual({ rolsuper: false, rolbypassrls: false });
    expect(rows.owned).toEqual([]);
  });

  test('withTenant runs as parley_app with the tenant set only for that transaction', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const inside = await t.db.withTenant(id, { requestId: 'req-1' }, async (tx) => {
      const r = await tx.query<{ u: string; t: string; rid: string }>(
        "SELECT current_user AS u, current_setting('app.tenant_id', true) AS t, current_setting('app.request_id', true) AS rid",
      );
      return r.rows[0];
    });
    expect(inside).toEqual({ u: 'parley_app', t: id, rid: 'req-1' });
    const after = await t.db.withOwner(async (tx) => {
      const r = await tx.query<{ t: string | null; u: string }>("SELECT current_setting('app.tenant_id', true) AS t, current_user AS u");
      return r.rows[0];
    });
    expect(after!.t ?? '').toBe('');
    expect(after!.u).not.toBe('parley_app');
  });

  test('a request id holding quotes, backslashes and statements of its own is set as written and runs nothing', async () => {
    // On PostgreSQL the scope is sent with BEGIN as literals (one round trip); this is what their escaping is for.
    const id = '55555555-5555-4555-8555-555555555555';
    const hostile = ["x'); DROP TABLE tenants; --", "\\'; SELECT set_config('role', 'parley_platform', false); --", "E'\\x27'", '$$; RESET ROLE; $$'];
    for (const requestId of hostile) {
      for (const run of [t.db.withTenant.bind(t.db), t.db.withTenantRead.bind(t.db)]) {
        const inside = await run(id, { requestId }, async (tx) => {
          const r = await tx.query<{ u: string; t: string; rid: string }>(
            "SELECT current_user AS u, current_setting('app.tenant_id', true) AS t, current_setting('app.request_id', true) AS rid",
          );
          return r.rows[0];
        });
        expect(inside).toEqual({ u: 'parley_app', t: id, rid: requestId });
      }
    }
    const left = await t.db.withOwner((tx) => tx.query("SELECT 1 FROM pg_tables WHERE tablename = 'tenants'"));
    expect(left.rows).toHaveLength(1);
  });

  test('callDefiner calls only a parley_ function, by a plain name, with its arguments as parameters', async () => {
    expect(await t.db.callDefiner('parley_resolve_publishable_key', ["pk_nope' OR true --"])).toEqual([]);
    for (const name of ['parley_x(); DROP TABLE tenants; --', 'parley_X', 'pg_sleep'] as `parley_${string}`[])
      await expect(t.db.callDefiner(name, [])).rejects.toThrow(TypeError);
  });

  test('withTenantRead runs as parley_app with the tenant set, READ ONLY (here on the primary: no replica configured)', async () => {
    const id = '44444444-4444-4444-8444-444444444444';
    const read = <R>(sql: string) => t.db.withTenantRead(id, { requestId: 'req-2' }, async (tx) => (await tx.query<R>(sql)).rows[0]);
    expect(
      await read("SELECT current_user AS u, current_setting('app.tenant_id', true) AS t, current_setting('transaction_read_only') AS ro"),
    ).toEqual({
      u: 'parley_app',
      t: id,
      ro: 'on',
    });
    await expect(read("INSERT INTO knowledge_stats (tenant_id) VALUES ('44444444-4444-4444-8444-444444444444')")).rejects.toThrow(/read-only/);
    await expect(t.db.withTenantRead('not-a-uuid', { requestId: null }, async () => 1)).rejects.toThrow(TypeError);
  });

  test('a failed transaction rolls back', async () => {
    const id = '22222222-2222-4222-8222-222222222222';
    await expect(
      t.db.withPlatform({ requestId: null, actor: { type: 'cli', id: null }, reason: 'test', action: 'test.rollback' }, async (tx) => {
        await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'x')", [id]);
        throw new Error('boom');
      }),
    ).rejects.toThrow();
    const n = await t.db.withOwner((tx) => tx.query('SELECT 1 FROM tenants WHERE id = $1', [id]));
    expect(n.rows).toHaveLength(0);
  });
});
