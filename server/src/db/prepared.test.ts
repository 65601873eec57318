// Statements run more than once (with values, or reads without) are prepared once per text, on either database: each
// connection parses and plans them once; a cached plan never carries one tenant's rows into another's
// transaction; a schema change costs a statement one failure at most.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, type TestDb } from '../test/db.js';
import { StatementNames } from './statement-names.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

describe('statements with values, on either database', () => {
  test('are prepared on the connection that runs them, once per text', async () => {
    const sql = 'SELECT $1::int + 1 AS n';
    const { rows, prepared } = await t.db.withOwner(async (tx) => {
      const runs = [];
      for (const n of [1, 2, 3]) runs.push((await tx.query<{ n: number }>(sql, [n])).rows[0]!.n);
      const prepared = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [sql]);
      return { rows: runs, prepared: prepared.rows[0]!.n };
    });
    expect(rows).toEqual([2, 3, 4]);
    expect(prepared).toBe(1);
  });

  test('a read without values is prepared too; BEGIN, COMMIT and a script of several statements never are', async () => {
    const sql = 'SELECT 41 + 1 AS n';
    const prepared = await t.db.withOwner(async (tx) => {
      for (let i = 0; i < 3; i++) expect((await tx.query<{ n: number }>(sql)).rows).toEqual([{ n: 42 }]);
      await tx.exec('SELECT 1; SELECT 2');
      await tx.exec('SELECT 1; SELECT 2');
      return (await tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY statement')).rows.map((r) => r.statement);
    });
    expect(prepared).toContain(sql);
    expect(prepared.filter((p) => /^(BEGIN|COMMIT)|; SELECT 2/.test(p))).toEqual([]);
  });

  test("a transaction's scope is prepared, with role, tenant and request id as values", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const seen: string[] = [];
    for (let i = 0; i < 3; i++)
      for (const tenant of [a, b])
        seen.push(
          await t.db.withTenant(
            tenant,
            { requestId: `req-${i}` },
            async (tx) => (await tx.query<{ t: string }>("SELECT current_setting('app.tenant_id') AS t")).rows[0]!.t,
          ),
        );
    expect(seen).toEqual([a, b, a, b, a, b]);
    const prepared = await t.db.withTenant(a, { requestId: null }, async (tx) =>
      (await tx.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'SELECT set_config(%'")).rows.map(
        (r) => r.statement,
      ),
    );
    expect(prepared.length).toBeGreaterThan(0);
    for (const statement of prepared) {
      expect(statement).toContain("set_config('app.tenant_id', $2, true)");
      expect(statement).not.toContain(a);
    }
  });

  test("the same text, run again and again for two tenants in turn, returns only each tenant's rows", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await t.db.withOwner((tx) =>
      tx.exec(`CREATE TABLE prepared_probe (tenant_id uuid NOT NULL, v text NOT NULL);
               ALTER TABLE prepared_probe ENABLE ROW LEVEL SECURITY;
               ALTER TABLE prepared_probe FORCE ROW LEVEL SECURITY;
               CREATE POLICY tenant_isolation ON prepared_probe
                 USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
               GRANT SELECT ON prepared_probe TO parley_app;
               INSERT INTO prepared_probe VALUES ('${a}', 'a1'), ('${a}', 'a2'), ('${b}', 'b1');`),
    );
    const seen: string[] = [];
    // More runs than PostgreSQL takes to switch a prepared statement to a generic plan (five).
    for (let i = 0; i < 8; i++)
      for (const [tenant, name] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const [rows, all] = await t.db.withTenant(tenant, { requestId: null }, async (tx) => [
          (await tx.query<{ v: string }>('SELECT v FROM prepared_probe WHERE v LIKE $1 ORDER BY v', ['%'])).rows,
          // And a read without values.
          (await tx.query<{ v: string }>('SELECT v FROM prepared_probe ORDER BY v')).rows,
        ]);
        seen.push(`${name}:${rows.map((r) => r.v).join(',')}`, `${name}:${all.map((r) => r.v).join(',')}`);
      }
    expect(new Set(seen)).toEqual(new Set(['a:a1,a2', 'b:b1']));
  });

  test('a table altered under a prepared statement fails it once; then it is prepared again and answers with the new columns', async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE altered_probe (id int); INSERT INTO altered_probe VALUES (1)'));
    const read = () => t.db.withOwner((tx) => tx.query('SELECT * FROM altered_probe WHERE id::text = $1', ['1']));
    // Prepared from its second run.
    for (let i = 0; i < 2; i++) expect((await read()).rows).toEqual([{ id: 1 }]);
    await t.db.withOwner((tx) => tx.exec("ALTER TABLE altered_probe ADD COLUMN label text DEFAULT 'x'"));
    // A pool hands back the connection used last, which holds the old statement.
    await expect(read()).rejects.toMatchObject({ code: '0A000' });
    for (let i = 0; i < 3; i++) expect((await read()).rows).toEqual([{ id: 1, label: 'x' }]);
  });
});

describe('statement names', () => {
  test('none for the first run of a text; from its second, one per text, unique; none past the bound', () => {
    const names = new StatementNames(2);
    const twice = (sql: string) => [names.of(sql), names.of(sql)];
    const [first, a] = twice('SELECT 1');
    expect(first).toBe('');
    const [, b] = twice('SELECT 2');
    expect(a).toMatch(/^parley_\d+$/);
    expect(b).not.toBe(a);
    expect(names.of('SELECT 1')).toBe(a);
    expect(twice('SELECT 3')).toEqual(['', '']);
    const other = new StatementNames();
    other.of('SELECT 1');
    expect(other.of('SELECT 1')).not.toBe(a);
  });

  test('a schema change renames every statement; any other failure renames none', () => {
    const names = new StatementNames();
    const named = (sql: string) => (names.of(sql), names.of(sql));
    const [a, b] = [named('SELECT 1'), named('SELECT 2')];
    names.failed(Object.assign(new Error('duplicate key'), { code: '23505' }));
    expect([names.of('SELECT 1'), names.of('SELECT 2')]).toEqual([a, b]);
    names.failed(Object.assign(new Error('cached plan must not change result type'), { code: '0A000' }));
    expect([names.of('SELECT 1'), names.of('SELECT 2')]).not.toContain(a);
    expect(names.of('SELECT 2')).not.toBe(b);
  });
});
