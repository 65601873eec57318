// Tenants, allowed domains and API keys. Every change is audited in the same transaction.
import { CAPABILITIES, type AdminMe, type ApiKey, type Capability, type Domain } from '@parley/protocol';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/log.js';
import type { Db, Tx } from '../db/index.js';
import type { AdminAuth, RequestCtx } from '../http/context.js';
import { DomainError, missingCapability } from '../errors.js';
import { DomainPatternError, formatPattern, parsePattern, type DomainPattern } from './domains.js';
import { newPublishableKey, newSecretKey } from './secrets.js';
import { keyCreated } from '../webhooks/events.js';

export type Env = 'development' | 'staging' | 'production';

export interface TenantDeps {
  db: Db;
  audit: AuditLog;
  env: Env;
}

export interface CreatedTenant {
  tenant: { id: string; name: string };
  publishableKey: string;
  secretKey: string;
}

/** The who of an audit entry. */
const by = (ctx: RequestCtx) => ({ requestId: ctx.requestId, actor: ctx.actor });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  capabilities: Capability[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  rotated_from: string | null;
}
const KEY_COLUMNS = 'id, name, prefix, capabilities, created_at, expires_at, revoked_at, last_used_at, rotated_from';

const toApiKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  capabilities: r.capabilities,
  createdAt: r.created_at.toISOString(),
  expiresAt: iso(r.expires_at),
  revokedAt: iso(r.revoked_at),
  lastUsedAt: iso(r.last_used_at),
  rotatedFrom: r.rotated_from,
});

export function parseDomain(pattern: string, env: Env): DomainPattern {
  try {
    return parsePattern(pattern, env);
  } catch (err) {
    if (err instanceof DomainPatternError)
      throw new DomainError('invalid_input', 'The request does not match the expected shape.', {
        errors: [{ path: '/pattern', message: err.message, code: 'invalid_domain' }],
      });
    throw err;
  }
}

/** Platform path: creates a tenant with its first keys. The secret key is returned once and never stored. */
export async function createTenant(deps: TenantDeps, input: { name: string; domains: string[] }, ctx: RequestCtx): Promise<CreatedTenant> {
  const patterns = input.domains.map((d) => formatPattern(parseDomain(d, deps.env)));
  const id = randomUUID();
  const publishableKey = newPublishableKey(deps.env);
  const sk = newSecretKey(deps.env);
  await deps.db.withPlatform({ ...by(ctx), reason: 'tenant provisioning', action: 'tenant.create', target: { type: 'tenant', id } }, async (tx) => {
    await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, input.name]);
    await tx.query('INSERT INTO audit_heads (tenant_id) VALUES ($1)', [id]);
    await deps.audit.append(tx, { tenantId: id, ...by(ctx), action: 'tenant.created', target: { type: 'tenant', id } });
    for (const pattern of new Set(patterns)) await insertDomain(deps, tx, id, pattern, ctx);
    const pkId = randomUUID();
    await tx.query('INSERT INTO publishable_keys (id, tenant_id, key) VALUES ($1, $2, $3)', [pkId, id, publishableKey]);
    await deps.audit.append(tx, { tenantId: id, ...by(ctx), action: 'publishable_key.create', target: { type: 'publishable_key', id: pkId } });
    await insertKey(deps, tx, id, { name: 'Initial admin key', capabilities: [...CAPABILITIES], hash: sk.hash, prefix: sk.prefix }, ctx);
  });
  return { tenant: { id, name: input.name }, publishableKey, secretKey: sk.secret };
}

async function insertDomain(deps: TenantDeps, tx: Tx, tenantId: string, pattern: string, ctx: RequestCtx): Promise<Domain> {
  const id = randomUUID();
  const { rows } = await tx.query<{ created_at: Date }>(
    'INSERT INTO tenant_domains (id, tenant_id, pattern) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, pattern) DO NOTHING RETURNING created_at',
    [id, tenantId, pattern],
  );
  if (!rows[0]) throw new DomainError('conflict', `The domain ${pattern} is already allowed.`);
  await deps.audit.append(tx, { tenantId, ...by(ctx), action: 'domain.add', target: { type: 'domain', id }, metadata: { pattern } });
  return { id, pattern, createdAt: rows[0].created_at.toISOString() };
}

