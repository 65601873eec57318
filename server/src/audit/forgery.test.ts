// The database owner against the signer: a forged log must never get a checkpoint signed over it, whatever
// the owner deletes or writes in the head, and one tampered log must not stop the others. Found by a ninth
// outside review of the fix for the eighth's (cb286db): with every checkpoint deleted, the head was all that
// said where entry signatures began, and the checkpoint sweep sealed a forged, unsigned log.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { recomputeLog, withAuditTriggersOff } from '../test/audit.js';
import { formatCheckpoint, signerFromSeed, signNote } from './checkpoint.js';
import { integrateBatch } from './integrator.js';
import { rootFromLeafHashes } from './merkle.js';
import { checkpointSweep } from './sweep.js';
import { verifyLog } from './verify.js';

let t: TestApp;
const EVERY = 7;

beforeAll(async () => {
  t = await startTestApp({ PARLEY_AUDIT_CHECKPOINT_EVERY: String(EVERY) });
});
afterAll(() => t.close());

async function appendMany(tenantId: string, n: number) {
  for (let i = 0; i < n; i++) {
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      t.runtime.audit.append(tx, { tenantId, requestId: null, actor: { type: 'system', id: 'test' }, action: 'test.event', metadata: { i } }),
    );
  }
  await t.runtime.audit.integrateNow();
}
const verify = (tenantId: string) =>
  t.runtime.db.withOwner(async (tx) => {
    await tx.query('SET LOCAL ROLE parley_platform');
    return verifyLog(tx, tenantId, { anchor: t.runtime.audit.publicKey, checkpointEvery: EVERY });
  });
const sweep = () => checkpointSweep(t.runtime.db, t.runtime.audit);

/**
 * The owner with triggers off: runs `sqls`, renumbers what is left gap-free, recomputes every leaf, subtree and
 * the head (its checkpoint bookkeeping made to agree with the checkpoints left), and sets signed_from.
 */
async function forge(tenantId: string, sqls: [string, unknown[]][], signedFrom: number) {
  await withAuditTriggersOff(t.runtime.db, async (tx) => {
    for (const [sql, params] of sqls) await tx.query(sql, params);
    const ids = (await tx.query<{ id: number }>('SELECT id FROM audit_entries WHERE tenant_id = $1 AND seq IS NOT NULL ORDER BY seq', [tenantId]))
      .rows;
    await tx.query('UPDATE audit_entries SET seq = seq + 1000000000 WHERE tenant_id = $1 AND seq IS NOT NULL', [tenantId]);
    for (let i = 0; i < ids.length; i++) await tx.query('UPDATE audit_entries SET seq = $2 WHERE id = $1', [ids[i]!.id, i]);
    await recomputeLog(tx, tenantId, { signedFrom });
  });
}

/** What migration 067 left of a log written before it: entries unsigned, a checkpoint with no chain line at `legacy`, signed_from = size. */
async function makeLegacy(tenantId: string, legacy: number) {
  await withAuditTriggersOff(t.runtime.db, async (tx) => {
    const head = (await tx.query<{ origin: string; key_name: string }>('SELECT origin, key_name FROM audit_heads WHERE tenant_id = $1', [tenantId]))
      .rows[0]!;
    const leaves = (
      await tx.query<{ leaf_hash: Uint8Array }>('SELECT leaf_hash FROM audit_entries WHERE tenant_id = $1 AND seq < $2 ORDER BY seq', [
        tenantId,
        legacy,
      ])
    ).rows.map((r) => Buffer.from(r.leaf_hash));
    const root = rootFromLeafHashes(leaves);
    const note = signNote(
      formatCheckpoint({ origin: head.origin, size: legacy, root, extensions: [] }),
      signerFromSeed(head.key_name, t.runtime.audit.opts.seed),
    );
    await tx.query('UPDATE audit_entries SET sig = NULL WHERE tenant_id = $1', [tenantId]);
    await tx.query('DELETE FROM audit_checkpoints WHERE tenant_id = $1', [tenantId]);
    await tx.query('INSERT INTO audit_checkpoints (tenant_id, size, root, note) VALUES ($1, $2, $3, $4)', [tenantId, legacy, root, note]);
    await tx.query(
      'UPDATE audit_heads SET signed_from = size, checkpoint_count = 1, last_checkpoint_size = $2, last_checkpoint_hash = $3 WHERE tenant_id = $1',
      [tenantId, legacy, createHash('sha256').update(note, 'utf8').digest()],
    );
  });
  // A process that vouched for the log before the migration's state would not check it again.
  (t.runtime.audit as unknown as { vouched: Map<string, unknown> }).vouched.delete(tenantId);
}

async function newLog(n: number) {
  const tenant = await t.tenant(`Log ${randomUUID().slice(0, 6)}`);
  await appendMany(tenant.tenant.id, n);
  expect((await verify(tenant.tenant.id)).ok).toBe(true);
  return tenant.tenant.id;
}

