// The audit log end to end: proofs over HTTP, signed checkpoints, append-only storage, tamper detection.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { recomputeLog, withAuditTriggersOff } from '../test/audit.js';
import { call } from '../test/http.js';
import type { CreatedTenant } from '../tenants/service.js';
import { parseCheckpoint, verifyNote } from './checkpoint.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import { verifyLog } from './verify.js';

let t: TestApp;
let ten: CreatedTenant;
const hex = (s: string) => Buffer.from(s, 'hex');

async function appendMany(tenantId: string, n: number) {
  for (let i = 0; i < n; i++) {
    await t.runtime.db.withTenant(tenantId, { requestId: `req-${i}` }, (tx) =>
      t.runtime.audit.append(tx, { tenantId, requestId: `req-${i}`, actor: { type: 'system', id: 'test' }, action: 'test.event', metadata: { i } }),
    );
  }
  // Proofs exist once the entries are integrated (the kick after each commit usually has done it already).
  await t.runtime.audit.integrateNow();
}
const verify = (tenantId: string) =>
  t.runtime.db.withOwner(async (tx) => {
    await tx.query('SET LOCAL ROLE parley_platform');
    return verifyLog(tx, tenantId, { anchor: t.runtime.audit.publicKey, checkpointEvery: t.config.auditCheckpointEvery });
  });

beforeAll(async () => {
  t = await startTestApp({ PARLEY_AUDIT_CHECKPOINT_EVERY: '7' });
  ten = await t.tenant();
  await appendMany(ten.tenant.id, 30);
});
afterAll(() => t.close());

describe('proofs and checkpoints over the API', () => {
  test('the checkpoint verifies with the published key and fails after any changed byte', async () => {
    const cp = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: ten.secretKey })).body;
    const published = (await call(t.url, 'GET', '/v1/audit/verifier-key')).text.trim();
    expect(cp.verifierKey).toBe(published);
    const parsed = parseCheckpoint(verifyNote(cp.checkpoint, published).text);
    expect(parsed.size).toBe(cp.size);
    expect(parsed.root.toString('hex')).toBe(cp.root);
    expect(parsed.origin).toBe(cp.origin);
    const note: string = cp.checkpoint;
    for (const i of [0, note.indexOf('\n') + 1, note.length - 5]) {
      const flipped = note.slice(0, i) + String.fromCharCode(note.charCodeAt(i) ^ 1) + note.slice(i + 1);
      expect(() => verifyNote(flipped, published), `byte ${i}`).toThrow();
    }
  });

  test('inclusion proofs for every entry verify against the checkpoint root', async () => {
    const cp = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: ten.secretKey })).body;
    for (let i = 0; i < cp.size; i++) {
      const p = (await call(t.url, 'GET', `/v1/admin/audit/proof/inclusion?index=${i}&size=${cp.size}`, { key: ten.secretKey })).body;
      expect(verifyInclusion(hex(p.leafHash), i, cp.size, p.proof.map(hex), hex(cp.root))).toBe(true);
      expect(verifyInclusion(hex(p.leafHash), (i + 1) % cp.size, cp.size, p.proof.map(hex), hex(cp.root))).toBe(cp.size === 1);
    }
  });

  test('consistency proofs link every stored checkpoint to the newest', async () => {
    const newest = (await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: ten.secretKey })).body;
    const stored = await t.runtime.db.withTenant(ten.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ size: number; root: Uint8Array }>('SELECT size, root FROM audit_checkpoints WHERE size > 0 ORDER BY size'),
    );
    expect(stored.rows.length).toBeGreaterThanOrEqual(4); // every 7 entries, plus the on-demand one
    for (const old of stored.rows) {
      const p = (await call(t.url, 'GET', `/v1/admin/audit/proof/consistency?from=${old.size}&to=${newest.size}`, { key: ten.secretKey })).body;
      expect(verifyConsistency(old.size, newest.size, p.proof.map(hex), Buffer.from(old.root), hex(newest.root))).toBe(true);
    }
  });

  test('listing pages through entries in order, gap-free', async () => {
    const seen: number[] = [];
    let after = -1;
    for (;;) {
      const page = (await call(t.url, 'GET', `/v1/admin/audit?after=${after}&limit=8`, { key: ten.secretKey })).body;
      seen.push(...page.entries.map((e: any) => e.seq));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual([...seen.keys()]);
  });
});

