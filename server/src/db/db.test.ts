import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDb, serverUrl, type TestDb } from '../test/db.js';
import { AFTER_LAST, checkParams, LAST_READ_ONLY } from './driver.js';
import { watchEmbeddedCalls, watchRoundTrips } from '../test/round-trips.js';
import { carryableRead, carryReads, memoInTx, oncePerTx } from './tx-memo.js';
import { loadMigrations, migrate } from './migrate.js';
import type { Tx } from './types.js';

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

describe('held writes (Tx.defer)', () => {
  const probe = (sql: string) => t.db.withOwner((tx) => tx.query<{ id: number; v: string | null }>(sql));
  beforeAll(async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE held_probe (id int NOT NULL, v text); GRANT SELECT, INSERT ON held_probe TO parley_app'));
  });
  afterAll(() => t.db.withOwner((tx) => tx.exec('DROP TABLE held_probe')));

  test('run before the next statement and with COMMIT, in the order asked', async () => {
    const seen = await t.db.withOwner(async (tx) => {
      tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [1, 'first']);
      const n = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM held_probe')).rows[0]!.n;
      tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [2, 'second']);
      tx.defer("UPDATE held_probe SET v = v || '!' WHERE id = $1", [2]);
      return n;
    });
    expect(seen).toBe(1);
    expect((await probe('SELECT id, v FROM held_probe ORDER BY id')).rows).toEqual([
      { id: 1, v: 'first' },
      { id: 2, v: 'second!' },
    ]);
  });

  test('a transaction of held writes only still runs with its role and tenant', async () => {
    const id = '55555555-5555-4555-8555-555555555555';
    await t.db.withTenant(id, { requestId: 'req-held' }, async (tx) => {
      tx.defer("INSERT INTO held_probe (id, v) VALUES ($1, current_user || ' ' || current_setting('app.tenant_id'))", [3]);
    });
    expect((await probe('SELECT v FROM held_probe WHERE id = 3')).rows).toEqual([{ v: `parley_app ${id}` }]);
  });

  test('a held write that fails fails its transaction, and nothing of the transaction stays', async () => {
    await expect(
      t.db.withOwner(async (tx) => {
        await tx.query('INSERT INTO held_probe (id, v) VALUES (4, $1)', ['before']);
        tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [null, 'no id']);
      }),
    ).rejects.toThrow(/null value/);
    await expect(
      t.db.withOwner(async (tx) => {
        tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [null, 'no id']);
        await tx.query('INSERT INTO held_probe (id, v) VALUES (5, $1)', ['after']);
      }),
    ).rejects.toThrow(/null value/);
    expect((await probe('SELECT id FROM held_probe WHERE id IN (4, 5)')).rows).toEqual([]);
  });

  test('values are written as literals exactly as given, and run nothing of their own', async () => {
    const hostile = [
      "x'); DROP TABLE held_probe; --",
      "\\'); DROP TABLE held_probe; --",
      "E'\\x27'",
      '$$; RESET ROLE; $$',
      '$1 $2 $10',
      'back\\slash\nnew line\ttab',
      'naïve — ✓ 𝄞 عربي',
    ];
    await t.db.withOwner(async (tx) => {
      hostile.forEach((v, i) => tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [100 + i, v]));
      // A negative number after a minus sign: written bare, `10 --5` would turn the rest into a comment.
      tx.defer('INSERT INTO held_probe (id, v) VALUES (10 -$1, $2)', [-5, null]);
    });
    expect((await probe('SELECT v FROM held_probe WHERE id >= 100 ORDER BY id')).rows.map((r) => r.v)).toEqual(hostile);
    expect((await probe('SELECT v FROM held_probe WHERE id = 15')).rows).toEqual([{ v: null }]);
  });

  test('a NUL, a missing or a left-over value is refused when asked, before anything is sent', async () => {
    await t.db.withOwner(async (tx) => {
      expect(() => tx.defer('INSERT INTO held_probe (id, v) VALUES (6, $1)', ['a\0b'])).toThrow(/NUL/);
      expect(() => tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, $2)', [6])).toThrow(/no value for \$2/);
      expect(() => tx.defer('INSERT INTO held_probe (id, v) VALUES ($1, 7)', [6, 'x'])).toThrow(/2 values for 1/);
    });
    expect((await probe('SELECT id FROM held_probe WHERE id = 6')).rows).toEqual([]);
  });
});

