// SQL for member MFA: TOTP secrets, recovery codes, passkeys, and WebAuthn challenges in flight.
import type { Tx } from '../../db/types.js';

// ---- TOTP ---------------------------------------------------------------------------------------------

export interface TotpRow {
  secret_sealed: Uint8Array;
  confirmed_at: Date | null;
  last_step: string | null;
}

export async function getTotp(tx: Tx, memberId: string): Promise<TotpRow | null> {
  const { rows } = await tx.query<TotpRow>('SELECT secret_sealed, confirmed_at, last_step::text AS last_step FROM member_totp WHERE member_id = $1', [
    memberId,
  ]);
  return rows[0] ?? null;
}

/** Starts (or restarts) a pending enrolment. Refused (false) while an active one exists. */
export async function putPendingTotp(tx: Tx, tenantId: string, memberId: string, sealed: Buffer): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO member_totp (tenant_id, member_id, secret_sealed) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, member_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = now(), last_step = NULL
       WHERE member_totp.confirmed_at IS NULL`,
    [tenantId, memberId, sealed],
  );
  return rowCount === 1;
}

/**
 * Records `step` as used, only if it is later than every step used before: the one place a TOTP code is
 * spent, so two requests racing with the same code cannot both pass. `confirm` also activates a pending one.
 */
export async function spendTotpStep(tx: Tx, memberId: string, step: number, opts: { confirm: boolean }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE member_totp SET last_step = $2, confirmed_at = CASE WHEN $3::boolean THEN now() ELSE confirmed_at END
      WHERE member_id = $1 AND (last_step IS NULL OR last_step < $2)
        AND (CASE WHEN $3::boolean THEN confirmed_at IS NULL ELSE confirmed_at IS NOT NULL END)`,
    [memberId, step, opts.confirm],
  );
  return rowCount === 1;
}

export async function deleteTotp(tx: Tx, memberId: string): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM member_totp WHERE member_id = $1', [memberId]);
  return rowCount > 0;
}

// ---- Recovery codes -----------------------------------------------------------------------------------

export async function replaceRecoveryCodes(tx: Tx, tenantId: string, memberId: string, hashes: { id: string; hash: Buffer }[]): Promise<void> {
  await tx.query('DELETE FROM member_recovery_codes WHERE member_id = $1', [memberId]);
  for (const h of hashes) {
    await tx.query('INSERT INTO member_recovery_codes (tenant_id, id, member_id, code_hash) VALUES ($1, $2, $3, $4)', [
      tenantId,
      h.id,
      memberId,
      h.hash,
    ]);
  }
}

export async function deleteRecoveryCodes(tx: Tx, memberId: string): Promise<number> {
  const { rowCount } = await tx.query('DELETE FROM member_recovery_codes WHERE member_id = $1', [memberId]);
  return rowCount;
}

export async function recoveryCodesLeft(tx: Tx, memberId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM member_recovery_codes WHERE member_id = $1 AND used_at IS NULL', [
    memberId,
  ]);
  return rows[0]?.n ?? 0;
}

/** Spends a recovery code: the id of the code, once; null when it is unknown or was used. */
export async function spendRecoveryCode(tx: Tx, memberId: string, hash: Buffer): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    'UPDATE member_recovery_codes SET used_at = now() WHERE member_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id',
    [memberId, hash],
  );
  return rows[0]?.id ?? null;
}

// ---- Passkeys -----------------------------------------------------------------------------------------

export interface PasskeyRow {
  id: string;
  member_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: string;
  transports: string[];
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}
const PASSKEY_COLUMNS = 'id, member_id, credential_id, public_key, counter::text AS counter, transports, name, created_at, last_used_at';

export async function listPasskeys(tx: Tx, memberId: string): Promise<PasskeyRow[]> {
  const { rows } = await tx.query<PasskeyRow>(`SELECT ${PASSKEY_COLUMNS} FROM member_passkeys WHERE member_id = $1 ORDER BY created_at, id`, [
    memberId,
  ]);
  return rows;
}

