// Widget visitors. The credential that resumes a visitor is a secret only its browser holds (`pvs_` +
// 32 random bytes, sent back as X-Parley-Visitor); the database keeps its SHA-256 only. Everything else
// (session tokens, conversations, audit actors, admin views) carries the visitor's pseudonymous
// reference (`v_…`), which is shown to agents and resumes nothing.
import { DomainError } from '../errors.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Tx } from '../db/types.js';

export const VISITOR_SECRET = /^pvs_[A-Za-z0-9_-]{43}$/;
export const VISITOR_REF = /^v_[A-Za-z0-9_-]{16}$/;

export interface ResolvedVisitor {
  /** The pseudonymous reference: safe to show, never a credential. */
  ref: string;
  /** Present only when the secret was minted now: the browser gets it once and keeps it. */
  secret?: string;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest();
const newSecret = () => `pvs_${randomBytes(32).toString('base64url')}`;
const newRef = () => `v_${randomBytes(12).toString('base64url')}`;

/** The visitor whose secret the browser presented, or a new visitor (with its secret) when it is unknown. */
export async function resolveVisitor(tx: Tx, tenantId: string, presented: string | undefined): Promise<ResolvedVisitor> {
  if (presented && VISITOR_SECRET.test(presented)) {
    const { rows } = await tx.query<{ id: string }>('UPDATE visitors SET last_seen_at = now() WHERE secret_hash = $1 RETURNING id', [
      hash(presented),
    ]);
    if (rows[0]) return { ref: rows[0].id };
  }
  const secret = newSecret();
  const ref = newRef();
  // Nothing reads it back: held for the transaction's next statement or its COMMIT.
  tx.defer('INSERT INTO visitors (tenant_id, id, secret_hash) VALUES ($1, $2, $3)', [tenantId, ref, hash(secret)]);
  return { ref, secret };
}

/**
 * A visitor carried over from before secrets has none; the holder of its live refresh token (never
 * shown to anyone but that browser) claims one on refresh. Returns the new secret, or null when the
 * visitor already has one.
 */
export async function claimVisitorSecret(tx: Tx, ref: string): Promise<string | null> {
  const secret = newSecret();
  const { rows } = await tx.query('UPDATE visitors SET secret_hash = $2, last_seen_at = now() WHERE id = $1 AND secret_hash IS NULL RETURNING id', [
    ref,
    hash(secret),
  ]);
  return rows.length ? secret : null;
}

/**
 * Retires a visitor whose refresh token was replayed: the browser storage that held it was copied, and
 * the visitor secret beside it with it. The secret's hash is replaced by that of a secret nobody is
 * given (not cleared: a cleared one is claimed again on refresh, claimVisitorSecret), and every refresh
 * family of the visitor is revoked. Whoever presents the old secret is a new visitor from now on. Returns
 * how many live sessions ended.
 */
export async function retireVisitor(tx: Tx, ref: string): Promise<number> {
  await tx.query('UPDATE visitors SET secret_hash = $2 WHERE id = $1', [ref, hash(newSecret())]);
  const { rows } = await tx.query<{ n: number | string }>(
    `WITH ended AS (
       UPDATE widget_refresh_tokens SET revoked_at = now() WHERE visitor_id = $1 AND revoked_at IS NULL RETURNING family_id, used_at, expires_at)
     SELECT count(DISTINCT family_id) FILTER (WHERE used_at IS NULL AND expires_at > now()) AS n FROM ended`,
    [ref],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Whether the visitor still exists (an erasure deletes it while its access tokens live on for minutes). */
export async function visitorExists(tx: Tx, ref: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM visitors WHERE id = $1', [ref])).rows.length > 0;
}

/** An erased visitor's access token starts nothing new about them: a 401 sends the widget to a new session. */
export const visitorGone = () => new DomainError('token_invalid', 'This visitor no longer exists; start a new session.');