describe("a transaction's last statement (Tx.last)", () => {
  const ids = (from: number, to: number) =>
    t.db.withOwner(
      async (tx) => (await tx.query<{ id: number }>('SELECT id FROM last_probe WHERE id BETWEEN $1 AND $2 ORDER BY id', [from, to])).rows,
    );
  beforeAll(async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE last_probe (id int PRIMARY KEY, v text); GRANT SELECT, INSERT ON last_probe TO parley_app'));
  });
  afterAll(() => t.db.withOwner((tx) => tx.exec('DROP TABLE last_probe')));

  test('returns its rows and commits it with what was held, in the order asked', async () => {
    const made = await t.db.withOwner(async (tx) => {
      await tx.query('INSERT INTO last_probe (id, v) VALUES (1, $1)', ['asked']);
      tx.defer('INSERT INTO last_probe (id, v) VALUES (2, $1)', ['held']);
      const { rows } = await tx.last<{ n: number }>('INSERT INTO last_probe (id, v) SELECT 3, count(*)::text FROM last_probe RETURNING v::int AS n');
      return rows[0]!.n;
    });
    expect(made).toBe(2);
    expect(await ids(1, 3)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  test.runIf(serverUrl)('goes with BEGIN, what is held and COMMIT in one round trip, and with COMMIT after its reads in two', async () => {
    await t.db.withOwner((tx) => tx.query('SELECT 1'));
    const [, alone] = await roundTrips(() =>
      t.db.withOwner(async (tx) => {
        tx.defer('INSERT INTO last_probe (id) VALUES (10)');
        await tx.last('INSERT INTO last_probe (id) VALUES (11) RETURNING id');
      }),
    );
    expect(alone).toBe(1);
    const [, after] = await roundTrips(() =>
      t.db.withOwner(async (tx) => {
        const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM last_probe');
        await tx.last('INSERT INTO last_probe (id) VALUES ($1) RETURNING id', [100 + rows[0]!.n]);
      }),
    );
    expect(after).toBe(2);
  });

  test('nothing may be asked after it, on either database, and a read-only transaction has none', async () => {
    const after: string[] = [];
    await t.db.withOwner(async (tx) => {
      await tx.last('INSERT INTO last_probe (id) VALUES (20) RETURNING id');
      for (const ask of [() => tx.query('SELECT 1'), () => tx.exec('SELECT 1'), () => tx.defer('SELECT 1'), () => tx.last('SELECT 1')])
        await Promise.resolve()
          .then(ask)
          .then(
            () => after.push('ran'),
            (err: Error) => after.push(err.message),
          );
    });
    expect(after).toEqual(Array(4).fill(AFTER_LAST));
    expect(await ids(20, 20)).toEqual([{ id: 20 }]);
    await expect(t.db.withTenantRead('66666666-6666-4666-8666-666666666666', { requestId: null }, (tx) => tx.last('SELECT 1'))).rejects.toThrow(
      LAST_READ_ONLY,
    );
  });

  test('one that fails commits nothing of its transaction, even when the function goes on', async () => {
    const duplicate = (tx: Tx) => tx.last('INSERT INTO last_probe (id) VALUES (1) RETURNING id');
    await expect(
      t.db.withOwner(async (tx) => {
        tx.defer('INSERT INTO last_probe (id) VALUES (30)');
        await duplicate(tx);
      }),
    ).rejects.toThrow(/duplicate key/);
    await expect(
      t.db.withOwner(async (tx) => {
        await tx.query('INSERT INTO last_probe (id) VALUES (31)');
        await duplicate(tx).catch(() => 'caught');
        return 'went on';
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await ids(30, 31)).toEqual([]);
    // The connection is usable again.
    expect(await t.db.withOwner(async (tx) => (await tx.query<{ n: number }>('SELECT 1 AS n')).rows)).toEqual([{ n: 1 }]);
  });

  test('once it has succeeded, the transaction commits, and an error thrown after it still reaches the caller', async () => {
    await expect(
      t.db.withOwner(async (tx) => {
        await tx.last('INSERT INTO last_probe (id) VALUES (40) RETURNING id');
        throw new Error('after the last statement');
      }),
    ).rejects.toThrow('after the last statement');
    expect(await ids(40, 40)).toEqual([{ id: 40 }]);
  });
});

describe('values', () => {
  test("are never written into a statement's text, a held write's included: the server shows placeholders", async () => {
    const id = '77777777-7777-4777-8777-777777777777';
    const [read, held] = await t.db.withOwner(async (tx) => {
      await tx.exec('CREATE TABLE IF NOT EXISTS shown_probe (q text)');
      tx.defer('INSERT INTO shown_probe (q) SELECT current_query() WHERE $1::text IS NOT NULL', ['sk_live_secret hunter2']);
      const q = (await tx.query<{ q: string }>('SELECT current_query() AS q WHERE $1::uuid IS NOT NULL', [id])).rows[0]!.q;
      const h = (await tx.query<{ q: string }>('SELECT q FROM shown_probe')).rows[0]!.q;
      await tx.exec('DROP TABLE shown_probe');
      return [q, h];
    });
    expect(held).toContain('$1::text');
    expect(held).not.toContain('hunter2');
    expect(read).toBe('SELECT current_query() AS q WHERE $1::uuid IS NOT NULL');
  });

  test("a held write's are checked when it is held: placeholders outside quotes, names, bodies and comments, one value each, no NUL", () => {
    const sql = `SELECT '$1', E'\\'$1', "$1", $$ $1 $$, $tag$ $1 $tag$, $1 -- $1
      /* $1 /* $1 */ $1 */ , a$1`;
    expect(() => checkParams(sql, ['x'])).not.toThrow();
    expect(() => checkParams(sql, ['x', 'y'])).toThrow(/2 values for 1 placeholders/);
    expect(() => checkParams("SELECT '$1", ['x'])).toThrow(/unterminated/);
    expect(() => checkParams('SELECT $1, $2', ['x'])).toThrow(/no value for \$2/);
    expect(() => checkParams('SELECT $1', [['a', 'b\0']])).toThrow(/NUL/);
    expect(() => checkParams('SELECT $1::bytea', [Buffer.from([0, 1])])).not.toThrow();
  });
});

/** `fn`'s result, and its round trips to the server. */
async function roundTrips<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const trips = watchRoundTrips();
  try {
    return [await fn(), trips.count()];
  } finally {
    trips.stop();
  }
}

describe('statements asked together, then the last one', () => {
  test.runIf(serverUrl)('leave in one write with BEGIN and COMMIT', async () => {
    // The fewest of three tries: another app's background work in this process may add a write.
    let fewest = Infinity;
    for (let i = 0; i < 3; i++) {
      const watch = watchRoundTrips();
      try {
        const rows = await t.db.withOwner(async (tx) =>
          (await Promise.all([tx.query('SELECT 1 AS n'), tx.query('SELECT 2 AS n'), tx.last('SELECT 3 AS n')])).map((r) => r.rows[0]),
        );
        expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      } finally {
        watch.stop();
      }
      fewest = Math.min(fewest, watch.writes());
    }
    expect(fewest).toBe(1);
  });
});

describe('reads asked together', () => {
  // The text of the statement, as the server received it.
  const self = 'SELECT current_query() AS q';

  test.runIf(serverUrl)('go to the server in one round trip with BEGIN and what is held, each as asked, in the order asked', async () => {
    const id = '77777777-7777-4777-8777-777777777777';
    await t.db.withOwner((tx) => tx.query('SELECT 1'));
    const [shown, trips] = await roundTrips(() =>
      t.db.withOwner(async (tx) => {
        tx.defer('SELECT $1::int', [1]);
        return Promise.all([
          tx.query<{ q: string }>(self),
          tx.query<{ id: string; n: number }>('SELECT $1::uuid AS id, 2 AS n', [id]),
          tx.query<{ q: string }>(`${self} WHERE $1::text IS NOT NULL`, ['hunter2']),
          tx.query<{ q: string }>(self),
        ]);
      }),
    );
    // BEGIN, the held write and the four reads; then COMMIT.
    expect(trips).toBe(2);
    expect(shown[0].rows[0]!.q).toBe(self);
    expect(shown[1].rows).toEqual([{ id, n: 2 }]);
    expect(shown[2].rows[0]!.q).toBe(`${self} WHERE $1::text IS NOT NULL`);
    expect(shown[3].rows[0]!.q).toBe(self);
  });

  test.runIf(serverUrl)('in a read-only transaction, go with BEGIN and COMMIT in one round trip per batch, each batch scoped the same', async () => {
    const tenant = '66666666-6666-4666-8666-666666666666';
    const scope = "SELECT current_setting('app.tenant_id', true) AS tenant, current_setting('transaction_read_only') AS ro";
    await t.db.withTenantRead(tenant, { requestId: null }, (tx) => tx.query(scope));
    const [one, oneTrips] = await roundTrips(() =>
      t.db.withTenantRead(tenant, { requestId: null }, (tx) => Promise.all([tx.query(scope), tx.query('SELECT 2 AS n')])),
    );
    expect(oneTrips).toBe(1);
    expect(one[0].rows).toEqual([{ tenant, ro: 'on' }]);
    expect(one[1].rows).toEqual([{ n: 2 }]);
    const [two, twoTrips] = await roundTrips(() =>
      t.db.withTenantRead(tenant, { requestId: null }, async (tx) => [await tx.query(scope), await tx.query(scope)]),
    );
    expect(twoTrips).toBe(2);
    expect(two.map((r) => r.rows[0])).toEqual([
      { tenant, ro: 'on' },
      { tenant, ro: 'on' },
    ]);
  });

  test.runIf(serverUrl)('a read-only transaction whose read fails fails, and leaves no connection inside a transaction', async () => {
    const tenant = '66666666-6666-4666-8666-666666666666';
    for (let i = 0; i < 3; i++)
      await expect(
        t.db.withTenantRead(tenant, { requestId: null }, (tx) => Promise.all([tx.query('SELECT 1 / 0'), tx.query('SELECT 1')])),
      ).rejects.toThrow(/division by zero/);
    await expect(
      t.db.withTenantRead(tenant, { requestId: null }, (tx) => tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'x')", [tenant])),
    ).rejects.toThrow(/read-only transaction/);
    const open = await t.db.withOwner((tx) =>
      tx.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
      ),
    );
    expect(open.rows).toEqual([{ n: 0 }]);
    expect((await t.db.withTenantRead(tenant, { requestId: null }, (tx) => tx.query('SELECT 3 AS n'))).rows).toEqual([{ n: 3 }]);
  });

  test('a read-only transaction refuses to change a setting, which its later statements might not see; others may', async () => {
    const tenant = '66666666-6666-4666-8666-666666666666';
    const read = <T>(fn: (tx: Tx) => Promise<T>) => t.db.withTenantRead(tenant, { requestId: null }, fn);
    await expect(read((tx) => tx.query("SET LOCAL statement_timeout = '1s'"))).rejects.toThrow(/cannot change a setting/);
    await expect(read((tx) => tx.exec('RESET statement_timeout'))).rejects.toThrow(/cannot change a setting/);
    await expect(read((tx) => tx.query("SELECT set_config('app.request_id', 'x', true)"))).rejects.toThrow(/cannot change a setting/);
    expect((await read((tx) => tx.query<{ ok: boolean }>("SELECT current_setting('app.tenant_id') = $1 AS ok", [tenant]))).rows).toEqual([
      { ok: true },
    ]);
    const { rows } = await t.db.withTenant(tenant, { requestId: null }, async (tx) => {
      await tx.query("SET LOCAL statement_timeout = '1s'");
      return tx.query<{ statement_timeout: string }>('SHOW statement_timeout');
    });
    expect(rows).toEqual([{ statement_timeout: '1s' }]);
  });

  test('keep their order with the writes around them, and one failing fails the others and the transaction', async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE IF NOT EXISTS batch_order (n serial PRIMARY KEY, v text NOT NULL)'));
    await t.db.withOwner(async (tx) => {
      await Promise.all([
        tx.query("INSERT INTO batch_order (v) VALUES ('a')"),
        tx.query('INSERT INTO batch_order (v) VALUES ($1)', ['b: a text value']),
        tx.query("INSERT INTO batch_order (v) VALUES ('c')"),
      ]);
      tx.defer("INSERT INTO batch_order (v) VALUES ('d')");
      await tx.query("INSERT INTO batch_order (v) VALUES ('e')");
    });
    const failed = t.db.withOwner((tx) =>
      Promise.all([tx.query("INSERT INTO batch_order (v) VALUES ('lost')"), tx.query('SELECT 1 / 0'), tx.query('SELECT 1')]),
    );
    await expect(failed).rejects.toThrow(/division by zero/);
    const { rows } = await t.db.withOwner((tx) => tx.query<{ v: string }>('SELECT v FROM batch_order ORDER BY n'));
    expect(rows.map((r) => r.v)).toEqual(['a', 'b: a text value', 'c', 'd', 'e']);
  });
  test('a transaction that fails with a statement still waiting for its batch never sends it, there or to the next transaction', async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE IF NOT EXISTS batch_order (n serial PRIMARY KEY, v text NOT NULL)'));
    const failing = t.db.withOwner(async (tx) => {
      await Promise.all([tx.query("INSERT INTO batch_order (v) VALUES ('after the failure')"), Promise.reject(new Error('the caller failed'))]);
    });
    await expect(failing).rejects.toThrow('the caller failed');
    await new Promise((r) => setTimeout(r, 20));
    // The next transactions (on the connection just given back) commit only their own work.
    for (let i = 0; i < 3; i++) await t.db.withOwner((tx) => tx.query('SELECT count(*) FROM batch_order'));
    const { rows } = await t.db.withOwner((tx) => tx.query<{ v: string }>("SELECT v FROM batch_order WHERE v = 'after the failure'"));
    expect(rows).toEqual([]);
  });
});

