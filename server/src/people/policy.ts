// A tenant's sign-in policy (MFA requirement, SSO enforcement, session timeouts): read with its defaults,
// written whole and validated, kept in the tenant's settings under `signIn`.
import type { MemberRole, SignInPolicy } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { changeSignInPolicy, tenantSettings, writeSignInPolicy } from '../tenants/settings.js';

export const readPolicy = async (tx: Tx): Promise<SignInPolicy> => (await tenantSettings(tx)).signIn;

export const writePolicy = (tx: Tx, tenantId: string, policy: SignInPolicy): Promise<void> => writeSignInPolicy(tx, tenantId, policy);

/**
 * Names nobody as the break-glass account where `memberId` was named (read and written under the settings
 * lock); the policy written, or null when it named someone else.
 */
export const dropBreakGlassOf = (tx: Tx, tenantId: string, memberId: string): Promise<SignInPolicy | null> =>
  changeSignInPolicy(tx, tenantId, (p) => (p.breakGlassMemberId === memberId ? { ...p, breakGlassMemberId: null } : null));

export const mfaRequiredFor = (policy: SignInPolicy, role: MemberRole): boolean =>
  policy.requireMfa === 'everyone' || (policy.requireMfa === 'admins' && (role === 'owner' || role === 'admin' || role === 'operator'));

const MFA_REACH = { off: 0, admins: 1, everyone: 2 } as const;

/** Whether `next` asks less of members than `current`: MFA of fewer of them, or SSO no longer enforced. */
export const relaxes = (current: SignInPolicy, next: SignInPolicy): boolean =>
  MFA_REACH[next.requireMfa] < MFA_REACH[current.requireMfa] || (current.enforceSso && !next.enforceSso);
