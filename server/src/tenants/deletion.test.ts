// Deleting a tenant for good, over a real app and database (PGlite, and PostgreSQL in CI): after it, no
// table holds a row with the tenant's id, a copied sealed value no longer opens (its keys are gone), the
// Pinecone namespace is emptied, the platform log's tombstone verifies, and the other tenant is untouched.
// On PostgreSQL a pg_dump of the whole database holds none of the deleted tenant's text.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { detect } from '../ai/pii/index.js';
import { verifyNote } from '../audit/checkpoint.js';
import { verifyLogs } from '../audit/verify.js';
import { Keyring, SealError } from '../crypto/keyring.js';
import { pineconeStore } from '../knowledge/vectors/pinecone.js';
import type { CreatedTenant } from './service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { startFakePinecone } from '../test/pinecone-fake.js';
import { Visitor } from '../test/widget.js';
import { deleteTenantNow, deletionOrder, TOMBSTONE_ACTION, type DeletionDeps } from './deletion.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let pinecone: Awaited<ReturnType<typeof startFakePinecone>>;
let deps: DeletionDeps;

// Distinctive text of each tenant, to look for in every table and in a dump.
const A_TEXT = 'Quetzalfrond warranty for the Zorblax kettle';
const A_CHAT = 'My Zorblax kettle hums a Quetzalfrond tune';
const B_TEXT = 'Marmalith warranty for the Vexiphone';

const owner = (sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<any>(sql, params));

async function seed(tenant: CreatedTenant, origin: string, text: string, chat: string) {
  const res = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
    key: tenant.secretKey,
    body: { kind: 'markdown', content: `# Warranty\n\n${text}. Two years, parts and labour.`, url: `${origin}/warranty`, externalId: 'warranty' },
  });
  expect(res.status).toBe(201);
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  expect((await v.start()).status).toBe(200);
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, chat);
}

