// A real server for HTTP tests: the Express app on an ephemeral port over a fresh test database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type AppDeps } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { answerClientErrors } from '../http/client-error.js';
import { redisLimitStores } from '../http/limit-store.js';
import { listenForChanges, wireRuntime, type Heard, type Runtime } from '../runtime.js';
import { createTenant, type CreatedTenant } from '../tenants/service.js';
import { parleyOrigins } from './contract.js';
import { createTestDb, type TestDb } from './db.js';

export interface TestApp {
  url: string;
  app: import('express').Express;
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

export async function startTestApp(
  env: Record<string, string> = {},
  opts: Pick<AppDeps, 'modelFor' | 'retrieve' | 'embeddingModelFor' | 'vectors' | 'mailer'> &
    Partial<Pick<AppDeps, 'logger' | 'limits'>> & {
      /** This test database (not closed with this app) instead of a new one. */
      shareDb?: TestDb;
      /** Another instance of that app's deployment: its config (keys, public URL) and database. */
      instanceOf?: TestApp;
    } = {},
): Promise<TestApp> {
  // Listen first, so the app's public URL is the address tests (and browsers) reach it at: console
  // cookies, CSRF origin checks and SSO redirect URIs all depend on it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  parleyOrigins.add(url);
  const { shareDb: sharedDb, instanceOf, ...deps } = opts;
  const config = instanceOf ? instanceOf.config : testConfig({ ...(env.PORT ? {} : { PARLEY_PUBLIC_URL: url }), ...env });
  const shareDb = instanceOf ? instanceOf.testDb : sharedDb;
  const testDb = shareDb ?? (await createTestDb({ replica: config.databaseReadUrl }));
  const runtime = wireRuntime(config, testDb.db);
  const logger = deps.logger ?? pino({ level: 'silent' });
  const limits = deps.limits ? undefined : config.redisUrl ? await redisLimitStores(config.redisUrl, config.redisKeyPrefix, logger) : undefined;
  const app = createApp({ config, db: runtime.db, audit: runtime.audit, logger, keyring: runtime.keyring, limits, ...deps });
  server.on('request', app);
  answerClientErrors(server);
  // As `serve` does: other instances' events and key changes reach this one (runtime.ts).
  const stopListening = await listenForChanges(runtime.db, testDb.url ?? null, app.locals.heard as Heard, logger);
  return {
    url,
    app,
    runtime,
    testDb,
    config,
    tenant: (name = 'Acme', domains = ['acme.example']) =>
      createTenant(
        { db: runtime.db, audit: runtime.audit, env: config.env },
        { name, domains },
        { requestId: null, actor: { type: 'cli', id: 'test' } },
      ),
    async close() {
      // Its port may go to a server of another kind later in this worker, whose answers are not the contract's.
      parleyOrigins.delete(url);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stopListening();
      await limits?.close();
      await runtime.audit.integrator?.stop();
      if (!shareDb) await testDb.close();
    },
  };
}
