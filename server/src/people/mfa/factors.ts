// Which second factors a member has: what the sign-in policy asks for, and the `mfa` field of a member.
import type { Tx } from '../../db/types.js';

export interface Factors {
  /** An active (confirmed) TOTP authenticator. */
  totp: boolean;
  /** How many passkeys. */
  passkeys: number;
}

/** Runs inside the caller's tenant transaction. */
export async function factors(tx: Tx, memberId: string): Promise<Factors> {
  const { rows } = await tx.query<{ totp: boolean; passkeys: number }>(
    `SELECT EXISTS (SELECT 1 FROM member_totp WHERE member_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            (SELECT count(*)::int FROM member_passkeys WHERE member_id = $1) AS passkeys`,
    [memberId],
  );
  return { totp: rows[0]?.totp ?? false, passkeys: rows[0]?.passkeys ?? 0 };
}

export const hasFactor = (f: Factors): boolean => f.totp || f.passkeys > 0;
