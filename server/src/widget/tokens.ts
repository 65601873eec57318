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

/** How many verified tokens a process remembers (the oldest verified first out). */
export const VERIFIED_TOKENS = 10_000;
const CLOCK_TOLERANCE_S = 5;

export class WidgetTokens {
  /**
   * Tokens whose signature this process has checked, with their claims and expiry: a visitor presents
   * the same token on every request for its 15 minutes, and each request checked it twice (the rate
   * limiter, then the session), about 150 µs each. Only a token that verified goes in, under its exact
   * text; its expiry is checked on every use.
   */
  private readonly verified = new Map<string, { claims: WidgetClaims; exp: number }>();

  constructor(
    private readonly keys: { privateKey: KeyObject; publicKey: KeyObject },
    private readonly issuer: string,
    private readonly now: () => number = Date.now,
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
    const known = this.verified.get(token);
    if (known) {
      // As jose judges it: expired once its whole seconds reach exp plus the tolerance.
      if (Math.floor(this.now() / 1000) < known.exp + CLOCK_TOLERANCE_S) return known.claims;
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ['EdDSA'],
        audience: AUDIENCE,
        issuer: this.issuer,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'exp', 'iat', 'tid', 'org'],
      });
      const claims: WidgetClaims = Object.freeze({
        tenantId: String(payload.tid),
        visitorRef: String(payload.sub),
        origin: String(payload.org),
        subject: typeof payload.vfy === 'string' ? payload.vfy : null,
      });
      if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, exp: payload.exp! });
      return claims;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new DomainError('token_expired', 'The widget session expired; refresh it.');
      throw new DomainError('token_invalid', 'The widget session token is not valid.');
    }
  }

  /**
   * A session plus a refresh token in `family.id` (a new family when omitted). A verified session's family
   * keeps `family.proof`, what proved its identity (identity/verify.ts), so that taking that secret or key
   * away revokes the family (identity/service.ts).
   */
  async issue(tx: Tx, c: WidgetClaims, family: { id?: string; proof?: string | null } = {}): Promise<IssuedSession> {
    const refreshToken = newRefreshToken('rt_');
    // Nothing reads it back: held for the transaction's next statement or its COMMIT.
    tx.defer(
      `INSERT INTO widget_refresh_tokens (id, tenant_id, family_id, token_hash, visitor_id, origin, identity_subject, identity_proof, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
      [
        randomUUID(),
        c.tenantId,
        family.id ?? newFamilyId(),
        hashToken(refreshToken),
        c.visitorRef,
        c.origin,
        c.subject,
        c.subject ? (family.proof ?? null) : null,
        REFRESH_TTL_S,
      ],
    );
    return { ...(await this.sign(c)), refreshToken, visitorRef: c.visitorRef };
  }

  /**
   * Spends a refresh token. Returns null when it is unknown, expired, revoked (as a family whose identity's
   * secret or key was taken away is) or bound to another origin; `reused` (with its visitor) when it was
   * already spent, after revoking its family.
   */
  async redeem(
    tx: Tx,
    tenantId: string,
    refreshToken: string,
    origin: string,
  ): Promise<{ claims: WidgetClaims; family: { id: string; proof: string | null } } | { reused: { visitorRef: string } } | null> {
    type Row = { visitor_id: string; origin: string; identity_subject: string | null; identity_proof: string | null };
    const r = await redeem<Row>(
      tx,
      'widget_refresh_tokens',
      refreshToken,
      ['visitor_id', 'origin', 'identity_subject', 'identity_proof'],
      (row) => row.origin === origin,
    );
    if (r === null) return null;
    if (r === 'reused') {
      // The copied token names the visitor whose browser storage it came from.
      const { rows } = await tx.query<{ visitor_id: string }>('SELECT visitor_id FROM widget_refresh_tokens WHERE token_hash = $1', [
        hashToken(refreshToken),
      ]);
      return { reused: { visitorRef: rows[0]!.visitor_id } };
    }
    return {
      claims: { tenantId, visitorRef: r.row.visitor_id, origin: r.row.origin, subject: r.row.identity_subject },
      family: { id: r.row.family_id, proof: r.row.identity_proof },
    };
  }
}
