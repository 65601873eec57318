// Members and invitations: the rules. A tenant always keeps an active owner; only an owner grants or
// removes ownership; removing or disabling a member ends their sessions in the same transaction.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  capabilitiesOf,
  PLATFORM_ROLE,
  ROLES,
  type Invite,
  type Member,
  type MemberRole,
  type Role,
  type SignInPolicy,
  type SignInPolicyRead,
} from '@parley/protocol';
import { PLATFORM_TENANT } from '../db/index.js';
import type { AuditLog } from '../audit/log.js';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db, Tx } from '../db/types.js';
import { assertWithin, DomainError } from '../errors.js';
import type { AdminAuth, RequestCtx } from '../http/context.js';
import { hashToken } from '../sessions/refresh-family.js';
import { mailFailure, type Mailer } from './mailer.js';
import type { Logger } from 'pino';
import { assertPassword, hashPassword, verifyPassword } from './passwords.js';
import { factors } from './mfa/factors.js';
import { dropBreakGlassOf, readPolicy, writePolicy } from './policy.js';
import type { MemberSessions } from './sessions.js';
import type { SignInThrottle } from './throttle.js';
import * as store from './store.js';
import { grantsPrivilege } from '../tenants/service.js';
import { actorPerson, revokeKeysMadeBy, tenantById } from '../tenants/store.js';
import { memberInvited } from '../webhooks/events.js';

export interface PeopleDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  config: Pick<Config, 'publicUrl' | 'env'>;
  sessions: MemberSessions;
  mailer: Mailer;
}

export type AdminCtx = RequestCtx & { tenantId: string; admin: AdminAuth };

export const INVITE_TTL_S = 7 * 24 * 3600;
const INVITE_LINK_CONTEXT = (id: string) => `invite-link/${id}`;

const callerRole = (ctx: AdminCtx): MemberRole | null => ctx.admin.member?.role ?? null;
/** Tenant, request and actor of an audit entry. */
const who = (ctx: RequestCtx & { tenantId: string }) => ({ tenantId: ctx.tenantId, requestId: ctx.requestId, actor: ctx.actor });

async function withFactors(tx: Tx, rows: store.MemberRow[]): Promise<Member[]> {
  return Promise.all(rows.map(async (r) => store.toMember(r, await factors(tx, r.id))));
}

export async function listMembers(deps: PeopleDeps, ctx: AdminCtx): Promise<Member[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => withFactors(tx, await store.listMembers(tx)));
}

/**
 * Ownership moves only by an owner's hand: keys and admins cannot grant it, take it, or touch an owner.
 * Otherwise a caller manages (changes, disables, removes, signs out) only someone holding no more than it
 * does, and grants only a role holding no more (a members:write key makes, or brings back, no admin).
 */
function assertMayManage(ctx: AdminCtx, target: store.MemberRow, newRole?: Role): void {
  const touchesOwner = target.role === 'owner' || newRole === 'owner';
  if (touchesOwner && callerRole(ctx) !== 'owner') throw new DomainError('forbidden', 'Only an owner can grant, change or remove ownership.');
  assertWithin(ctx.admin.capabilities, capabilitiesOf(target.role));
  if (newRole && newRole !== target.role) assertWithin(ctx.admin.capabilities, capabilitiesOf(newRole));
}

/** Whether someone holding `role` may send an invitation to `invited` (as assertMayInvite judges a member). */
function roleMaySend(role: MemberRole, invited: MemberRole): boolean {
  const held = new Set<string>(capabilitiesOf(role));
  return held.has('members:write') && (invited !== 'owner' || role === 'owner') && capabilitiesOf(invited).every((c) => held.has(c));
}

/**
 * Revokes the open invitations a member (or a key they made) sent and can no longer send: all of them when
 * they are removed or disabled, those above their new role when demoted. The link of an open invitation is
 * its credential and its sender holds it: left open, it would bring them back, as what they were.
 */