export async function passkeyByCredential(tx: Tx, credentialId: string): Promise<PasskeyRow | null> {
  const { rows } = await tx.query<PasskeyRow>(`SELECT ${PASSKEY_COLUMNS} FROM member_passkeys WHERE credential_id = $1`, [credentialId]);
  return rows[0] ?? null;
}

/** False when the credential is registered already (here or in any tenant). */
export async function insertPasskey(
  tx: Tx,
  p: {
    tenantId: string;
    id: string;
    memberId: string;
    credentialId: string;
    publicKey: Uint8Array;
    counter: number;
    transports: string[];
    name: string;
  },
): Promise<boolean> {
  const { rows } = await tx.query<{ ok: boolean }>(
    `INSERT INTO member_passkeys (tenant_id, id, member_id, credential_id, public_key, counter, transports, name)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8
      WHERE NOT EXISTS (SELECT 1 FROM parley_resolve_passkey($4))
     ON CONFLICT (credential_id) DO NOTHING
     RETURNING true AS ok`,
    [p.tenantId, p.id, p.memberId, p.credentialId, Buffer.from(p.publicKey), p.counter, p.transports, p.name],
  );
  return rows.length === 1;
}

/**
 * Records a use. The counter only moves forward (a counter of 0 on both sides: the authenticator keeps
 * none); false when another request moved it first — the same assertion was used twice, or a clone.
 */
export async function touchPasskey(tx: Tx, id: string, counter: number): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE member_passkeys SET counter = $2, last_used_at = now()
      WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))`,
    [id, counter],
  );
  return rowCount === 1;
}

export async function deletePasskey(tx: Tx, memberId: string, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ credential_id: string }>('DELETE FROM member_passkeys WHERE member_id = $1 AND id = $2 RETURNING credential_id', [
    memberId,
    id,
  ]);
  return rows[0]?.credential_id ?? null;
}

export async function deletePasskeys(tx: Tx, memberId: string): Promise<number> {
  const { rowCount } = await tx.query('DELETE FROM member_passkeys WHERE member_id = $1', [memberId]);
  return rowCount;
}

export async function resolvePasskey(tx: Tx, credentialId: string): Promise<{ tenantId: string; memberId: string } | null> {
  const { rows } = await tx.query<{ tenant_id: string; member_id: string }>('SELECT tenant_id, member_id FROM parley_resolve_passkey($1)', [
    credentialId,
  ]);
  return rows[0] ? { tenantId: rows[0].tenant_id, memberId: rows[0].member_id } : null;
}

// ---- Members (read only: what MFA needs) ---------------------------------------------------------------

export interface MemberRow {
  id: string;
  email: string;
  display_name: string;
  role: string;
  status: string;
}

export async function getMember(tx: Tx, memberId: string): Promise<MemberRow | null> {
  const { rows } = await tx.query<MemberRow>('SELECT id, email, display_name, role, status FROM members WHERE id = $1', [memberId]);
  return rows[0] ?? null;
}

// ---- WebAuthn challenges ------------------------------------------------------------------------------

export type ChallengePurpose = 'register' | 'mfa' | 'passwordless';

export async function putChallenge(
  tx: Tx,
  c: { key: Buffer; purpose: ChallengePurpose; challenge: string; tenantId: string | null; memberId: string | null; ttlSeconds: number },
): Promise<void> {
  await tx.query('SELECT parley_webauthn_challenge_put($1, $2, $3, $4, $5, $6)', [
    c.key,
    c.purpose,
    c.challenge,
    c.tenantId,
    c.memberId,
    c.ttlSeconds,
  ]);
}

export async function takeChallenge(
  tx: Tx,
  key: Buffer,
  purpose: ChallengePurpose,
): Promise<{ challenge: string; tenantId: string | null; memberId: string | null } | null> {
  const { rows } = await tx.query<{ challenge: string; tenant_id: string | null; member_id: string | null }>(
    'SELECT challenge, tenant_id, member_id FROM parley_webauthn_challenge_take($1, $2)',
    [key, purpose],
  );
  const r = rows[0];
  return r ? { challenge: r.challenge, tenantId: r.tenant_id, memberId: r.member_id } : null;
}
