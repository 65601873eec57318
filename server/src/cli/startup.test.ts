// What an instance loads at start: the optional adapters (Redis, Pinecone, AWS KMS, PDFKit, SAML, passkeys)
// load when first used, so a deployment that does not use them never pays for them at start.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDb, newDataDir, serverUrl, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { serveChild } from '../test/serve.js';

const deny = fileURLToPath(new URL('../test/deny-modules.mjs', import.meta.url));
const OPTIONAL = [
  'redis',
  'rate-limit-redis',
  '@pinecone-database/pinecone',
  '@aws-sdk/client-kms',
  'pdfkit',
  '@node-saml/node-saml',
  '@simplewebauthn/server',
];

let env: Record<string, string>;
let testDb: TestDb | null = null;

beforeAll(async () => {
  env = { PARLEY_DATA_DIR: await newDataDir('parley-startup-'), LOG_LEVEL: 'warn', PORT: '0', PARLEY_TEST_DENY_MODULES: OPTIONAL.join(',') };
  if (serverUrl) {
    testDb = await createTestDb();
    env.DATABASE_URL = testDb.url!;
  }
});
afterAll(() => testDb?.close());

test('serve starts and answers without loading any optional adapter; the guard stops one that a setting needs', async () => {
  const served = await serveChild(env, ['--import', deny]);
  try {
    expect((await call(served.url, 'GET', '/healthz')).status).toBe(200);
  } finally {
    await served.stop();
  }
  expect(served.log()).not.toMatch(/denied module/);
  // The guard bites: with REDIS_URL set the Redis client is loaded at start (before any connection, so no
  // Redis need answer here) and serve cannot start.
  await expect(serveChild({ ...env, REDIS_URL: 'redis://127.0.0.1:6379' }, ['--import', deny])).rejects.toThrow(
    /a denied module was loaded: (redis|rate-limit-redis)/,
  );
}, 120_000);