export async function listDomains(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }): Promise<Domain[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const { rows } = await tx.query<{ id: string; pattern: string; created_at: Date }>(
      'SELECT id, pattern, created_at FROM tenant_domains ORDER BY created_at, pattern',
    );
    return rows.map((r) => ({ id: r.id, pattern: r.pattern, createdAt: r.created_at.toISOString() }));
  });
}

export async function addDomain(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }, pattern: string): Promise<Domain> {
  const normalized = formatPattern(parseDomain(pattern, deps.env));
  return deps.db.withTenant(ctx.tenantId, ctx, (tx) => insertDomain(deps, tx, ctx.tenantId, normalized, ctx));
}

export async function removeDomain(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const { rows } = await tx.query<{ pattern: string }>('DELETE FROM tenant_domains WHERE id = $1 RETURNING pattern', [id]);
    if (!rows[0]) throw new DomainError('not_found', 'No such domain.');
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...by(ctx),
      action: 'domain.remove',
      target: { type: 'domain', id },
      metadata: { pattern: rows[0].pattern },
    });
  });
}

export async function allowedDomainPatterns(tx: Tx, env: Env): Promise<DomainPattern[]> {
  const { rows } = await tx.query<{ pattern: string }>('SELECT pattern FROM tenant_domains');
  return rows.flatMap((r) => {
    try {
      return [parsePattern(r.pattern, env)];
    } catch {
      return []; // e.g. a localhost entry from development, in production
    }
  });
}

async function insertKey(
  deps: TenantDeps,
  tx: Tx,
  tenantId: string,
  k: { name: string; capabilities: Capability[]; hash: Buffer; prefix: string; expiresAt?: Date | null; rotatedFrom?: string | null },
  ctx: RequestCtx,
): Promise<ApiKey> {
  const id = randomUUID();
  const { rows } = await tx.query<KeyRow>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, capabilities, created_by, rotated_from, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${KEY_COLUMNS}`,
    [
      id,
      tenantId,
      k.name,
      k.prefix,
      k.hash,
      k.capabilities,
      ctx.actor.type === 'api_key' ? ctx.actor.id : null,
      k.rotatedFrom ?? null,
      k.expiresAt ?? null,
    ],
  );
  // The person who made it (keys are made by people now; the CLI's tenant bootstrap has none).
  if (ctx.actor.type === 'member') await tx.query('UPDATE api_keys SET created_by_member = $2 WHERE id = $1', [id, ctx.actor.id]);
  await deps.audit.append(tx, {
    tenantId,
    ...by(ctx),
    action: k.rotatedFrom ? 'api_key.rotate' : 'api_key.create',
    target: { type: 'api_key', id },
    metadata: { prefix: k.prefix, capabilities: k.capabilities, ...(k.rotatedFrom ? { rotatedFrom: k.rotatedFrom } : {}) },
  });
  await keyCreated(tx, tenantId, { id, name: k.name, prefix: k.prefix, capabilities: k.capabilities });
  return toApiKey(rows[0]!);
}

/** A key may only hand out, rotate or revoke capabilities it holds itself. */
function assertWithin(held: Set<Capability>, wanted: Capability[]): void {
  const missing = wanted.find((c) => !held.has(c));
  if (missing) throw missingCapability(missing);
}

export async function listKeys(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }): Promise<ApiKey[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const { rows } = await tx.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map(toApiKey);
  });
}

/** The caller (a person or a key) and its tenant: any authenticated caller may read this about itself. */
export async function describeCaller(deps: TenantDeps, ctx: RequestCtx & { tenantId: string; admin: AdminAuth }): Promise<AdminMe> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const tenant = await tx.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE id = $1', [ctx.tenantId]);
    if (!tenant.rows[0]) throw new DomainError('unauthenticated', 'The tenant no longer exists.');
    const capabilities = [...ctx.admin.capabilities];
    const { member } = ctx.admin;
    if (member) {
      const m = await tx.query<{ email: string; display_name: string }>('SELECT email, display_name FROM members WHERE id = $1', [member.id]);
      if (!m.rows[0]) throw new DomainError('unauthenticated', 'This member no longer exists.');
      return {
        tenant: tenant.rows[0],
        capabilities,
        member: { id: member.id, email: m.rows[0].email, displayName: m.rows[0].display_name, role: member.role, sessionId: member.sessionId },
        apiKey: null,
      };
    }
    const key = await tx.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [ctx.admin.keyId]);
    if (!key.rows[0]) throw new DomainError('unauthenticated', 'The key is unknown, revoked or expired.');
    const { id, name, prefix, expiresAt } = toApiKey(key.rows[0]);
    return {
      tenant: tenant.rows[0],
      capabilities,
      member: null,
      apiKey: { id, name, prefix, capabilities: toApiKey(key.rows[0]).capabilities, expiresAt },
    };
  });
}

export async function createKey(
  deps: TenantDeps,
  ctx: RequestCtx & { tenantId: string; held: Set<Capability> },
  input: { name: string; capabilities: Capability[]; expiresInSeconds?: number | undefined },
): Promise<{ apiKey: ApiKey; secret: string }> {
  assertWithin(ctx.held, input.capabilities);
  const sk = newSecretKey(deps.env);
  const expiresAt = input.expiresInSeconds ? new Date(Date.now() + input.expiresInSeconds * 1000) : null;
  const apiKey = await deps.db.withTenant(ctx.tenantId, ctx, (tx) =>
    insertKey(
      deps,
      tx,
      ctx.tenantId,
      { name: input.name, capabilities: [...new Set(input.capabilities)], hash: sk.hash, prefix: sk.prefix, expiresAt },
      ctx,
    ),
  );
  return { apiKey, secret: sk.secret };
}

/** An active key, locked for this transaction (a 404 when it is revoked, expired or unknown). */
export async function activeKey(tx: Tx, id: string): Promise<KeyRow> {
  const { rows } = await tx.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE`,
    [id],
  );
  if (!rows[0]) throw new DomainError('not_found', 'No such active key.');
  return rows[0];
}

