// SQL of Sign-In Pro: the tenant's settings (mode, public keys, JWKS URL), its signing secrets and the
// profiles of verified visitors.
import type { Tx } from '../db/types.js';
import { forgetSettings } from '../tenants/settings-store.js';

export type IdentityMode = 'optional' | 'required';

export interface IdentitySettingsRow {
  mode: IdentityMode;
  public_keys: unknown[];
  jwks_url: string | null;
}

export interface IdentitySecretRow {
  id: string;
  kid: string;
  created_at: Date;
  revoked_at: Date | null;
}

/** The tenant's settings, or null when Sign-In Pro was never configured. */
export async function settings(tx: Tx): Promise<IdentitySettingsRow | null> {
  const { rows } = await tx.query<IdentitySettingsRow>('SELECT mode, public_keys, jwks_url FROM identity_settings');
  return rows[0] ?? null;
}

/** The tenant's settings, locked for this transaction (null when never configured). */
export async function lockSettings(tx: Tx): Promise<IdentitySettingsRow | null> {
  const { rows } = await tx.query<IdentitySettingsRow>('SELECT mode, public_keys, jwks_url FROM identity_settings FOR UPDATE');
  return rows[0] ?? null;
}

/** The tenant's mode: `optional` until configured otherwise. */
export async function identityMode(tx: Tx): Promise<IdentityMode> {
  return (await settings(tx))?.mode ?? 'optional';
}

export async function saveSettings(
  tx: Tx,
  tenantId: string,
  s: { mode: IdentityMode; publicKeys: unknown[]; jwksUrl: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO identity_settings (tenant_id, mode, public_keys, jwks_url, updated_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (tenant_id) DO UPDATE SET mode = EXCLUDED.mode, public_keys = EXCLUDED.public_keys, jwks_url = EXCLUDED.jwks_url, updated_at = now()`,
    [tenantId, s.mode, JSON.stringify(s.publicKeys), s.jwksUrl],
  );
}

/** Marks the tenant's policy changed (sessions issued under the old one are re-checked). */
export async function bumpPolicyVersion(tx: Tx, tenantId: string): Promise<void> {
  await tx.query('UPDATE tenants SET policy_version = policy_version + 1 WHERE id = $1', [tenantId]);
  forgetSettings(tx);
}

export async function listSecrets(tx: Tx): Promise<IdentitySecretRow[]> {
  const { rows } = await tx.query<IdentitySecretRow>('SELECT id, kid, created_at, revoked_at FROM identity_secrets ORDER BY created_at');
  return rows;
}

export async function insertSecret(tx: Tx, s: { id: string; tenantId: string; kid: string; sealed: Uint8Array }): Promise<Date> {
  const { rows } = await tx.query<{ created_at: Date }>(
    'INSERT INTO identity_secrets (id, tenant_id, kid, sealed) VALUES ($1, $2, $3, $4) RETURNING created_at',
    [s.id, s.tenantId, s.kid, s.sealed],
  );
  return rows[0]!.created_at;
}

/** The sealed secret of an active (unrevoked) kid, or null. */
export async function activeSecret(tx: Tx, kid: string): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ sealed: Uint8Array }>('SELECT sealed FROM identity_secrets WHERE kid = $1 AND revoked_at IS NULL', [kid]);
  return rows[0]?.sealed ?? null;
}

/** Records a token's jti until it expires: false when it was already used (a replay). */
export async function spendJti(tx: Tx, tenantId: string, jti: string, until: Date): Promise<boolean> {
  const used = await tx.query('INSERT INTO identity_token_uses (tenant_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    tenantId,
    jti,
    until,
  ]);
  return used.rowCount !== 0;
}

/** Revokes an active secret; its kid, or null when there is no such active secret. */
export async function revokeSecret(tx: Tx, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ kid: string }>(
    'UPDATE identity_secrets SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING kid',
    [id],
  );
  return rows[0]?.kid ?? null;
}

/**
 * Revokes the widget refresh families whose Sign-In Pro identity was proved by one of `proofs`, or by a
 * proof of one of the `kinds` (`key`, `jwks`) other than those in `keep`; how many live sessions ended
 * (families with an unspent, unexpired token).
 */
export async function endProvedSessions(tx: Tx, match: { proofs?: string[]; kinds?: string[]; keep?: string[] }): Promise<number> {
  const { rows } = await tx.query<{ n: number | string }>(
    `WITH ended AS (
       UPDATE widget_refresh_tokens SET revoked_at = now()
        WHERE identity_proof IS NOT NULL AND revoked_at IS NULL
          AND (identity_proof = ANY($1::text[]) OR (split_part(identity_proof, ':', 1) = ANY($2::text[]) AND NOT identity_proof = ANY($3::text[])))
        RETURNING family_id, used_at, expires_at)
     SELECT count(DISTINCT family_id) FILTER (WHERE used_at IS NULL AND expires_at > now()) AS n FROM ended`,
    [match.proofs ?? [], match.kinds ?? [], match.keep ?? []],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Stores (or replaces) a verified visitor's sealed profile. */
export async function saveVerifiedVisitor(tx: Tx, tenantId: string, subject: string, sealedProfile: Uint8Array): Promise<void> {
  await tx.query(
    `INSERT INTO verified_visitors (tenant_id, subject, profile) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, subject) DO UPDATE SET profile = EXCLUDED.profile, updated_at = now()`,
    [tenantId, subject, sealedProfile],
  );
}
