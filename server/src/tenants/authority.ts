// A member's authority ends with them, also at the same moment as a request of theirs. A request made with a
// member's authority (their console session, or a key they made) holds that member in each of its read-write
// tenant transactions (db/index.ts withTenant; migration 117): first thing, their row is locked FOR KEY SHARE
// until COMMIT and checked. Removing, disabling or demoting a member locks the row FOR UPDATE, so it waits
// for the writes under way with their authority and then sees what they made (the keys it revokes, the
// invitations); a write that starts after is refused. Without the hold, a key made as its admin was removed
// escaped the removal's revocation, and an invitation sent as its sender was demoted stayed open.
import { capabilitiesOf, PLATFORM_ROLE, ROLES, type Capability, type MemberRole } from '@parley/protocol';
import type { TxAuthority } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { AdminAuth } from '../http/context.js';

const MEMBER_ROLES: readonly MemberRole[] = [...ROLES, PLATFORM_ROLE];

/**
 * The roles in which a person still holds what the request was allowed: every one of its capabilities and,
 * for an owner's session, ownership itself (what only an owner may do is decided by the role, not by a
 * capability; a key never holds it).
 */
export function rolesHolding(capabilities: ReadonlySet<Capability>, owner: boolean): MemberRole[] {
  return MEMBER_ROLES.filter((role) => {
    if (owner && role !== 'owner') return false;
    const held = new Set(capabilitiesOf(role));
    return [...capabilities].every((c) => held.has(c));
  });
}

/** The database's refusals of a hold (migration 117). */
const GONE = 'PY401';
const LESS = 'PY403';
const DEADLOCK = '40P01';

/** The hold of the person behind an authenticated admin request; undefined for a key no person made (the CLI's). */
export function authorityOf(admin: AdminAuth): TxAuthority | undefined {
  const person = admin.person;
  if (!person) return undefined;
  const roles = rolesHolding(admin.capabilities, admin.member?.role === 'owner');
  const byKey = !admin.member;
  return {
    hold: (tx) => tx.defer('SELECT parley_hold_member($1, $2)', [person, roles]),
    refusal(err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === GONE)
        return new DomainError(
          'unauthenticated',
          byKey
            ? 'The member who made this key is no longer an active member: the key no longer works. Nothing was changed.'
            : 'You are no longer an active member of this workspace: nothing was changed. Sign in again.',
        );
      if (code === LESS)
        return new DomainError(
          'forbidden',
          byKey
            ? 'The role of the member who made this key changed while this request ran, and no longer allows it: nothing was changed.'
            : 'Your role changed while this request ran, and no longer allows it: nothing was changed.',
        );
      // Two such writes at once may each wait for the other's hold (two admins removing each other): the
      // database ends one of them, which changed nothing.
      if (code === DEADLOCK)
        return new DomainError('conflict', 'Another change to the same people was made at the same moment: nothing was changed. Try again.');
      return null;
    },
  };
}
