// A real server for HTTP tests: the Express app on an ephemeral port over a fresh test database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type AppDeps } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { answerClientErrors } from '../http/client-error.js';
import { wireRuntime, type Runtime } from '../runtime.js';
import { createTenant, type CreatedTenant } from '../tenants/service.js';
import { createTestDb, type TestDb } from './db.js';

export interface TestApp {
  url: string;
  runtime: Runtime;
  testDb: TestDb;
  config: Config;
  tenant(name?: string, domains?: string[]): Promise<CreatedTenant>;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    PARLEY_ENV: 'development',
    PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-test-')),
    PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
    PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    PARLEY_RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
  });
}

export async function startTestApp(env: Record<string, string> = {}, opts: Pick<AppDeps, 'modelFor' | 'retrieve' | 'embeddingModelFor' | 'vectors'> = {}): Promise<TestApp> {
  const config = testConfig(env);
  const testDb = await createTestDb();
  const runtime = wireRuntime(config, testDb.db);
  const app = createApp({ config, db: runtime.db, audit: runtime.audit, logger: pino({ level: 'silent' }), keyring: runtime.keyring, ...opts });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    runtime,
    testDb,
    config,
    tenant: (name = 'Acme', domains = ['acme.example']) =>
      createTenant({ db: runtime.db, audit: runtime.audit, env: config.env }, { name, domains }, { requestId: null, actor: { type: 'cli', id: 'test' } }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await testDb.close();
    },
  };
}
