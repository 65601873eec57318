// A tenant made by the service, as the API makes one (no domains), for tests that work below HTTP.
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import { createTenant } from '../tenants/service.js';

export async function makeTenant(deps: { db: Db; audit: AuditLog }, name: string): Promise<string> {
  const made = await createTenant({ ...deps, env: 'development' }, { name, domains: [] }, { requestId: null, actor: { type: 'system', id: 'test' } });
  return made.tenant.id;
}