/** Rows with the tenant's id, per table, found from the catalog (every table with a tenant_id column, and tenants). */
async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  const tables = (
    await owner(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attname = 'tenant_id' AND NOT a.attisdropped`,
    )
  ).rows.map((r) => r.name as string);
  const out: Record<string, number> = {};
  for (const table of tables) {
    const n = Number((await owner(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenantId])).rows[0].n);
    if (n) out[table] = n;
  }
  const own = Number((await owner('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [tenantId])).rows[0].n);
  if (own) out.tenants = own;
  return out;
}

function pgDump(url: string): string {
  const candidates = [
    '/usr/bin/pg_dump',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin/pg_dump`) : []),
  ];
  const bin = candidates.reverse().find((p) => existsSync(p));
  if (!bin) throw new Error('pg_dump not found');
  return execFileSync(bin, ['--no-owner', url], { maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
}

beforeAll(async () => {
  pinecone = await startFakePinecone({ apiKey: 'pc-test-key' });
  // A deployment named by host name, as in production (the checkpoint note names its origin).
  t = await startTestApp({ PARLEY_PUBLIC_URL: 'https://parley.example' });
  a = await t.tenant('Zorblax Appliances', ['a.example']);
  b = await t.tenant('Vexiphone Ltd', ['b.example']);
  await seed(a, 'https://a.example', A_TEXT, A_CHAT);
  await seed(b, 'https://b.example', B_TEXT, 'Is the Vexiphone Marmalith covered?');
  deps = {
    db: t.runtime.db,
    audit: t.runtime.audit,
    keyring: t.runtime.keyring,
    vectors: pineconeStore({ apiKey: 'pc-test-key', indexHost: pinecone.host }),
  };
  // Vectors of both tenants in the external store.
  for (const tenant of [a, b])
    await deps.vectors.upsert(null as never, tenant.tenant.id, [
      { chunkId: crypto.randomUUID(), sourceId: crypto.randomUUID(), model: 'm', vector: [1, 0] },
    ]);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await pinecone?.close();
});

describe('tenant deletion', () => {
  test('the order empties every referencing table before the table it references, and refuses a cycle', () => {
    expect(
      deletionOrder(
        ['tenants', 'conversations', 'messages'],
        [
          ['messages', 'conversations'],
          ['conversations', 'tenants'],
          ['messages', 'tenants'],
        ],
      ),
    ).toEqual(['messages', 'conversations', 'tenants']);
    expect(() =>
      deletionOrder(
        ['x', 'y'],
        [
          ['x', 'y'],
          ['y', 'x'],
        ],
      ),
    ).toThrow(/cycle/);
  });

  test('deletes every row of the tenant, shreds its keys first, empties its vectors, and leaves a verifiable tombstone', async () => {
    const A = a.tenant.id;
    const B = b.tenant.id;
    // A sealed value copied out before the deletion, as a backup would hold it.
    const sealed = await t.runtime.db.withTenant(A, { requestId: null }, (tx) => t.runtime.keyring.seal(tx, A, 'Zorblax secret', 'test/backup'));
    const sealedB = await t.runtime.db.withTenant(B, { requestId: null }, (tx) => t.runtime.keyring.seal(tx, B, 'Vexiphone secret', 'test/backup'));
    // Integrated first: B's own entries getting their tree nodes is no change the deletion makes.
    await t.runtime.audit.integrateNow();
    const beforeA = await rowsOf(A);
    const beforeB = await rowsOf(B);
    expect(Object.keys(beforeA)).toEqual(expect.arrayContaining(['tenants', 'knowledge_chunks', 'messages', 'audit_entries', 'tenant_data_keys']));

    const { tombstone, alreadyDeleted } = await deleteTenantNow(deps, A, { requestId: null, actor: { type: 'cli', id: 'test' } });
    expect(alreadyDeleted).toBe(false);

    // Nothing with A's id in any table; B exactly as it was.
    expect(await rowsOf(A)).toEqual({});
    expect(await rowsOf(B)).toEqual(beforeB);
    const text = (await owner("SELECT string_agg(text, ' ') AS s FROM knowledge_chunks")).rows[0].s as string;
    expect(text).toContain('Marmalith');
    expect(text).not.toContain('Quetzalfrond');

    // Counts per table in the tombstone match what was there (audit rows grew by the deletion's own entries).
    for (const [table, n] of Object.entries(beforeA))
      if (!table.startsWith('audit_') && table !== 'tenant_data_keys') expect(tombstone.counts[table]).toBe(n);
    expect(tombstone.keysDestroyed).toBe(beforeA.tenant_data_keys);
    expect(tombstone.counts.audit_entries).toBeGreaterThanOrEqual(beforeA.audit_entries!);

    // Keys gone: the copied sealed value opens neither here nor in a fresh process with the same KEK.
    await expect(
      t.runtime.db.withPlatform({ requestId: null, audit: false, reason: 'test' }, (tx) => t.runtime.keyring.open(tx, A, sealed, 'test/backup')),
    ).rejects.toThrow(SealError);
    const fresh = new Keyring(t.runtime.keyring.kek);
    await expect(
      t.runtime.db.withPlatform({ requestId: null, audit: false, reason: 'test' }, (tx) => fresh.open(tx, A, sealed, 'test/backup')),
    ).rejects.toThrow(SealError);
    expect(await t.runtime.db.withTenant(B, { requestId: null }, (tx) => fresh.openString(tx, B, sealedB, 'test/backup'))).toBe('Vexiphone secret');

    // Pinecone was asked to empty A's namespace; B's is kept.
    expect(pinecone.requests).toContainEqual(expect.objectContaining({ path: '/vectors/delete', namespace: `tenant-${A}` }));
    expect(pinecone.namespaces()).toEqual({ [`tenant-${B}`]: 1 });

    // The tombstone is in the platform log, which verifies, as does B's log; A's final checkpoint verifies.
    await t.runtime.audit.integrateNow();
    const entry = (
      await owner("SELECT metadata, seq FROM audit_entries WHERE tenant_id = '00000000-0000-0000-0000-000000000000' AND action = $1", [
        TOMBSTONE_ACTION,
      ])
    ).rows;
    expect(entry).toHaveLength(1);
    expect(entry[0].metadata).toEqual(JSON.parse(JSON.stringify(tombstone)));
    expect(entry[0].seq).not.toBeNull();
    const logs = await verifyLogs(t.runtime.db, { anchor: t.runtime.audit.publicKey, checkpointEvery: t.config.auditCheckpointEvery });
    expect(logs.map((l) => l.tenantId).sort()).toEqual(['00000000-0000-0000-0000-000000000000', B].sort());
    expect(logs.every((l) => l.ok)).toBe(true);
    const { text: cp } = verifyNote(tombstone.finalCheckpoint.note, tombstone.finalCheckpoint.verifierKey);
    expect(cp.split('\n')[0]).toContain(A);
    expect(Number(cp.split('\n')[1])).toBe(tombstone.counts.audit_entries);
    // A tampered checkpoint does not verify.
    expect(() =>
      verifyNote(
        tombstone.finalCheckpoint.note.replace(/\n(\d+)\n/, (_m, n) => `\n${Number(n) + 1}\n`),
        tombstone.finalCheckpoint.verifierKey,
      ),
    ).toThrow();
    // No personal data in the tombstone.
    expect(detect(JSON.stringify(tombstone))).toEqual([]);

    // Once more (a re-run after a crash, or twice by mistake): the same tombstone, nothing new.
    const again = await deleteTenantNow(deps, A, { requestId: null, actor: { type: 'cli', id: 'test' } });
    expect(again).toEqual({ tombstone, alreadyDeleted: true });

    if (t.testDb.url) {
      const dump = pgDump(t.testDb.url);
      expect(dump).toContain('Marmalith');
      for (const s of ['Quetzalfrond', 'Zorblax']) expect(dump).not.toContain(s);
    }
  }, 120_000);

  test('the audit log stays append-only for a tenant that is not being deleted, and the erase function refuses it', async () => {
    const B = b.tenant.id;
    await expect(owner('DELETE FROM audit_entries WHERE tenant_id = $1', [B])).rejects.toThrow(/append-only/);
    await expect(owner('DELETE FROM audit_heads WHERE tenant_id = $1', [B])).rejects.toThrow(/append-only/);
    await expect(
      t.runtime.db.withPlatform({ requestId: null, audit: false, reason: 'test' }, (tx) =>
        tx.query("SELECT parley_erase_tenant_rows('messages', $1)", [B]),
      ),
    ).rejects.toThrow(/not being deleted/);
    // Even marked for deletion, its audit rows stay until the final checkpoint is recorded.
    await owner("INSERT INTO tenant_deletions (tenant, state, due_at) VALUES ($1, 'erasing', now())", [B]);
    await expect(owner('DELETE FROM audit_entries WHERE tenant_id = $1', [B])).rejects.toThrow(/append-only/);
    await owner('DELETE FROM tenant_deletions WHERE tenant = $1', [B]);
    // The app role cannot run the erase function at all.
    await expect(
      t.runtime.db.withTenant(B, { requestId: null }, (tx) => tx.query("SELECT parley_erase_tenant_rows('messages', $1)", [B])),
    ).rejects.toThrow();
  });

  test('interrupted after the keys were destroyed (Pinecone refused), it resumes when run again', async () => {
    const c = await t.tenant('Interrupted Co', ['c.example']);
    const C = c.tenant.id;
    const ctx = { requestId: null, actor: { type: 'cli' as const, id: 'test' } };
    const sealed = await t.runtime.db.withTenant(C, { requestId: null }, (tx) => t.runtime.keyring.seal(tx, C, 'Interrupted secret', 'test/backup'));
    const refused = { ...deps, vectors: pineconeStore({ apiKey: 'wrong-key', indexHost: pinecone.host }) };
    await expect(deleteTenantNow(refused, C, ctx)).rejects.toThrow(/Pinecone delete failed \(HTTP 401\)/);
    // Step 1 stuck: the keys are gone, the rows are still there, the deletion is marked under way.
    const midway = await rowsOf(C);
    expect(midway.tenant_data_keys).toBeUndefined();
    expect(midway.tenants).toBe(1);
    expect((await owner('SELECT state, keys_destroyed FROM tenant_deletions WHERE tenant = $1', [C])).rows[0]).toEqual({
      state: 'erasing',
      keys_destroyed: 1,
    });
    await expect(
      t.runtime.db.withPlatform({ requestId: null, audit: false, reason: 'test' }, (tx) => t.runtime.keyring.open(tx, C, sealed, 'test/backup')),
    ).rejects.toThrow(SealError);

    const { tombstone } = await deleteTenantNow(deps, C, ctx);
    expect(await rowsOf(C)).toEqual({});
    expect(tombstone.keysDestroyed).toBe(1);
    await t.runtime.audit.integrateNow();
    const logs = await verifyLogs(t.runtime.db, { anchor: t.runtime.audit.publicKey, checkpointEvery: t.config.auditCheckpointEvery });
    expect(logs.every((l) => l.ok)).toBe(true);
  });

  test('an unknown tenant and the platform log are refused', async () => {
    const ctx = { requestId: null, actor: { type: 'cli' as const, id: 'test' } };
    await expect(deleteTenantNow(deps, crypto.randomUUID(), ctx)).rejects.toMatchObject({ code: 'not_found' });
    await expect(deleteTenantNow(deps, '00000000-0000-0000-0000-000000000000', ctx)).rejects.toMatchObject({ code: 'not_found' });
  });
});