/** A key that makes keys or reveals personal data: what `keys.privileged` on the approvals list holds. */
export const isPrivileged = (capabilities: readonly string[]) => capabilities.some((c) => c === 'keys:write' || c === 'pii:reveal');

/**
 * Rotates `old`, locked in `tx` by activeKey (the route reads it once, under the lock, to decide whether
 * the rotation waits for approval and then to rotate it): a new key with its name and capabilities; the
 * old one stays valid for `graceSeconds`.
 */
export async function rotateKey(
  deps: TenantDeps,
  tx: Tx,
  ctx: RequestCtx & { tenantId: string; held: Set<Capability> },
  old: KeyRow,
  graceSeconds: number,
): Promise<{ apiKey: ApiKey; secret: string }> {
  assertWithin(ctx.held, old.capabilities);
  const sk = newSecretKey(deps.env);
  const until = new Date(Date.now() + graceSeconds * 1000);
  const newExpiry = old.expires_at && old.expires_at < until ? old.expires_at : until;
  await tx.query('UPDATE api_keys SET expires_at = $2 WHERE id = $1', [old.id, newExpiry]);
  const apiKey = await insertKey(
    deps,
    tx,
    ctx.tenantId,
    { name: old.name, capabilities: old.capabilities, hash: sk.hash, prefix: sk.prefix, rotatedFrom: old.id, expiresAt: null },
    ctx,
  );
  return { apiKey, secret: sk.secret };
}

export async function revokeKey(deps: TenantDeps, ctx: RequestCtx & { tenantId: string; held: Set<Capability> }, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const old = await activeKey(tx, id);
    assertWithin(ctx.held, old.capabilities);
    await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...by(ctx),
      action: 'api_key.revoke',
      target: { type: 'api_key', id },
      metadata: { prefix: old.prefix },
    });
  });
}
