// Console sessions. The access token is a 15-minute EdDSA JWT in a `__Host-` cookie; the refresh token is
// opaque, one-time and rotating, in a family that is the session (sessions/refresh-family.ts, as the
// widget's): a spent token presented again ends the session. Every request also checks the session row,
// so revoking a session or removing a member takes effect at once, and idle/absolute timeouts hold (the
// tenant's timeouts as they are now, not as they were at sign-in).
import { randomUUID, type KeyObject } from 'node:crypto';
import type { MemberRole, Session, SessionPresence, SignInMethod } from '@parley/protocol';
import type { Request, Response } from 'express';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { AuditLog } from '../audit/log.js';
import type { Db, Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { signToken } from '../sessions/jwt.js';
import { hashToken, newRefreshToken, redeem, revokeFamily } from '../sessions/refresh-family.js';
import { ACCESS_COOKIE, clearCookie, readCookie, REFRESH_COOKIE, setCookie } from './cookies.js';
import { readPolicy } from './policy.js';

export const ACCESS_TTL_S = 15 * 60;
const AUDIENCE = 'console';
/** Activity refreshes the idle deadline at most this often (one write a minute, not one per request). */
const TOUCH_EVERY_S = 60;
/**
 * The absolute end of session `s` under the tenant's policy now (its absolute timeout in hours as the
 * parameter): the end fixed at sign-in, or sooner when the timeout has been shortened since. The policy
 * is read at each use, so a shorter timeout holds for sessions already open; a longer one holds for the
 * sessions that start after it (their refresh tokens were issued to the old end).
 */
const absoluteEnd = (hoursParam: string) => `LEAST(s.expires_at, s.created_at + make_interval(hours => ${hoursParam}))`;
/** The idle end of session `s` under the policy now (its idle timeout in minutes as the parameter), by the same rule. */
const idleEnd = (minutesParam: string) => `LEAST(s.idle_expires_at, s.last_seen_at + make_interval(mins => ${minutesParam}))`;

export interface SessionPrincipal {
  tenantId: string;
  memberId: string;
  role: MemberRole;
  sessionId: string;
}

export interface StartInput {
  tenantId: string;
  memberId: string;
  method: SignInMethod;
  userAgent?: string | undefined;
}

interface SessionRow {
  id: string;
  member_id: string;
  role: MemberRole;
  alive: boolean;
  touch: boolean;
}

export class MemberSessions {
  constructor(
    private readonly deps: { db: Db; audit: AuditLog },
    private readonly keys: { privateKey: KeyObject; publicKey: KeyObject },
    private readonly issuer: string,
  ) {}

  /** A new session for a member (a new refresh family); sets both cookies. */
  async start(tx: Tx, res: Response, input: StartInput): Promise<string> {
    const policy = await readPolicy(tx);
    const sessionId = randomUUID();
    await tx.query(
      `INSERT INTO member_sessions (tenant_id, id, member_id, method, user_agent, idle_expires_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6), now() + make_interval(hours => $7))`,
      [
        input.tenantId,
        sessionId,
        input.memberId,
        input.method,
        input.userAgent?.slice(0, 300) ?? null,
        policy.idleTimeoutMinutes,
        policy.absoluteTimeoutHours,
      ],
    );
    await tx.query('UPDATE members SET last_sign_in_at = now() WHERE id = $1', [input.memberId]);
    await this.issue(tx, res, input.tenantId, input.memberId, sessionId);
    return sessionId;
  }

  /** The member behind the request's access cookie, or null when there is none. Throws when it is expired or ended. */
  async authenticate(req: Request): Promise<SessionPrincipal | null> {
    const token = readCookie(req, ACCESS_COOKIE);
    if (!token) return null;
    const verified = await this.accessClaims(token);
    if (verified === 'expired') throw new DomainError('token_expired', 'The console session expired; refresh it.');
    if (!verified) throw new DomainError('token_invalid', 'The console session is not valid; sign in again.');
    const claims = verified;
    const row = await this.deps.db.withTenant(claims.tid, { requestId: req.id }, async (tx) => {
      const r = await this.sessionRow(tx, claims.sid);
      if (r?.alive && r.touch) await this.touch(tx, claims.sid);
      return r;
    });
    if (!row || !row.alive || row.member_id !== claims.sub) throw new DomainError('unauthenticated', 'This session has ended; sign in again.');
    return { tenantId: claims.tid, memberId: claims.sub, role: row.role, sessionId: claims.sid };
  }

  /**
   * Rotates the refresh cookie and issues a new access cookie. A refresh token used twice ends its
   * session (its family) and is audited.
   */
  async refresh(req: Request, res: Response): Promise<SessionPrincipal> {
    const token = readCookie(req, REFRESH_COOKIE);
    if (!token || !token.startsWith('mrt_')) {
      this.clear(res);
      throw new DomainError('unauthenticated', 'No console session; sign in.');
    }
    const owner = await this.deps.db.withoutTenant({ requestId: req.id }, (tx) =>
      tx.query<{ tenant_id: string }>('SELECT tenant_id FROM parley_resolve_member_refresh($1)', [hashToken(token)]),
    );
    const tenantId = owner.rows[0]?.tenant_id;
    if (!tenantId) {
      // Cleared like an ended session's, so the next page load does not offer it again.
      this.clear(res);
      throw new DomainError('unauthenticated', 'The session is unknown or has ended; sign in again.');
    }
    const outcome = await this.deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
      const r = await redeem(tx, 'member_refresh_tokens', token);
      if (r === 'reused') {
        const s = await tx.query<{ member_id: string; id: string }>(
          "UPDATE member_sessions SET revoked_at = now(), revoked_reason = 'refresh_reuse' WHERE id = (SELECT family_id FROM member_refresh_tokens WHERE token_hash = $1) RETURNING id, member_id",
          [hashToken(token)],
        );
        const session = s.rows[0];
        await this.deps.audit.append(tx, {
          tenantId,
          requestId: req.id,
          actor: { type: 'member', id: session?.member_id ?? null },
          action: 'member.session_reuse_detected',
          target: { type: 'session', id: session?.id ?? null },
          metadata: { revoked: 'session' },
        });
        return 'reused' as const;
      }
      if (!r) return null;
      const row = await this.sessionRow(tx, r.row.family_id);
      if (!row?.alive) return null;
      await this.touch(tx, row.id);
      await this.issue(tx, res, tenantId, row.member_id, row.id);
      return { tenantId, memberId: row.member_id, role: row.role, sessionId: row.id };
    });
    if (outcome === 'reused') {
      this.clear(res);
      throw new DomainError('token_replayed', 'This refresh token was already used; the session is ended. Sign in again.');
    }
    if (!outcome) {
      this.clear(res);
      throw new DomainError('unauthenticated', 'The session has ended; sign in again.');
    }
    return outcome;
  }

  /** Whether the request carried session cookies; their validity is for `authenticate` or `refresh` to say. */
  presence(req: Request): SessionPresence {
    return { session: readCookie(req, ACCESS_COOKIE) || readCookie(req, REFRESH_COOKIE) ? 'present' : 'none' };
  }

  /**
   * The session this browser holds, for signing out: the one its refresh cookie belongs to, or else the one
   * its access cookie names (signed by us, even if it has expired), so a browser that has lost or never
   * sent the refresh cookie still ends its session.
   */
  async endFromCookies(req: Request): Promise<{ tenantId: string; sessionId: string; memberId: string } | null> {
    return (await this.fromRefreshCookie(req)) ?? (await this.fromAccessCookie(req));
  }

  private async fromRefreshCookie(req: Request): Promise<{ tenantId: string; sessionId: string; memberId: string } | null> {
    const token = readCookie(req, REFRESH_COOKIE);
    if (!token?.startsWith('mrt_')) return null;
    const owner = await this.deps.db.withoutTenant({ requestId: req.id }, (tx) =>
      tx.query<{ tenant_id: string }>('SELECT tenant_id FROM parley_resolve_member_refresh($1)', [hashToken(token)]),
    );
    const tenantId = owner.rows[0]?.tenant_id;
    if (!tenantId) return null;
    const { rows } = await this.deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
      tx.query<{ id: string; member_id: string }>(
        'SELECT s.id, s.member_id FROM member_refresh_tokens r JOIN member_sessions s ON s.tenant_id = r.tenant_id AND s.id = r.family_id WHERE r.token_hash = $1',
        [hashToken(token)],
      ),
    );
    return rows[0] ? { tenantId, sessionId: rows[0].id, memberId: rows[0].member_id } : null;
  }

  private async fromAccessCookie(req: Request): Promise<{ tenantId: string; sessionId: string; memberId: string } | null> {
    const token = readCookie(req, ACCESS_COOKIE);
    if (!token) return null;
    const claims = await this.accessClaims(token, { expired: true });
    if (!claims || claims === 'expired') return null;
    const { rows } = await this.deps.db.withTenant(claims.tid, { requestId: req.id }, (tx) =>
      tx.query<{ id: string }>('SELECT id FROM member_sessions WHERE id = $1 AND member_id = $2', [claims.sid, claims.sub]),
    );
    return rows[0] ? { tenantId: claims.tid, sessionId: claims.sid, memberId: claims.sub } : null;
  }

  /**
   * The claims of an access token we signed for the console, or 'expired', or null when it is not one of
   * ours. With `expired`, an expired token's claims are returned too (its signature, issuer and audience
   * checked all the same): it still names the session to end when signing out.
   */
  private async accessClaims(
    token: string,
    allow: { expired?: boolean } = {},
  ): Promise<{ tid: string; sub: string; sid: string } | 'expired' | null> {
    let payload: Record<string, unknown>;
    try {
      payload = (
        await jwtVerify(token, this.keys.publicKey, {
          algorithms: ['EdDSA'],
          audience: AUDIENCE,
          issuer: this.issuer,
          clockTolerance: 5,
          requiredClaims: ['sub', 'exp', 'iat', 'tid', 'sid'],
        })
      ).payload;
    } catch (err) {
      // jose checks the signature, the required claims, issuer and audience before the expiry.
      if (!(err instanceof joseErrors.JWTExpired)) return null;
      if (!allow.expired) return 'expired';
      payload = err.payload;
    }
    const claims = { tid: String(payload.tid), sub: String(payload.sub), sid: String(payload.sid) };
    return [claims.tid, claims.sub, claims.sid].every(isUuid) ? claims : null;
  }

  async revoke(tx: Tx, sessionId: string, reason: string): Promise<boolean> {
    const { rows } = await tx.query(
      'UPDATE member_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [sessionId, reason],
    );
    if (rows.length) await revokeFamily(tx, 'member_refresh_tokens', sessionId);
    return rows.length > 0;
  }

  /** Ends every session of a member (removal, disabling, role change, password change). */
  async revokeAll(tx: Tx, memberId: string, reason: string, except?: string): Promise<number> {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE member_sessions SET revoked_at = now(), revoked_reason = $2 WHERE member_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3) RETURNING id',
      [memberId, reason, except ?? null],
    );
    await tx.query('UPDATE member_refresh_tokens SET revoked_at = now() WHERE family_id = ANY($1::uuid[]) AND revoked_at IS NULL', [
      rows.map((r) => r.id),
    ]);
    return rows.length;
  }

  async list(tx: Tx, memberId: string, currentSessionId: string | null): Promise<Session[]> {
    const policy = await readPolicy(tx);
    const { rows } = await tx.query<{
      id: string;
      member_id: string;
      created_at: Date;
      last_seen_at: Date;
      expires_at: Date;
      idle_expires_at: Date;
      method: SignInMethod;
      user_agent: string | null;
    }>(
      `SELECT * FROM (
         SELECT s.id, s.member_id, s.created_at, s.last_seen_at, ${absoluteEnd('$2')} AS expires_at, ${idleEnd('$3')} AS idle_expires_at,
                s.method, s.user_agent
           FROM member_sessions s WHERE s.member_id = $1 AND s.revoked_at IS NULL) s
        WHERE s.expires_at > now() AND s.idle_expires_at > now() ORDER BY s.created_at DESC`,
      [memberId, policy.absoluteTimeoutHours, policy.idleTimeoutMinutes],
    );
    return rows.map((r) => ({
      id: r.id,
      memberId: r.member_id,
      createdAt: new Date(r.created_at).toISOString(),
      lastSeenAt: new Date(r.last_seen_at).toISOString(),
      expiresAt: new Date(Math.min(new Date(r.expires_at).getTime(), new Date(r.idle_expires_at).getTime())).toISOString(),
      method: r.method,
      userAgent: r.user_agent,
      current: r.id === currentSessionId,
    }));
  }

  clear(res: Response): void {
    clearCookie(res, ACCESS_COOKIE);
    clearCookie(res, REFRESH_COOKIE);
  }

  private async issue(tx: Tx, res: Response, tenantId: string, memberId: string, sessionId: string): Promise<void> {
    const refresh = newRefreshToken('mrt_');
    const { rows } = await tx.query<{ ttl: number }>(
      `INSERT INTO member_refresh_tokens (tenant_id, id, family_id, token_hash, expires_at)
       SELECT $1, $2, $3, $4, ${absoluteEnd('$5')} FROM member_sessions s WHERE s.id = $3
       RETURNING GREATEST(0, EXTRACT(EPOCH FROM expires_at - now()))::float8 AS ttl`,
      [tenantId, randomUUID(), sessionId, hashToken(refresh), (await readPolicy(tx)).absoluteTimeoutHours],
    );
    const { token: access } = await signToken(this.keys.privateKey, {
      issuer: this.issuer,
      audience: AUDIENCE,
      subject: memberId,
      ttlSeconds: ACCESS_TTL_S,
      claims: { tid: tenantId, sid: sessionId },
    });
    setCookie(res, ACCESS_COOKIE, access, { maxAgeSeconds: ACCESS_TTL_S });
    setCookie(res, REFRESH_COOKIE, refresh, { maxAgeSeconds: rows[0]?.ttl ?? 0 });
  }

  private async sessionRow(tx: Tx, sessionId: string): Promise<SessionRow | undefined> {
    const policy = await readPolicy(tx);
    const { rows } = await tx.query<SessionRow>(
      `SELECT s.id, s.member_id, m.role,
              (s.revoked_at IS NULL AND ${absoluteEnd('$3')} > now() AND ${idleEnd('$4')} > now() AND m.status = 'active') AS alive,
              s.last_seen_at < now() - make_interval(secs => $2) AS touch
         FROM member_sessions s JOIN members m ON m.tenant_id = s.tenant_id AND m.id = s.member_id
        WHERE s.id = $1`,
      [sessionId, TOUCH_EVERY_S, policy.absoluteTimeoutHours, policy.idleTimeoutMinutes],
    );
    return rows[0];
  }

  private async touch(tx: Tx, sessionId: string): Promise<void> {
    const policy = await readPolicy(tx);
    await tx.query(
      `UPDATE member_sessions s SET last_seen_at = now(),
              idle_expires_at = LEAST(${absoluteEnd('$3')}, now() + make_interval(mins => $2))
        WHERE s.id = $1`,
      [sessionId, policy.idleTimeoutMinutes, policy.absoluteTimeoutHours],
    );
  }
}

const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
