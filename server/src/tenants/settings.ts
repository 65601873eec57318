// Tenant settings: the one module that reads them (with defaults) and writes them (validated). Each
// top-level section is replaced whole on write; `null` removes a section (its defaults apply again).
import type { SettingsSchema, BusinessHours } from '@parley/protocol';
import type { z } from 'zod';
import { PiiPolicySchema } from '../ai/pii/index.js';
import type { AuditLog } from '../audit/log.js';
import type { RequestCtx } from '../http/context.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { fieldErrors } from '../http/validate.js';

export type SettingsPatch = z.infer<typeof SettingsSchema>;

export interface StoredSettings {
  settings: Record<string, unknown>;
  policyVersion: number;
}

export async function readSettings(tx: Tx): Promise<StoredSettings> {
  const { rows } = await tx.query<{ settings: Record<string, unknown>; policy_version: number }>('SELECT settings, policy_version FROM tenants');
  if (!rows[0]) throw new DomainError('not_found', 'No such tenant.');
  return { settings: rows[0].settings, policyVersion: rows[0].policy_version };
}

/** The tenant's business hours, or null: always open. */
export async function businessHours(tx: Tx): Promise<BusinessHours | null> {
  const { rows } = await tx.query<{ hours: BusinessHours | null }>("SELECT settings->'businessHours' AS hours FROM tenants");
  return rows[0]?.hours ?? null;
}

/** Validates a patch (already shaped by SettingsSchema) beyond its shape, stores it, bumps the policy version; audited. */
export async function writeSettings(tx: Tx, audit: AuditLog, ctx: RequestCtx & { tenantId: string }, patch: SettingsPatch): Promise<number> {
  const body: Record<string, unknown> = { ...patch };
  if (patch.pii !== undefined) {
    const pii = PiiPolicySchema.safeParse(patch.pii);
    if (!pii.success) {
      throw new DomainError('invalid_input', 'The PII policy is not valid.', {
        errors: fieldErrors(pii.error, ['pii']),
      });
    }
    body.pii = pii.data;
  }
  const removed = Object.keys(body).filter((k) => body[k] === null);
  for (const k of removed) delete body[k];
  const { rows } = await tx.query<{ policy_version: number }>(
    'UPDATE tenants SET settings = (settings - $3::text[]) || $2::jsonb, policy_version = policy_version + 1 WHERE id = $1 RETURNING policy_version',
    [ctx.tenantId, JSON.stringify(body), removed],
  );
  const version = rows[0]!.policy_version;
  await audit.append(tx, { tenantId: ctx.tenantId, requestId: ctx.requestId, actor: ctx.actor, action: 'settings.update', metadata: { sections: Object.keys(patch), policyVersion: version } });
  return version;
}
