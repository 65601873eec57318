// The log's identity outlives the host and port it runs under, and its signing keys can rotate: existing
// logs keep what they were signed with, old keys stay trusted and published, keys an owner adds are not.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { PLATFORM_TENANT } from '../db/index.js';
import { loadMigrations, migrate } from '../db/migrate.js';
import { deriveSeed } from '../crypto/derive.js';
import { wireRuntime } from '../runtime.js';
import { startTestApp, testConfig, type TestApp } from '../test/app.js';
import { createTestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { auditLeafBytes, type AuditEntryCanonical } from './canonical.js';
import { formatCheckpoint, parseCheckpoint, signerFromSeed, signNote, verifierKeyString, verifyNote } from './checkpoint.js';
import { acquireLease, releaseLease } from '../jobs/lease.js';
import { AuditIntegrator, INTEGRATE_JOB } from './integrator.js';
import { AuditLog } from './log.js';
import { appendLeaf, leafHash, rootFromFrontier } from './merkle.js';
import { verifyLog } from './verify.js';

const verifyWith = (db: { withOwner: TestApp['runtime']['db']['withOwner'] }, tenantId: string, anchor: Buffer, every = 7) =>
  db.withOwner(async (tx) => {
    await tx.query('SET LOCAL ROLE parley_platform');
    return verifyLog(tx, tenantId, { anchor, checkpointEvery: every });
  });

describe('a log written before identities were stored', () => {
  test('keeps the origin and key name its checkpoints were signed with, whatever PORT the server runs under now', async () => {
    const signingKey = randomBytes(32).toString('base64');
    const testDb = await createTestDb({ migrate: false });
    try {
      const before067 = loadMigrations().filter((m) => m.name < '067');
      await testDb.db.withOwner((tx) => migrate(tx, before067));
      // What the code before migration 067 wrote under PORT=8787: entries without signatures and a
      // checkpoint named after the host and port of the day.
      const seed = deriveSeed(Buffer.from(signingKey, 'base64'), 'audit-checkpoint');
      const legacy = signerFromSeed('localhost:8787/audit', seed);
      await testDb.db.withOwner(async (tx) => {
        let frontier: Buffer[] = [];
        let root5: Buffer | null = null;
        for (let seq = 0; seq < 6; seq++) {
          if (seq === 5) root5 = rootFromFrontier(frontier);
          const entry: AuditEntryCanonical = {
            seq,
            ts: new Date().toISOString(),
            tenantId: PLATFORM_TENANT,
            requestId: null,
            actor: { type: 'cli', id: 'old' },
            action: 'tenant.create',
            target: null,
            policyVersion: 0,
            source: 'server',
            reason: 'legacy',
            metadata: { seq },
          };
          const leaf = leafHash(auditLeafBytes(entry));
          await tx.query(
            `INSERT INTO audit_entries (tenant_id, seq, ts, request_id, actor_type, actor_id, action, policy_version, source, reason, metadata, leaf_hash)
             VALUES ($1, $2, $3, NULL, 'cli', 'old', 'tenant.create', 0, 'server', 'legacy', $4, $5)`,
            [PLATFORM_TENANT, seq, entry.ts, JSON.stringify(entry.metadata), leaf],
          );
          const appended = appendLeaf(frontier, seq, leaf);
          for (const n of appended.completed) {
            await tx.query('INSERT INTO audit_nodes (tenant_id, level, idx, hash) VALUES ($1, $2, $3, $4)', [
              PLATFORM_TENANT,
              n.level,
              n.index,
              n.hash,
            ]);
          }
          frontier = appended.frontier;
        }
        const note = signNote(formatCheckpoint({ origin: `localhost:8787/audit/${PLATFORM_TENANT}`, size: 5, root: root5! }), legacy);
        await tx.query('INSERT INTO audit_checkpoints (tenant_id, size, root, note) VALUES ($1, 5, $2, $3)', [PLATFORM_TENANT, root5, note]);
        // What `parley audit verify` under PORT=3000 used to add: an entry and a checkpoint signed by the
        // same key but named after that port. Genuine, if mislabelled: it must not fail the log for good.
        const root = rootFromFrontier(frontier);
        const wrong = signNote(
          formatCheckpoint({ origin: `localhost:3000/audit/${PLATFORM_TENANT}`, size: 6, root }),
          signerFromSeed('localhost:3000/audit', seed),
        );
        await tx.query('INSERT INTO audit_checkpoints (tenant_id, size, root, note) VALUES ($1, 6, $2, $3)', [PLATFORM_TENANT, root, wrong]);
        await tx.query('UPDATE audit_heads SET size = 6, frontier = $2, last_checkpoint_size = 6 WHERE tenant_id = $1', [
          PLATFORM_TENANT,
          Buffer.concat(frontier),
        ]);
      });
      await testDb.db.withOwner((tx) => migrate(tx));

      const config = testConfig({ PORT: '3000', PARLEY_SIGNING_KEY: signingKey, PARLEY_AUDIT_CHECKPOINT_EVERY: '3' });
      expect(config.auditOrigin).toBe('localhost:3000/audit');
      const rt = wireRuntime(config, testDb.db);
      const anchor = rt.audit.publicKey;
      const first = await verifyWith(testDb.db, PLATFORM_TENANT, anchor);
      expect(first, first.problems.join('\n')).toMatchObject({ ok: true, entries: 6 });
      // A mislabelled checkpoint by a key nobody trusts is still refused.
      expect((await verifyWith(testDb.db, PLATFORM_TENANT, signerFromSeed('x', randomBytes(32)).publicKey)).ok).toBe(false);
      // New entries and checkpoints under PORT=3000 are signed under the stored identity, chained to the old checkpoint.
      for (let i = 0; i < 4; i++) {
        await testDb.db.withPlatform({ requestId: null, actor: { type: 'cli', id: 'new' }, reason: 'test', action: 'test.new' }, async () => {});
      }
      await rt.audit.integrateNow();
      const r = await verifyWith(testDb.db, PLATFORM_TENANT, anchor);
      expect(r, r.problems.join('\n')).toMatchObject({ ok: true, entries: 10 });
      const newest = await testDb.db.withOwner(
        async (tx) =>
          (await tx.query<{ note: string }>('SELECT note FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1', [PLATFORM_TENANT]))
            .rows[0]!.note,
      );
      const text = parseCheckpoint(verifyNote(newest, verifierKeyString('localhost:8787/audit', anchor)).text);
      expect(text.origin).toBe(`localhost:8787/audit/${PLATFORM_TENANT}`);
      expect(text.extensions[0]).toMatch(/^parley-chain 2 3 6 /);
      // A rewrite of a legacy entry (no entry signature) is still caught by the signed root.
      await testDb.db.withOwner(async (tx) => {
        await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
        await tx.query("UPDATE audit_entries SET reason = 'covered up' WHERE tenant_id = $1 AND seq = 2", [PLATFORM_TENANT]);
        await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
      });
      expect(await verifyWith(testDb.db, PLATFORM_TENANT, anchor)).toMatchObject({ ok: false, firstBadIndex: 2 });
    } finally {
      await testDb.close();
    }
  });
});

describe('signing-key rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_AUDIT_CHECKPOINT_EVERY: '7', PORT: '4100' });
    await t.runtime.db.withoutTenant({ requestId: null }, (tx) => t.runtime.audit.ensureIdentity(tx));
  });
  afterAll(() => t.close());

  const appendOnly = async (audit: AuditLog, tenantId: string, n: number) => {
    for (let i = 0; i < n; i++) {
      await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
        audit.append(tx, { tenantId, requestId: null, actor: { type: 'system', id: 'test' }, action: 'test.event', metadata: { i } }),
      );
    }
  };
  /**
   * Appends n entries and has them integrated (indexed and signed) by `audit`'s key: while it holds the
   * integration lease, this app's own integrator (kicked by every commit) stays out.
   */
  const append = async (audit: AuditLog, tenantId: string, n: number) => {
    await t.runtime.audit.integrateNow();
    const integrator = new AuditIntegrator(t.runtime.db, audit);
    const lease = { name: INTEGRATE_JOB, holder: integrator.holder, ttlMs: 60_000, ignoreSchedule: true };
    await vi.waitFor(async () => expect(await acquireLease(t.runtime.db, lease)).toBe(true), { timeout: 10_000 });
    try {
      await appendOnly(audit, tenantId, n);
      await integrator.integrateNow();
    } finally {
      await releaseLease(t.runtime.db, lease);
    }
  };

  test('the checkpoint is also served as a C2SP signed note in text/plain, verifiable with a published key', async () => {
    const ten = await t.tenant('Plain');
    // The checkpoint covers integrated entries: integrate the tenant's first ones so both reads see one head.
    await t.runtime.audit.integrateNow();
    const res = await fetch(`${t.url}/v1/admin/audit/checkpoint`, { headers: { authorization: `Bearer ${ten.secretKey}`, accept: 'text/plain' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8/);
    const note = await res.text();
    const keys = (await call(t.url, 'GET', '/v1/audit/verifier-keys')).text.trim().split('\n');
    const parsed = parseCheckpoint(verifyNote(note, keys[0]!).text);
    expect(parsed.origin).toBe(`localhost:4100/audit/${ten.tenant.id}`);
    expect(parsed.extensions).toEqual([expect.stringMatching(/^parley-chain \d+ 7/)]);
    const json = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: ten.secretKey })).body;
    expect(json.checkpoint).toBe(note);
    expect(json.verifierKeys).toEqual(keys);
  });

  test('after PARLEY_SIGNING_KEY changes, the old checkpoints verify through the key history and the old key stays published', async () => {
    const id = (await t.tenant('Rotating')).tenant.id;
    await append(t.runtime.audit, id, 10);
    const rotated = new AuditLog({ ...t.runtime.audit.opts, seed: randomBytes(32) });
    await t.runtime.db.withoutTenant({ requestId: null }, (tx) => rotated.ensureIdentity(tx));
    await append(rotated, id, 9);
    const r = await verifyWith(t.runtime.db, id, rotated.publicKey);
    expect(r, r.problems.join('\n')).toMatchObject({ ok: true, firstBadIndex: null });
    const published = await t.runtime.db.withoutTenant({ requestId: null }, (tx) => rotated.verifierKeys(tx, id));
    expect(published).toEqual([
      verifierKeyString('localhost:4100/audit', rotated.publicKey),
      verifierKeyString('localhost:4100/audit', t.runtime.audit.publicKey),
    ]);
  });

  test('a key the database owner adds is not trusted: what it signs is found at its index', async () => {
    const id = (await t.tenant('Forged')).tenant.id;
    await append(t.runtime.audit, id, 5);
    const before = (await verifyWith(t.runtime.db, id, t.runtime.audit.publicKey)).entries;
    // The owner registers their own key (claiming to succeed the real one) and writes with it.
    const rogue = new AuditLog({ ...t.runtime.audit.opts, seed: randomBytes(32) });
    await t.runtime.db.withoutTenant({ requestId: null }, (tx) => rogue.ensureIdentity(tx));
    await append(rogue, id, 8);
    const r = await verifyWith(t.runtime.db, id, t.runtime.audit.publicKey);
    expect(r).toMatchObject({ ok: false, firstBadIndex: before });
  });
});
