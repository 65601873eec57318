// The running server schedules the retention sweep by itself (under its lease).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../server.js';
import { testConfig } from '../test/app.js';
import { createTestDb, serverUrl, type TestDb } from '../test/db.js';

let running: RunningServer;
let testDb: TestDb | null = null;

beforeAll(async () => {
  if (serverUrl) testDb = await createTestDb({ migrate: false });
  const config = testConfig({ PORT: '0', PARLEY_SWEEP_INTERVAL_MS: '1000', ...(testDb ? { DATABASE_URL: testDb.url! } : {}) });
  running = await startServer(config, { logger: (await import('pino')).pino({ level: 'silent' }) });
});
afterAll(async () => {
  await running?.close();
  await testDb?.close();
});

test('expired rows disappear without anyone calling the sweep', async () => {
  const tenant = '0b8c4c1e-8a0e-4f44-9a51-3c1f0d1c9a02';
  const q = (sql: string, params: unknown[] = []) => running.runtime.db.withOwner((tx) => tx.query<any>(sql, params));
  await q("INSERT INTO tenants (id, name) VALUES ($1, 'Scheduled')", [tenant]);
  await q(
    "INSERT INTO identity_token_uses (tenant_id, jti, expires_at) VALUES ($1, 'old', now() - interval '1 day'), ($1, 'live', now() + interval '5 minutes')",
    [tenant],
  );
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = (await q('SELECT jti FROM identity_token_uses ORDER BY jti')).rows.map((r) => r.jti);
    if (left.length === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(left).toEqual(['live']);
});
