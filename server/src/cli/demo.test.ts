// The demo tenant `npm start` seeds: its keys go to the data folder, made if missing; a folder it cannot
// write to fails the seeding before anything is stored, so the next start does not seed a second tenant.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Runtime } from '../runtime.js';
import { call } from '../test/http.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { seedDemo } from './demo.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const withDataDir = (dataDir: string): Runtime => ({ ...t.runtime, config: { ...t.runtime.config, dataDir } });
const demoTenants = async () =>
  (await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>("SELECT count(*)::int AS n FROM tenants WHERE name = 'Northwind Outfitters'")))
    .rows[0]!.n;

test('a data folder that does not exist yet is made; seeding again finds the same tenant', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'parley-demo-')), 'not', 'yet');
  const before = await demoTenants();
  const demo = await seedDemo(withDataDir(dir), t.url);
  expect(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).tenantId).toBe(demo.tenantId);
  expect((await seedDemo(withDataDir(dir), t.url)).tenantId).toBe(demo.tenantId);
  expect(await demoTenants()).toBe(before + 1);
});

test('a data folder that cannot be written fails before any tenant is stored', async () => {
  // A file where the folder should be: it can be neither made nor written to.
  const file = join(mkdtempSync(join(tmpdir(), 'parley-demo-')), 'a-file');
  writeFileSync(file, '');
  const before = await demoTenants();
  await expect(seedDemo(withDataDir(file), t.url)).rejects.toThrow(/a-file/);
  expect(await demoTenants()).toBe(before);
});

test("the demo's knowledge counts like any other: its bytes are in the tenant's usage", async () => {
  // Seeded with ingestInline, which did not record content_bytes: usage.bytes was 0 for the demo's knowledge.
  const demo = await seedDemo(withDataDir(mkdtempSync(join(tmpdir(), 'parley-demo-'))), t.url);
  const folder = new URL('../../../examples/demo-knowledge/', import.meta.url);
  const files = readdirSync(folder).filter((f) => f.endsWith('.md'));
  const bytes = files.reduce((n, f) => n + statSync(new URL(f, folder)).size, 0);
  const res = await call(t.url, 'GET', '/v1/admin/knowledge/usage', { key: demo.secretKey });
  expect(res.status).toBe(200);
  expect(res.body.usage).toMatchObject({ sources: files.length, bytes });
  expect(res.body.usage.chunks).toBeGreaterThan(files.length);
  // Each source was written as the admin API writes one: audited.
  const audited = await t.runtime.db.withTenant(demo.tenantId, { requestId: null }, (tx) =>
    tx.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_entries WHERE action = 'knowledge.source_create'"),
  );
  expect(audited.rows[0]!.n).toBe(files.length);
});
