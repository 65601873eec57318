// MFA over HTTP: a member's own factors (/v1/admin/me/mfa/*), the admin reset, and the sign-in step
// (/v1/auth/mfa/*, /v1/auth/passkey*). Parse with protocol's schemas, call the service, shape the answer.
import { PasskeySignInOptionsRequest, RecoveryCodeRequest, TotpCodeRequest, WebAuthnResponseRequest } from '@parley/protocol';
import { Router, type Request, type Response } from 'express';
import { DomainError } from '../../errors.js';
import { adminCtx } from '../../http/context.js';
import { clientAddress, sameOriginOnly } from '../../http/csrf.js';
import { route } from '../../http/routes.js';
import { parse, uuidParam } from '../../http/validate.js';
import { requireCapability, requireMember } from '../../tenants/auth.js';
import { clearCookie, readCookie, setCookie } from '../cookies.js';
import { finishMfa, finishSignIn, readMfaStep, type SignInDeps } from '../sign-in.js';
import * as svc from './service.js';

/** Binds a WebAuthn challenge in flight to the browser that asked for it. */
export const WEBAUTHN_COOKIE = '__Host-parley_webauthn';

/** The signed-in member of a console session (requireMember ran before). */
function me(req: Request): svc.MemberCtx {
  const ctx = adminCtx(req);
  const member = ctx.admin.member;
  if (!member) throw new DomainError('forbidden', 'Only a signed-in member has second factors.');
  return { tenantId: ctx.tenantId, memberId: member.id, requestId: req.id, sessionId: member.sessionId, authority: ctx.authority };
}

function issue(res: Response, issued: svc.Issued<object>) {
  setCookie(res, WEBAUTHN_COOKIE, issued.handle, { maxAgeSeconds: svc.CHALLENGE_TTL_SECONDS, sameSite: 'Strict' });
  res.setHeader('Cache-Control', 'no-store').json({ options: issued.options });
}

/** The challenge handle of this browser; the cookie is cleared: a challenge is tried once. */
function takeHandle(req: Request, res: Response): string | null {
  const handle = readCookie(req, WEBAUTHN_COOKIE);
  clearCookie(res, WEBAUTHN_COOKIE);
  return handle;
}

