// Background work under leases, and the retention sweep that keeps token tables from only growing.
// On PostgreSQL the "two instances" are two separate connection pools (two runtimes) on one database;
// on PGlite they are two callers of the one embedded database.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDb, PLATFORM_TENANT, type ParleyDb } from '../db/index.js';
import { wireRuntime, type Runtime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, serverUrl, type TestDb } from '../test/db.js';
import { fewestRoundTrips } from '../test/round-trips.js';
import { createTenant } from '../tenants/service.js';
import { acquireLease, newHolderId, releaseLease, renewLease, runLeased } from './lease.js';
import { runRetentionSweep, sweepExpired } from './retention.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let testDb: TestDb;
let other: ParleyDb;
let rt: Runtime;
let rt2: Runtime;
let tenantId: string;

/** A second instance: its own connections to the same database when on a server. */
async function secondDb(): Promise<ParleyDb> {
  if (!testDb.url) return testDb.db;
  const app = new URL(testDb.url);
  app.username = 'parley_app';
  return openDb({ url: app.toString(), ownerUrl: testDb.url });
}

beforeAll(async () => {
  testDb = await createTestDb();
  const config = testConfig();
  rt = wireRuntime(config, testDb.db);
  other = await secondDb();
  rt2 = other === testDb.db ? rt : wireRuntime(config, other);
  const created = await createTenant(
    { db: rt.db, audit: rt.audit, env: 'development' },
    { name: 'Sweep', domains: ['sweep.example'] },
    { requestId: null, actor: { type: 'cli', id: 'test' } },
  );
  tenantId = created.tenant.id;
});
afterAll(async () => {
  if (other !== testDb.db) await other.close();
  await testDb.close();
});

async function owner(sql: string, params: unknown[] = []) {
  return testDb.db.withOwner((tx) => tx.query<any>(sql, params));
}

/** A visitor reference (refresh tokens belong to a visitors row) made from a readable label. */
const ref = (label: string) => `v_${label}`.padEnd(18, '0').slice(0, 18);

