// One-time refresh tokens in families, shared by widget sessions and console sessions: a token is spent
// once; presenting a spent token again means it was copied, so its whole family is revoked.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.js';

/** The table's name; every family table has id, family_id, token_hash, expires_at, used_at, revoked_at. */
export type FamilyTable = 'widget_refresh_tokens' | 'member_refresh_tokens';

export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();
export const newRefreshToken = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export type Redeemed<R> = { row: R & { id: string; family_id: string } } | 'reused' | null;

/**
 * Spends `token`: null when it is unknown, expired or revoked (or `accept` refuses the row), 'reused'
 * when it was spent before (its family is revoked now), else its row (with the extra `columns`).
 */
export async function redeem<R extends Record<string, unknown>>(
  tx: Tx,
  table: FamilyTable,
  token: string,
  columns: readonly string[] = [],
  accept: (row: R) => boolean = () => true,
): Promise<Redeemed<R>> {
  const extra = columns.length ? `, ${columns.join(', ')}` : '';
  const { rows } = await tx.query<R & { id: string; family_id: string; used: boolean; dead: boolean }>(
    `SELECT id, family_id, used_at IS NOT NULL AS used, (revoked_at IS NOT NULL OR expires_at <= now()) AS dead${extra}
       FROM ${table} WHERE token_hash = $1 FOR UPDATE`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row || row.dead || !accept(row)) return null;
  if (row.used) {
    await revokeFamily(tx, table, row.family_id);
    return 'reused';
  }
  await tx.query(`UPDATE ${table} SET used_at = now() WHERE id = $1`, [row.id]);
  return { row };
}

export async function revokeFamily(tx: Tx, table: FamilyTable, familyId: string): Promise<void> {
  await tx.query(`UPDATE ${table} SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [familyId]);
}

export const newFamilyId = (): string => randomUUID();
