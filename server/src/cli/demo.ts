// The demo tenant `npm start` runs with: created once, its keys kept in the data folder.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../runtime.js';
import { createTenant } from '../tenants/service.js';

export interface DemoTenant {
  tenantId: string;
  publishableKey: string;
  secretKey: string;
  file: string;
}

export async function seedDemo(runtime: Runtime, publicUrl: string): Promise<DemoTenant> {
  const file = join(runtime.config.dataDir, 'demo.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Omit<DemoTenant, 'file'>;
    const found = await runtime.db.withTenant(saved.tenantId, { requestId: null }, (tx) =>
      tx.query('SELECT 1 FROM tenants WHERE id = $1', [saved.tenantId]),
    );
    if (found.rows.length) return { ...saved, file };
  }
  const created = await createTenant(
    { db: runtime.db, audit: runtime.audit, env: runtime.config.env },
    { name: 'Demo', domains: [new URL(publicUrl).host, 'localhost', '127.0.0.1'] },
    { requestId: null, actor: { type: 'system', id: 'demo-seed' } },
  );
  const demo = { tenantId: created.tenant.id, publishableKey: created.publishableKey, secretKey: created.secretKey };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return { ...demo, file };
}
