// The second factors a member has enrolled. (Placeholder until the MFA tables land: none.)
import type { Tx } from '../../db/types.js';

export async function factors(_tx: Tx, _memberId: string): Promise<{ totp: boolean; passkeys: number }> {
  return { totp: false, passkeys: 0 };
}
