// Sequencing apart from integration: appends commit without an index, the leased integrator gives them
// gap-free indexes, a dead holder's lease is taken over, the lag shows at /metrics, and verification stays
// exact (pending is not a gap; tampering is still found).
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { acquireLease, releaseLease } from '../jobs/lease.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { serverUrl } from '../test/db.js';
import { watchRoundTrips } from '../test/round-trips.js';
import { AuditIntegrator, INTEGRATE_JOB, integrateBatch, pendingEntries } from './integrator.js';
import { verifyLog } from './verify.js';

const TOKEN = `mt_${'f00dfeed'.repeat(6)}`;
let t: TestApp;

const append = (tenantId: string, i: number) =>
  t.runtime.db.withTenant(tenantId, { requestId: `req-${i}` }, (tx) =>
    t.runtime.audit.append(tx, { tenantId, requestId: `req-${i}`, actor: { type: 'system', id: 'test' }, action: 'test.event', metadata: { i } }),
  );
const verify = (tenantId: string) =>
  t.runtime.db.withOwner(async (tx) => {
    await tx.query('SET LOCAL ROLE parley_platform');
    return verifyLog(tx, tenantId, { anchor: t.runtime.audit.publicKey, checkpointEvery: t.config.auditCheckpointEvery });
  });
const seqs = (tenantId: string) =>
  t.runtime.db.withTenant(
    tenantId,
    { requestId: null },
    async (tx) =>
      (await tx.query<{ seq: number | null; i: number | null }>("SELECT seq, (metadata->>'i')::int AS i FROM audit_entries ORDER BY id")).rows,
  );