async function revokeInvitesOf(deps: PeopleDeps, tx: Tx, ctx: AdminCtx, memberId: string, cause: string, role?: MemberRole): Promise<number> {
  const roles = [...ROLES, PLATFORM_ROLE].filter((r) => !role || !roleMaySend(role, r));
  const revoked = await store.revokeOpenInvitesSentBy(tx, memberId, roles);
  for (const i of revoked) {
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'member.invite_revoke',
      target: { type: 'invite', id: i.id },
      metadata: { role: i.role, cause, sender: memberId },
    });
  }
  return revoked.length;
}

async function assertKeepsAnOwner(tx: Tx, target: store.MemberRow, stillOwner: boolean): Promise<void> {
  const owners = await store.activeOwners(tx);
  if (!stillOwner && owners.length === 1 && owners[0] === target.id) {
    throw new DomainError('conflict', 'This is the last owner: make another member owner first.');
  }
}

export async function updateMember(
  deps: PeopleDeps,
  ctx: AdminCtx,
  id: string,
  patch: { role?: Role | undefined; status?: 'active' | 'disabled' | undefined; displayName?: string | undefined },
): Promise<Member> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const before = await store.memberById(tx, id, true);
    if (!before) throw new DomainError('not_found', 'No such member.');
    assertMayManage(ctx, before, patch.role);
    const role = patch.role ?? before.role;
    const status = patch.status ?? before.status;
    if (before.role === 'owner' && before.status === 'active') await assertKeepsAnOwner(tx, before, role === 'owner' && status === 'active');
    const after = await store.updateMember(tx, id, {
      ...(patch.role ? { role: patch.role } : {}),
      ...(patch.status ? { status: patch.status } : {}),
      ...(patch.displayName ? { display_name: patch.displayName } : {}),
    });
    if (role !== before.role) {
      await deps.audit.append(tx, {
        ...who(ctx),
        action: 'member.role_change',
        target: { type: 'member', id },
        metadata: { from: before.role, to: role },
      });
    }
    if (status !== before.status) {
      const ended = status === 'disabled' ? await deps.sessions.revokeAll(tx, id, 'disabled') : 0;
      await deps.audit.append(tx, {
        ...who(ctx),
        action: status === 'disabled' ? 'member.disable' : 'member.enable',
        target: { type: 'member', id },
        metadata: { sessionsEnded: ended },
      });
    }
    // Disabled, they send nothing; demoted, they keep only what their new role could send.
    if (status === 'disabled') await revokeInvitesOf(deps, tx, ctx, id, 'member_disabled');
    else if (role !== before.role) await revokeInvitesOf(deps, tx, ctx, id, 'member_role_change', role);
    if (patch.displayName && patch.displayName !== before.display_name) {
      await deps.audit.append(tx, { ...who(ctx), action: 'member.rename', target: { type: 'member', id } });
    }
    if (role !== 'owner' || status !== 'active')
      await dropBreakGlass(deps, tx, ctx, id, status !== before.status ? 'member.disable' : 'member.role_change');
    return store.toMember(after, await factors(tx, id));
  });
}

/**
 * The break-glass account is an active owner: once the member named is demoted, disabled or removed, the
 * policy names nobody (audited as a policy change, with its cause), and SSO stays enforced for everyone.
 * Sign-in checks the same again (sign-in.ts), for a policy written before this rule.
 */
async function dropBreakGlass(deps: PeopleDeps, tx: Tx, ctx: AdminCtx, memberId: string, cause: string): Promise<void> {
  const policy = await dropBreakGlassOf(tx, ctx.tenantId, memberId);
  if (!policy) return;
  await deps.audit.append(tx, {
    ...who(ctx),
    action: 'signin.policy_update',
    metadata: { changed: ['breakGlassMemberId'], cause, member: memberId, policy },
  });
}

/**
 * Whether a change to a member grants what `keys.privileged` holds back: a privileged role, or a member
 * holding one enabled again (an approver back).
 */
