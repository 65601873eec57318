// The read path against a real hot standby. On a PostgreSQL server only (PARLEY_TEST_DATABASE_URL): the test
// makes a streaming standby of that server with pg_basebackup -R in a temporary folder, starts it with the
// server's own binaries on a free port (as the `postgres` OS user when run as root: PostgreSQL refuses to
// run as root), and removes it afterwards. It changes no server configuration: the server must already
// accept replication connections from 127.0.0.1 (pg_hba.conf), or the test says so and fails.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, type MockInstance, test, vi } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { createTestDb, serverUrl } from '../test/db.js';
import { call } from '../test/http.js';
import { openDb } from './index.js';
import { MAX_LAG_MS, ReadRouting, RETRY_MS } from './replica.js';

describe('read routing', () => {
  const tenant = '55555555-5555-4555-8555-555555555555';
  const other = '66666666-6666-4666-8666-666666666666';
  const setup = () => {
    let now = 1_000;
    const log = { warn: vi.fn(), info: vi.fn() };
    return { r: new ReadRouting(log, () => now), log, tick: (ms: number) => (now += ms) };
  };

  test("a tenant's reads wait for the replay of its own writes; other tenants' do not", () => {
    const { r } = setup();
    r.wrote(tenant, '0/3000100');
    expect(r.mayServe(tenant, '0/3000000')).toBe(false);
    expect(r.mayServe(other, '0/3000000')).toBe(true);
    expect(r.mayServe(tenant, '0/3000100')).toBe(true);
    // Platform work may touch any tenant.
    r.wrote(null, '1/0');
    expect(r.mayServe(other, '0/FFFFFFFF')).toBe(false);
    expect(r.mayServe(other, '1/0')).toBe(true);
  });

  test('a replica behind a write for longer than the bound is skipped, logged once, and tried again later', () => {
    const { r, log, tick } = setup();
    r.wrote(tenant, '0/5000000');
    tick(MAX_LAG_MS + 1);
    expect(r.mayServe(other, '0/4000000')).toBe(false);
    expect(r.usable()).toBe(false);
    tick(RETRY_MS);
    expect(r.usable()).toBe(true);
    expect(r.mayServe(other, '0/4000000')).toBe(false);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(r.mayServe(other, '0/5000000')).toBe(true);
    expect(log.info).toHaveBeenCalledTimes(1);
  });

  test('an unreachable replica is skipped until the retry, logged once', () => {
    const { r, log, tick } = setup();
    r.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    r.failed(new Error('again'));
    expect(r.usable()).toBe(false);
    tick(RETRY_MS);
    expect(r.usable()).toBe(true);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});

async function query<R = any>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as R[];
  } finally {
    await c.end();
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Runs a PostgreSQL program as the `postgres` OS user when we are root, else as ourselves. */
function asPostgres(cmd: string, args: string[]) {
  const root = process.getuid?.() === 0;
  const r = root ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** A hot standby of the test server, streaming from it. */
class Standby {
  readonly dir = mkdtempSync(join(tmpdir(), 'parley-standby-'));
  readonly data = join(this.dir, 'data');
  port = 0;
  running = false;
  private bin = '';

  constructor(private readonly primary: string) {}

  /** A URL of the standby with the primary's user, for database `db`. */
  url(db = 'postgres'): string {
    const u = new URL(this.primary);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.pathname = `/${db}`;
    return u.toString();
  }

  async start() {
    const [v] = await query<{ major: string }>(this.primary, "SELECT current_setting('server_version_num')::int / 10000 AS major");
    this.bin = `/usr/lib/postgresql/${v!.major}/bin`;
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(this.dir, uid, uid);
    }
    const p = new URL(this.primary);
    const backup = asPostgres(join(this.bin, 'pg_basebackup'), [
      '-h',
      p.hostname,
      '-p',
      p.port || '5432',
      '-U',
      decodeURIComponent(p.username || 'postgres'),
      '-D',
      this.data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    if (!backup.ok) {
      const hba = /pg_hba\.conf entry for replication/.test(backup.out);
      throw new Error(
        hba
          ? `The PostgreSQL server at ${p.host} refuses replication connections from 127.0.0.1, so no standby can be made ` +
              `for this test. Allow them in its pg_hba.conf (e.g. "host replication all 127.0.0.1/32 trust") and reload it; ` +
              `the test does not change server configuration itself.\n${backup.out}`
          : `pg_basebackup failed:\n${backup.out}`,
      );
    }
    // A hot standby needs these at least as high as on the primary.
    const settings = await query<{ name: string; setting: string }>(
      this.primary,
      "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')",
    );
    // Debian keeps a cluster's configuration outside its data folder; the standby gets its own.
    const conf = ['hot_standby = on', ...settings.map((s) => `${s.name} = ${s.setting}`)];
    writeFileSync(join(this.data, 'postgresql.conf'), `${conf.join('\n')}\n`);
    writeFileSync(join(this.data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    this.port = await freePort();
    const started = asPostgres(join(this.bin, 'pg_ctl'), [
      '-D',
      this.data,
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir}`,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    if (!started.ok) throw new Error(`the standby did not start:\n${started.out}`);
    this.running = true;
    const [r] = await query<{ recovery: boolean }>(this.url(), 'SELECT pg_is_in_recovery() AS recovery');
    if (!r!.recovery) throw new Error('the standby is not in recovery');
  }

  /** Waits until the standby has replayed everything the primary has written so far. */
  async caughtUp() {
    const [head] = await query<{ lsn: string }>(this.primary, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const lsn = head!.lsn;
    for (let i = 0; i < 300; i++) {
      const [r] = await query<{ done: boolean }>(this.url(), 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
      if (r!.done) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('the standby did not catch up within 30 s');
  }

  pauseReplay = () => query(this.url(), 'SELECT pg_wal_replay_pause()');
  resumeReplay = () => query(this.url(), 'SELECT pg_wal_replay_resume()');

  stop() {
    if (this.running) asPostgres(join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
    this.running = false;
  }

  remove() {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!serverUrl)('the read replica (a hot standby of the test server)', () => {
  let standby: Standby;
  let t: TestApp;
  let a: CreatedTenant;
  let owner: string;
  let warn: MockInstance<typeof console.warn>;
  const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: a.secretKey, body });
  const search = async (q: string) => {
    const res = await admin('POST', '/knowledge/search', { query: q, limit: 5 });
    expect(res.status).toBe(200);
    return res.body.results as { title: string; text: string }[];
  };
  const addDoc = async (externalId: string, content: string) => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'markdown', content, externalId });
    expect(res.status).toBe(201);
  };
  /** The tenant's chunk titles as the standby itself holds them. */
  const onStandby = async () =>
    (
      await query<{ title: string }>(
        standby.url(new URL(owner).pathname.slice(1)),
        'SELECT title FROM knowledge_chunks WHERE tenant_id = $1 ORDER BY title',
        [a.tenant.id],
      )
    ).map((r) => r.title);

  beforeAll(async () => {
    // The database's log of the replica's state (the app's own logger is silent in tests).
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    standby = new Standby(serverUrl!);
    await standby.start();
    t = await startTestApp({ DATABASE_URL: serverUrl!, DATABASE_READ_URL: standby.url() });
    owner = t.testDb.url!;
    a = await t.tenant('Replica Shop', ['replica.example']);
    await addDoc('delivery', '# Delivery\n\nParcels to Lisbon arrive within three business days.');
    await standby.caughtUp();
  }, 120_000);

  // Each test starts with replay running, whatever the one before left.
  afterEach(async () => {
    if (standby.running) await standby.resumeReplay();
  });

  afterAll(async () => {
    await t?.close();
    standby?.remove();
    warn?.mockRestore();
  });

  test('a knowledge search over HTTP is served by the standby', async () => {
    // A read transaction of the app's read path is on a server in recovery.
    expect(
      await t.runtime.db.withTenantRead(a.tenant.id, { requestId: null }, async (tx) => (await tx.query('SELECT pg_is_in_recovery() AS r')).rows[0]),
    ).toEqual({
      r: true,
    });
    // Searched before, so that the instance holds a copy of the index (built in the background) and its passage.
    await search('parcels Lisbon');
    await new Promise((r) => setTimeout(r, 500));
    expect((await search('parcels Lisbon'))[0]!.title).toBe('Delivery');
    // Freeze the standby, then change the primary behind the app's back: only the standby still has the old
    // title. The index's version moves with it, as with every change the app makes to knowledge (an
    // instance's copy of the index, and the passages it keeps, are of one version).
    await standby.pauseReplay();
    await query(
      owner,
      `WITH changed AS (UPDATE knowledge_chunks SET title = 'Changed on the primary' WHERE tenant_id = $1 RETURNING 1)
       UPDATE knowledge_stats SET version = version + 1 WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM changed)`,
      [a.tenant.id],
    );
    expect((await search('parcels Lisbon'))[0]!.title).toBe('Delivery');
    await standby.resumeReplay();
    await standby.caughtUp();
    expect((await search('parcels Lisbon'))[0]!.title).toBe('Changed on the primary');
  });

  test('writes go to the primary; the read path never writes, even on a writable server', async () => {
    await standby.pauseReplay();
    await addDoc('returns', '# Returns\n\nUnworn items can be returned within 30 days.');
    // On the primary, not (yet) on the paused standby: the write did not go through it.
    expect(await query(owner, "SELECT 1 FROM knowledge_sources WHERE tenant_id = $1 AND external_id = 'returns'", [a.tenant.id])).toHaveLength(1);
    expect(await onStandby()).not.toContain('Returns');
    await expect(
      t.runtime.db.withTenantRead(a.tenant.id, { requestId: null }, (tx) => tx.query('UPDATE knowledge_chunks SET title = title')),
    ).rejects.toMatchObject({ code: '25006' });
    // The read pool's transactions are READ ONLY whatever the server: pointed at the (writable) primary, still no write.
    const loose = await createTestDb();
    const app = new URL(loose.url!);
    app.username = 'parley_app';
    const db = await openDb({ url: app.toString(), ownerUrl: loose.url!, readUrl: app.toString() });
    try {
      const id = '33333333-3333-4333-8333-333333333333';
      const read = (sql: string) => db.withTenantRead(id, { requestId: null }, (tx) => tx.query(sql));
      expect((await read("SELECT current_setting('transaction_read_only') AS ro, pg_is_in_recovery() AS rec")).rows[0]).toEqual({
        ro: 'on',
        rec: false,
      });
      await expect(read("INSERT INTO tenants (id, name) VALUES ('33333333-3333-4333-8333-333333333333', 'x')")).rejects.toMatchObject({
        code: '25006',
      });
    } finally {
      await db.close();
      await loose.close();
    }
  });

  test("read-your-writes: right after an admin adds a document, the admin's search finds it though the standby has not replayed it", async () => {
    await standby.caughtUp();
    await standby.pauseReplay();
    await addDoc('lockers', '# Lockers\n\nPick up your order from a parcel locker with the code we text you.');
    expect(await onStandby()).not.toContain('Lockers');
    expect((await search('parcel locker code'))[0]!.title).toBe('Lockers');
    // The admin lists read the same way.
    const sources = (await admin('GET', '/knowledge/sources')).body.sources as { externalId: string }[];
    expect(sources.map((s) => s.externalId)).toContain('lockers');
  });

  test('with the standby down, reads fall back to the primary, and that is logged once', async () => {
    await standby.caughtUp();
    standby.stop();
    warn.mockClear();
    expect((await search('parcel locker code'))[0]!.title).toBe('Lockers');
    expect((await search('returned within 30 days'))[0]!.title).toBe('Returns');
    expect((await admin('GET', '/audit?limit=5')).status).toBe(200);
    expect(warn.mock.calls.filter(([msg]) => String(msg).includes('read replica unavailable'))).toHaveLength(1);
  });
});
