// The parley CLI as an operator runs it: a real process on a real embedded database (or the server).
import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDb } from '../db/index.js';
import { serverUrl, createTestDb, type TestDb } from '../test/db.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const serverDir = fileURLToPath(new URL('../../', import.meta.url));

let dataDir: string;
let testDb: TestDb | null = null;
let env: Record<string, string>;

async function parley(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=parley-source', '--import', 'tsx', main, ...args], {
      cwd: serverDir,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** As the database owner, outside the app: the attacker with a database console. */
async function asOwner(sql: string[]): Promise<void> {
  if (testDb) {
    await testDb.db.withOwner(async (tx) => {
      for (const s of sql) await tx.query(s);
    });
    return;
  }
  const pg = await PGlite.create(join(dataDir, 'db'));
  try {
    for (const s of sql) await pg.query(s);
  } finally {
    await pg.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  env = { PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  if (serverUrl) {
    testDb = await createTestDb({ migrate: false });
    env.DATABASE_URL = testDb.url!;
  }
});
afterAll(() => testDb?.close());

describe('parley CLI', () => {
  let tenantId: string;

  test('migrate, then tenants create --json prints the tenant and keys once', async () => {
    const m = await parley('migrate');
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/applied: 001_foundation.sql/);
    const created = await parley('tenants', 'create', '--name', 'Acme', '--domain', 'acme.example', '*.acme.example', '--json');
    expect(created.code, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(out).toEqual({
      tenant: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Acme' },
      publishableKey: expect.stringMatching(/^pk_test_/),
      secretKey: expect.stringMatching(/^sk_test_/),
    });
    tenantId = out.tenant.id;
  });

  test('a bad domain is refused with a clear message and nothing is created', async () => {
    const res = await parley('tenants', 'create', '--name', 'Bad', '--domain', 'https://x.example/path', '--json');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/not valid|path/);
  });

  test('audit verify --json recomputes the logs', async () => {
    const one = await parley('audit', 'verify', '--tenant', tenantId, '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ ok: true, entries: 5, root: expect.stringMatching(/^[0-9a-f]{64}$/), firstBadIndex: null });
    const all = await parley('audit', 'verify', '--json');
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ ok: true });
  });

  test('a row edited as the owner makes verify fail at that index', async () => {
    await asOwner([
      'ALTER TABLE audit_entries DISABLE TRIGGER USER',
      `UPDATE audit_entries SET actor_id = 'someone-else' WHERE tenant_id = '${tenantId}' AND seq = 3`,
      'ALTER TABLE audit_entries ENABLE TRIGGER USER',
    ]);
    const res = await parley('audit', 'verify', '--tenant', tenantId, '--json');
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, firstBadIndex: 3 });
  });

  // Only the embedded database is single-process; a server takes any number of clients.
  if (!serverUrl) test('the embedded database refuses a second process clearly instead of hanging', async () => {
    const holder = await openDb({ url: join(dataDir, 'db') });
    try {
      const started = Date.now();
      const res = await parley('tenants', 'create', '--name', 'Blocked', '--json');
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/in use by another Parley process \(pid \d+\)/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await holder.close();
    }
  });
});
