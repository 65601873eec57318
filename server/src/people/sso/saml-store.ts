// SQL for SAML sign-in: the tenant's connection (sso_connections, kind 'saml'), AuthnRequest ids in
// flight (sso_requests: single use, bound to the browser) and assertion ids already used (sso_replay).
// Every statement runs inside the caller's withTenant transaction, so RLS scopes it to that tenant.
import type { Role } from '@parley/protocol';
import type { Tx } from '../../db/types.js';

const KIND = 'saml';

/** The connection's public settings, kept in sso_connections.config. */
export interface SamlIdpConfig {
  entryPoint: string;
  idpIssuer: string;
  /** PEM, normalised at configuration. */
  idpCertificates: string[];
}

export interface SamlConnectionRow extends SamlIdpConfig {
  allowedDomains: string[];
  defaultRole: Exclude<Role, 'owner'>;
  groupsClaim: string;
  groupRoles: { group: string; role: Role }[];
  updatedAt: Date;
}

interface Row {
  config: SamlIdpConfig;
  allowed_domains: string[];
  default_role: Exclude<Role, 'owner'>;
  groups_claim: string;
  group_roles: { group: string; role: Role }[];
  updated_at: Date;
}

export async function getSamlConnection(tx: Tx, opts: { forUpdate?: boolean } = {}): Promise<SamlConnectionRow | null> {
  const { rows } = await tx.query<Row>(
    `SELECT config, allowed_domains, default_role, groups_claim, group_roles, updated_at FROM sso_connections WHERE kind = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [KIND],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    entryPoint: r.config.entryPoint,
    idpIssuer: r.config.idpIssuer,
    idpCertificates: r.config.idpCertificates,
    allowedDomains: r.allowed_domains,
    defaultRole: r.default_role,
    groupsClaim: r.groups_claim,
    groupRoles: r.group_roles,
    updatedAt: r.updated_at,
  };
}

/** Creates or replaces the tenant's SAML connection; true when one existed before. */
export async function putSamlConnection(tx: Tx, tenantId: string, c: Omit<SamlConnectionRow, 'updatedAt'>): Promise<boolean> {
  const config: SamlIdpConfig = { entryPoint: c.entryPoint, idpIssuer: c.idpIssuer, idpCertificates: c.idpCertificates };
  const { rows } = await tx.query<{ existed: boolean }>(
    `INSERT INTO sso_connections (tenant_id, kind, config, allowed_domains, default_role, groups_claim, group_roles)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, kind) DO UPDATE SET config = EXCLUDED.config, allowed_domains = EXCLUDED.allowed_domains,
       default_role = EXCLUDED.default_role, groups_claim = EXCLUDED.groups_claim, group_roles = EXCLUDED.group_roles, updated_at = now()
     RETURNING (xmax <> 0) AS existed`,
    [tenantId, KIND, JSON.stringify(config), c.allowedDomains, c.defaultRole, c.groupsClaim, JSON.stringify(c.groupRoles)],
  );
  return rows[0]?.existed ?? false;
}

export async function deleteSamlConnection(tx: Tx): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM sso_connections WHERE kind = $1', [KIND]);
  return rowCount > 0;
}

/** Records an AuthnRequest id, bound to the browser by the hash of its cookie. */
export async function insertSamlRequest(tx: Tx, tenantId: string, id: string, binding: Buffer, ttlSeconds: number): Promise<void> {
  await tx.query(`INSERT INTO sso_requests (tenant_id, id, kind, binding, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`, [
    tenantId,
    id,
    KIND,
    binding,
    ttlSeconds,
  ]);
}

export type RequestState = { state: 'pending'; createdAt: Date } | { state: 'unknown' | 'used' | 'expired' | 'other_browser' };

/** What became of an AuthnRequest id, as seen by the browser whose cookie hashes to `binding`. */
export async function lookupSamlRequest(tx: Tx, id: string, binding: Buffer | null): Promise<RequestState> {
  const { rows } = await tx.query<{ binding: Buffer; created_at: Date; expired: boolean; used: boolean }>(
    'SELECT binding, created_at, expires_at <= now() AS expired, used_at IS NOT NULL AS used FROM sso_requests WHERE id = $1 AND kind = $2',
    [id, KIND],
  );
  const r = rows[0];
  if (!r) return { state: 'unknown' };
  if (!binding || !Buffer.from(r.binding).equals(binding)) return { state: 'other_browser' };
  if (r.used) return { state: 'used' };
  if (r.expired) return { state: 'expired' };
  return { state: 'pending', createdAt: r.created_at };
}

/** Uses up an AuthnRequest id: true for exactly one caller, and only for the browser that started it. */
export async function consumeSamlRequest(tx: Tx, id: string, binding: Buffer): Promise<boolean> {
  const { rowCount } = await tx.query(
    'UPDATE sso_requests SET used_at = now() WHERE id = $1 AND kind = $2 AND binding = $3 AND used_at IS NULL AND expires_at > now()',
    [id, KIND, binding],
  );
  return rowCount === 1;
}

/** Remembers an assertion id until it expires: true the first time, false for a replay. */
export async function rememberAssertion(tx: Tx, tenantId: string, idHash: Buffer, expiresAt: Date): Promise<boolean> {
  const { rowCount } = await tx.query(
    'INSERT INTO sso_replay (tenant_id, kind, id_hash, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [tenantId, KIND, idHash, expiresAt],
  );
  return rowCount === 1;
}

export async function assertionSeen(tx: Tx, idHash: Buffer): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM sso_replay WHERE kind = $1 AND id_hash = $2', [KIND, idHash]);
  return rows.length > 0;
}
