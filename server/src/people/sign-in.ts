// Signing in: the password step, the tenant's policy (SSO enforcement, MFA requirement), the second-factor
// step, and the session at the end. Every outcome is audited with the person as actor; never a password,
// code or token.
import type { KeyObject } from 'node:crypto';
import { capabilitiesOf, type MFA_METHODS, type MfaMethod, type SignIn, type SignInMethod } from '@parley/protocol';
import type { Request, Response } from 'express';
import { jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { clientAddress } from '../http/csrf.js';
import { signToken } from '../sessions/jwt.js';
import { clearCookie, MFA_COOKIE, readCookie, setCookie, SSO_LINK_COOKIE } from './cookies.js';
import { mailFailure } from './mailer.js';
import { factors } from './mfa/factors.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { mfaRequiredFor, readPolicy } from './policy.js';
import type { PeopleDeps } from './service.js';
import { connectionIssuer } from './sso/connections.js';
import * as store from './store.js';
import type { SignInThrottle } from './throttle.js';

export type { SignInMethod };

export interface SignInDeps extends PeopleDeps {
  throttle: SignInThrottle;
  /** Signs the short-lived MFA step cookie. */
  mfaKeys: { privateKey: KeyObject; publicKey: KeyObject };
  logger: Logger;
}

const MFA_STEP_TTL_S = 5 * 60;
const MFA_AUDIENCE = 'console-mfa';

async function tenantOf(tx: Tx, tenantId: string) {
  return (await tx.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE id = $1', [tenantId])).rows[0]!;
}

/**
 * The one rule of enforced SSO: no first factor but the IdP's signs in, save the break-glass account's
 * password, and that account must still be an active owner (a policy naming someone since demoted,
 * written before demotion cleared it, lets no password through).
 */
async function ssoGate(tx: Tx, memberId: string, method: SignInMethod): Promise<'open' | 'break_glass' | 'refused'> {
  const policy = await readPolicy(tx);
  if (!policy.enforceSso || method === 'oidc' || method === 'saml') return 'open';
  if (method !== 'password' || policy.breakGlassMemberId !== memberId) return 'refused';
  const member = await store.memberById(tx, memberId);
  return member?.role === 'owner' && member.status === 'active' ? 'break_glass' : 'refused';
}

/** Audits the refusal in its own transaction (it must outlive the error), then refuses. */
async function refuseForSso(deps: SignInDeps, req: Request, tenantId: string, memberId: string, method: SignInMethod): Promise<never> {
  await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
    deps.audit.append(tx, {
      tenantId,
      requestId: req.id,
      actor: { type: 'member', id: memberId },
      action: 'member.sign_in_failed',
      target: { type: 'member', id: memberId },
      metadata: { method, reason: 'sso_enforced' },
    }),
  );
  throw new DomainError('sso_required', 'This organisation signs in with single sign-on. Use “Sign in with SSO”.');
}

/**
 * After a first factor: a session, or the second-factor step the member's enrolment or the tenant's
 * policy calls for. `mfaSatisfied` when the first factor already was multi-factor (a verified passkey,
 * an IdP that asserted MFA).
 */
export async function finishSignIn(
  deps: SignInDeps,
  req: Request,
  res: Response,
  input: { tenantId: string; memberId: string; method: SignInMethod; mfaSatisfied: boolean },
): Promise<SignIn> {
  // Where SSO is enforced, a passkey is no way around the IdP: someone switched off there is off here.
  if (input.method === 'passkey') {
    const gate = await deps.db.withTenant(input.tenantId, { requestId: req.id }, (tx) => ssoGate(tx, input.memberId, input.method));
    if (gate === 'refused') await refuseForSso(deps, req, input.tenantId, input.memberId, input.method);
  }
  return deps.db.withTenant(input.tenantId, { requestId: req.id }, async (tx) => {
    const member = await store.memberById(tx, input.memberId);
    if (!member || member.status !== 'active') throw new DomainError('unauthenticated', 'This account cannot sign in.');
    if (!input.mfaSatisfied) {
      const f = await factors(tx, member.id);
      const has: MfaMethod[] = [...(f.totp ? (['totp'] as const) : []), ...(f.passkeys ? (['passkey'] as const) : [])];
      if (has.length) {
        await setMfaStep(deps, res, input, 'verify');
        return { status: 'mfa_required', methods: [...has, 'recovery_code'] };
      }
      if (mfaRequiredFor(await readPolicy(tx), member.role)) {
        await setMfaStep(deps, res, input, 'enrol');
        return { status: 'mfa_enrolment_required', methods: ['totp', 'passkey'] };
      }
    }
    return startSession(deps, tx, req, res, input.tenantId, member, input.method, input.mfaSatisfied ? 'first_factor' : null);
  });
}

async function startSession(
  deps: SignInDeps,
  tx: Tx,
  req: Request,
  res: Response,
  tenantId: string,
  member: store.MemberRow,
  method: SignInMethod,
  mfa: string | null,
): Promise<SignIn> {
  const sessionId = await deps.sessions.start(tx, res, { tenantId, memberId: member.id, method, userAgent: req.get('user-agent') });
  await deps.audit.append(tx, {
    tenantId,
    requestId: req.id,
    actor: { type: 'member', id: member.id },
    action: 'member.sign_in',
    target: { type: 'session', id: sessionId },
    metadata: { method, mfa },
  });
  clearCookie(res, MFA_COOKIE);
  return {
    status: 'signed_in',
    member: {
      id: member.id,
      email: member.email,
      displayName: member.display_name,
      role: member.role,
      capabilities: [...capabilitiesOf(member.role)],
    },
    tenant: await tenantOf(tx, tenantId),
  };
}

// ---- the second-factor step

export interface MfaStep {
  tenantId: string;
  memberId: string;
  method: SignInMethod;
  /** `verify`: the member has factors; `enrol`: the policy requires one and they have none yet. */
  purpose: 'verify' | 'enrol';
  /** The step's id and expiry: a step finishes once. */
  jti: string;
  exp: number;
}

async function setMfaStep(
  deps: SignInDeps,
  res: Response,
  input: { tenantId: string; memberId: string; method: SignInMethod },
  purpose: MfaStep['purpose'],
) {
  const { token: jwt } = await signToken(deps.mfaKeys.privateKey, {
    issuer: deps.config.publicUrl,
    audience: MFA_AUDIENCE,
    subject: input.memberId,
    ttlSeconds: MFA_STEP_TTL_S,
    claims: { tid: input.tenantId, mth: input.method, pur: purpose },
  });
  setCookie(res, MFA_COOKIE, jwt, { maxAgeSeconds: MFA_STEP_TTL_S });
}

/** The pending second-factor step of this browser; refuses without a valid one. */
export async function readMfaStep(deps: SignInDeps, req: Request): Promise<MfaStep> {
  const token = readCookie(req, MFA_COOKIE);
  if (!token) throw new DomainError('unauthenticated', 'No sign-in is waiting for a second factor; start again.');
  try {
    const { payload } = await jwtVerify(token, deps.mfaKeys.publicKey, {
      algorithms: ['EdDSA'],
      audience: MFA_AUDIENCE,
      issuer: deps.config.publicUrl,
      requiredClaims: ['sub', 'tid', 'mth', 'pur', 'jti', 'exp'],
    });
    return {
      tenantId: String(payload.tid),
      memberId: String(payload.sub),
      method: payload.mth as SignInMethod,
      purpose: payload.pur === 'enrol' ? 'enrol' : 'verify',
      jti: String(payload.jti),
      exp: Number(payload.exp),
    };
  } catch {
    throw new DomainError('unauthenticated', 'The sign-in step expired; start again.');
  }
}

/** Call once the second factor of the step's member was verified: ends the step and starts the session. */
export async function finishMfa(deps: SignInDeps, req: Request, res: Response, factor: (typeof MFA_METHODS)[number]): Promise<SignIn> {
  const step = await readMfaStep(deps, req);
  return deps.db.withTenant(step.tenantId, { requestId: req.id }, async (tx) => {
    // A step finishes once: a copy of its cookie cannot start a second session with another factor.
    const first = await tx.query(
      'INSERT INTO identity_token_uses (tenant_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING jti',
      [step.tenantId, `console-mfa:${step.jti}`, step.exp + 60],
    );
    if (!first.rows.length) throw new DomainError('unauthenticated', 'This sign-in step was already finished; start again.');
    const member = await store.memberById(tx, step.memberId);
    if (!member || member.status !== 'active') throw new DomainError('unauthenticated', 'This account cannot sign in.');
    return startSession(deps, tx, req, res, step.tenantId, member, step.method, factor);
  });
}

// ---- linking an SSO identity to a member who has a password

const SSO_LINK_AUDIENCE = 'console-sso-link';
const SSO_LINK_TTL_S = 600;

/** Links an IdP identity to a member (replacing their earlier one of that protocol), audited. */
export async function linkIdentity(
  deps: SignInDeps,
  tx: Tx,
  req: Request,
  link: { tenantId: string; memberId: string; identity: store.SsoIdentity; confirmedBy?: 'password' },
) {
  const { tenantId, memberId, identity: id, confirmedBy } = link;
  await store.linkSsoIdentity(tx, tenantId, memberId, id);
  await deps.audit.append(tx, {
    tenantId,
    requestId: req.id,
    actor: { type: 'member', id: memberId },
    action: 'member.sso_link',
    target: { type: 'member', id: memberId },
    metadata: { via: id.kind, issuer: id.issuer, ...(confirmedBy ? { confirmedBy } : {}) },
  });
}

/**
 * After SSO was refused for an account with a password (`link_required`): this browser may link that
 * identity by signing in with the account's password within 10 minutes.
 */
export async function setSsoLinkStep(deps: SignInDeps, res: Response, input: { tenantId: string; memberId: string; identity: store.SsoIdentity }) {
  const { token } = await signToken(deps.mfaKeys.privateKey, {
    issuer: deps.config.publicUrl,
    audience: SSO_LINK_AUDIENCE,
    subject: input.memberId,
    ttlSeconds: SSO_LINK_TTL_S,
    claims: { tid: input.tenantId, knd: input.identity.kind, idp: input.identity.issuer, sbj: input.identity.subject },
  });
  setCookie(res, SSO_LINK_COOKIE, token, { maxAgeSeconds: SSO_LINK_TTL_S });
}

/** The identity waiting in this browser for `memberId`'s password, if any (an invalid or expired step is none). */
async function ssoLinkStep(deps: SignInDeps, req: Request, tenantId: string, memberId: string): Promise<store.SsoIdentity | null> {
  const token = readCookie(req, SSO_LINK_COOKIE);
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, deps.mfaKeys.publicKey, {
      algorithms: ['EdDSA'],
      audience: SSO_LINK_AUDIENCE,
      issuer: deps.config.publicUrl,
      subject: memberId,
      requiredClaims: ['tid', 'knd', 'idp', 'sbj'],
    });
    const { tid, knd, idp, sbj } = payload as Record<string, unknown>;
    if (tid !== tenantId || (knd !== 'oidc' && knd !== 'saml') || typeof idp !== 'string' || typeof sbj !== 'string') return null;
    return { kind: knd, issuer: idp, subject: sbj };
  } catch {
    return null;
  }
}