const scrape = async () => (await call(t.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).text;
const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

/** Takes the integration lease as an instance that then dies: it never renews nor releases it. */
async function deadHolder(ttlMs: number) {
  const lease = { name: INTEGRATE_JOB, holder: 'dead-instance:1:00000000', ttlMs, ignoreSchedule: true };
  await t.runtime.audit.integrateNow();
  await vi.waitFor(async () => expect(await acquireLease(t.runtime.db, lease)).toBe(true), { timeout: 10_000 });
  return lease;
}

beforeAll(async () => {
  t = await startTestApp({ PARLEY_AUDIT_CHECKPOINT_EVERY: '16', PARLEY_METRICS_TOKEN: TOKEN });
});
afterAll(() => t.close());

describe('sequencing and integration', () => {
  test('8 concurrent writers on one log: every entry committed at once, then integrated into one gap-free sequence', async () => {
    const id = (await t.tenant('Busy')).tenant.id;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let k = 0; k < 15; k++) await append(id, w * 100 + k);
      }),
    );
    // Every append is stored with its action the moment it commits, integrated or not.
    expect((await seqs(id)).filter((r) => r.i !== null)).toHaveLength(120);
    await t.runtime.audit.integrateNow();
    const rows = await seqs(id);
    expect(rows.every((r) => r.seq !== null)).toBe(true);
    expect(rows.map((r) => r.seq!).sort((a, b) => a - b)).toEqual([...rows.keys()]);
    // Each writer's own entries keep their order in the log.
    for (let w = 0; w < 8; w++) {
      const mine = rows.filter((r) => r.i !== null && Math.floor(r.i / 100) === w).map((r) => r.seq!);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    expect(await verify(id)).toMatchObject({ ok: true, entries: rows.length, pending: 0, firstBadIndex: null });
  });

  test('a burst of appends one after another is integrated in batches, not a run per commit', async () => {
    const id = (await t.tenant('Burst')).tenant.id;
    await t.runtime.audit.integrateNow();
    const batches: number[] = [];
    let counting = true;
    t.runtime.audit.integrator!.observe((delays) => void (counting && batches.push(delays.length)));
    for (let i = 0; i < 64; i++) await append(id, i);
    await vi.waitFor(async () => expect((await pendingEntries(t.runtime.db)).count).toBe(0), { timeout: 10_000 });
    counting = false;
    // Every entry of the burst has its index. The batches counted may include one more: the tenant's own
    // first entries, when the run that integrated them tells its observers just after integrateNow saw none
    // pending (its commit is visible before its answer arrives).
    expect((await seqs(id)).filter((r) => r.i !== null && r.seq !== null)).toHaveLength(64);
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(64);
    // Each run costs a lease and a transaction of its own: one per commit would double a burst's work.
    expect(batches.length).toBeLessThanOrEqual(16);
  });

  test.runIf(serverUrl)(
    "a run over one log is four round trips: its entries, its head, their indexes with the tree's nodes, the new head with COMMIT",
    async () => {
      // An instance of its own whose integrator is stopped: only the run below touches the database.
      const u = await startTestApp();
      try {
        await u.runtime.audit.integrator!.stop();
        const id = (await u.tenant('Trips')).tenant.id;
        const appendFive = async () => {
          for (let i = 0; i < 5; i++)
            await u.runtime.db.withTenant(id, { requestId: null }, (tx) =>
              u.runtime.audit.append(tx, {
                tenantId: id,
                requestId: null,
                actor: { type: 'system', id: 'test' },
                action: 'test.event',
                metadata: { i },
              }),
            );
        };
        // The instance's first runs also record the log's identity, register the signing key and see it
        // registered, once each.
        for (let warm = 0; warm < 2; warm++) {
          await appendFive();
          await integrateBatch(u.runtime.db, u.runtime.audit, 1000, id);
        }
        await appendFive();
        const trips = watchRoundTrips();
        let integrated: number;
        try {
          integrated = (await integrateBatch(u.runtime.db, u.runtime.audit, 1000, id)).integrated;
        } finally {
          trips.stop();
        }
        expect(integrated).toBe(5);
        expect(trips.count()).toBe(4);
        const pending = await u.runtime.db.withOwner((tx) =>
          tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND seq IS NULL', [id]),
        );
        expect(pending.rows).toEqual([{ n: 0 }]);
        const verified = await u.runtime.db.withOwner(async (tx) => {
          await tx.query('SET LOCAL ROLE parley_platform');
          return verifyLog(tx, id, { anchor: u.runtime.audit.publicKey, checkpointEvery: u.config.auditCheckpointEvery });
        });
        expect(verified.ok).toBe(true);
      } finally {
        await u.close();
      }
    },
  );

  test('two integrators racing over the same backlog never hand out an index twice', async () => {
    const id = (await t.tenant('Raced')).tenant.id;
    const lease = await deadHolder(60_000); // the app's own kicks stay out; the two below ignore leases
    try {
      for (let i = 0; i < 60; i++) await append(id, i);
      const a = new AuditIntegrator(t.runtime.db, t.runtime.audit, { batch: 7 });
      const b = new AuditIntegrator(t.runtime.db, t.runtime.audit, { batch: 5 });
      const [na, nb] = await Promise.all([a.integrateNow(), b.integrateNow()]);
      expect(na + nb).toBeGreaterThanOrEqual(60);
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
    expect(await verify(id)).toMatchObject({ ok: true, pending: 0 });
  });

  test('an entry sequenced but not integrated is pending, not a gap; a read of the log integrates it first', async () => {
    const ten = await t.tenant('Pending');
    const id = ten.tenant.id;
    await t.runtime.audit.integrateNow();
    const before = await verify(id);
    const lease = await deadHolder(60_000);
    try {
      for (let i = 0; i < 3; i++) await append(id, i);
      const r = await verify(id);
      expect(r).toMatchObject({ ok: true, entries: before.entries, root: before.root, pending: 3, firstBadIndex: null });
      // Read-your-writes: with no integrator running (the lease is held by a dead one), the proof request
      // itself integrates the tenant's pending entries, so the newest has an index and a proof.
      const last = before.entries + 2;
      const proof = await call(t.url, 'GET', `/v1/admin/audit/proof/inclusion?index=${last}&size=${last + 1}`, { key: ten.secretKey });
      expect(proof.status, proof.text).toBe(200);
      const listed = (await call(t.url, 'GET', `/v1/admin/audit?after=${before.entries - 1}&limit=10`, { key: ten.secretKey })).body.entries;
      expect(listed.map((e: { metadata: { i: number } }) => e.metadata.i)).toEqual([0, 1, 2]);
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
    expect(await verify(id)).toMatchObject({ ok: true, entries: before.entries + 3, pending: 0 });
  });

  test('a lease held by a dead integrator lapses and another instance integrates what it left', async () => {
    const id = (await t.tenant('Orphaned')).tenant.id;
    await deadHolder(1500);
    for (let i = 0; i < 5; i++) await append(id, i);
    // The app's kicks find the lease held and keep retrying; nothing is integrated while it lasts.
    expect((await pendingEntries(t.runtime.db)).count).toBeGreaterThanOrEqual(5);
    // Another instance (its own integrator, kicked once) takes the lapsed lease over.
    const other = new AuditIntegrator(t.runtime.db, t.runtime.audit);
    await vi.waitFor(async () => expect((await other.runOnce()).ran).toBe(true), { timeout: 10_000, interval: 200 });
    await vi.waitFor(async () => expect((await pendingEntries(t.runtime.db)).count).toBe(0), { timeout: 10_000 });
    expect(await verify(id)).toMatchObject({ ok: true, pending: 0, firstBadIndex: null });
  });

  test('lag and backlog at /metrics: non-zero while entries wait, zero once integrated, with the delay histogram', async () => {
    const id = (await t.tenant('Lagging')).tenant.id;
    const lease = await deadHolder(60_000);
    try {
      for (let i = 0; i < 4; i++) await append(id, i);
      await new Promise((r) => setTimeout(r, 50));
      const waiting = await scrape();
      expect(gauge(waiting, 'parley_audit_pending_entries')).toBeGreaterThanOrEqual(4);
      expect(gauge(waiting, 'parley_audit_integration_lag_seconds')).toBeGreaterThan(0);
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
    // Released: the app's own integrator catches up at its next kick (serve's poll), nobody waits on it here.
    t.runtime.audit.integrator!.kick();
    await vi.waitFor(async () => expect(gauge(await scrape(), 'parley_audit_pending_entries')).toBe(0), { timeout: 10_000 });
    const done = await scrape();
    expect(gauge(done, 'parley_audit_integration_lag_seconds')).toBe(0);
    expect(gauge(done, 'parley_audit_integration_delay_seconds_count')).toBeGreaterThanOrEqual(4);
    expect(done).toMatch(/^parley_audit_checkpoint_lag_seconds \d/m);
  });
});

describe('stopping', () => {
  test('stop() returns when the database closed under a run in flight (pg-pool leaves queued callers waiting)', async () => {
    const app = await startTestApp();
    try {
      await app.tenant();
      const integrator = app.runtime.audit.integrator!;
      integrator.kick();
      await app.testDb.db.close();
      let stopped = false;
      const stopping = integrator.stop().then(() => (stopped = true));
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 5000))]);
      expect(stopped).toBe(true);
    } finally {
      await app.close().catch(() => {});
    }
  });
});

