// What platform operators do across tenants: list them, create one, invite its first owner. Every action
// runs on the audited platform path and is written to the platform log with the operator as actor.
import type { Role } from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Config } from '../config.js';
import { PLATFORM_TENANT } from '../db/index.js';
import type { Db } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { createInvite, type InviteDeps } from '../people/service.js';
import { createTenant, type CreatedTenant } from '../tenants/service.js';
import { tenantSummaries } from './store.js';

export interface PlatformDeps extends InviteDeps {
  db: Db;
  audit: AuditLog;
  config: Pick<Config, 'publicUrl' | 'env'>;
}

export async function listTenants(deps: PlatformDeps, ctx: RequestCtx) {
  return deps.db.withPlatform({ ...ctx, reason: 'an operator listed the tenants', action: 'platform.tenants_list' }, async (tx) => {
    const rows = await tenantSummaries(tx, PLATFORM_TENANT);
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: new Date(r.created_at).toISOString(), members: r.members }));
  });
}

export async function provisionTenant(deps: PlatformDeps, ctx: RequestCtx, input: { name: string; domains: string[] }): Promise<CreatedTenant> {
  return createTenant({ db: deps.db, audit: deps.audit, env: deps.config.env }, input, ctx);
}

/** Invites a tenant's owner (or anyone) on an operator's word: audited in the platform log and the tenant's. */
export async function inviteIntoTenant(deps: PlatformDeps, ctx: RequestCtx, tenantId: string, input: { email: string; role: Role }) {
  if (tenantId === PLATFORM_TENANT) throw new DomainError('not_found', 'No such tenant.');
  const operator = { requestId: ctx.requestId, actor: { type: 'platform' as const, id: ctx.actor.id } };
  await deps.db.withPlatform(
    {
      ...ctx,
      reason: 'an operator invited a person into a tenant',
      action: 'platform.invite',
      target: { type: 'tenant', id: tenantId },
      metadata: { role: input.role },
    },
    async () => {},
  );
  return createInvite(deps, { ...operator, tenantId, role: null }, input);
}
