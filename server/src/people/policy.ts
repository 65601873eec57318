// A tenant's sign-in policy (MFA requirement, SSO enforcement, session timeouts): read with its defaults,
// written whole and validated, kept in the tenant's settings under `signIn`.
import type { MemberRole, SignInPolicy } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { tenantSettings, writeSignInPolicy } from '../tenants/settings.js';

export const readPolicy = async (tx: Tx): Promise<SignInPolicy> => (await tenantSettings(tx)).signIn;

export const writePolicy = (tx: Tx, tenantId: string, policy: SignInPolicy): Promise<void> => writeSignInPolicy(tx, tenantId, policy);

export const mfaRequiredFor = (policy: SignInPolicy, role: MemberRole): boolean =>
  policy.requireMfa === 'everyone' || (policy.requireMfa === 'admins' && (role === 'owner' || role === 'admin' || role === 'operator'));
