// A tenant's sign-in policy (MFA requirement, SSO enforcement, session timeouts): read with its defaults,
// written whole and validated, kept in the tenant's settings under `signIn`.
import { SignInPolicySchema, type MemberRole, type SignInPolicy } from '@parley/protocol';
import type { Tx } from '../db/types.js';

export async function readPolicy(tx: Tx): Promise<SignInPolicy> {
  const { rows } = await tx.query<{ policy: unknown }>("SELECT settings->'signIn' AS policy FROM tenants");
  const parsed = SignInPolicySchema.safeParse(rows[0]?.policy ?? {});
  // A stored policy that no longer parses falls back to the strictest reading of its MFA rule.
  return parsed.success ? parsed.data : { ...SignInPolicySchema.parse({}), requireMfa: 'everyone' };
}

export async function writePolicy(tx: Tx, tenantId: string, policy: SignInPolicy): Promise<void> {
  await tx.query(`UPDATE tenants SET settings = settings || jsonb_build_object('signIn', $2::jsonb) WHERE id = $1`, [tenantId, JSON.stringify(policy)]);
}

export const mfaRequiredFor = (policy: SignInPolicy, role: MemberRole): boolean =>
  policy.requireMfa === 'everyone' || (policy.requireMfa === 'admins' && (role === 'owner' || role === 'admin' || role === 'operator'));
