// kill -9 between commit and delivery: a real `parley serve` process commits an event and starts posting
// it, the receiver holds the request, and the process is killed (SIGKILL: no shutdown code runs). The
// restarted server delivers the event again, with the same webhook-id; the receiver's dedupe sees it once.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDb, newDataDir, serverUrl, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { cliArgv, serverDir } from '../test/serve.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';

const run = promisify(execFile);
let env: Record<string, string>;
let testDb: TestDb | null = null;
let child: ChildProcess | null = null;
/** Everything the server processes logged, to check no secret is ever in it. */
let logs = '';

beforeAll(async () => {
  env = {
    PARLEY_ENV: 'development',
    PARLEY_DATA_DIR: await newDataDir('parley-webhook-restart-'),
    PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
    PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
  };
  if (serverUrl) {
    testDb = await createTestDb({ migrate: false });
    env.DATABASE_URL = testDb.url!;
  }
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await testDb?.close();
});

function serve(): Promise<{ url: string; process: ChildProcess }> {
  const p = spawn(process.execPath, cliArgv(['serve']), {
    cwd: serverDir,
    env: { ...process.env, ...env, PORT: '0', PARLEY_PUBLIC_URL: 'http://localhost:8787' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = p;
  return new Promise((resolve, reject) => {
    let out = '';
    p.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    p.stdout!.on('data', (d: Buffer) => {
      logs += d.toString();
      out += d.toString();
      const m = /running on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, process: p });
    });
    p.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

test('kill -9 after the commit, mid-delivery: the restarted server delivers the same webhook-id, processed once', async () => {
  const created = await run(process.execPath, cliArgv(['tenants', 'create', '--name', 'Restart', '--json']), {
    cwd: serverDir,
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  const { secretKey } = JSON.parse(created.stdout) as { secretKey: string };
  const rx = await new WebhookReceiver().start();
  try {
    let server = await serve();
    const made = await call(server.url, 'POST', '/v1/admin/webhooks/endpoints', { key: secretKey, body: { url: rx.url, events: ['key.created'] } });
    expect(made.status, made.text).toBe(201);
    rx.secrets = [made.body.secret];
    rx.mode = 'hang';
    // The event commits with the key; the worker posts it at once and the receiver holds the request.
    const key = await call(server.url, 'POST', '/v1/admin/api-keys', { key: secretKey, body: { name: 'ci', capabilities: ['domains:read'] } });
    expect(key.status).toBe(201);
    await rx.waitFor(1, 10_000);
    const exited = new Promise((r) => server.process.once('exit', r));
    server.process.kill('SIGKILL');
    await exited;

    rx.mode = 'ok';
    server = await serve();
    // The embedded database frees the dead process's leases at once; on a server the lease lapses (30 s).
    await rx.waitFor(2, serverUrl ? 60_000 : 15_000);
    const ids = rx.requests.map((r) => r.headers['webhook-id']);
    expect(ids[1]).toBe(ids[0]);
    expect(rx.processed.size).toBe(1);
    expect(rx.processed.get(String(ids[0]))).toMatchObject({ type: 'key.created', data: { apiKey: { name: 'ci' } } });

    // The answer is recorded just after the receiver sent it.
    const latest = async () =>
      (await call(server.url, 'GET', `/v1/admin/webhooks/endpoints/${made.body.endpoint.id}/deliveries`, { key: secretKey })).body.deliveries[0];
    await expect.poll(async () => (await latest())?.status).toBe('succeeded');
    const d = await latest();
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1, responseCode: 204, eventId: ids[0] });
    const exited2 = new Promise((r) => server.process.once('exit', r));
    server.process.kill('SIGTERM');
    await exited2;
    // The servers logged their requests and deliveries, and never a secret.
    expect(logs).toContain('"msg":"request"');
    expect(logs).not.toContain(made.body.secret.slice(6));
    expect(logs).not.toContain(key.body.secret);
  } finally {
    await rx.close();
  }
}, 150_000);
