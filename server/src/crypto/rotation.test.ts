// Data key rotation: every value stays readable, moves to the new version, the old version retires,
// and the whole thing is audited without key material.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setProvider } from '../ai/providers/service.js';
import type { Tx } from '../db/types.js';
import { wireRuntime, type Runtime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { createTenant } from '../tenants/service.js';
import { Keyring } from './keyring.js';
import { rotateDataKeys, rotationSweep, tenantsDueForRotation } from './rotation.js';
import { runRotationSweep } from '../jobs/rotation.js';
import { PROVIDER_API_KEY, type SealedColumn } from './sealed-columns.js';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../outbound/outbound.js';

const outbound = new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) });

let testDb: TestDb;
let rt: Runtime;
const by = { requestId: null, actor: { type: 'cli' as const, id: 'test' } };
const inTenant = <T>(id: string, fn: (tx: Tx) => Promise<T>) => rt.db.withTenant(id, { requestId: null }, fn);
const newTenant = async (name: string) =>
  (await createTenant({ db: rt.db, audit: rt.audit, env: 'development' }, { name, domains: [] }, by)).tenant.id;

// A second sealed column, with several rows, to exercise batching and a fixed context.
const NOTES: SealedColumn = { table: 'rotation_notes', column: 'body', key: ['id'], context: (row) => `rotation_notes.body/${String(row.id)}` };
const columns = [PROVIDER_API_KEY, NOTES];
const OPENAI_KEY = 'sk-proj-rotation-AAAAbbbbCCCCdddd1234';

async function versionsOf(tenantId: string) {
  const r = await rt.db.withOwner((tx) =>
    tx.query<{ version: number; retired: boolean }>(
      'SELECT version, retired_at IS NOT NULL AS retired FROM tenant_data_keys WHERE tenant_id = $1 ORDER BY version',
      [tenantId],
    ),
  );
  return r.rows;
}

async function seedNotes(tenantId: string, n: number): Promise<string[]> {
  const texts = Array.from({ length: n }, (_, i) => `note ${i} of ${tenantId}`);
  await inTenant(tenantId, async (tx) => {
    for (const [i, text] of texts.entries()) {
      const sealed = await rt.keyring.seal(tx, tenantId, text, NOTES.context({ id: i }));
      await tx.query('INSERT INTO rotation_notes (tenant_id, id, body) VALUES ($1, $2, $3)', [tenantId, i, sealed]);
    }
  });
  return texts;
}

async function readAll(tenantId: string, keyring: Keyring) {
  return inTenant(tenantId, async (tx) => {
    const notes = await tx.query<{ id: number; body: Uint8Array }>('SELECT id, body FROM rotation_notes WHERE body IS NOT NULL ORDER BY id');
    const prov = await tx.query<{ provider: string; base_url: string | null; api_key_sealed: Uint8Array }>(
      'SELECT provider, base_url, api_key_sealed FROM ai_providers',
    );
    return {
      notes: await Promise.all(notes.rows.map((r) => keyring.openString(tx, tenantId, r.body, NOTES.context(r)))),
      noteVersions: notes.rows.map((r) => Keyring.versionOf(r.body)),
      keys: await Promise.all(prov.rows.map((r) => keyring.openString(tx, tenantId, r.api_key_sealed, PROVIDER_API_KEY.context(r)))),
      keyVersions: prov.rows.map((r) => Keyring.versionOf(r.api_key_sealed)),
    };
  });
}

beforeAll(async () => {
  testDb = await createTestDb();
  rt = wireRuntime(testConfig(), testDb.db);
  await rt.db.withOwner((tx) =>
    tx.exec(`CREATE TABLE rotation_notes (tenant_id uuid NOT NULL, id integer NOT NULL, body bytea, PRIMARY KEY (tenant_id, id));
             ALTER TABLE rotation_notes ENABLE ROW LEVEL SECURITY;
             ALTER TABLE rotation_notes FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON rotation_notes
               USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
               WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
             GRANT SELECT, INSERT, UPDATE ON rotation_notes TO parley_app, parley_platform;`),
  );
});
afterAll(() => testDb.close());

