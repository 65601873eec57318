// Test databases: PGlite in memory by default; a fresh database on a real server when
// PARLEY_TEST_DATABASE_URL points at one (CI runs every suite both ways).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDb, runMigrations, type ParleyDb } from '../db/index.js';

export const serverUrl = process.env.PARLEY_TEST_DATABASE_URL || null;

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
  let db = await openDb({ url: url ?? 'memory://' });
  if (opts.migrate !== false) await runMigrations(db);
  if (url && opts.migrate !== false) {
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
      await db.close();
      if (name) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