export async function grantsPrivilegeTo(
  deps: PeopleDeps,
  ctx: AdminCtx,
  id: string,
  patch: { role?: Role | undefined; status?: string | undefined },
) {
  if (patch.role && grantsPrivilege(patch.role)) return true;
  if (patch.status !== 'active') return false;
  const before = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => store.memberById(tx, id));
  return !!before && before.status === 'disabled' && grantsPrivilege(before.role);
}

export async function removeMember(deps: PeopleDeps, ctx: AdminCtx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const target = await store.memberById(tx, id, true);
    if (!target) throw new DomainError('not_found', 'No such member.');
    assertMayManage(ctx, target);
    if (target.role === 'owner' && target.status === 'active') await assertKeepsAnOwner(tx, target, false);
    const ended = await deps.sessions.revokeAll(tx, id, 'removed');
    // Their open invitations go (they hold the links), and those their keys sent; then the keys they made:
    // they saw those secrets, and a key counts as its maker for approvals.
    const invites = await revokeInvitesOf(deps, tx, ctx, id, 'member_removed');
    const keys = await revokeKeysMadeBy(tx, id);
    for (const k of keys) {
      await deps.audit.append(tx, {
        ...who(ctx),
        action: 'api_key.revoke',
        target: { type: 'api_key', id: k.id },
        metadata: { prefix: k.prefix, cause: 'member_removed' },
      });
    }
    await store.deleteMember(tx, id); // sessions and refresh tokens go with the member
    await dropBreakGlass(deps, tx, ctx, id, 'member.remove');
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'member.remove',
      target: { type: 'member', id },
      metadata: { role: target.role, sessionsEnded: ended, keysRevoked: keys.length, invitesRevoked: invites },
    });
  });
}

/**
 * Forgets the IdP identities linked to a member (their account at the IdP was replaced, say): their next
 * SSO sign-in links afresh, as a first one does. Their sessions end, as they came through the old link.
 */
export async function resetSsoLink(deps: PeopleDeps, ctx: AdminCtx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const target = await store.memberById(tx, id, true);
    if (!target) throw new DomainError('not_found', 'No such member.');
    assertMayManage(ctx, target);
    // One's own link is not reset from a session (or a key) it might have been stolen with.
    if ((await actorPerson(tx, ctx.actor)) === id) throw new DomainError('forbidden', 'Another owner or admin resets your single sign-on link.');
    const links = await store.unlinkSso(tx, id);
    if (!links) throw new DomainError('not_found', 'This member has no single sign-on link.');
    const ended = await deps.sessions.revokeAll(tx, id, 'sso_reset');
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'member.sso_unlink',
      target: { type: 'member', id },
      metadata: { links, sessionsEnded: ended },
    });
  });
}

export async function revokeMemberSessions(deps: PeopleDeps, ctx: AdminCtx, id: string): Promise<number> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const target = await store.memberById(tx, id);
    if (!target) throw new DomainError('not_found', 'No such member.');
    assertMayManage(ctx, target);
    const n = await deps.sessions.revokeAll(tx, id, 'revoked_by_admin');
    await deps.audit.append(tx, { ...who(ctx), action: 'session.revoke_all', target: { type: 'member', id }, metadata: { sessionsEnded: n } });
    return n;
  });
}

export async function listMySessions(deps: PeopleDeps, ctx: AdminCtx) {
  const me = ctx.admin.member!;
  return deps.db.withTenant(ctx.tenantId, ctx, (tx) => deps.sessions.list(tx, me.id, me.sessionId));
}

export async function revokeMySession(deps: PeopleDeps, ctx: AdminCtx, sessionId: string): Promise<void> {
  const me = ctx.admin.member!;
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if ((await store.memberSessionAge(tx, sessionId, me.id)) === null || !(await deps.sessions.revoke(tx, sessionId, 'revoked_by_member')))
      throw new DomainError('not_found', 'No such session.');
    await deps.audit.append(tx, { ...who(ctx), action: 'session.revoke', target: { type: 'session', id: sessionId } });
  });
}

