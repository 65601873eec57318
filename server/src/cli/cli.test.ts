// The parley CLI as an operator runs it: a real process on a real embedded database (or the server).
import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDb, PLATFORM_TENANT } from '../db/index.js';
import { serverUrl, createTestDb, type TestDb } from '../test/db.js';
import { cliArgv, serverDir, serveChild } from '../test/serve.js';

const run = promisify(execFile);

let dataDir: string;
let testDb: TestDb | null = null;
let env: Record<string, string>;

async function parley(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return parleyWith({}, ...args);
}

async function parleyWith(extra: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, cliArgv(args), {
      cwd: serverDir,
      env: { ...process.env, ...env, ...extra },
      timeout: 240_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `parley serve` as a child process, until `stop()`; `url` is where it listens. */
async function serve(extra: Record<string, string>): Promise<{ url: string; stop: () => Promise<unknown> }> {
  return serveChild({ ...env, ...extra });
}

/** As the database owner, outside the app: the attacker with a database console. */
async function asOwner(sql: string[]): Promise<Array<Array<Record<string, unknown>>>> {
  const out: Array<Array<Record<string, unknown>>> = [];
  if (testDb) {
    await testDb.db.withOwner(async (tx) => {
      for (const s of sql) out.push((await tx.query<Record<string, unknown>>(s)).rows);
    });
    return out;
  }
  const pg = await PGlite.create(join(dataDir, 'db'));
  try {
    for (const s of sql) out.push((await pg.query<Record<string, unknown>>(s)).rows);
  } finally {
    await pg.close();
  }
  return out;
}

const AUDIT_TABLES = ['audit_entries', 'audit_nodes', 'audit_checkpoints', 'audit_heads'];
async function auditRowCounts(): Promise<Record<string, number>> {
  const tables = (await asOwner(["SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'audit\\_%' ORDER BY table_name"]))[0]!.map(
    (r) => String(r.table_name),
  );
  expect(tables).toEqual(expect.arrayContaining(AUDIT_TABLES));
  const rows = await asOwner(tables.map((t) => `SELECT count(*)::int AS n FROM ${t}`));
  return Object.fromEntries(tables.map((t, i) => [t, Number(rows[i]![0]!.n)]));
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

// Several tests run five or six CLI processes one after another, each a few seconds on a loaded machine.
describe('parley CLI', { timeout: 240_000 }, () => {
  let tenantId: string;
  let secretKey: string;

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(serverDir, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) expect(await parley(flag)).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

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
    secretKey = out.secretKey;
  });

  test('users invite --json prints a single-use link for the first owner; only its hash is stored', async () => {
    const res = await parley('users', 'invite', '--tenant', tenantId, '--email', 'First.Owner@acme.example', '--role', 'owner', '--json');
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.inviteUrl).toMatch(/\/console\/#invite=inv_[A-Za-z0-9_-]{43}$/);
    const token = out.inviteUrl.split('#invite=')[1];
    const [rows] = await asOwner([`SELECT email, role, encode(token_hash, 'hex') AS h, delivery FROM member_invites WHERE id = '${out.inviteId}'`]);
    expect(rows![0]).toEqual({
      email: 'first.owner@acme.example',
      role: 'owner',
      h: createHash('sha256').update(token).digest('hex'),
      delivery: 'log',
    });
    expect(res.stderr).not.toContain(token);
    const unknown = await parley(
      'users',
      'invite',
      '--tenant',
      '00000000-0000-4000-8000-000000000001',
      '--email',
      'x@acme.example',
      '--role',
      'agent',
      '--json',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No such tenant/);
    const badRole = await parley('users', 'invite', '--tenant', tenantId, '--email', 'x@acme.example', '--role', 'emperor');
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/owner, admin, agent, analyst/);
  });

  test('a bad domain is refused with a clear message and nothing is created', async () => {
    const res = await parley('tenants', 'create', '--name', 'Bad', '--domain', 'https://x.example/path', '--json');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/not valid|path/);
  });

  test('audit verify --json recomputes the logs', async () => {
    const one = await parley('audit', 'verify', '--tenant', tenantId, '--json');
    expect(one.code, one.stderr).toBe(0);
    // tenant.created, domain.add ×2, publishable_key.create, api_key.create, member.invite
    // Each CLI command integrates what it sequenced before it exits: nothing is left pending.
    expect(JSON.parse(one.stdout)).toEqual({ ok: true, entries: 6, root: expect.stringMatching(/^[0-9a-f]{64}$/), firstBadIndex: null, pending: 0 });
    const all = await parley('audit', 'verify', '--json');
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ ok: true });
  });

  test('the log keeps the identity it was created with: written under PORT=3000, verified under another port, ok', async () => {
    // Checkpoints on every append, so the entries written under PORT=3000 are signed under that identity.
    const created = await parleyWith({ PORT: '3000', PARLEY_AUDIT_CHECKPOINT_EVERY: '1' }, 'tenants', 'create', '--name', 'Port 3000', '--json');
    expect(created.code, created.stderr).toBe(0);
    const other = JSON.parse(created.stdout).tenant.id as string;
    for (const port of ['8787', '4000']) {
      const res = await parleyWith({ PORT: port }, 'audit', 'verify', '--json');
      expect(res.code, `${port}: ${res.stdout}${res.stderr}`).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: true });
      const one = await parleyWith({ PORT: port }, 'audit', 'verify', '--tenant', other, '--json');
      expect(JSON.parse(one.stdout)).toMatchObject({ ok: true, firstBadIndex: null });
    }
  });

  test('PORT=3000 parley serve signs under the stored identity; audit verify --json under the default port: ok', async () => {
    // PORT=0 so the test binds no fixed port; the public URL is what used to name the log (localhost:3000).
    const { url, stop } = await serve({ PORT: '0', PARLEY_PUBLIC_URL: 'http://localhost:3000' });
    try {
      const cp = await fetch(`${url}/v1/admin/audit/checkpoint`, { headers: { authorization: `Bearer ${secretKey}`, accept: 'text/plain' } });
      expect(cp.status).toBe(200);
      expect(await cp.text()).toMatch(new RegExp(`^localhost:8787/audit/${tenantId}\n`));
    } finally {
      await stop();
    }
    const res = await parley('audit', 'verify', '--json');
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true });
  });

  test('audit verify writes nothing, whatever port it runs under', async () => {
    const before = await auditRowCounts();
    for (const port of ['4000', '8787']) {
      const res = await parleyWith({ PORT: port }, 'audit', 'verify', '--json');
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const one = await parleyWith({ PORT: port }, 'audit', 'verify', '--tenant', tenantId, '--json');
      expect(one.code, one.stdout + one.stderr).toBe(0);
    }
    expect(await auditRowCounts()).toEqual(before);
    // And the platform log still verifies afterwards under the port it was first written with.
    const after = await parleyWith({ PORT: '3000' }, 'audit', 'verify', '--json');
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true });
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

  // With the server stopped, an invitation printed its link on http://localhost:8787 whatever address the
  // instance was configured with: the CLI's own environment (no PORT, no PARLEY_PUBLIC_URL) decided it.
  if (!serverUrl)
    test('users invite with the server stopped prints the link on the public URL the instance was served on', async () => {
      // The shell the operator types in: the data folder, none of the server's address settings.
      const { PORT: _port, PARLEY_PUBLIC_URL: _url, ...shell } = process.env;
      const invite = async (email: string, extra: Record<string, string> = {}) => {
        const { stdout } = await run(
          process.execPath,
          cliArgv(['users', 'invite', '--tenant', tenantId, '--email', email, '--role', 'agent', '--json']),
          { cwd: serverDir, env: { ...shell, ...env, ...extra }, timeout: 240_000 },
        );
        return new URL(JSON.parse(stdout).inviteUrl as string);
      };
      for (const [served, expected] of [
        [{ PORT: '8913' }, 'http://localhost:8913'],
        [{ PORT: '8913', PARLEY_PUBLIC_URL: 'http://parley.acme.test:8913/' }, 'http://parley.acme.test:8913'],
      ] as const) {
        const { stop } = await serve(served);
        await stop();
        const link = await invite(`agent-${expected.length}-${served.PORT}@acme.example`);
        expect(link.origin).toBe(expected);
        expect(link.pathname).toBe('/console/');
      }
      // What the operator says in the command's own environment still decides.
      expect((await invite('agent-port@acme.example', { PORT: '9555' })).origin).toBe('http://localhost:9555');
      expect((await invite('agent-url@acme.example', { PARLEY_PUBLIC_URL: 'https://help.acme.example' })).origin).toBe('https://help.acme.example');
    });

  // While `parley serve` holds the embedded database, the CLI asks the running server (platform API, with
  // the per-start key of its control file); the work is audited in the platform log as the CLI.
  if (!serverUrl)
    test('tenants create and users invite work while parley serve runs on the embedded database', async () => {
      const { url, stop } = await serve({ PORT: '0' });
      let created: { tenant: { id: string; name: string }; secretKey: string };
      try {
        const control = JSON.parse(readFileSync(join(dataDir, 'control.json'), 'utf8')) as { key: string; url: string };
        expect(statSync(join(dataDir, 'control.json')).mode & 0o077).toBe(0);

        const res = await parley('tenants', 'create', '--name', 'Live', '--domain', 'live.example', '--json');
        expect(res.code, res.stderr).toBe(0);
        expect(res.stderr).toMatch(/asking it at http:/);
        created = JSON.parse(res.stdout);
        expect(created.tenant.name).toBe('Live');
        const me = await fetch(`${url}/v1/admin/me`, { headers: { authorization: `Bearer ${created.secretKey}` } });
        expect(me.status).toBe(200);

        const invited = await parley('users', 'invite', '--tenant', created.tenant.id, '--email', 'owner@live.example', '--role', 'owner', '--json');
        expect(invited.code, invited.stderr).toBe(0);
        expect(JSON.parse(invited.stdout).inviteUrl).toMatch(/#invite=/);

        // Attacks: another platform-shaped key, a tenant's secret key, no key at all.
        for (const authorization of [`Bearer plt_${'A'.repeat(43)}`, `Bearer ${created.secretKey}`, `Bearer ${control.key}x`]) {
          const r = await fetch(`${url}/v1/platform/tenants`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: '{"name":"Evil"}',
          });
          expect(r.status, authorization.slice(0, 12)).toBe(401);
        }
        expect((await fetch(`${url}/v1/platform/tenants`)).status).toBe(401);
      } finally {
        await stop();
      }
      // The key died with the server: its file is gone, and a stale one would name a dead process.
      expect(existsSync(join(dataDir, 'control.json'))).toBe(false);
      const [platform] = await asOwner([
        `SELECT actor_type, actor_id, action FROM audit_entries WHERE tenant_id = '${PLATFORM_TENANT}' AND action IN ('tenant.create', 'platform.invite') ORDER BY id`,
      ]);
      expect(platform).toEqual(
        expect.arrayContaining([
          { actor_type: 'cli', actor_id: 'platform-key', action: 'tenant.create' },
          { actor_type: 'cli', actor_id: 'platform-key', action: 'platform.invite' },
        ]),
      );
      const evil = await asOwner(["SELECT count(*)::int AS n FROM tenants WHERE name = 'Evil'"]);
      expect(evil[0]![0]!.n).toBe(0);
    });

  if (!serverUrl)
    test('tenants create in a data directory with no database says it made a new one (a server elsewhere would not see it)', async () => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'parley-cli-elsewhere-'));
      try {
        const res = await parleyWith({ PARLEY_DATA_DIR: elsewhere }, 'tenants', 'create', '--name', 'Lost', '--json');
        expect(res.code, res.stderr).toBe(0);
        expect(res.stderr).toContain(`there was no database in ${elsewhere}, so this made a new one`);
        const again = await parleyWith({ PARLEY_DATA_DIR: elsewhere }, 'tenants', 'create', '--name', 'Found', '--json');
        expect(again.stderr).not.toContain('made a new one');
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });

  // Only the embedded database is single-process; a server takes any number of clients.
  if (!serverUrl)
    test('the embedded database refuses a second process clearly instead of hanging', async () => {
      const holder = await openDb({ url: join(dataDir, 'db') });
      // A control file left by a server that is gone (or planted) names another process: never asked.
      writeFileSync(join(dataDir, 'control.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid: process.pid + 1, key: 'plt_stale' }), {
        mode: 0o600,
      });
      try {
        const started = Date.now();
        const res = await parley('tenants', 'create', '--name', 'Blocked', '--json');
        expect(res.code).toBe(2);
        expect(res.stderr).toMatch(/in use by another Parley process \(pid \d+\)/);
        expect(res.stderr).not.toMatch(/asking it/);
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        rmSync(join(dataDir, 'control.json'), { force: true });
        await holder.close();
      }
    });
});
