// Widget session tokens (JWT, EdDSA, 15 minutes, audience "widget") bound to tenant, visitor (its
// pseudonymous reference, never its secret) and origin, and one-time refresh tokens in families (sessions/refresh-family.ts, shared with console sessions).
import { randomUUID } from 'node:crypto';
import { jwtVerify, errors as joseErrors } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { signToken } from '../sessions/jwt.js';
import { hashToken, newFamilyId, newRefreshToken, redeem } from '../sessions/refresh-family.js';

export const SESSION_TTL_S = 15 * 60;
const REFRESH_TTL_S = 30 * 24 * 3600;
const AUDIENCE = 'widget';

export interface WidgetClaims {
  tenantId: string;
  /** The visitor's pseudonymous reference (`v_…`). */
  visitorRef: string;
  origin: string;
  /** Sign-In Pro subject when the visitor is verified. */
  subject: string | null;
}

export interface IssuedSession {
  token: string;
  expiresAt: string;
  refreshToken: string;
  visitorRef: string;
  /** Only when the visitor was created now: the secret its browser keeps to resume it. */
  visitorSecret?: string;
}

export class WidgetTokens {
  constructor(
    private readonly keys: { privateKey: KeyObject; publicKey: KeyObject },
    private readonly issuer: string,
  ) {}

  async sign(c: WidgetClaims): Promise<{ token: string; expiresAt: string }> {
    const { token, exp } = await signToken(this.keys.privateKey, {
      issuer: this.issuer,
      audience: AUDIENCE,
      subject: c.visitorRef,
      ttlSeconds: SESSION_TTL_S,
      claims: { tid: c.tenantId, org: c.origin, ...(c.subject ? { vfy: c.subject } : {}) },
    });
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  async verify(token: string): Promise<WidgetClaims> {
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ['EdDSA'],
        audience: AUDIENCE,
        issuer: this.issuer,
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp', 'iat', 'tid', 'org'],
      });
      return {
        tenantId: String(payload.tid),
        visitorRef: String(payload.sub),
        origin: String(payload.org),
        subject: typeof payload.vfy === 'string' ? payload.vfy : null,
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new DomainError('token_expired', 'The widget session expired; refresh it.');
      throw new DomainError('token_invalid', 'The widget session token is not valid.');
    }
  }

  /** A session plus a refresh token in `familyId` (a new family when omitted). */
  async issue(tx: Tx, c: WidgetClaims, familyId: string = newFamilyId()): Promise<IssuedSession> {
    const refreshToken = newRefreshToken('rt_');
    await tx.query(
      `INSERT INTO widget_refresh_tokens (id, tenant_id, family_id, token_hash, visitor_id, origin, identity_subject, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [randomUUID(), c.tenantId, familyId, hashToken(refreshToken), c.visitorRef, c.origin, c.subject, REFRESH_TTL_S],
    );
    return { ...(await this.sign(c)), refreshToken, visitorRef: c.visitorRef };
  }

  /**
   * Spends a refresh token. Returns null when it is unknown, expired, revoked or bound to another
   * origin; `reused` when it was already spent, after revoking its family.
   */
  async redeem(
    tx: Tx,
    tenantId: string,
    refreshToken: string,
    origin: string,
  ): Promise<{ claims: WidgetClaims; familyId: string } | 'reused' | null> {
    type Row = { visitor_id: string; origin: string; identity_subject: string | null };
    const r = await redeem<Row>(
      tx,
      'widget_refresh_tokens',
      refreshToken,
      ['visitor_id', 'origin', 'identity_subject'],
      (row) => row.origin === origin,
    );
    if (r === null || r === 'reused') return r;
    return {
      claims: { tenantId, visitorRef: r.row.visitor_id, origin: r.row.origin, subject: r.row.identity_subject },
      familyId: r.row.family_id,
    };
  }
}