/**
 * A member's own password change: the current one proves it is them (wrong guesses count toward the
 * sign-in throttle, so a stolen session cannot be used to guess it, and the right one is never refused
 * for guesses from elsewhere); every other session ends.
 */
export async function changeMyPassword(
  deps: PeopleDeps & { throttle: SignInThrottle },
  ctx: AdminCtx & { address: string },
  input: { currentPassword: string; newPassword: string },
): Promise<number> {
  const me = ctx.admin.member!;
  const email = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => (await store.memberById(tx, me.id))?.email);
  if (!email) throw new DomainError('unauthenticated', 'This member no longer exists.');
  // As at sign-in: counted before it is checked, on this address's counters; the account's count across
  // addresses judges a wrong password only.
  const attempt = await deps.throttle.reservePassword(ctx.requestId, email, ctx.address);
  let right = false;
  const outcome = await deps.db
    .withTenant(ctx.tenantId, ctx, async (tx) => {
      // Not FOR UPDATE: this request holds its own row FOR KEY SHARE (tenants/authority.ts), and two of its
      // changes at once would each wait for the other's hold.
      const member = await store.memberById(tx, me.id, 'FOR NO KEY UPDATE');
      if (!member) throw new DomainError('unauthenticated', 'This member no longer exists.');
      if (!member.password_hash)
        throw new DomainError('conflict', 'You sign in with single sign-on; your password is kept by your identity provider.');
      if (!(await verifyPassword(member.password_hash, input.currentPassword))) return 'wrong' as const;
      right = true;
      assertPassword(input.newPassword, [member.email, member.display_name], '/newPassword');
      await store.updateMember(tx, me.id, { password_hash: await hashPassword(input.newPassword) });
      const ended = await deps.sessions.revokeAll(tx, me.id, 'password_changed', me.sessionId);
      await deps.audit.append(tx, {
        ...who(ctx),
        action: 'member.password_change',
        target: { type: 'member', id: me.id },
        metadata: { sessionsEnded: ended },
      });
      return ended;
    })
    .catch(async (err: unknown) => {
      // A right password that a weak new one (or an error) stopped costs nothing; nor does one never judged.
      await (right ? attempt.succeeded() : attempt.abandoned());
      throw err;
    });
  if (outcome !== 'wrong') await attempt.succeeded();
  else {
    const wait = await attempt.failed();
    if (wait) throw wait;
    throw new DomainError('invalid_input', 'The current password is not right.', {
      errors: [{ path: '/currentPassword', message: 'is not right', code: 'wrong_password' }],
    });
  }
  return outcome;
}

// ---- invitations

const inviteUrl = (deps: InviteDeps, token: string) => `${deps.config.publicUrl}/console/#invite=${token}`;

/** Who sent an invitation, as stored with it. */
const inviter = (ctx: RequestCtx) => `${ctx.actor.type}:${ctx.actor.id ?? ''}`;

/**
 * An open invitation's link is its only credential (whoever holds it chooses the password), so it is shown
 * to whoever sent it alone: never to a teammate, who could take an owner's invitation and be an owner;
 * and only while they may still send its role (a demoted owner does not see an owner's invitation).
 */
async function inviteView(deps: PeopleDeps, tx: Tx, ctx: AdminCtx, r: store.InviteRow): Promise<Invite> {
  const open = !r.accepted_at && !r.revoked_at && new Date(r.expires_at).getTime() > Date.now();
  const url =
    open && r.link_sealed && r.invited_by === inviter(ctx) && mayInvite({ ...ctx, role: callerRole(ctx) }, r.role)
      ? await deps.keyring.openString(tx, ctx.tenantId, r.link_sealed, INVITE_LINK_CONTEXT(r.id))
      : null;
  return store.toInvite(r, url);
}

