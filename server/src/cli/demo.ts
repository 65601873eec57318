// The demo tenant `npm start` runs with: created once, its keys kept in the data folder.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingestInline } from '../knowledge/ingest.js';
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
  await seedKnowledge(runtime, created.tenant.id, publicUrl);
  const demo = { tenantId: created.tenant.id, publishableKey: created.publishableKey, secretKey: created.secretKey };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return { ...demo, file };
}

const KNOWLEDGE = fileURLToPath(new URL('../../../examples/demo-knowledge/', import.meta.url));

/** The demo shop's help centre, as the demo tenant's knowledge. */
async function seedKnowledge(runtime: Runtime, tenantId: string, publicUrl: string): Promise<void> {
  await runtime.db.withTenant(tenantId, { requestId: null }, async (tx) => {
    for (const name of readdirSync(KNOWLEDGE).filter((f) => f.endsWith('.md')).sort()) {
      const slug = name.replace(/\.md$/, '');
      await ingestInline(tx, tenantId, { kind: 'markdown', content: readFileSync(KNOWLEDGE + name, 'utf8'), url: `${publicUrl}/demo/help/${slug}`, externalId: slug });
    }
  });
}
