// Test databases: PGlite in memory by default; a fresh database on a real server when
// PARLEY_TEST_DATABASE_URL points at one (CI runs every suite both ways).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';
import { type DbOptions, openDb, runMigrations, type ParleyDb } from '../db/index.js';
import { loadMigrations } from '../db/migrate.js';

export const serverUrl = process.env.PARLEY_TEST_DATABASE_URL || null;

/**
 * Opens an owner transaction on `db`, runs `statement` in it (a lock, an xid) and keeps it open until the
 * returned function is called, which ends it: for tests of what waits behind an open transaction.
 */
export async function holdOpen(db: ParleyDb, statement: string): Promise<() => Promise<void>> {
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  const done = db.withOwner(async (tx) => {
    await tx.query(statement);
    holding();
    await new Promise<void>((r) => (release = r));
  });
  await held;
  return async () => {
    release();
    await done;
  };
}

export interface TestDb {
  db: ParleyDb;
  /** The database URL (postgres) or null for the in-memory embedded one. */
  url: string | null;
  close(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl! });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// An embedded database costs ~3 s to create and migrate, most of it initdb; one started from a dump of a
// migrated one ~1 s. The dump is kept in the temp folder, named by the migrations and the engine that wrote
// it, so every test file (and the next run) starts from it; a different set of either makes a new one.

/** The engine's own files, beside each package's entry: PGlite's WASM, its data file and initdb, and pgvector. */
const ENGINE_FILES = [
  ['@electric-sql/pglite', ['pglite.wasm', 'pglite.data', 'initdb.wasm']],
  ['@electric-sql/pglite-pgvector', ['vector.tar.gz']],
] as const;

/**
 * A hash of the engine's bytes (~16 MB, ~0.1 s), not of a version string: a rebuilt or patched package
 * makes a new dump too. Taken once per process (the server project does not isolate modules), and only
 * when an embedded database is made.
 */
function engineHash(): string {
  const require = createRequire(import.meta.url);
  const hash = createHash('sha256');
  for (const [pkg, files] of ENGINE_FILES) {
    const dist = dirname(require.resolve(pkg));
    for (const file of files) hash.update(`${pkg}/${file}\0`).update(readFileSync(join(dist, file)));
  }
  return hash.digest('hex');
}
let migrated: Promise<Blob> | null = null;

function migratedDump(): Promise<Blob> {
  migrated ??= (async () => {
    const key = createHash('sha256')
      .update(engineHash())
      .update(
        loadMigrations()
          .map((m) => `${m.name}:${m.checksum}`)
          .join('\n'),
      )
      .digest('hex')
      .slice(0, 16);
    const file = join(tmpdir(), `parley-pglite-${key}.tar`);
    try {
      return new Blob([readFileSync(file)]);
    } catch {
      const db = await openDb({ url: 'memory://' });
      await runMigrations(db);
      const dump = await db.dump();
      await db.close();
      for (const old of readdirSync(tmpdir()).filter((f) => /^parley-pglite-[0-9a-f]{16}\.tar$/.test(f) && !file.endsWith(f)))
        rmSync(join(tmpdir(), old), { force: true });
      // Written whole, then renamed: another worker reads either no file or a complete one.
      const part = `${file}.${process.pid}.part`;
      writeFileSync(part, Buffer.from(await dump.arrayBuffer()));
      renameSync(part, file);
      return dump;
    }
  })();
  return migrated;
}

/**
 * A new data folder (PARLEY_DATA_DIR) for a `parley` child process. On the embedded database its database
 * starts from the migrated dump createTestDb uses, so the child skips the migrations a fresh folder runs
 * (seconds per process); against a server the folder holds only the development keys, as before.
 */
export async function newDataDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!serverUrl) {
    // As db/pglite.ts opens it (pgvector loaded), so the folder opens there as one it wrote itself.
    const pg = await PGlite.create(join(dir, 'db'), { extensions: { vector }, loadDataDir: await migratedDump() });
    await pg.close();
  }
  return dir;
}

/**
 * The embedded database in a new data folder, opened as `npm start` opens it (`upkeepEveryMs`: see
 * DbOptions); closing it removes the folder. For benchmarks of what `npm start` runs.
 */
export async function createFolderDb(prefix: string, opts: Pick<DbOptions, 'upkeepEveryMs'> = {}): Promise<TestDb> {
  const dir = await newDataDir(prefix);
  const db = await openDb({ url: join(dir, 'db'), ...opts });
  await runMigrations(db);
  return {
    db,
    url: null,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `replica`: a server streaming from PARLEY_TEST_DATABASE_URL's (any database name); the test database's
 * reads then go to that database on it, as parley_app.
 */
export async function createTestDb(opts: { migrate?: boolean; replica?: string | null } = {}): Promise<TestDb> {
  let url: string | null = null;
  let name: string | null = null;
  if (serverUrl) {
    name = `parley_test_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    url = u.toString();
  }
  const migrate = opts.migrate !== false;
  let db = await openDb(url ? { url } : { url: 'memory://', ...(migrate ? { from: await migratedDump() } : {}) });
  if (migrate) await runMigrations(db);
  if (url && migrate) {
    // As in production: requests on their own login role, the owner only for migrations and platform work.
    await admin((c) =>
      c
        .query("DO $$ BEGIN IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'parley_app') THEN ALTER ROLE parley_app LOGIN; END IF; END $$")
        .catch(() => {}),
    );
    await db.close();
    const app = new URL(url);
    app.username = 'parley_app';
    let readUrl: string | null = null;
    if (opts.replica) {
      const read = new URL(opts.replica);
      read.pathname = `/${name}`;
      read.username = 'parley_app';
      readUrl = read.toString();
    }
    db = await openDb({ url: app.toString(), ownerUrl: url, readUrl });
  }
  return {
    db,
    url,
    async close() {
      try {
        await db.close();
      } finally {
        // Also when the test closed the pool itself first (a database gone under the app), and ending it again fails.
        if (name) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      }
    },
  };
}