/** With a logger where there is one (the CLI reports a failure itself). */
export type InviteDeps = Pick<PeopleDeps, 'db' | 'audit' | 'keyring' | 'config' | 'mailer'> & { logger?: Logger };

/**
 * Who may send, replace or revoke an invitation to `role`: the CLI and platform operators provision
 * owners; inside a tenant only an owner handles an owner's, and a key or person only a role within what
 * they hold.
 */
function assertMayInvite(ctx: RequestCtx & { role: MemberRole | null; admin?: AdminAuth }, role: MemberRole): void {
  if (role === 'owner' && ctx.role !== 'owner' && ctx.actor.type !== 'cli' && ctx.actor.type !== 'platform') {
    throw new DomainError('forbidden', 'Only an owner can invite another owner, or replace or revoke such an invitation.');
  }
  if (ctx.admin) assertWithin(ctx.admin.capabilities, capabilitiesOf(role));
}

function mayInvite(ctx: RequestCtx & { role: MemberRole | null; admin?: AdminAuth }, role: MemberRole): boolean {
  try {
    assertMayInvite(ctx, role);
    return true;
  } catch (err) {
    if (err instanceof DomainError) return false;
    throw err;
  }
}

/** Invites `email` as `role`. Returns the invite (its link only for `log` delivery) and the link itself, for the CLI. */
export async function createInvite(
  deps: InviteDeps,
  ctx: RequestCtx & { tenantId: string; role: MemberRole | null; admin?: AdminAuth },
  input: { email: string; role: MemberRole },
): Promise<{ invite: Invite; url: string }> {
  assertMayInvite(ctx, input.role);
  if ((input.role === PLATFORM_ROLE) !== (ctx.tenantId === PLATFORM_TENANT)) {
    throw new DomainError('invalid_input', 'Operators belong to the platform, and only operators do.', {
      errors: [{ path: '/role', message: 'not a role here', code: 'invalid_role' }],
    });
  }
  const token = `inv_${randomBytes(32).toString('base64url')}`;
  const url = inviteUrl(deps, token);
  const { invite, tenantName } = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    // One invitation to an address at a time, so that each replaces the open ones: exactly one stays open.
    const [, tenant] = await Promise.all([store.lockInvitesTo(tx, ctx.tenantId, input.email), tenantById(tx, ctx.tenantId)]);
    if (!tenant) throw new DomainError('not_found', 'No such tenant.');
    if (await store.memberByEmail(tx, input.email)) throw new DomainError('conflict', 'This address is already a member of the tenant.');
    // A new invitation replaces the open ones to that address: only where the caller could have sent them
    // (an admin replacing an owner's invitation would hold a link to an account the owner means to promote).
    for (const role of await store.openInviteRoles(tx, input.email)) assertMayInvite(ctx, role);
    await store.revokeOpenInvitesFor(tx, input.email);
    const row = await store.insertInvite(tx, {
      tenantId: ctx.tenantId,
      id: randomUUID(),
      email: input.email,
      role: input.role,
      tokenHash: hashToken(token),
      delivery: deps.mailer.delivery,
      invitedBy: inviter(ctx),
      ttlSeconds: INVITE_TTL_S,
    });
    if (deps.mailer.delivery === 'log')
      await store.setInviteLink(tx, row.id, await deps.keyring.seal(tx, ctx.tenantId, url, INVITE_LINK_CONTEXT(row.id)));
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'member.invite',
      target: { type: 'invite', id: row.id },
      metadata: { role: input.role, delivery: deps.mailer.delivery },
    });
    await memberInvited(tx, ctx.tenantId, row);
    return { invite: { ...row, link_sealed: null }, tenantName: tenant.name };
  });
  // Sent after the commit: a slow mail server holds no transaction. A failure revokes the invitation (its
  // link reached nobody) and is the caller's 502; the log says why by its kind, never the mail server's
  // words, which quote the address.
  await deps.mailer
    .send({
      to: input.email,
      subject: `You are invited to ${tenantName} on Parley`,
      text: [
        `You have been invited to join ${tenantName} on Parley as ${input.role}.`,
        '',
        `Accept the invitation (the link works once, for 7 days):`,
        url,
        '',
        'If you did not expect this, ignore this email.',
      ].join('\n'),
    })
    .catch((err: unknown) => inviteNotSent(deps, ctx, invite.id, err));
  return { invite: store.toInvite(invite, deps.mailer.delivery === 'log' ? url : null), url };
}