describe('reads carried from one transaction into the next (tx-memo.ts)', () => {
  const tenant = '88888888-8888-4888-8888-888888888888';
  const other = '99999999-9999-4999-8999-999999999999';
  const CARRIED = carryableRead('test-carried');

  test.runIf(serverUrl)('a transaction that asks the server nothing costs no round trip; one of held writes only, one', async () => {
    await t.db.withOwner((tx) => tx.exec('CREATE TABLE IF NOT EXISTS held_only (v text NOT NULL)'));
    expect((await roundTrips(() => t.db.withTenantRead(tenant, { requestId: null }, async () => 'nothing asked')))[1]).toBe(0);
    expect((await roundTrips(() => t.db.withOwner(async (tx) => tx.defer("INSERT INTO held_only VALUES ('kept')"))))[1]).toBe(1);
    const { rows } = await t.db.withOwner((tx) => tx.query<{ v: string }>('SELECT v FROM held_only'));
    expect(rows).toEqual([{ v: 'kept' }]);
  });

  test.skipIf(serverUrl)(
    'on the embedded database, a transaction that asks nothing is not opened; one of held writes only still commits',
    async () => {
      await t.db.withOwner((tx) => tx.exec('CREATE TABLE IF NOT EXISTS held_only_embedded (v text NOT NULL)'));
      const calls = watchEmbeddedCalls();
      try {
        expect(await t.db.withTenantRead(tenant, { requestId: null }, async () => 'nothing asked')).toBe('nothing asked');
        expect(await t.db.withTenant(tenant, { requestId: null }, async () => 'nothing asked')).toBe('nothing asked');
        expect(calls.count()).toBe(0);
        await t.db.withOwner(async (tx) => tx.defer("INSERT INTO held_only_embedded VALUES ('kept')"));
        expect(calls.count()).toBeGreaterThan(0);
      } finally {
        calls.stop();
      }
      const { rows } = await t.db.withOwner((tx) => tx.query<{ v: string }>('SELECT v FROM held_only_embedded'));
      expect(rows).toEqual([{ v: 'kept' }]);
    },
  );

  test('a carried read is not asked again, a lock or any other memo is not carried, and only into the same tenant', async () => {
    const carried = await t.db.withTenant(tenant, { requestId: null }, async (tx) => {
      await oncePerTx(tx, CARRIED, async () => (await tx.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]!.n);
      await oncePerTx(tx, 'test-not-carried', async () => 'a lock, say');
      return carryReads(tx, tenant);
    });
    const [seen, trips] = await roundTrips(() =>
      t.db.withTenantRead(
        tenant,
        { requestId: null },
        async (tx) => ({
          carried: await oncePerTx(tx, CARRIED, () => Promise.reject(new Error('asked again'))),
          other: memoInTx(tx, 'test-not-carried'),
        }),
        carried,
      ),
    );
    expect(seen).toEqual({ carried: 42, other: undefined });
    if (serverUrl) expect(trips).toBe(0);
    await expect(t.db.withTenantRead(other, { requestId: null }, async () => 'read', carried)).rejects.toThrow(/same tenant/);
  });
});

describe('a connection the server ends during a transaction (PostgreSQL)', () => {
  test.runIf(serverUrl)('fails that transaction only: the process goes on and the pool serves the next one', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const work = t.db.withOwner(async (tx) => {
        const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        // Ended from outside (a failover, a restart, an operator) while this transaction waits between statements.
        await t.db.withOwner((other) => other.query('SELECT pg_terminate_backend($1)', [pid]));
        await new Promise((r) => setTimeout(r, 200));
        await tx.query('SELECT 1');
      });
      await expect(work).rejects.toThrow();
      expect(uncaught).toEqual([]);
      expect((await t.db.withOwner((tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).rows[0]!.one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