describe('integration is the only change an entry takes', () => {
  test('nobody edits a pending entry, not even the owner; the app role cannot integrate', async () => {
    const id = (await t.tenant('Guarded')).tenant.id;
    const lease = await deadHolder(60_000);
    try {
      await append(id, 1);
      for (const sql of [
        `UPDATE audit_entries SET action = 'x' WHERE tenant_id = '${id}' AND seq IS NULL`,
        `UPDATE audit_entries SET seq = 99, leaf_hash = sha256('x'::bytea), action = 'x' WHERE tenant_id = '${id}' AND seq IS NULL`,
        `DELETE FROM audit_entries WHERE tenant_id = '${id}' AND seq IS NULL`,
      ])
        await expect(
          t.runtime.db.withOwner((tx) => tx.query(sql)),
          sql,
        ).rejects.toThrow(/append-only/);
      await expect(
        t.runtime.db.withTenant(id, { requestId: null }, (tx) =>
          tx.query("UPDATE audit_entries SET seq = 99, leaf_hash = sha256('x'::bytea) WHERE seq IS NULL"),
        ),
      ).rejects.toThrow();
      // Once integrated, not even the integration columns move again.
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
    await t.runtime.audit.integrateNow();
    await expect(t.runtime.db.withOwner((tx) => tx.query(`UPDATE audit_entries SET seq = seq + 1000 WHERE tenant_id = '${id}'`))).rejects.toThrow(
      /append-only/,
    );
  });

  test('an integrated entry turned back into a pending one is found at its index', async () => {
    const id = (await t.tenant('Unwound')).tenant.id;
    for (let i = 0; i < 20; i++) await append(id, i);
    // Integrated, then the lease held so that the app's own integrator cannot integrate the unwound entry
    // again before it is verified (it did, now and then, on PostgreSQL).
    const lease = await deadHolder(60_000);
    try {
      await t.runtime.db.withOwner(async (tx) => {
        await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
        await tx.query('UPDATE audit_entries SET seq = NULL, leaf_hash = NULL, sig = NULL WHERE tenant_id = $1 AND seq = 6', [id]);
        await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
      });
      expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 6, pending: 1 });
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
  });

  test('an edited entry is still found at its index after integration', async () => {
    const id = (await t.tenant('Edited')).tenant.id;
    for (let i = 0; i < 20; i++) await append(id, i);
    await t.runtime.audit.integrateNow();
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      await tx.query(`UPDATE audit_entries SET metadata = '{"i": 999}' WHERE tenant_id = $1 AND seq = 11`, [id]);
      await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 11 });
  });
});
