// Tenants, allowed domains and API keys. Every change is audited in the same transaction.
import { CAPABILITIES, capabilitiesOf, type AdminMe, type ApiKey, type Capability, type Domain, type MemberRole } from '@parley/protocol';
import { PRIVILEGED_CAPABILITIES } from '@parley/protocol/constants';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/log.js';
import type { Db, Tx } from '../db/index.js';
import type { AdminAuth, RequestCtx } from '../http/context.js';
import { assertWithin, DomainError } from '../errors.js';
import { DomainPatternError, formatPattern, parsePattern, type DomainPattern } from './domains.js';
import { heldBack } from './key-bounds.js';
import { newPublishableKey, newSecretKey } from './secrets.js';
import { keyCreated } from '../webhooks/events.js';
import * as store from './store.js';
import type { KeyRow } from './store.js';

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
  madeBy: r.made_by,
  heldBack: heldBack(r.capabilities, r.made_by ?? (r.made_by_member ? 'gone' : null)),
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
    await store.insertTenant(tx, id, input.name);
    await store.insertAuditHead(tx, id);
    await deps.audit.append(tx, { tenantId: id, ...by(ctx), action: 'tenant.created', target: { type: 'tenant', id } });
    for (const pattern of new Set(patterns)) await insertDomain(deps, tx, id, pattern, ctx);
    const pkId = randomUUID();
    await store.insertPublishableKey(tx, pkId, id, publishableKey);
    await deps.audit.append(tx, { tenantId: id, ...by(ctx), action: 'publishable_key.create', target: { type: 'publishable_key', id: pkId } });
    // Nobody of the tenant made its first key, whoever provisions it (the CLI, or a platform operator, who
    // is no member of it): as one the CLI made, it has no maker.
    await insertKey(deps, tx, id, { name: 'Initial admin key', capabilities: [...CAPABILITIES], hash: sk.hash, prefix: sk.prefix }, ctx, null);
  });
  return { tenant: { id, name: input.name }, publishableKey, secretKey: sk.secret };
}

async function insertDomain(deps: TenantDeps, tx: Tx, tenantId: string, pattern: string, ctx: RequestCtx): Promise<Domain> {
  const id = randomUUID();
  const createdAt = await store.insertDomain(tx, id, tenantId, pattern);
  if (!createdAt) throw new DomainError('conflict', `The domain ${pattern} is already allowed.`);
  await deps.audit.append(tx, { tenantId, ...by(ctx), action: 'domain.add', target: { type: 'domain', id }, metadata: { pattern } });
  return { id, pattern, createdAt: createdAt.toISOString() };
}

export async function listDomains(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }): Promise<Domain[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const rows = await store.tenantDomains(tx);
    return rows.map((r) => ({ id: r.id, pattern: r.pattern, createdAt: r.created_at.toISOString() }));
  });
}

export async function addDomain(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }, pattern: string): Promise<Domain> {
  const normalized = formatPattern(parseDomain(pattern, deps.env));
  return deps.db.withTenant(ctx.tenantId, ctx, (tx) => insertDomain(deps, tx, ctx.tenantId, normalized, ctx));
}

export async function removeDomain(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const pattern = await store.deleteDomain(tx, id);
    if (pattern === null) throw new DomainError('not_found', 'No such domain.');
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...by(ctx),
      action: 'domain.remove',
      target: { type: 'domain', id },
      metadata: { pattern },
    });
  });
}