describe('append-only storage', () => {
  test.each(['UPDATE audit_entries SET action = $2 WHERE tenant_id = $1', 'DELETE FROM audit_entries WHERE tenant_id = $1'])(
    'the app role cannot: %s',
    async (sql) => {
      const params = sql.includes('$2') ? [ten.tenant.id, 'x'] : [ten.tenant.id];
      await expect(t.runtime.db.withTenant(ten.tenant.id, { requestId: null }, (tx) => tx.query(sql, params))).rejects.toThrow();
    },
  );

  test('even the owner is refused by the triggers', async () => {
    for (const sql of [
      "UPDATE audit_entries SET action = 'x'",
      'DELETE FROM audit_entries',
      'TRUNCATE audit_entries',
      'DELETE FROM audit_heads',
      'UPDATE audit_heads SET size = 0',
    ])
      await expect(
        t.runtime.db.withOwner((tx) => tx.query(sql)),
        sql,
      ).rejects.toThrow(/append-only|forward/);
  });

  test('an action and its entry commit together: a failed audit append leaves no action behind', async () => {
    const spy = vi.spyOn(t.runtime.audit, 'append').mockRejectedValueOnce(new Error('disk full'));
    const res = await call(t.url, 'POST', '/v1/admin/domains', { key: ten.secretKey, body: { pattern: 'atomic.example' } });
    spy.mockRestore();
    expect(res.status).toBe(500);
    const domains = (await call(t.url, 'GET', '/v1/admin/domains', { key: ten.secretKey })).body.domains;
    expect(domains.map((d: any) => d.pattern)).not.toContain('atomic.example');
  });

  test('concurrent appends keep a gap-free order', async () => {
    const other = await t.tenant('Concurrent');
    await Promise.all(Array.from({ length: 8 }, () => appendMany(other.tenant.id, 10)));
    const rows = await t.runtime.db.withTenant(other.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ seq: number }>('SELECT seq FROM audit_entries ORDER BY seq'),
    );
    expect(rows.rows.map((r) => r.seq)).toEqual([...Array(rows.rows.length).keys()]);
    expect((await verify(other.tenant.id)).ok).toBe(true);
  });
});