describe('data key rotation', () => {
  test('re-seals every value under the new version in batches, retires the old one, and audits it', async () => {
    const t = await newTenant('Rotating');
    const texts = await seedNotes(t, 5);
    await setProvider({ db: rt.db, audit: rt.audit, keyring: rt.keyring, env: 'development', outbound }, { ...by, tenantId: t }, 'openai', {
      apiKey: OPENAI_KEY,
      model: 'gpt-4o-mini',
    });
    await rt.db.withOwner((tx) => tx.query('INSERT INTO rotation_notes (tenant_id, id, body) VALUES ($1, 99, NULL)', [t]));

    const result = await inTenant(t, (tx) => rotateDataKeys(tx, t, { keyring: rt.keyring, audit: rt.audit, ...by, columns, batchSize: 2 }));
    expect(result).toEqual({
      fromVersions: [1],
      toVersion: 2,
      resealed: { 'ai_providers.api_key_sealed': 1, 'rotation_notes.body': 5 },
      failed: 0,
      retired: [1],
    });
    expect(await versionsOf(t)).toEqual([
      { version: 1, retired: true },
      { version: 2, retired: false },
    ]);

    // Readable with a fresh keyring (no cached keys), all on version 2.
    const after = await readAll(t, new Keyring(rt.keyring.kek));
    expect(after).toEqual({ notes: texts, noteVersions: [2, 2, 2, 2, 2], keys: [OPENAI_KEY], keyVersions: [2] });
    // New values use the new version at once.
    expect(Keyring.versionOf(await inTenant(t, (tx) => rt.keyring.seal(tx, t, 'new', 'test/value')))).toBe(2);

    const entries = await rt.db.withOwner((tx) =>
      tx.query<{ metadata: Record<string, unknown>; target_id: string }>(
        "SELECT metadata, target_id FROM audit_entries WHERE tenant_id = $1 AND action = 'data_key.rotate'",
        [t],
      ),
    );
    expect(entries.rows).toEqual([{ target_id: '2', metadata: result }]);
    const wrapped = await rt.db.withOwner((tx) =>
      tx.query<{ wrapped: Uint8Array }>('SELECT wrapped FROM tenant_data_keys WHERE tenant_id = $1', [t]),
    );
    const text = JSON.stringify(entries.rows);
    for (const w of wrapped.rows) {
      expect(text).not.toContain(Buffer.from(w.wrapped).toString('hex'));
      expect(text).not.toContain(Buffer.from(w.wrapped).toString('base64'));
    }
    expect(text).not.toContain(OPENAI_KEY.slice(-8));

    // A second rotation moves on again and retires version 2.
    const again = await inTenant(t, (tx) => rotateDataKeys(tx, t, { keyring: rt.keyring, audit: rt.audit, ...by, columns }));
    expect(again).toMatchObject({ fromVersions: [2], toVersion: 3, retired: [2] });
    expect((await readAll(t, new Keyring(rt.keyring.kek))).notes).toEqual(texts);
  });

  test('a value that no longer opens is counted and keeps its version from being retired', async () => {
    const t = await newTenant('Tampered');
    await seedNotes(t, 3);
    await rt.db.withOwner((tx) =>
      // A byte flipped, never overwritten with a value it may hold already.
      tx.query('UPDATE rotation_notes SET body = set_byte(body, 39, get_byte(body, 39) # 1) WHERE tenant_id = $1 AND id = 1', [t]),
    );
    const result = await inTenant(t, (tx) => rotateDataKeys(tx, t, { keyring: rt.keyring, audit: rt.audit, ...by, columns }));
    expect(result).toMatchObject({ resealed: { 'rotation_notes.body': 2 }, failed: 1, retired: [] });
    expect(await versionsOf(t)).toEqual([
      { version: 1, retired: false },
      { version: 2, retired: false },
    ]);
  });

  test('tenants are isolated: rotating one leaves the other untouched', async () => {
    const [x, y] = [await newTenant('X'), await newTenant('Y')];
    await seedNotes(x, 2);
    const yTexts = await seedNotes(y, 2);
    await inTenant(x, (tx) => rotateDataKeys(tx, x, { keyring: rt.keyring, audit: rt.audit, ...by, columns }));
    expect(await versionsOf(y)).toEqual([{ version: 1, retired: false }]);
    expect(await readAll(y, new Keyring(rt.keyring.kek))).toMatchObject({ notes: yTexts, noteVersions: [1, 1] });
  });

  test('the sweep rotates only tenants whose key is older than the setting, on the audited platform path', async () => {
    const [old, fresh] = [await newTenant('Old'), await newTenant('Fresh')];
    const oldTexts = await seedNotes(old, 2);
    await setProvider({ db: rt.db, audit: rt.audit, keyring: rt.keyring, env: 'development', outbound }, { ...by, tenantId: old }, 'openai', {
      apiKey: OPENAI_KEY,
      model: 'gpt-4o-mini',
    });
    await seedNotes(fresh, 1);
    await rt.db.withOwner((tx) => tx.query("UPDATE tenant_data_keys SET created_at = now() - interval '91 days' WHERE tenant_id = $1", [old]));
    const due = await rt.db.withOwner((tx) => tenantsDueForRotation(tx, 90));
    expect(due).toContain(old);
    expect(due).not.toContain(fresh);

    const sweep = await rotationSweep(rt.db, { keyring: rt.keyring, audit: rt.audit, days: 90 });
    expect(sweep.failures).toEqual([]);
    expect(sweep.rotated).toBe(1);
    expect(await versionsOf(old)).toEqual([
      { version: 1, retired: true },
      { version: 2, retired: false },
    ]);
    expect(await versionsOf(fresh)).toEqual([{ version: 1, retired: false }]);
    // Provider keys are re-sealed on the platform path. The test table is not registered, so its values
    // stay on version 1: a retired key still opens them.
    expect(await readAll(old, new Keyring(rt.keyring.kek))).toEqual({ notes: oldTexts, noteVersions: [1, 1], keys: [OPENAI_KEY], keyVersions: [2] });
    const platform = await rt.db.withOwner((tx) =>
      tx.query<{ actor_type: string; reason: string }>(
        "SELECT actor_type, reason FROM audit_entries WHERE action = 'data_key.rotate' AND target_id = $1 AND tenant_id = '00000000-0000-0000-0000-000000000000'",
        [old],
      ),
    );
    expect(platform.rows).toEqual([{ actor_type: 'system', reason: 'scheduled data key rotation (every 90 days)' }]);
    // Nothing is due right after.
    expect(await rotationSweep(rt.db, { keyring: rt.keyring, audit: rt.audit, days: 90 })).toEqual({ rotated: 0, failures: [] });
  });

  test('a concurrent rotation that finds the key already fresh does nothing', async () => {
    const t = await newTenant('Raced');
    await seedNotes(t, 1);
    const r = await inTenant(t, (tx) => rotateDataKeys(tx, t, { keyring: rt.keyring, audit: rt.audit, ...by, columns, ifOlderThanDays: 90 }));
    expect(r).toBeNull();
    expect(await versionsOf(t)).toEqual([{ version: 1, retired: false }]);
  });

  test('two instances that both try the scheduled rotation rotate a due tenant once (the lease)', async () => {
    const t = await newTenant('Fleet');
    await seedNotes(t, 1);
    await rt.db.withOwner((tx) =>
      tx.query(`UPDATE tenant_data_keys SET created_at = now() - make_interval(days => $2) WHERE tenant_id = $1`, [
        t,
        rt.config.dataKeyRotationDays + 1,
      ]),
    );
    const runs = await Promise.all(['instance-a', 'instance-b'].map((holder) => runRotationSweep(rt, holder)));
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    expect(await versionsOf(t)).toEqual([
      { version: 1, retired: true },
      { version: 2, retired: false },
    ]);
    const entries = await rt.db.withOwner((tx) =>
      tx.query(
        "SELECT 1 FROM audit_entries WHERE action = 'data_key.rotate' AND target_id = $1 AND tenant_id = '00000000-0000-0000-0000-000000000000'",
        [t],
      ),
    );
    expect(entries.rows).toHaveLength(1);
    // Not due again on any instance until the interval has passed.
    expect(await runRotationSweep(rt, 'instance-c')).toEqual({ ran: false });
  });
});
