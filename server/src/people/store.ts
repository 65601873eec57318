// SQL for members and invitations (always inside the tenant's transaction).
import type { Invite, Member, MemberRole, Role } from '@parley/protocol';
import type { Tx } from '../db/types.js';

export interface MemberRow {
  id: string;
  email: string;
  display_name: string;
  role: MemberRole;
  status: 'active' | 'disabled';
  password_hash: string | null;
  created_at: Date;
  last_sign_in_at: Date | null;
  /** The protocols whose IdP identity is linked to the member. */
  sso: ('oidc' | 'saml')[];
}
const MEMBER_COLUMNS = `id, email, display_name, role, status, password_hash, created_at, last_sign_in_at,
  ARRAY(SELECT l.kind FROM member_sso_links l WHERE l.tenant_id = members.tenant_id AND l.member_id = members.id ORDER BY l.kind) AS sso`;

export const toMember = (r: MemberRow, mfa: Member['mfa']): Member => ({
  id: r.id,
  email: r.email,
  displayName: r.display_name,
  // Operators are listed only in the platform tenant, whose members the tenant API never shows.
  role: r.role as Role,
  status: r.status,
  mfa,
  createdAt: new Date(r.created_at).toISOString(),
  lastSignInAt: r.last_sign_in_at ? new Date(r.last_sign_in_at).toISOString() : null,
  sso: r.sso,
});

export async function listMembers(tx: Tx): Promise<MemberRow[]> {
  return (await tx.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members ORDER BY created_at, id`)).rows;
}

/**
 * How a member's row is locked. FOR UPDATE (`true`) is what a change to who they are takes (role, status,
 * removal): it waits for the writes made with their authority, which hold the row FOR KEY SHARE
 * (tenants/authority.ts). A change of their own that must not wait for those (their password) takes FOR NO
 * KEY UPDATE; a read that a removal or demotion must not pass takes FOR KEY SHARE.
 */
export type MemberLock = boolean | 'FOR NO KEY UPDATE' | 'FOR KEY SHARE';

export async function memberById(tx: Tx, id: string, lock: MemberLock = false): Promise<MemberRow | undefined> {
  const mode = lock === true ? 'FOR UPDATE' : lock || '';
  return (await tx.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE id = $1${mode ? ` ${mode}` : ''}`, [id])).rows[0];
}

export async function memberByEmail(tx: Tx, email: string): Promise<MemberRow | undefined> {
  return (await tx.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE email = $1`, [email])).rows[0];
}

/** The IdP identity linked to members, per protocol (member_sso_links). */
export interface SsoIdentity {
  kind: 'oidc' | 'saml';
  issuer: string;
  subject: string;
}

/** The member this IdP identity signs in, if it is linked to one. */
export async function memberBySsoIdentity(tx: Tx, id: SsoIdentity): Promise<MemberRow | undefined> {
  const { rows } = await tx.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM members WHERE id = (SELECT member_id FROM member_sso_links WHERE kind = $1 AND issuer = $2 AND subject = $3)`,
    [id.kind, id.issuer, id.subject],
  );
  return rows[0];
}

/** Whether an IdP identity (of either protocol, at any issuer) is linked to the member. */
export async function hasSsoLink(tx: Tx, memberId: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM member_sso_links WHERE member_id = $1 LIMIT 1', [memberId])).rows.length > 0;
}

/**
 * How many members with an address in `domains` a connection of this protocol could sign in: those linked
 * through it (by their identity's subject; a link at another issuer is released when the connection moves),
 * and those without a password and without any link (by their address, at their first SSO sign-in).
 */
