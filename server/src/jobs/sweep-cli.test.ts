// `parley sweep` as an operator runs it: a real process on the database, deleting what has expired.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDb, runMigrations, type ParleyDb } from '../db/index.js';
import { serverUrl, createTestDb, newDataDir, type TestDb } from '../test/db.js';
import { cliArgv, serverDir } from '../test/serve.js';

const run = promisify(execFile);
let env: Record<string, string>;
let testDb: TestDb | null = null;
let dataDir: string;

beforeAll(async () => {
  dataDir = await newDataDir('parley-sweep-');
  env = { PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  if (serverUrl) {
    testDb = await createTestDb({ migrate: false });
    env.DATABASE_URL = testDb.url!;
  }
});
afterAll(() => testDb?.close());

async function owner<T>(fn: (db: ParleyDb) => Promise<T>): Promise<T> {
  if (testDb) return fn(testDb.db);
  const db = await openDb({ url: join(dataDir, 'db') });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

test('parley sweep deletes expired one-time token ids and keeps live ones', async () => {
  const tenant = '7d0c7e55-5a8e-4d55-9d51-2b1f0d1c9a01';
  await owner(async (db) => {
    await runMigrations(db);
    await db.withOwner(async (tx) => {
      await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Sweep')", [tenant]);
      await tx.query(
        "INSERT INTO identity_token_uses (tenant_id, jti, expires_at) VALUES ($1, 'old', now() - interval '2 days'), ($1, 'live', now() + interval '5 minutes')",
        [tenant],
      );
    });
  });
  const { stdout } = await run(process.execPath, cliArgv(['sweep', '--json']), {
    cwd: serverDir,
    env: { ...process.env, ...env },
    timeout: 150_000,
  });
  expect(JSON.parse(stdout)).toMatchObject({ ran: true, deleted: { identity_token_uses: 1 } });
  const left = await owner((db) => db.withOwner((tx) => tx.query<{ jti: string }>('SELECT jti FROM identity_token_uses')));
  expect(left.rows.map((r) => r.jti)).toEqual(['live']);
}, 180_000);