async function seed(): Promise<void> {
  const conv = randomUUID();
  await owner('INSERT INTO conversations (id, tenant_id, visitor_id) VALUES ($1, $2, $3)', [conv, tenantId, 'v_sweep']);
  const family = randomUUID();
  const token = async (label: string, expires: string) => {
    await owner('INSERT INTO visitors (tenant_id, id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [tenantId, ref(label)]);
    await owner(
      `INSERT INTO widget_refresh_tokens (id, tenant_id, family_id, token_hash, visitor_id, origin, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'https://sweep.example', ${expires})`,
      [randomUUID(), tenantId, family, randomBytes(32), ref(label)],
    );
  };
  await token('expired-long-ago', "now() - interval '31 days'");
  await token('expired-yesterday', "now() - interval '1 day'");
  await token('live', "now() + interval '29 days'");
  await owner(
    "INSERT INTO identity_token_uses (tenant_id, jti, expires_at) VALUES ($1, $2, now() - interval '1 day'), ($1, $3, now() + interval '5 minutes')",
    [tenantId, `old-${randomUUID()}`, `live-${randomUUID()}`],
  );
  await owner(
    `INSERT INTO conversation_events (tenant_id, conversation_id, type, payload, created_at)
     VALUES ($1, $2, 'message', '{}', now() - interval '90 days'), ($1, $2, 'message', '{}', now())`,
    [tenantId, conv],
  );
}

describe('the retention sweep', () => {
  test('deletes expired refresh tokens, spent jtis past expiry and old events; live rows stay', async () => {
    await seed();
    const counts = await sweepExpired(rt, { batchSize: 1 });
    expect(counts).toMatchObject({ widget_refresh_tokens: 2, identity_token_uses: 1, conversation_events: 1 });
    expect((await owner('SELECT visitor_id FROM widget_refresh_tokens')).rows.map((r: any) => r.visitor_id)).toEqual([ref('live')]);
    expect((await owner('SELECT jti FROM identity_token_uses')).rows.map((r: any) => r.jti)).toEqual([expect.stringMatching(/^live-/)]);
    expect((await owner('SELECT count(*)::int AS n FROM conversation_events')).rows[0].n).toBe(1);
    // One platform audit entry says what the sweep removed, and one in the tenant's log says what went of its
    // personal data (the live feed's event, not its expired tokens); a sweep that removes nothing writes none.
    const entries = async () =>
      (await owner("SELECT tenant_id, metadata -> 'deleted' AS deleted FROM audit_entries WHERE action = 'retention.sweep' ORDER BY id")).rows.map(
        (r: any) => [r.tenant_id === PLATFORM_TENANT ? 'platform' : r.tenant_id, r.deleted],
      );
    const written = await entries();
    expect(written).toEqual([
      [tenantId, { conversation_events: 1 }],
      ['platform', expect.objectContaining({ widget_refresh_tokens: 2, identity_token_uses: 1, conversation_events: 1 })],
    ]);
    expect(await sweepExpired(rt)).toMatchObject({ widget_refresh_tokens: 0, identity_token_uses: 0, conversation_events: 0 });
    expect(await entries()).toEqual(written);
  });

  test('visitors idle past the retention period with no conversation and no live refresh token go; others stay', async () => {
    const visitor = async (label: string, idleDays: number) =>
      owner(`INSERT INTO visitors (tenant_id, id, last_seen_at) VALUES ($1, $2, now() - make_interval(days => $3::int))`, [
        tenantId,
        ref(label),
        idleDays,
      ]);
    await visitor('idle-alone', 45);
    await visitor('idle-chatted', 45);
    await visitor('idle-token', 45);
    await visitor('recent-alone', 1);
    await owner('INSERT INTO conversations (id, tenant_id, visitor_id) VALUES ($1, $2, $3)', [randomUUID(), tenantId, ref('idle-chatted')]);
    await owner(
      `INSERT INTO widget_refresh_tokens (id, tenant_id, family_id, token_hash, visitor_id, origin, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'https://sweep.example', now() + interval '2 days')`,
      [randomUUID(), tenantId, randomUUID(), randomBytes(32), ref('idle-token')],
    );
    const counts = await sweepExpired(rt);
    expect(counts.visitors).toBe(1);
    const left = (
      await owner('SELECT id FROM visitors WHERE id = ANY($1) ORDER BY id', [
        [ref('idle-alone'), ref('idle-chatted'), ref('idle-token'), ref('recent-alone')],
      ])
    ).rows.map((r: any) => r.id);
    expect(left).toEqual([ref('idle-chatted'), ref('idle-token'), ref('recent-alone')].sort());
    await owner('DELETE FROM conversations WHERE visitor_id = $1', [ref('idle-chatted')]);
    await owner('DELETE FROM visitors WHERE id = ANY($1)', [left]);
  });

  test('ended console sessions, closed old invites, spent SSO requests and replay ids, stale throttle counters and rate-limit windows go; live ones and the spent refresh tokens of live sessions stay', async () => {
    const member = randomUUID();
    await owner("INSERT INTO members (tenant_id, id, email, display_name, role) VALUES ($1, $2, $3, 'Sweep', 'agent')", [
      tenantId,
      member,
      `sweep-${member}@sweep.example`,
    ]);
    const session = async (expires: string, revoked = 'NULL') => {
      const id = randomUUID();
      await owner(
        `INSERT INTO member_sessions (tenant_id, id, member_id, method, idle_expires_at, expires_at, revoked_at) VALUES ($1, $2, $3, 'password', now() + interval '1 hour', ${expires}, ${revoked})`,
        [tenantId, id, member],
      );
      await owner(
        `INSERT INTO member_refresh_tokens (tenant_id, id, family_id, token_hash, expires_at, used_at) VALUES ($1, $2, $3, $4, ${expires}, now())`,
        [tenantId, randomUUID(), id, randomBytes(32)],
      );
      return id;
    };
    await session("now() - interval '2 days'");
    await session("now() + interval '5 days'", "now() - interval '3 days'");
    const live = await session("now() + interval '5 days'");
    await owner(
      `INSERT INTO member_invites (tenant_id, id, email, role, token_hash, delivery, created_at, expires_at, accepted_at)
       VALUES ($1, $2, 'old@sweep.example', 'agent', $3, 'log', now() - interval '60 days', now() - interval '53 days', now() - interval '59 days'),
              ($1, $4, 'open@sweep.example', 'agent', $5, 'log', now(), now() + interval '7 days', NULL)`,
      [tenantId, randomUUID(), randomBytes(32), randomUUID(), randomBytes(32)],
    );
    await owner(
      `INSERT INTO sso_requests (tenant_id, id, kind, binding, expires_at) VALUES ($1, $2, 'oidc', $3, now() - interval '2 hours'), ($1, $4, 'oidc', $3, now() + interval '5 minutes')`,
      [tenantId, `old-${randomUUID()}`, randomBytes(32), `new-${randomUUID()}`],
    );
    await owner(
      `INSERT INTO sso_replay (tenant_id, kind, id_hash, expires_at) VALUES ($1, 'saml', $2, now() - interval '1 hour'), ($1, 'saml', $3, now() + interval '1 hour')`,
      [tenantId, randomBytes(32), randomBytes(32)],
    );
    await owner(`INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES ($1, 3, now() - interval '2 days'), ($2, 3, now())`, [
      randomBytes(32),
      randomBytes(32),
    ]);
    // Rate-limit windows: one ended two minutes ago goes, a live one stays.
    await owner(
      `INSERT INTO rate_limit_windows (key, hits, reset_at) VALUES ($1, 7, now() - interval '2 minutes'), ($2, 3, now() + interval '30 seconds')`,
      [randomBytes(32), randomBytes(32)],
    );
    const counts = await sweepExpired(rt);
    expect(counts).toMatchObject({
      member_sessions: 2,
      member_invites: 1,
      sso_requests: 1,
      sso_replay: 1,
      sign_in_throttle: 1,
      rate_limit_windows: 1,
    });
    expect((await owner('SELECT hits FROM rate_limit_windows')).rows).toEqual([{ hits: 3 }]);
    expect((await owner('SELECT id FROM member_sessions')).rows.map((r: any) => r.id)).toEqual([live]);
    expect((await owner('SELECT count(*)::int AS n FROM member_refresh_tokens WHERE family_id = $1', [live])).rows[0].n).toBe(1);
    expect((await owner('SELECT email FROM member_invites')).rows.map((r: any) => r.email)).toEqual(['open@sweep.example']);
  });

  test('two instances sweeping at once: the job runs once; the second finds it done for this interval', async () => {
    await seed();
    const [a, b] = await Promise.all([runRetentionSweep(rt, newHolderId()), runRetentionSweep(rt2, newHolderId())]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    // Live rows from both seeds stay; the expired ones are gone.
    expect((await owner('SELECT visitor_id FROM widget_refresh_tokens')).rows.map((r: any) => r.visitor_id)).toEqual([ref('live'), ref('live')]);
    // Scheduled again within the interval: nobody runs it; an operator can still run it now.
    expect((await runRetentionSweep(rt2, newHolderId())).ran).toBe(false);
    expect((await runRetentionSweep(rt2, newHolderId(), { now: true })).ran).toBe(true);
  });
});

describe('leases', () => {
  test('one holder at a time; concurrent runs of one job run it once', async () => {
    let runs = 0;
    const job = { name: 'test-once', ttlMs: 10_000 };
    const results = await Promise.all(
      [rt.db, other, rt.db, other].map((db) =>
        runLeased(db, { ...job, holder: newHolderId() }, async () => {
          runs++;
          await sleep(300);
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => r.ran)).toHaveLength(1);
  });

  test('a holder that dies (stops renewing) is taken over once its lease lapses; it cannot renew after', async () => {
    const dead = newHolderId();
    const next = newHolderId();
    const name = 'test-takeover';
    expect(await acquireLease(rt.db, { name, holder: dead, ttlMs: 600 })).toBe(true);
    expect(await acquireLease(other, { name, holder: next, ttlMs: 600 })).toBe(false);
    expect(await renewLease(rt.db, { name, holder: dead, ttlMs: 600 })).toBe(true);
    await sleep(900);
    expect(await acquireLease(other, { name, holder: next, ttlMs: 5000 })).toBe(true);
    expect(await renewLease(rt.db, { name, holder: dead, ttlMs: 600 })).toBe(false);
    await releaseLease(other, { name, holder: next });
    expect(await acquireLease(rt.db, { name, holder: dead, ttlMs: 600 })).toBe(true);
  });

  test.runIf(serverUrl)('taking, renewing and giving back a lease are one round trip each (PostgreSQL)', async () => {
    const lease = { name: 'test-trips', holder: newHolderId(), ttlMs: 10_000 };
    const fewest = async (fn: () => Promise<unknown>) => (await fewestRoundTrips(fn))[1];
    await acquireLease(rt.db, { ...lease, name: 'test-trips-warm' });
    expect(await acquireLease(rt.db, lease)).toBe(true);
    expect(await fewest(() => acquireLease(rt.db, { ...lease, ignoreSchedule: true }))).toBe(1);
    expect(await renewLease(rt.db, lease)).toBe(true);
    expect(await fewest(() => renewLease(rt.db, lease))).toBe(1);
    expect(await fewest(() => releaseLease(rt.db, lease))).toBe(1);
    expect(await acquireLease(other, { ...lease, holder: newHolderId() })).toBe(true);
  });

  test('a run that outlives its ttl keeps its lease by renewing it', async () => {
    const name = 'test-heartbeat';
    const started = runLeased(rt.db, { name, holder: newHolderId(), ttlMs: 300 }, async () => sleep(900));
    await sleep(600);
    expect(await acquireLease(other, { name, holder: newHolderId(), ttlMs: 300 })).toBe(false);
    expect((await started).ran).toBe(true);
  });
});
