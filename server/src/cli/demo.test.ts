// The demo tenant `npm start` seeds: its keys go to the data folder, made if missing; a folder it cannot
// write to fails the seeding before anything is stored, so the next start does not seed a second tenant.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Runtime } from '../runtime.js';
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
