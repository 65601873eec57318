// SQL of tenants, their allowed domains and API keys (in the platform's transaction when a tenant is made, else the tenant's).
import type { Capability, Role } from '@parley/protocol';
import type { Tx } from '../db/types.js';

export async function insertTenant(tx: Tx, id: string, name: string): Promise<void> {
  await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, name]);
}

export async function insertAuditHead(tx: Tx, tenantId: string): Promise<void> {
  await tx.query('INSERT INTO audit_heads (tenant_id) VALUES ($1)', [tenantId]);
}

export async function insertPublishableKey(tx: Tx, id: string, tenantId: string, key: string): Promise<void> {
  await tx.query('INSERT INTO publishable_keys (id, tenant_id, key) VALUES ($1, $2, $3)', [id, tenantId, key]);
}

export async function tenantById(tx: Tx, id: string): Promise<{ id: string; name: string } | null> {
  const { rows } = await tx.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function memberContact(tx: Tx, id: string): Promise<{ email: string; display_name: string } | null> {
  const { rows } = await tx.query<{ email: string; display_name: string }>('SELECT email, display_name FROM members WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export interface DomainRow {
  id: string;
  pattern: string;
  created_at: Date;
}

/** When the pattern was added; null when the tenant allows it already. */
export async function insertDomain(tx: Tx, id: string, tenantId: string, pattern: string): Promise<Date | null> {
  const { rows } = await tx.query<{ created_at: Date }>(
    'INSERT INTO tenant_domains (id, tenant_id, pattern) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, pattern) DO NOTHING RETURNING created_at',
    [id, tenantId, pattern],
  );
  return rows[0]?.created_at ?? null;
}

export async function tenantDomains(tx: Tx): Promise<DomainRow[]> {
  const { rows } = await tx.query<DomainRow>('SELECT id, pattern, created_at FROM tenant_domains ORDER BY created_at, pattern');
  return rows;
}

/** The removed domain's pattern; null when there was none. */
export async function deleteDomain(tx: Tx, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ pattern: string }>('DELETE FROM tenant_domains WHERE id = $1 RETURNING pattern', [id]);
  return rows[0]?.pattern ?? null;
}

/** The tenant's allowed patterns as stored (unparsed). */
export async function domainPatterns(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ pattern: string }>('SELECT pattern FROM tenant_domains');
  return rows.map((r) => r.pattern);
}

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  capabilities: Capability[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  rotated_from: string | null;
  made_by: { id: string; displayName: string; role: Role; status: 'active' | 'disabled' } | null;
  /** Whether a member made it, still one (made_by) or not: null made_by with this set is a maker gone. */
  made_by_member: boolean;
}
// The maker as they are now (a key is worth no more than they are: tenants/auth.ts).
const KEY_COLUMNS = `id, name, prefix, capabilities, created_at, expires_at, revoked_at, last_used_at, rotated_from,
  (SELECT json_build_object('id', m.id, 'displayName', m.display_name, 'role', m.role, 'status', m.status)
     FROM members m WHERE m.tenant_id = api_keys.tenant_id AND m.id = api_keys.created_by_member) AS made_by,
  created_by_member IS NOT NULL AS made_by_member`;

export async function insertKey(
  tx: Tx,
  k: {
    id: string;
    tenantId: string;
    name: string;
    prefix: string;
    hash: Buffer;
    capabilities: Capability[];
    createdBy: string | null;
    createdByMember: string | null;
    rotatedFrom: string | null;
    expiresAt: Date | null;
  },
): Promise<KeyRow> {
  const { rows } = await tx.query<KeyRow>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, capabilities, created_by, created_by_member, rotated_from, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${KEY_COLUMNS}`,
    [k.id, k.tenantId, k.name, k.prefix, k.hash, k.capabilities, k.createdBy, k.createdByMember, k.rotatedFrom, k.expiresAt],
  );
  return rows[0]!;
}

/** The person behind a key: the member who made it, or who made the key that made it. */
export async function keyPerson(tx: Tx, keyId: string): Promise<string | null> {
  const { rows } = await tx.query<{ m: string | null }>('SELECT created_by_member::text AS m FROM api_keys WHERE id::text = $1', [keyId]);
  return rows[0]?.m ?? null;
}

/** The person behind an actor: a member, or the person behind a key; null for the CLI and keys it made. */
export async function actorPerson(tx: Tx, actor: { type: string; id: string | null }): Promise<string | null> {
  if (actor.type === 'member') return actor.id;
  return actor.type === 'api_key' && actor.id ? keyPerson(tx, actor.id) : null;
}

export async function listKeys(tx: Tx): Promise<KeyRow[]> {
  const { rows } = await tx.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows;
}

/** The key whatever its state (revoked or expired too). */
export async function keyById(tx: Tx, id: string | null): Promise<KeyRow | null> {
  const { rows } = await tx.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** The key if active (not revoked, not expired), its row locked for the rest of the transaction. */
export async function lockActiveKey(tx: Tx, id: string): Promise<KeyRow | null> {
  const { rows } = await tx.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE`,
    [id],
  );
  return rows[0] ?? null;
}

export async function setKeyExpiry(tx: Tx, id: string, expiresAt: Date): Promise<void> {
  await tx.query('UPDATE api_keys SET expires_at = $2 WHERE id = $1', [id, expiresAt]);
}

export async function revokeKey(tx: Tx, id: string): Promise<void> {
  await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
}

/** Revokes every active key a member made; the keys revoked. */
export async function revokeKeysMadeBy(tx: Tx, memberId: string): Promise<{ id: string; prefix: string }[]> {
  const { rows } = await tx.query<{ id: string; prefix: string }>(
    'UPDATE api_keys SET revoked_at = now() WHERE created_by_member = $1 AND revoked_at IS NULL RETURNING id, prefix',
    [memberId],
  );
  return rows;
}