export function mfaRoutes(deps: SignInDeps): { admin: Router; auth: Router } {
  const admin = Router();
  const auth = Router();
  const noStore = (res: Response) => res.setHeader('Cache-Control', 'no-store');
  // Sign-in requests must come from our own pages (login CSRF), as every other /v1/auth route.
  const origin = new URL(deps.config.publicUrl).origin;
  auth.use(['/mfa', '/passkey'], sameOriginOnly(origin));

  // ---- A member's own factors -------------------------------------------------------------------------
  route(admin, '/me/mfa', {
    get: [requireMember, async (req, res) => void noStore(res).json(await svc.myMfa(deps, me(req)))],
  });
  route(admin, '/me/mfa/totp', {
    post: [
      requireMember,
      async (req, res) =>
        void noStore(res)
          .status(201)
          .json(await svc.beginTotp(deps, me(req))),
    ],
    delete: [
      requireMember,
      async (req, res) => {
        const { code } = parse(TotpCodeRequest, req.body);
        const ctx = me(req);
        await throttled(deps, req, ctx, async () => {
          await svc.removeTotp(deps, ctx, code);
          return true;
        });
        res.status(204).end();
      },
    ],
  });
  route(admin, '/me/mfa/totp/confirm', {
    post: [
      requireMember,
      async (req, res) => {
        const { code } = parse(TotpCodeRequest, req.body);
        noStore(res).json(await svc.confirmTotp(deps, me(req), code));
      },
    ],
  });
  route(admin, '/me/mfa/passkeys/options', {
    post: [requireMember, async (req, res) => issue(res, await svc.passkeyRegistrationOptions(deps, me(req)))],
  });
  route(admin, '/me/mfa/passkeys', {
    post: [
      requireMember,
      async (req, res) => {
        const body = parse(WebAuthnResponseRequest, req.body);
        const added = await svc.addPasskey(deps, me(req), takeHandle(req, res), body.response, body.name);
        noStore(res).status(201).json(added);
      },
    ],
  });
  route(admin, '/me/mfa/passkeys/:id', {
    delete: [
      requireMember,
      async (req, res) => {
        await svc.removePasskey(deps, me(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  route(admin, '/me/mfa/recovery-codes', {
    post: [
      requireMember,
      async (req, res) =>
        void noStore(res)
          .status(201)
          .json(await svc.regenerateRecoveryCodes(deps, me(req))),
    ],
  });

  // ---- Admin: reset another member's factors ---------------------------------------------------------
  route(admin, '/members/:id/mfa', {
    delete: [
      requireCapability('members:write'),
      async (req, res) => {
        const { admin, ...ctx } = adminCtx(req);
        await svc.resetMfa(deps, { ...ctx, actorRole: admin.member?.role ?? null, held: admin.capabilities }, uuidParam(req));
        res.status(204).end();
      },
    ],
  });

  // ---- The MFA step of a sign-in ---------------------------------------------------------------------
  const stepCtx = async (req: Request, purpose: 'verify' | 'enrol' = 'verify'): Promise<svc.MemberCtx> => {
    const step = await readMfaStep(deps, req);
    if (step.purpose !== purpose) {
      throw new DomainError(
        'forbidden',
        purpose === 'enrol' ? 'This sign-in needs your second factor, not a new one.' : 'Set up a second factor to finish signing in.',
      );
    }
    return { tenantId: step.tenantId, memberId: step.memberId, requestId: req.id };
  };

  route(auth, '/mfa/totp', {
    post: async (req, res) => {
      const ctx = await stepCtx(req);
      const { code } = parse(TotpCodeRequest, req.body);
      await throttled(deps, req, ctx, () => svc.verifyTotpFactor(deps, ctx, code));
      noStore(res).json(await finishMfa(deps, req, res, 'totp'));
    },
  });
  route(auth, '/mfa/recovery', {
    post: async (req, res) => {
      const ctx = await stepCtx(req);
      const { code } = parse(RecoveryCodeRequest, req.body);
      await throttled(deps, req, ctx, () => svc.verifyRecoveryCode(deps, ctx, code));
      noStore(res).json(await finishMfa(deps, req, res, 'recovery_code'));
    },
  });
  route(auth, '/mfa/passkey/options', {
    post: async (req, res) => issue(res, await svc.passkeyMfaOptions(deps, await stepCtx(req))),
  });
  route(auth, '/mfa/passkey', {
    post: async (req, res) => {
      const ctx = await stepCtx(req);
      const body = parse(WebAuthnResponseRequest, req.body);
      const handle = takeHandle(req, res);
      await throttled(deps, req, ctx, () => svc.verifyPasskeyFactor(deps, ctx, handle, body.response));
      noStore(res).json(await finishMfa(deps, req, res, 'passkey'));
    },
  });

  // ---- Enrolment while the tenant requires MFA and the member has none --------------------------------
  const enrolCtx = async (req: Request): Promise<svc.MemberCtx> => {
    const ctx = await stepCtx(req, 'enrol');
    await svc.assertNoFactor(deps, ctx);
    return ctx;
  };
  route(auth, '/mfa/enrol/totp', {
    post: async (req, res) =>
      void noStore(res)
        .status(201)
        .json(await svc.beginTotp(deps, await enrolCtx(req))),
  });
  route(auth, '/mfa/enrol/totp/confirm', {
    post: async (req, res) => {
      const ctx = await enrolCtx(req);
      const { code } = parse(TotpCodeRequest, req.body);
      const { recoveryCodes } = await svc.confirmTotp(deps, ctx, code);
      noStore(res).json({ ...(await finishMfa(deps, req, res, 'totp')), recoveryCodes });
    },
  });
  route(auth, '/mfa/enrol/passkey/options', {
    post: async (req, res) => issue(res, await svc.passkeyRegistrationOptions(deps, await enrolCtx(req))),
  });
  route(auth, '/mfa/enrol/passkey', {
    post: async (req, res) => {
      const ctx = await enrolCtx(req);
      const body = parse(WebAuthnResponseRequest, req.body);
      const { recoveryCodes } = await svc.addPasskey(deps, ctx, takeHandle(req, res), body.response, body.name);
      noStore(res).json({ ...(await finishMfa(deps, req, res, 'passkey')), recoveryCodes });
    },
  });

  // ---- Passwordless ---------------------------------------------------------------------------------
  route(auth, '/passkey/options', {
    post: async (req, res) => {
      const { email } = parse(PasskeySignInOptionsRequest, req.body ?? {});
      issue(res, await svc.passwordlessOptions(deps, req.id, email));
    },
  });
  route(auth, '/passkey', {
    post: async (req, res) => {
      const body = parse(WebAuthnResponseRequest, req.body);
      const handle = takeHandle(req, res);
      const who = await svc.verifyPasswordless(deps, req.id, handle, body.response);
      noStore(res).json(await finishSignIn(deps, req, res, { ...who, method: 'passkey', mfaSatisfied: true }));
    },
  });

  return { admin, auth };
}

/**
 * A code or passkey check that counts toward the sign-in throttle (the same counters and waits as
 * passwords: per account from an address, per address, per account). The account is named for MFA on its
 * own (`mfa:<member id>`), so a right password — which clears the password counters — does not buy a
 * fresh run of guesses at the code; the per-address counter is the one passwords use too. Refused while
 * waiting; else counted before the check (so a burst sent at once gets no more checks than one at a time)
 * and left counted on a failure (false, or an invalid_input refusal); a success clears this address's MFA
 * count and gives the attempt back on the others; any other error gives it back.
 */
async function throttled(deps: SignInDeps, req: Request, ctx: svc.MemberCtx, check: () => Promise<boolean>): Promise<void> {
  const attempt = await deps.throttle.reserveCode(req.id, `mfa:${ctx.memberId}`, clientAddress(req));
  let ok: boolean;
  try {
    ok = await check();
  } catch (err) {
    if (err instanceof DomainError && err.code === 'invalid_input') await attempt.failed();
    else await attempt.abandoned();
    throw err;
  }
  if (!ok) {
    await attempt.failed();
    throw new DomainError('unauthenticated', 'The code or passkey was not accepted.');
  }
  await attempt.succeeded();
}