describe('tampering as the database owner is found at its index', () => {
  async function tampered(setup: (tenantId: string) => string[]): Promise<Awaited<ReturnType<typeof verify>>> {
    const victim = await t.tenant(`Victim ${randomUUID().slice(0, 6)}`);
    await appendMany(victim.tenant.id, 20);
    expect((await verify(victim.tenant.id)).ok).toBe(true);
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      for (const sql of setup(victim.tenant.id)) await tx.query(sql);
      await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    });
    return verify(victim.tenant.id);
  }

  test('an edited row', async () => {
    const r = await tampered((id) => [`UPDATE audit_entries SET metadata = '{"i": 999}' WHERE tenant_id = '${id}' AND seq = 12`]);
    expect(r).toMatchObject({ ok: false, firstBadIndex: 12 });
  });

  test('an edited row whose leaf hash was recomputed to match is still caught by the tree', async () => {
    const r = await tampered((id) => [
      `UPDATE audit_entries SET reason = 'covered up', leaf_hash = sha256('x'::bytea) WHERE tenant_id = '${id}' AND seq = 9`,
    ]);
    expect(r.ok).toBe(false);
    expect(r.firstBadIndex).toBeLessThanOrEqual(9);
  });

  test('a deleted row', async () => {
    const r = await tampered((id) => [`DELETE FROM audit_entries WHERE tenant_id = '${id}' AND seq = 5`]);
    expect(r).toMatchObject({ ok: false, firstBadIndex: 5 });
  });

  test('two rows swapped', async () => {
    const r = await tampered((id) => [
      `UPDATE audit_entries SET seq = 1000000 WHERE tenant_id = '${id}' AND seq = 14`,
      `UPDATE audit_entries SET seq = 14 WHERE tenant_id = '${id}' AND seq = 15`,
      `UPDATE audit_entries SET seq = 15 WHERE tenant_id = '${id}' AND seq = 1000000`,
    ]);
    expect(r).toMatchObject({ ok: false, firstBadIndex: 14 });
  });

  /**
   * The thorough owner: rewrites entry `index` (if given), then recomputes every leaf hash, every stored
   * subtree and the head (size, frontier, and whatever checkpoint bookkeeping the head keeps) from the
   * rows that remain, so that nothing unsigned contradicts the forgery.
   */
  async function recomputeEverything(
    tenantId: string,
    opts: { rewrite?: number; keepCheckpointsBelow?: number; keepEntriesBelow?: number; unsign?: boolean; signedFrom?: number },
  ) {
    await withAuditTriggersOff(t.runtime.db, async (tx) => {
      await tx.query('DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND size >= $2', [tenantId, opts.keepCheckpointsBelow ?? 0]);
      if (opts.keepEntriesBelow !== undefined)
        await tx.query('DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= $2', [tenantId, opts.keepEntriesBelow]);
      if (opts.rewrite !== undefined) {
        await tx.query(`UPDATE audit_entries SET reason = 'covered up', actor_id = 'someone-else' WHERE tenant_id = $1 AND seq = $2`, [
          tenantId,
          opts.rewrite,
        ]);
        // A rewritten entry's signature no longer matches: the owner removes it, as if it predated signatures.
        if (opts.unsign) await tx.query('UPDATE audit_entries SET sig = NULL WHERE tenant_id = $1 AND seq = $2', [tenantId, opts.rewrite]);
      }
      // signedFrom: the head's record of where entry signatures began, which only the database holds.
      await recomputeLog(tx, tenantId, { signedFrom: opts.signedFrom });
    });
  }

  async function victimLog(n = 20) {
    return (await victimTenant(n)).tenant.id;
  }
  async function victimTenant(n = 20) {
    const victim = await t.tenant(`Victim ${randomUUID().slice(0, 6)}`);
    await appendMany(victim.tenant.id, n);
    expect((await verify(victim.tenant.id)).ok).toBe(true);
    return victim;
  }

  test('an entry rewritten with leaves, nodes and head recomputed is named at its own index, not at the checkpoint before it', async () => {
    const id = await victimLog();
    await recomputeEverything(id, { rewrite: 3, keepCheckpointsBelow: Number.MAX_SAFE_INTEGER });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 3 });
  });

  test('every checkpoint deleted, entry #3 rewritten, leaves, nodes and head recomputed: found at 3', async () => {
    const id = await victimLog();
    await recomputeEverything(id, { rewrite: 3 });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 3 });
  });

  test('every checkpoint deleted (nothing else touched) is flagged', async () => {
    const id = await victimLog();
    await recomputeEverything(id, {});
    const r = await verify(id);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/checkpoint/);
  });

  test('deleting the newest checkpoint, which the head still names, is flagged', async () => {
    const id = await victimLog();
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
      await tx.query(
        'DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND size = (SELECT last_checkpoint_size FROM audit_heads WHERE tenant_id = $1)',
        [id],
      );
      await tx.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
    });
    const r = await verify(id);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/checkpoint/);
  });

  test('deleting a checkpoint in the middle is flagged even when the head is made to agree', async () => {
    const id = await victimLog();
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
      await tx.query('DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND size = 14', [id]);
      await tx.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
    });
    await recomputeEverything(id, { keepCheckpointsBelow: Number.MAX_SAFE_INTEGER });
    const r = await verify(id);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/checkpoint.*14|14.*checkpoint/);
  });

  test('deleting the newest entries below the last signed checkpoint is found at the first deleted index', async () => {
    const id = await victimLog();
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      await tx.query('DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 10', [id]);
      await tx.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 10 });
  });

  test('truncation that also deletes the checkpoints above it and fixes the head size is found at the first deleted index', async () => {
    const id = await victimLog();
    await t.runtime.db.withOwner(async (tx) => {
      for (const table of ['audit_entries', 'audit_checkpoints', 'audit_heads']) await tx.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
      await tx.query('DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 10', [id]);
      await tx.query('DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND size > 10', [id]);
      await tx.query('UPDATE audit_heads SET size = 10 WHERE tenant_id = $1', [id]);
      for (const table of ['audit_entries', 'audit_checkpoints', 'audit_heads']) await tx.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 10 });
  });

  test('truncation hidden by deleting checkpoints and recomputing the head is caught once more entries than a checkpoint interval are unsigned', async () => {
    const id = await victimLog(30);
    await recomputeEverything(id, { keepCheckpointsBelow: 8, keepEntriesBelow: 20 });
    const r = await verify(id);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/checkpoint/);
  });

  // Found by an eighth outside review: where entry signatures begin was read from the head, which the owner
  // writes, and the server signed whatever head it found, so a rewrite with its signature removed verified.
  test('an entry rewritten after the last checkpoint, its signature removed and the head saying signatures begin later: found at its index', async () => {
    const id = await victimLog();
    // Checkpoints every 7 entries: 21 is the last of 24.
    await recomputeEverything(id, { rewrite: 22, unsign: true, signedFrom: 1000, keepCheckpointsBelow: Number.MAX_SAFE_INTEGER });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 22 });
  });

  test('the newer checkpoints deleted as well, an entry they covered rewritten and unsigned: found at its index', async () => {
    const id = await victimLog();
    // The checkpoint at 21 and the entries from 20 go, so fewer entries than a checkpoint interval follow the one at 14.
    await recomputeEverything(id, { rewrite: 16, unsign: true, signedFrom: 1000, keepCheckpointsBelow: 15, keepEntriesBelow: 20 });
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 16 });
  });

  test('the server signs no checkpoint over a head that its entries and its last checkpoint do not make', async () => {
    const victim = await victimTenant();
    const id = victim.tenant.id;
    await recomputeEverything(id, { rewrite: 16, unsign: true, keepCheckpointsBelow: Number.MAX_SAFE_INTEGER });
    const before = await verify(id);
    expect(before).toMatchObject({ ok: false, firstBadIndex: 16 });
    // An export or the checkpoint endpoint asks for a fresh checkpoint over the forged head: refused.
    await expect(t.runtime.db.withTenant(id, { requestId: null }, (tx) => t.runtime.audit.latestCheckpoint(tx, id))).rejects.toThrow(
      /integrity check/,
    );
    await expect(t.runtime.db.withTenant(id, { requestId: null }, (tx) => t.runtime.audit.checkpointIfBehind(tx, id))).rejects.toThrow(
      /integrity check/,
    );
    // New entries are not integrated over it either: they wait, and the log still fails at the rewrite.
    await t.runtime.db.withTenant(id, { requestId: null }, (tx) =>
      t.runtime.audit.append(tx, { tenantId: id, requestId: null, actor: { type: 'system', id: 'test' }, action: 'test.after' }),
    );
    await t.runtime.audit.integrateNow();
    expect(await verify(id)).toMatchObject({ ok: false, firstBadIndex: 16, pending: 1 });
    // The log is held, not the integrator: another tenant's entries are integrated and its log verifies.
    await appendMany(ten.tenant.id, 2);
    expect(await verify(ten.tenant.id)).toMatchObject({ ok: true, pending: 0 });
    // Asked over the API, the checkpoint is a conflict that names the check, not an internal error.
    const cp = await call(t.url, 'GET', '/v1/admin/audit/checkpoint', { key: victim.secretKey });
    expect(cp.status).toBe(409);
    expect(cp.body.detail).toMatch(/integrity check/);
  });

  test('an entry under a signed checkpoint rewritten and unsigned: no checkpoint is signed over it, and the log fails', async () => {
    const id = await victimLog();
    // Entry 2, under the checkpoint at 7, rewritten with everything recomputed and every checkpoint kept.
    await recomputeEverything(id, { rewrite: 2, unsign: true, signedFrom: 1000, keepCheckpointsBelow: Number.MAX_SAFE_INTEGER });
    await expect(t.runtime.db.withTenant(id, { requestId: null }, (tx) => t.runtime.audit.latestCheckpoint(tx, id))).rejects.toThrow(
      /integrity check/,
    );
    // Below the first chained checkpoint an entry may predate signatures, so the signed root bounds it there.
    const r = await verify(id);
    expect(r.ok).toBe(false);
    expect(r.firstBadIndex).toBeLessThanOrEqual(2);
  });

  test('verification writes nothing', async () => {
    const counts = () =>
      t.runtime.db.withOwner(async (tx) => {
        const out: Record<string, number> = {};
        for (const table of ['audit_entries', 'audit_nodes', 'audit_checkpoints', 'audit_heads']) {
          out[table] = Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
        }
        return out;
      });
    const before = await counts();
    for (const id of [ten.tenant.id, '00000000-0000-0000-0000-000000000000']) await verify(id);
    expect(await counts()).toEqual(before);
  });

  test('the untouched log of another tenant still verifies', async () => {
    expect(await verify(ten.tenant.id)).toMatchObject({ ok: true, firstBadIndex: null, entries: expect.any(Number) });
  });
});