/** An invitation whose email did not leave: revoked (audited with the failure's kind), and a 502 for the caller. */
async function inviteNotSent(deps: InviteDeps, ctx: RequestCtx & { tenantId: string }, id: string, err: unknown): Promise<never> {
  const mail = mailFailure(err);
  deps.logger?.warn({ requestId: ctx.requestId, tenantId: ctx.tenantId, invite: id, mail }, 'invitation email not sent');
  // Not held to the sender's authority (tenants/authority.ts): a link that reached nobody goes even if they
  // were demoted meanwhile.
  await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, async (tx) => {
    if (await store.revokeInvite(tx, id))
      await deps.audit.append(tx, {
        ...who(ctx),
        action: 'member.invite_revoke',
        target: { type: 'invite', id },
        metadata: { cause: 'mail_not_sent', mail: mail.reason },
      });
  });
  throw new DomainError(
    'mail_not_sent',
    mail.reason === 'refused'
      ? 'The invitation was not sent: the mail server refused the address. Nothing is left open; check the address and invite again.'
      : mail.reason === 'unreachable'
        ? 'The invitation was not sent: the mail server could not be reached. Nothing is left open; invite again later, or ask whoever runs this server.'
        : 'The invitation was not sent: the mail server did not take it. Nothing is left open; invite again later, or ask whoever runs this server.',
  );
}

export async function listInvites(deps: PeopleDeps, ctx: AdminCtx): Promise<Invite[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => Promise.all((await store.listInvites(tx)).map((r) => inviteView(deps, tx, ctx, r))));
}

export async function revokeInvite(deps: PeopleDeps, ctx: AdminCtx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const role = await store.openInviteRole(tx, id);
    if (role) assertMayInvite({ ...ctx, role: callerRole(ctx) }, role);
    const row = await store.revokeInvite(tx, id);
    if (!row) throw new DomainError('not_found', 'No open invitation with this id.');
    await deps.audit.append(tx, { ...who(ctx), action: 'member.invite_revoke', target: { type: 'invite', id } });
  });
}

/** The tenant an invite token belongs to (by its hash), or a refusal that says nothing more. */
export async function inviteTenant(db: Db, requestId: string | null, token: string): Promise<string> {
  const tenantId = await db.withoutTenant({ requestId }, (tx) => store.inviteTenantOf(tx, hashToken(token)));
  if (!tenantId) throw new DomainError('token_invalid', 'This invitation link is not valid. Ask for a new one.');
  return tenantId;
}

export async function previewInvite(deps: PeopleDeps, requestId: string | null, token: string) {
  const tenantId = await inviteTenant(deps.db, requestId, token);
  return deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    const invite = await store.inviteByHash(tx, hashToken(token));
    if (!invite) throw new DomainError('token_invalid', 'This invitation link is not valid. Ask for a new one.');
    if (!invite.usable) throw new DomainError('token_expired', 'This invitation was already used, revoked or has expired. Ask for a new one.');
    const tenant = (await tenantById(tx, tenantId))!;
    const policy = await readPolicy(tx);
    return { email: invite.email, role: invite.role, tenant, expiresAt: new Date(invite.expires_at).toISOString(), ssoOnly: policy.enforceSso };
  });
}

/**
 * Spends an invitation: creates the member (with a password unless the tenant signs in only with SSO).
 * Returns the new member's id; the caller signs them in.
 */