export async function allowedDomainPatterns(tx: Tx, env: Env): Promise<DomainPattern[]> {
  const patterns = await store.domainPatterns(tx);
  return patterns.flatMap((pattern) => {
    try {
      return [parsePattern(pattern, env)];
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
  madeBy?: null,
): Promise<ApiKey> {
  const id = randomUUID();
  // The person behind it: who made it, or the person behind the key that made (or rotated) it, so a key
  // made by a key counts as that person in approvals, is bounded by their role and goes when they are
  // removed. The tenant's bootstrap (`madeBy` null) has none.
  const person = madeBy === null ? null : await store.actorPerson(tx, ctx.actor);
  const row = await store.insertKey(tx, {
    id,
    tenantId,
    name: k.name,
    prefix: k.prefix,
    hash: k.hash,
    capabilities: k.capabilities,
    createdBy: ctx.actor.type === 'api_key' ? ctx.actor.id : null,
    createdByMember: person,
    rotatedFrom: k.rotatedFrom ?? null,
    expiresAt: k.expiresAt ?? null,
  });
  await deps.audit.append(tx, {
    tenantId,
    ...by(ctx),
    action: k.rotatedFrom ? 'api_key.rotate' : 'api_key.create',
    target: { type: 'api_key', id },
    metadata: { prefix: k.prefix, capabilities: k.capabilities, ...(k.rotatedFrom ? { rotatedFrom: k.rotatedFrom } : {}) },
  });
  await keyCreated(tx, tenantId, { id, name: k.name, prefix: k.prefix, capabilities: k.capabilities });
  return toApiKey(row);
}

export async function listKeys(deps: TenantDeps, ctx: RequestCtx & { tenantId: string }): Promise<ApiKey[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    return (await store.listKeys(tx)).map(toApiKey);
  });
}

/** The caller (a person or a key) and its tenant: any authenticated caller may read this about itself. */
export async function describeCaller(deps: TenantDeps, ctx: RequestCtx & { tenantId: string; admin: AdminAuth }): Promise<AdminMe> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const tenant = await store.tenantById(tx, ctx.tenantId);
    if (!tenant) throw new DomainError('unauthenticated', 'The tenant no longer exists.');
    const capabilities = [...ctx.admin.capabilities];
    const { member } = ctx.admin;
    if (member) {
      const m = await store.memberContact(tx, member.id);
      if (!m) throw new DomainError('unauthenticated', 'This member no longer exists.');
      return {
        tenant,
        capabilities,
        member: { id: member.id, email: m.email, displayName: m.display_name, role: member.role, sessionId: member.sessionId },
        apiKey: null,
      };
    }
    const key = await store.keyById(tx, ctx.admin.keyId);
    if (!key) throw new DomainError('unauthenticated', 'The key is unknown, revoked or expired.');
    const { id, name, prefix, expiresAt } = toApiKey(key);
    return {
      tenant,
      capabilities,
      member: null,
      apiKey: { id, name, prefix, capabilities: toApiKey(key).capabilities, expiresAt },
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
  const key = await store.lockActiveKey(tx, id);
  if (!key) throw new DomainError('not_found', 'No such active key.');
  return key;
}

/**
 * A key that makes keys, reveals personal data, puts a person's back in bulk (privacy:export) or erases
 * people: what `keys.privileged` on the approvals list holds.
 */
export const isPrivileged = (capabilities: readonly string[]) => capabilities.some((c) => (PRIVILEGED_CAPABILITIES as readonly string[]).includes(c));
/** A role that holds a privileged capability: granting it is what `keys.privileged` holds back, as for a key. */
export const grantsPrivilege = (role: MemberRole) => isPrivileged(capabilitiesOf(role));

/**
 * Rotates `old`, locked in `tx` by activeKey (the route reads it once, under the lock, to decide whether
 * the rotation waits for approval and then to rotate it): a new key with its name, capabilities and expiry; the
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
  await store.setKeyExpiry(tx, old.id, newExpiry);
  const apiKey = await insertKey(
    deps,
    tx,
    ctx.tenantId,
    { name: old.name, capabilities: old.capabilities, hash: sk.hash, prefix: sk.prefix, rotatedFrom: old.id, expiresAt: old.expires_at },
    ctx,
  );
  return { apiKey, secret: sk.secret };
}

export async function revokeKey(deps: TenantDeps, ctx: RequestCtx & { tenantId: string; held: Set<Capability> }, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const old = await activeKey(tx, id);
    assertWithin(ctx.held, old.capabilities);
    await store.revokeKey(tx, id);
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...by(ctx),
      action: 'api_key.revoke',
      target: { type: 'api_key', id },
      metadata: { prefix: old.prefix },
    });
  });
}
