// The example as a developer runs it: its production build under `next start`, over HTTP. The page
// must carry the widget's script tag and a session token that verifies with the configured secret (and
// never the secret itself); the webhook route must accept a correctly signed delivery and refuse others.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { signWebhook } from '@parley/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));
const nextBin = fileURLToPath(import.meta.resolve('next/dist/bin/next'));
const identityKey = randomBytes(32);
const IDENTITY_SECRET = `idsec_${randomBytes(8).toString('hex')}_${identityKey.toString('base64url')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const PARLEY_URL = 'http://parley.invalid:8787';
const PUBLISHABLE_KEY = 'pk_test_example';
const TENANT_ID = '6f1c2a9e-3b7d-4c5e-8a0f-1d2e3f4a5b6c';

let server: ChildProcess;
let base = '';
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  // CI builds every workspace before testing; a fresh checkout builds here.
  if (!existsSync(`${dir}/.next/BUILD_ID`)) {
    const built = spawnSync(process.execPath, [nextBin, 'build'], { cwd: dir, env, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`next build failed:\n${built.stdout}${built.stderr}`);
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [nextBin, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: dir,
    env: {
      ...env,
      PARLEY_URL,
      PARLEY_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
      PARLEY_IDENTITY_SECRET: IDENTITY_SECRET,
      PARLEY_TENANT_ID: TENANT_ID,
      PARLEY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d: Buffer) => void (output += d));
  server.stderr!.on('data', (d: Buffer) => void (output += d));
  const until = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`next start exited:\n${output}`);
    try {
      await fetch(`${base}/api/parley/webhooks`, { method: 'HEAD' });
      break;
    } catch {
      if (Date.now() > until) throw new Error(`next start did not answer:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

afterAll(() => {
  server?.kill();
});

/** Checks an HS256 token against the identity secret and returns its claims. */
function verifyHs256(token: string): Record<string, unknown> {
  const [h, p, s] = token.split('.') as [string, string, string];
  const expected = createHmac('sha256', identityKey).update(`${h}.${p}`).digest('base64url');
  expect(s).toBe(expected);
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ alg: 'HS256', kid: IDENTITY_SECRET.split('_')[1] });
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
}

async function page(): Promise<{ html: string; tokens: string[] }> {
  const res = await fetch(base);
  expect(res.status).toBe(200);
  const html = await res.text();
  return { html, tokens: [...new Set(html.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? [])] };
}

describe('the page (a server component)', () => {
  it('renders the widget script tag and a session token signed for the demo user', async () => {
    const { html, tokens } = await page();
    const tag = /<script\b[^>]*\bsrc="([^"]+)"[^>]*>/g;
    const loaders = [...html.matchAll(tag)].filter((m) => m[1] === `${PARLEY_URL}/loader.js`).map((m) => m[0]);
    expect(loaders).toHaveLength(1);
    expect(loaders[0]).toContain(`data-key="${PUBLISHABLE_KEY}"`);
    expect(loaders[0]).toMatch(/\basync\b/);

    expect(tokens).toHaveLength(1);
    const claims = verifyHs256(tokens[0]!);
    expect(claims).toMatchObject({
      sub: 'cus_1042',
      // Named for its tenant: PARLEY_TENANT_ID is passed as signUserSession's tenant.
      aud: `parley:identity:${TENANT_ID}`,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      traits: { plan: 'pro' },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    // The secret signs on the server; only the token reaches the browser.
    expect(html).not.toContain(identityKey.toString('base64url'));
  });

  it('signs a fresh token for every request (tokens are accepted once, so the page is never cached)', async () => {
    const [a, b] = await Promise.all([page(), page()]);
    expect(a.tokens[0]).not.toBe(b.tokens[0]);
  });

  it('signs further tokens for same-origin requests only', async () => {
    const ok = await fetch(`${base}/api/parley/session`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
    expect(ok.status).toBe(200);
    expect(verifyHs256(((await ok.json()) as { token: string }).token)).toMatchObject({ sub: 'cus_1042' });
    const cross = await fetch(`${base}/api/parley/session`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).toBe(403);
  });
});

describe('the webhook route handler', () => {
  const event = (id: string) =>
    JSON.stringify({
      id,
      type: 'webhook.test',
      createdAt: new Date().toISOString(),
      tenantId: 't_1',
      data: { endpointId: 'we_1', message: 'hello' },
    });
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/api/parley/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = (id: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(WEBHOOK_SECRET, id, ts, body),
  });

  it('answers 204 to a delivery signed with the secret, and acts on it once', async () => {
    const id = `evt_${randomBytes(6).toString('hex')}`;
    const body = event(id);
    expect((await post(body, signed(id, body))).status).toBe(204);
    // A retry keeps its id: acknowledged, not handled again.
    expect((await post(body, signed(id, body))).status).toBe(204);
    expect(output.match(/test event received/g)).toHaveLength(1);
  });

  it('answers a 401 problem to a tampered body, a foreign secret, an old timestamp or missing headers', async () => {
    const id = `evt_${randomBytes(6).toString('hex')}`;
    const body = event(id);
    const tampered = await post(body.replace('hello', 'hullo'), signed(id, body));
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('content-type')).toBe('application/problem+json');
    expect(await tampered.json()).toEqual({ type: 'about:blank', title: 'Webhook not verified', status: 401, reason: 'no_matching_signature' });

    const ts = Math.floor(Date.now() / 1000);
    const foreign = await post(body, {
      ...signed(id, body),
      'webhook-signature': signWebhook(`whsec_${randomBytes(24).toString('base64')}`, id, ts, body),
    });
    expect(foreign.status).toBe(401);

    const old = await post(body, signed(id, body, ts - 3600));
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({ type: 'about:blank', title: 'Webhook not verified', status: 401, reason: 'timestamp_too_old' });

    const bare = await post(body, {});
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({ type: 'about:blank', title: 'Webhook not verified', status: 401, reason: 'missing_header' });
    expect(output).not.toContain(id);
  });
});