export async function acceptInvite(
  deps: PeopleDeps,
  requestId: string | null,
  input: { token: string; displayName: string; password?: string | undefined },
): Promise<{ tenantId: string; memberId: string; policy: SignInPolicy; tenant: { id: string; name: string } }> {
  const tenantId = await inviteTenant(deps.db, requestId, input.token);
  return deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    const invite = await store.inviteByHash(tx, hashToken(input.token), true);
    if (!invite) throw new DomainError('token_invalid', 'This invitation link is not valid. Ask for a new one.');
    if (!invite.usable) throw new DomainError('token_replayed', 'This invitation was already used, revoked or has expired. Ask for a new one.');
    if (await store.memberByEmail(tx, invite.email)) throw new DomainError('conflict', 'This address is already a member of the tenant.');
    const policy = await readPolicy(tx);
    const memberId = randomUUID();
    await store.insertMember(tx, {
      tenantId,
      id: memberId,
      email: invite.email,
      displayName: input.displayName,
      role: invite.role,
      passwordHash: policy.enforceSso ? null : await choosePassword(input.password, [invite.email, input.displayName]),
      createdBy: `invite:${invite.id}`,
    });
    await store.markInviteAccepted(tx, invite.id, memberId);
    await deps.audit.append(tx, {
      tenantId,
      requestId,
      actor: { type: 'member', id: memberId },
      action: 'member.join',
      target: { type: 'member', id: memberId },
      metadata: { via: 'invite', invite: invite.id, role: invite.role },
    });
    const tenant = (await tenantById(tx, tenantId))!;
    return { tenantId, memberId, policy, tenant };
  });
}

/** A new password, checked against the rules and hashed (the tenant signs in with passwords). */
async function choosePassword(password: string | undefined, context: string[]): Promise<string> {
  if (password === undefined)
    throw new DomainError('invalid_input', 'Choose a password.', { errors: [{ path: '/password', message: 'is required', code: 'required' }] });
  assertPassword(password, context);
  return hashPassword(password);
}

// ---- sign-in policy

export async function getPolicy(deps: PeopleDeps, ctx: AdminCtx): Promise<SignInPolicy> {
  return deps.db.withTenant(ctx.tenantId, ctx, readPolicy);
}

/** The policy as the console shows it: with the SSO connections there are. */
export async function getPolicyPage(deps: PeopleDeps, ctx: AdminCtx): Promise<SignInPolicyRead> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => ({ policy: await readPolicy(tx), connections: await store.ssoConnectionKinds(tx) }));
}

export async function setPolicy(deps: PeopleDeps, ctx: AdminCtx, policy: SignInPolicy): Promise<SignInPolicy> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if (policy.enforceSso) {
      if (!(await store.ssoConnectionKinds(tx)).length)
        throw new DomainError('invalid_input', 'Set up an SSO connection before enforcing SSO.', {
          errors: [{ path: '/enforceSso', message: 'no SSO connection is configured', code: 'sso_missing' }],
        });
    }
    if (policy.breakGlassMemberId) {
      // Locked: a demotion or removal at the same moment either comes first (and this refuses) or sees
      // this policy (and clears it). FOR KEY SHARE is enough to hold those off (they lock FOR UPDATE), and
      // an owner naming themselves already holds their row so.
      const m = await store.memberById(tx, policy.breakGlassMemberId, 'FOR KEY SHARE');
      if (!m || m.role !== 'owner' || m.status !== 'active') {
        throw new DomainError('invalid_input', 'The break-glass account must be an active owner.', {
          errors: [{ path: '/breakGlassMemberId', message: 'must be an active owner', code: 'not_owner' }],
        });
      }
    }
    const before = await readPolicy(tx);
    await writePolicy(tx, ctx.tenantId, policy);
    const changed = (Object.keys(policy) as (keyof SignInPolicy)[]).filter((k) => policy[k] !== before[k]);
    await deps.audit.append(tx, { ...who(ctx), action: 'signin.policy_update', metadata: { changed, policy } });
    return policy;
  });
}