describe('a log forged with its checkpoints deleted', () => {
  test('every checkpoint deleted, entries rewritten, deleted and unsigned, signed_from raised: the sweep signs nothing and verify fails', async () => {
    const id = await newLog(20);
    await forge(
      id,
      [
        ['DELETE FROM audit_checkpoints WHERE tenant_id = $1', [id]],
        ["UPDATE audit_entries SET reason = 'covered up', actor_id = 'someone-else' WHERE tenant_id = $1 AND seq = 3", [id]],
        ['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 10', [id]],
        ['UPDATE audit_entries SET sig = NULL WHERE tenant_id = $1 AND seq IS NOT NULL', [id]],
      ],
      1_000_000,
    );
    expect((await verify(id)).ok).toBe(false);
    await sweep();
    expect(t.runtime.audit.heldLogs()).toContain(id);
    const r = await verify(id);
    expect(r).toMatchObject({ ok: false, firstBadIndex: 0 });
    expect(r.problems.join('\n')).toMatch(/entry 0 has no signature/);
  });

  test('a log from before entry signatures: its chained checkpoints deleted and entries after its last old checkpoint forged unsigned', async () => {
    const id = await newLog(4);
    const legacy = (await verify(id)).entries - 3;
    await makeLegacy(id, legacy);
    await sweep();
    await appendMany(id, 20);
    expect((await verify(id)).ok).toBe(true);
    await forge(
      id,
      [
        ['DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND size > $2', [id, legacy]],
        ["UPDATE audit_entries SET reason = 'covered up', actor_id = 'someone-else' WHERE tenant_id = $1 AND seq = $2", [id, legacy + 10]],
        ['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = $2', [id, legacy + 12]],
        ['UPDATE audit_entries SET sig = NULL WHERE tenant_id = $1 AND seq >= $2', [id, legacy]],
      ],
      1_000_000,
    );
    await sweep();
    expect(t.runtime.audit.heldLogs()).toContain(id);
    const r = await verify(id);
    expect(r.ok).toBe(false);
    // Unsigned entries are allowed at most one checkpoint interval past the last checkpoint from before chains.
    expect(r.firstBadIndex).toBeLessThanOrEqual(legacy + EVERY);
  });
});

describe('a log from before entry signatures', () => {
  test('its unsigned tail after its last old checkpoint verifies before the server signs a chained one, and after', async () => {
    const id = await newLog(4);
    await makeLegacy(id, (await verify(id)).entries - 3);
    expect(await verify(id)).toMatchObject({ ok: true });
    await sweep();
    expect(t.runtime.audit.heldLogs()).not.toContain(id);
    expect(await verify(id)).toMatchObject({ ok: true });
  });
});

describe('one tampered log does not stop the others', () => {
  async function poisoned(where: 'pending' | 'integrated') {
    const x = await newLog(2);
    const y = await newLog(2);
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      if (where === 'pending') {
        await tx.query(
          `INSERT INTO audit_entries (tenant_id, ts, request_id, actor_type, actor_id, action, policy_version, source, metadata)
           VALUES ($1, '10000-01-01T00:00:00Z', null, 'system', 'x', 'poison', 0, 'server', '{}')`,
          [x],
        );
      } else {
        await tx.query(
          "UPDATE audit_entries SET ts = '10000-01-01T00:00:00Z' WHERE tenant_id = $1 AND seq = (SELECT max(seq) FROM audit_entries WHERE tenant_id = $1)",
          [x],
        );
      }
      await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    });
    (t.runtime.audit as unknown as { vouched: Map<string, unknown> }).vouched.delete(x);
    return { x, y };
  }

  test('an unreadable pending entry holds its log; another tenant’s entries are integrated', async () => {
    const { x, y } = await poisoned('pending');
    await t.runtime.db.withTenant(y, { requestId: null }, (tx) =>
      t.runtime.audit.append(tx, { tenantId: y, requestId: null, actor: { type: 'system', id: 'test' }, action: 'y.after' }),
    );
    await integrateBatch(t.runtime.db, t.runtime.audit);
    // The app's own integrator may have claimed the entries first (the batch above skips what it has
    // locked): then it is the one that holds the log and integrates the rest, a moment later.
    await vi.waitFor(() => expect(t.runtime.audit.heldLogs()).toContain(x));
    await vi.waitFor(async () => expect(await verify(y)).toMatchObject({ ok: true, pending: 0 }));
  });

  test('an unreadable integrated entry holds its log in the sweep and integration, and verify reports it', async () => {
    const { x, y } = await poisoned('integrated');
    await sweep();
    expect(t.runtime.audit.heldLogs()).toContain(x);
    await t.runtime.db.withTenant(y, { requestId: null }, (tx) =>
      t.runtime.audit.append(tx, { tenantId: y, requestId: null, actor: { type: 'system', id: 'test' }, action: 'y.after' }),
    );
    await integrateBatch(t.runtime.db, t.runtime.audit);
    expect(await verify(y)).toMatchObject({ ok: true, pending: 0 });
    const r = await verify(x);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/cannot be read/);
  });
});