// ---- the password step

export async function passwordSignIn(
  deps: SignInDeps,
  req: Request,
  res: Response,
  input: { email: string; password: string; tenantId?: string | undefined },
): Promise<SignIn> {
  const address = clientAddress(req);
  // This address's counters first, counting the attempt before its password is checked (a burst sent at
  // once gets no more checks than one at a time); the account's count across addresses only judges a wrong
  // password (anyone anywhere can push it, so it must never refuse the right one).
  const attempt = await deps.throttle.reservePassword(req.id, input.email, address);
  let logins: Awaited<ReturnType<typeof store.memberLogins>>;
  const matched = [];
  try {
    logins = (await deps.db.withoutTenant({ requestId: req.id }, (tx) => store.memberLogins(tx, input.email))).filter(
      (l) => !input.tenantId || l.tenant_id === input.tenantId,
    );
    // Every candidate is checked (an unknown address still costs one hash), so timing tells nothing.
    for (const l of logins.length ? logins : [{ tenant_id: '', member_id: '', password_hash: null, status: 'none' }]) {
      if ((await verifyPassword(l.password_hash, input.password)) && l.status === 'active') matched.push(l);
    }
  } catch (err) {
    await attempt.abandoned();
    throw err;
  }
  if (!matched.length) {
    const wait = await attempt.failed();
    for (const l of logins) {
      await deps.db.withTenant(l.tenant_id, { requestId: req.id }, (tx) =>
        deps.audit.append(tx, {
          tenantId: l.tenant_id,
          requestId: req.id,
          actor: { type: 'member', id: l.member_id },
          action: 'member.sign_in_failed',
          target: { type: 'member', id: l.member_id },
          metadata: { method: 'password', reason: l.status === 'active' ? 'password' : 'disabled' },
        }),
      );
    }
    throw wait ?? new DomainError('unauthenticated', 'The email or password is not right.');
  }
  await attempt.succeeded();
  if (matched.length > 1) {
    const tenants = [];
    for (const m of matched) tenants.push(await deps.db.withTenant(m.tenant_id, { requestId: req.id }, (tx) => tenantOf(tx, m.tenant_id)));
    return { status: 'choose_tenant', tenants };
  }
  const login = matched[0]!;
  const audit = (tx: Tx, action: string, metadata: Record<string, unknown>) =>
    deps.audit.append(tx, {
      tenantId: login.tenant_id,
      requestId: req.id,
      actor: { type: 'member', id: login.member_id },
      action,
      target: { type: 'member', id: login.member_id },
      metadata,
    });
  // The password confirms an SSO identity this browser just brought for this account: it is linked, and
  // this is that SSO sign-in (allowed where SSO is enforced).
  const link = await ssoLinkStep(deps, req, login.tenant_id, login.member_id);
  if (link) {
    const linked = await deps.db.withTenant(login.tenant_id, { requestId: req.id }, async (tx) => {
      // The connection changed since the SSO step: nothing to link to.
      if ((await connectionIssuer(tx, link.kind)) !== link.issuer) return false;
      await linkIdentity(deps, tx, req, { tenantId: login.tenant_id, memberId: login.member_id, identity: link, confirmedBy: 'password' });
      return true;
    });
    clearCookie(res, SSO_LINK_COOKIE);
    if (linked) return finishSignIn(deps, req, res, { tenantId: login.tenant_id, memberId: login.member_id, method: link.kind, mfaSatisfied: false });
  }
  const alerts: { to: string[]; tenant: string }[] = [];
  const allowed = await deps.db.withTenant(login.tenant_id, { requestId: req.id }, async (tx) => {
    const gate = await ssoGate(tx, login.member_id, 'password');
    if (gate === 'refused') return false;
    if (gate === 'break_glass') {
      await audit(tx, 'member.break_glass', { method: 'password' });
      deps.logger.warn(
        { requestId: req.id, tenantId: login.tenant_id, memberId: login.member_id, alert: 'break_glass' },
        'ALERT: break-glass password sign-in while SSO is enforced',
      );
      const owners = await tx.query<{ email: string }>("SELECT email FROM members WHERE role = 'owner' AND status = 'active'");
      const tenant = await tenantOf(tx, login.tenant_id);
      alerts.push({ to: owners.rows.map((o) => o.email), tenant: tenant.name });
    }
    if (login.password_hash && needsRehash(login.password_hash))
      await store.updateMember(tx, login.member_id, { password_hash: await hashPassword(input.password) });
    return true;
  });
  if (!allowed) await refuseForSso(deps, req, login.tenant_id, login.member_id, 'password');
  // Every owner hears of a break-glass sign-in at once (after the commit; a mail failure is logged, not fatal).
  for (const { to, tenant } of alerts) {
    await Promise.all(
      to.map((owner) =>
        deps.mailer
          .send({
            to: owner,
            subject: `Break-glass sign-in to ${tenant} on Parley`,
            text: `${input.email} signed in to ${tenant} with a password at ${new Date().toISOString()} while single sign-on is enforced (the break-glass account).\n\nIf this was not expected, end their sessions in the console (Team) and review the audit log (request ${req.id}).`,
          })
          .catch((err: unknown) => deps.logger.error({ requestId: req.id, mail: mailFailure(err) }, 'break-glass alert email failed')),
      ),
    );
  }
  return finishSignIn(deps, req, res, { tenantId: login.tenant_id, memberId: login.member_id, method: 'password', mfaSatisfied: false });
}

export async function signOut(
  deps: SignInDeps,
  req: Request,
  res: Response,
  sessionId: string | null,
  tenantId: string | null,
  memberId: string | null,
): Promise<void> {
  if (sessionId && tenantId) {
    await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
      if (await deps.sessions.revoke(tx, sessionId, 'signed_out')) {
        await deps.audit.append(tx, {
          tenantId,
          requestId: req.id,
          actor: { type: 'member', id: memberId },
          action: 'member.sign_out',
          target: { type: 'session', id: sessionId },
        });
      }
    });
  }
  deps.sessions.clear(res);
  clearCookie(res, MFA_COOKIE);
}
