// The demo tenant `npm start` runs with: created once, its keys kept in the data folder.
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSources } from '../knowledge/write.js';
import { type Runtime, vectorStoreFor } from '../runtime.js';
import { createTenant } from '../tenants/service.js';
import { mergeSettings } from '../tenants/settings.js';
import { hashPassword } from '../people/passwords.js';
import { insertMember } from '../people/store.js';

export interface DemoTenant {
  tenantId: string;
  publishableKey: string;
  secretKey: string;
  /** The demo owner, to sign in to the console with. */
  owner: { email: string; password: string };
  file: string;
}

const DEMO_OWNER = 'owner@demo.example';

export async function seedDemo(runtime: Runtime, publicUrl: string): Promise<DemoTenant> {
  const file = join(runtime.config.dataDir, 'demo.json');
  // The keys can be kept before a tenant is made for them: else every start would make another.
  mkdirSync(runtime.config.dataDir, { recursive: true });
  accessSync(runtime.config.dataDir, constants.W_OK);
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Omit<DemoTenant, 'file' | 'owner'> & { owner?: DemoTenant['owner'] };
    const found = await runtime.db.withTenant(saved.tenantId, { requestId: null }, (tx) =>
      tx.query('SELECT 1 FROM tenants WHERE id = $1', [saved.tenantId]),
    );
    if (found.rows.length) {
      // A data folder from before people existed gets its demo owner now.
      const demo = { ...saved, owner: saved.owner ?? (await seedOwner(runtime, saved.tenantId)) };
      writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
      return { ...demo, file };
    }
  }
  const created = await createTenant(
    { db: runtime.db, audit: runtime.audit, env: runtime.config.env },
    { name: 'Northwind Outfitters', domains: [new URL(publicUrl).host, 'localhost', '127.0.0.1'] },
    { requestId: null, actor: { type: 'system', id: 'demo-seed' } },
  );
  await seedKnowledge(runtime, created.tenant.id, publicUrl);
  const owner = await seedOwner(runtime, created.tenant.id);
  const demo = { tenantId: created.tenant.id, publishableKey: created.publishableKey, secretKey: created.secretKey, owner };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return { ...demo, file };
}

/** The demo tenant's owner, with a random password (development only: printed by `npm start`). */
async function seedOwner(runtime: Runtime, tenantId: string): Promise<DemoTenant['owner']> {
  const password = `demo-${randomBytes(12).toString('base64url')}`;
  const passwordHash = await hashPassword(password);
  await runtime.db.withTenant(tenantId, { requestId: null }, async (tx) => {
    const id = randomUUID();
    await tx.query('DELETE FROM members WHERE email = $1', [DEMO_OWNER]);
    await insertMember(tx, {
      tenantId,
      id,
      email: DEMO_OWNER,
      displayName: 'Demo Owner',
      role: 'owner',
      passwordHash,
      createdBy: 'system:demo-seed',
    });
    await runtime.audit.append(tx, {
      tenantId,
      requestId: null,
      actor: { type: 'system', id: 'demo-seed' },
      action: 'member.join',
      target: { type: 'member', id },
      metadata: { via: 'demo-seed', role: 'owner' },
    });
  });
  return { email: DEMO_OWNER, password };
}

const KNOWLEDGE = fileURLToPath(new URL('../../../examples/demo-knowledge/', import.meta.url));

/** The demo shop's help centre, as the demo tenant's knowledge. */
/** The demo shop's own words for the same things, as a tenant would list them in its settings. */
export const DEMO_SYNONYMS = [
  'send back = return',
  'money back = refund',
  'swap = exchange',
  'parcel = package',
  'US = USA = North America',
  'Canada = North America',
];

async function seedKnowledge(runtime: Runtime, tenantId: string, publicUrl: string): Promise<void> {
  const ctx = { tenantId, requestId: null, actor: { type: 'system', id: 'demo-seed' } } as const;
  await runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
    mergeSettings(tx, runtime.audit, ctx, { retrieval: { synonyms: DEMO_SYNONYMS } }),
  );
  // Written as the admin API writes sources: stored sizes recorded (the tenant's usage), quota, audit.
  const items = readdirSync(KNOWLEDGE)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((name) => {
      const slug = name.replace(/\.md$/, '');
      const content = readFileSync(KNOWLEDGE + name, 'utf8');
      return { input: { kind: 'markdown', content, url: `${publicUrl}/demo/help/${slug}`, externalId: slug }, kind: 'markdown' } as const;
    });
  await writeSources(
    { db: runtime.db, audit: runtime.audit, vectors: vectorStoreFor(runtime.config), quota: runtime.config.knowledgeQuota },
    tenantId,
    ctx,
    items,
  );
}
