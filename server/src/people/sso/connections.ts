// What both SSO kinds share: the tenant's connection row, the sign-in requests in flight (single use,
// short-lived, bound to the browser that started them) and the replay cache of used codes/assertions.
import type { Role } from '@parley/protocol';
import { createHash, randomBytes } from 'node:crypto';
import type { Tx } from '../../db/types.js';

export type SsoKind = 'oidc' | 'saml';

/** The browser-binding cookie set when a sign-in starts (SameSite=Lax: the IdP sends the browser back). */
export const SSO_BINDING_COOKIE = '__Host-parley_sso';
/** How long a started sign-in may take at the IdP. */
export const SSO_REQUEST_TTL_SECONDS = 10 * 60;

export const sha256 = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

const BINDING = /^[A-Za-z0-9_-]{43}$/;

/**
 * The binding token for this browser: the one it already carries (several tabs may sign in at once), or a
 * fresh 32 random bytes. Only its SHA-256 is stored.
 */
export function bindingFor(existing: string | null | undefined): { token: string; hash: Buffer } {
  const token = existing && BINDING.test(existing) ? existing : randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

export interface SsoConnectionRow {
  kind: SsoKind;
  config: Record<string, unknown>;
  secretSealed: Buffer | null;
  allowedDomains: string[];
  defaultRole: Exclude<Role, 'owner'>;
  groupsClaim: string;
  groupRoles: { group: string; role: Role }[];
  updatedAt: Date;
}

export async function readConnection(tx: Tx, kind: SsoKind, opts: { forUpdate?: boolean } = {}): Promise<SsoConnectionRow | null> {
  const { rows } = await tx.query<{
    config: Record<string, unknown>;
    secret_sealed: Buffer | null;
    allowed_domains: string[];
    default_role: Exclude<Role, 'owner'>;
    groups_claim: string;
    group_roles: { group: string; role: Role }[];
    updated_at: Date;
  }>(
    `SELECT config, secret_sealed, allowed_domains, default_role, groups_claim, group_roles, updated_at
       FROM sso_connections WHERE kind = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [kind],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    kind,
    config: r.config,
    secretSealed: r.secret_sealed ? Buffer.from(r.secret_sealed) : null,
    allowedDomains: r.allowed_domains,
    defaultRole: r.default_role,
    groupsClaim: r.groups_claim,
    groupRoles: r.group_roles,
    updatedAt: r.updated_at,
  };
}

/** The IdP a connection trusts, as member links name it: the OIDC issuer or the SAML entity id (null: none). */
export async function connectionIssuer(tx: Tx, kind: SsoKind): Promise<string | null> {
  const { rows } = await tx.query<{ issuer: string | null }>(
    "SELECT coalesce(config->>'issuer', config->>'idpIssuer') AS issuer FROM sso_connections WHERE kind = $1",
    [kind],
  );
  return rows[0]?.issuer ?? null;
}

/** Which of `domains` another tenant's connection lists, read under the lock every connection write takes. */
export async function domainsClaimedElsewhere(tx: Tx, tenantId: string, domains: string[]): Promise<string[]> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley:sso-domains'))");
  const { rows } = await tx.query<{ d: string }>('SELECT parley_sso_domains_elsewhere($1, $2) AS d', [tenantId, domains]);
  return rows.map((r) => r.d);
}

export async function writeConnection(
  tx: Tx,
  tenantId: string,
  c: Pick<SsoConnectionRow, 'kind' | 'config' | 'secretSealed' | 'allowedDomains' | 'defaultRole' | 'groupsClaim' | 'groupRoles'>,
): Promise<{ created: boolean }> {
  const { rows } = await tx.query<{ created: boolean }>(
    `INSERT INTO sso_connections (tenant_id, kind, config, secret_sealed, allowed_domains, default_role, groups_claim, group_roles)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, kind) DO UPDATE SET config = EXCLUDED.config, secret_sealed = EXCLUDED.secret_sealed,
       allowed_domains = EXCLUDED.allowed_domains, default_role = EXCLUDED.default_role, groups_claim = EXCLUDED.groups_claim,
       group_roles = EXCLUDED.group_roles, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [tenantId, c.kind, JSON.stringify(c.config), c.secretSealed, c.allowedDomains, c.defaultRole, c.groupsClaim, JSON.stringify(c.groupRoles)],
  );
  return { created: rows[0]!.created };
}

export async function deleteConnection(tx: Tx, kind: SsoKind): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM sso_connections WHERE kind = $1', [kind]);
  return rowCount > 0;
}

export async function saveRequest(
  tx: Tx,
  tenantId: string,
  r: { id: string; kind: SsoKind; data: Record<string, unknown>; binding: Buffer },
): Promise<void> {
  await tx.query(
    `INSERT INTO sso_requests (tenant_id, id, kind, data, binding, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [tenantId, r.id, r.kind, JSON.stringify(r.data), r.binding, SSO_REQUEST_TTL_SECONDS],
  );
}

export type TakeRefusal = 'state_unknown' | 'state_used' | 'state_expired' | 'binding_mismatch';

/**
 * Takes a request in flight, once: it is marked used in this transaction whatever follows, so neither a
 * replayed response nor a retry with another browser can use it again. Refuses an unknown, used or expired
 * request, and one the browser's binding cookie does not match.
 */
export async function takeRequest(
  tx: Tx,
  kind: SsoKind,
  id: string,
  bindingToken: string | null | undefined,
): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; reason: TakeRefusal }> {
  if (id.length < 16 || id.length > 200) return { ok: false, reason: 'state_unknown' };
  const { rows } = await tx.query<{ data: Record<string, unknown>; binding: Buffer; used: boolean; expired: boolean }>(
    `SELECT data, binding, used_at IS NOT NULL AS used, expires_at <= now() AS expired FROM sso_requests WHERE id = $1 AND kind = $2 FOR UPDATE`,
    [id, kind],
  );
  if (rows[0] && !rows[0].used) await tx.query('UPDATE sso_requests SET used_at = now() WHERE id = $1 AND kind = $2', [id, kind]);
  const r = rows[0];
  if (!r) return { ok: false, reason: 'state_unknown' };
  if (r.used) return { ok: false, reason: 'state_used' };
  if (r.expired) return { ok: false, reason: 'state_expired' };
  if (!bindingToken || !BINDING.test(bindingToken) || !sha256(bindingToken).equals(Buffer.from(r.binding)))
    return { ok: false, reason: 'binding_mismatch' };
  return { ok: true, data: r.data };
}

/** Remembers a used code/assertion id (by hash) until `expiresAt`; false when it was seen before. */
export async function firstUse(tx: Tx, tenantId: string, kind: SsoKind, value: string, expiresAt: Date): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO sso_replay (tenant_id, kind, id_hash, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [tenantId, kind, sha256(`${kind}:${value}`), expiresAt],
  );
  return rowCount === 1;
}

/** The lower-cased domain of an address, or null when it has none. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : null;
}