export async function membersSsoReaches(tx: Tx, kind: SsoIdentity['kind'], domains: string[]): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM members m
      WHERE lower(substring(m.email from '@([^@]+)$')) = ANY($2::text[])
        AND (EXISTS (SELECT 1 FROM member_sso_links l WHERE l.member_id = m.id AND l.kind = $1)
             OR (m.password_hash IS NULL AND NOT EXISTS (SELECT 1 FROM member_sso_links l WHERE l.member_id = m.id)))`,
    [kind, domains.map((d) => d.toLowerCase())],
  );
  return rows[0]!.n;
}

/** Releases the links of this protocol at any issuer but `issuer` (the connection moved); how many there were. */
export async function releaseSsoLinks(tx: Tx, kind: SsoIdentity['kind'], issuer: string): Promise<number> {
  return (await tx.query('DELETE FROM member_sso_links WHERE kind = $1 AND issuer <> $2', [kind, issuer])).rowCount ?? 0;
}

/** Removes the member's IdP identities; how many there were. */
export async function unlinkSso(tx: Tx, memberId: string): Promise<number> {
  return (await tx.query('DELETE FROM member_sso_links WHERE member_id = $1', [memberId])).rowCount ?? 0;
}

/** Links `id` to the member, replacing the member's earlier identity of that protocol. */
export async function linkSsoIdentity(tx: Tx, tenantId: string, memberId: string, id: SsoIdentity): Promise<void> {
  await tx.query('DELETE FROM member_sso_links WHERE member_id = $1 AND kind = $2', [memberId, id.kind]);
  await tx.query('INSERT INTO member_sso_links (tenant_id, member_id, kind, issuer, subject) VALUES ($1, $2, $3, $4, $5)', [
    tenantId,
    memberId,
    id.kind,
    id.issuer,
    id.subject,
  ]);
}

export async function insertMember(
  tx: Tx,
  m: { tenantId: string; id: string; email: string; displayName: string; role: MemberRole; passwordHash: string | null; createdBy: string },
): Promise<MemberRow> {
  const { rows } = await tx.query<MemberRow>(
    `INSERT INTO members (tenant_id, id, email, display_name, role, password_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${MEMBER_COLUMNS}`,
    [m.tenantId, m.id, m.email, m.displayName, m.role, m.passwordHash, m.createdBy],
  );
  return rows[0]!;
}

export async function updateMember(
  tx: Tx,
  id: string,
  patch: { role?: Role; status?: string; display_name?: string; password_hash?: string },
): Promise<MemberRow> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  // Nothing to change: the member as stored (an empty SET is not SQL).
  if (!entries.length) return (await memberById(tx, id))!;
  const sets = entries.map(([k], i) => `${k} = $${i + 2}`);
  const { rows } = await tx.query<MemberRow>(`UPDATE members SET ${sets.join(', ')} WHERE id = $1 RETURNING ${MEMBER_COLUMNS}`, [
    id,
    ...entries.map(([, v]) => v),
  ]);
  return rows[0]!;
}

export const deleteMember = (tx: Tx, id: string) => tx.query('DELETE FROM members WHERE id = $1', [id]);

/**
 * Locks every active owner row: changes that could leave no owner are decided one at a time. FOR NO KEY
 * UPDATE, which such changes take of each other, but not of the owner's own writes under way (which hold
 * their row FOR KEY SHARE: tenants/authority.ts), so an owner changing another owner does not wait for those.
 */
export async function activeOwners(tx: Tx): Promise<string[]> {
  return (await tx.query<{ id: string }>("SELECT id FROM members WHERE role = 'owner' AND status = 'active' ORDER BY id FOR NO KEY UPDATE")).rows.map(
    (r) => r.id,
  );
}

export interface InviteRow {
  id: string;
  email: string;
  role: MemberRole;
  delivery: 'smtp' | 'log';
  link_sealed: Buffer | null;
  /** `<actor type>:<actor id>` of whoever sent it. */
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}
const INVITE_COLUMNS = 'id, email, role, delivery, link_sealed, invited_by, created_at, expires_at, accepted_at, revoked_at';

export const toInvite = (r: InviteRow, inviteUrl: string | null): Invite => ({
  id: r.id,
  email: r.email,
  role: r.role as Role,
  createdAt: new Date(r.created_at).toISOString(),
  expiresAt: new Date(r.expires_at).toISOString(),
  acceptedAt: r.accepted_at ? new Date(r.accepted_at).toISOString() : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
  delivery: r.delivery,
  inviteUrl,
});

export async function insertInvite(
  tx: Tx,
  i: {
    tenantId: string;
    id: string;
    email: string;
    role: MemberRole;
    tokenHash: Buffer;
    delivery: 'smtp' | 'log';
    invitedBy: string;
    ttlSeconds: number;
  },
): Promise<InviteRow> {
  const { rows } = await tx.query<InviteRow>(
    `INSERT INTO member_invites (tenant_id, id, email, role, token_hash, delivery, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8)) RETURNING ${INVITE_COLUMNS}`,
    [i.tenantId, i.id, i.email, i.role, i.tokenHash, i.delivery, i.invitedBy, i.ttlSeconds],
  );
  return rows[0]!;
}

export const setInviteLink = (tx: Tx, id: string, sealed: Buffer) =>
  tx.query('UPDATE member_invites SET link_sealed = $2 WHERE id = $1', [id, sealed]);

/** Open invitations first, then the last 100 closed ones. */
export async function listInvites(tx: Tx): Promise<InviteRow[]> {
  return (
    await tx.query<InviteRow>(
      `SELECT ${INVITE_COLUMNS} FROM member_invites
        ORDER BY (accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) DESC, created_at DESC LIMIT 200`,
    )
  ).rows;
}

export async function inviteByHash(tx: Tx, hash: Buffer, lock = false): Promise<(InviteRow & { usable: boolean }) | undefined> {
  const { rows } = await tx.query<InviteRow & { usable: boolean }>(
    `SELECT ${INVITE_COLUMNS}, (accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS usable
       FROM member_invites WHERE token_hash = $1${lock ? ' FOR UPDATE' : ''}`,
    [hash],
  );
  return rows[0];
}

export const markInviteAccepted = (tx: Tx, id: string, memberId: string) =>
  tx.query('UPDATE member_invites SET accepted_at = now(), link_sealed = NULL, member_id = $2 WHERE id = $1', [id, memberId]);

export async function revokeInvite(tx: Tx, id: string): Promise<InviteRow | undefined> {
  const { rows } = await tx.query<InviteRow>(
    `UPDATE member_invites SET revoked_at = now(), link_sealed = NULL WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING ${INVITE_COLUMNS}`,
    [id],
  );
  return rows[0];
}

/** Open invitations to the same address are replaced by a new one. */
/** The roles of the open invitations to an address. */
export async function openInviteRoles(tx: Tx, email: string): Promise<MemberRole[]> {
  const { rows } = await tx.query<{ role: MemberRole }>(
    'SELECT role FROM member_invites WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()',
    [email],
  );
  return rows.map((r) => r.role);
}

/** An open invitation's role, or null. */
export async function openInviteRole(tx: Tx, id: string): Promise<MemberRole | null> {
  const { rows } = await tx.query<{ role: MemberRole }>(
    'SELECT role FROM member_invites WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL',
    [id],
  );
  return rows[0]?.role ?? null;
}

/** "invt": the advisory lock class of invitations to one address. */
const INVITES_TO_LOCK_CLASS = 0x696e7674;

/**
 * Serialises, until the transaction ends, the invitations to one address of the tenant: each replaces the
 * open ones, so exactly one stays open however many are sent at once (under Read Committed, two at the same
 * moment each revoked what was committed before either, then both stored theirs).
 */
export async function lockInvitesTo(tx: Tx, tenantId: string, email: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [INVITES_TO_LOCK_CLASS, `${tenantId}:${email}`]);
}

export const revokeOpenInvitesFor = (tx: Tx, email: string) =>
  tx.query('UPDATE member_invites SET revoked_at = now(), link_sealed = NULL WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL', [
    email,
  ]);

/**
 * Revokes the open invitations to `roles` sent by a member or by an API key they made (a key answers to
 * its maker). Returns what was revoked.
 */
export async function revokeOpenInvitesSentBy(tx: Tx, memberId: string, roles: readonly MemberRole[]): Promise<{ id: string; role: MemberRole }[]> {
  if (!roles.length) return [];
  const { rows } = await tx.query<{ id: string; role: MemberRole }>(
    `UPDATE member_invites SET revoked_at = now(), link_sealed = NULL
      WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() AND role = ANY($2::text[])
        AND (invited_by = 'member:' || $1::text
             OR invited_by IN (SELECT 'api_key:' || k.id::text FROM api_keys k WHERE k.created_by_member = $1::uuid))
      RETURNING id, role`,
    [memberId, roles],
  );
  return rows;
}

// ---- lookups across the tenant's own tables and the sign-in functions

/** The kinds of SSO connection the tenant has, in order. */
export async function ssoConnectionKinds(tx: Tx): Promise<('oidc' | 'saml')[]> {
  return (await tx.query<{ kind: 'oidc' | 'saml' }>('SELECT kind FROM sso_connections ORDER BY kind')).rows.map((r) => r.kind);
}

/** How long ago (in seconds) the member's own session `sessionId` began; null when it is not theirs. */
export async function memberSessionAge(tx: Tx, sessionId: string, memberId: string): Promise<number | null> {
  const { rows } = await tx.query<{ age: number }>(
    'SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM member_sessions WHERE id = $1 AND member_id = $2',
    [sessionId, memberId],
  );
  return rows[0]?.age ?? null;
}

/** Every membership an address signs in to, across tenants (a SECURITY DEFINER lookup before any tenant is known). */
export async function memberLogins(tx: Tx, email: string) {
  return (
    await tx.query<{ tenant_id: string; member_id: string; password_hash: string | null; status: string }>(
      'SELECT tenant_id, member_id, password_hash, status FROM parley_member_logins($1)',
      [email],
    )
  ).rows;
}

/** The tenant an invitation token's hash belongs to (a SECURITY DEFINER lookup before any tenant is known). */
export async function inviteTenantOf(tx: Tx, hash: Buffer): Promise<string | undefined> {
  return (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM parley_resolve_invite($1)', [hash])).rows[0]?.tenant_id;
}
