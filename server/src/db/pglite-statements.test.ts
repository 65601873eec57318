// The embedded database's prepared statements: the same answers as an unprepared query.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPglite } from './pglite.js';
import { PreparedStatements } from './pglite-statements.js';

describe('prepared statements on the embedded database', () => {
  let pg: PGlite;
  beforeAll(async () => {
    pg = await PGlite.create(undefined, { parsers: { 20: (v: string) => Number(v) } });
    await pg.exec('CREATE TABLE things (id int PRIMARY KEY, note text)');
  });
  afterAll(() => pg.close());

  test('answer as an unprepared query does: numbers, JSON, arrays, bytes and nulls', async () => {
    const s = new PreparedStatements(pg);
    const sql = 'SELECT $1::int8 AS big, $2::jsonb AS j, $3::int[] AS arr, $4::bytea AS b, $5::text AS t, $6::bool AS yes';
    const params = [5, { a: [1, 'x'] }, [1, 2], Buffer.from('hi'), null, true];
    for (let i = 0; i < 3; i++) expect((await s.run(sql, params)).rows).toEqual((await pg.query(sql, params)).rows);
  });

  test('a statement that failed to parse is not remembered; one that failed to run still runs', async () => {
    const s = new PreparedStatements(pg);
    await expect(s.run('SELEC 1')).rejects.toThrow(/syntax error/);
    await expect(s.run('SELEC 1')).rejects.toThrow(/syntax error/);
    const insert = 'INSERT INTO things (id, note) VALUES ($1, $2)';
    await s.run(insert, [1, 'one']);
    await expect(s.run(insert, [1, 'again'])).rejects.toMatchObject({ code: '23505' });
    await s.run(insert, [2, 'two']);
    expect((await s.run<{ n: number }>('SELECT count(*) AS n FROM things')).rows).toEqual([{ n: 2 }]);
  });

  test('a table altered under a prepared statement fails it once; it is prepared again after', async () => {
    const s = new PreparedStatements(pg);
    await pg.exec('CREATE TABLE altered (id int); INSERT INTO altered VALUES (1)');
    // Prepared from its second run.
    for (let i = 0; i < 2; i++) expect((await s.run('SELECT * FROM altered')).rows).toEqual([{ id: 1 }]);
    await pg.exec("ALTER TABLE altered ADD COLUMN label text DEFAULT 'x'");
    await expect(s.run('SELECT * FROM altered')).rejects.toMatchObject({ code: '0A000' });
    expect((await s.run('SELECT * FROM altered')).rows).toEqual([{ id: 1, label: 'x' }]);
  });

  test('past its bound, statements still run, unprepared', async () => {
    const fresh = await PGlite.create();
    try {
      const s = new PreparedStatements(fresh, 2);
      for (let round = 0; round < 2; round++)
        for (const n of [1, 2, 3]) expect((await s.run<{ n: number }>(`SELECT ${n} AS n, $1::int AS m`, [n])).rows).toEqual([{ n, m: n }]);
      expect((await fresh.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows).toEqual([{ n: 2 }]);
    } finally {
      await fresh.close();
    }
  });

  test('a held write (Tx.defer) runs prepared, in order, before the next statement', async () => {
    const db = await openPglite('memory://');
    try {
      await db.owner((tx) => tx.exec('CREATE TABLE held (id int PRIMARY KEY, v text)'));
      const insert = 'INSERT INTO held (id, v) VALUES ($1, $2)';
      for (let i = 1; i <= 3; i++)
        expect(
          await db.owner(async (tx) => {
            tx.defer(insert, [i, `row ${i}`]);
            return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM held')).rows[0]!.n;
          }),
        ).toBe(i);
      // Written out with its values, each run would be a text of its own, parsed and planned again.
      const prepared = await db.single<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      expect(prepared.filter((p) => p.statement === insert)).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});
