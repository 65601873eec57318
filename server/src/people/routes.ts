// HTTP for people: sign-in (`/v1/auth`, public but same-origin only) and team administration
// (`/v1/admin`, behind adminAuth, each route with its capability from the one permission table).
import {
  AcceptInviteRequest,
  ChangePasswordRequest,
  CreateInviteRequest,
  InvitePreviewRequest,
  PasswordSignInRequest,
  SignInPolicySchema,
  SsoStartRequest,
  UpdateMemberRequest,
} from '@parley/protocol';
import { Router } from 'express';
import { gated } from '../approvals/gate.js';
import { adminCtx } from '../http/context.js';
import { clientAddress, sameOriginOnly, sameOriginRead } from '../http/csrf.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { requireCapability as can, requireMember } from '../tenants/auth.js';
import { grantsPrivilege } from '../tenants/service.js';
import { relaxes } from './policy.js';
import * as svc from './service.js';
import { finishSignIn, passwordSignIn, signOut, type SignInDeps } from './sign-in.js';
import { ssoResetMakesApprover, type SsoRegistry } from './sso.js';

export interface PeopleRouteDeps extends SignInDeps {
  sso: SsoRegistry;
}

/** `/v1/auth`: signing in and out. Each request must come from our own pages (login CSRF). */

export function authRoutes(deps: PeopleRouteDeps): Router {
  const r = Router();
  const origin = new URL(deps.config.publicUrl).origin;
  // Per route, not router-wide: the SAML ACS under /v1/auth is a cross-site POST by design.
  const sameOrigin = sameOriginOnly(origin);
  const noStore = { 'Cache-Control': 'no-store' };

  route(r, '/password', {
    post: [
      sameOrigin,
      async (req, res) => {
        const body = parse(PasswordSignInRequest, req.body);
        res.set(noStore).json(await passwordSignIn(deps, req, res, body));
      },
    ],
  });
  route(r, '/session', {
    get: [sameOriginRead, (req, res) => void res.set(noStore).json(deps.sessions.presence(req))],
  });
  route(r, '/refresh', {
    post: [
      sameOrigin,
      async (req, res) => {
        await deps.sessions.refresh(req, res);
        res.set(noStore).status(204).end();
      },
    ],
  });
  route(r, '/sign-out', {
    post: [
      sameOrigin,
      async (req, res) => {
        const ended = await deps.sessions.endFromCookies(req);
        await signOut(deps, req, res, ended?.sessionId ?? null, ended?.tenantId ?? null, ended?.memberId ?? null);
        res.set(noStore).status(204).end();
      },
    ],
  });
  route(r, '/invites/preview', {
    post: [
      sameOrigin,
      async (req, res) => {
        const { token } = parse(InvitePreviewRequest, req.body);
        res.set(noStore).json(await svc.previewInvite(deps, req.id, token));
      },
    ],
  });
  route(r, '/invites/accept', {
    post: [
      sameOrigin,
      async (req, res) => {
        const body = parse(AcceptInviteRequest, req.body);
        const accepted = await svc.acceptInvite(deps, req.id, body);
        if (accepted.policy.enforceSso) {
          res.set(noStore).status(201).json({ status: 'sso_required', tenant: accepted.tenant });
          return;
        }
        res
          .set(noStore)
          .status(201)
          .json(
            await finishSignIn(deps, req, res, { tenantId: accepted.tenantId, memberId: accepted.memberId, method: 'invite', mfaSatisfied: false }),
          );
      },
    ],
  });
  route(r, '/sso/start', {
    post: [
      sameOrigin,
      async (req, res) => {
        const { email } = parse(SsoStartRequest, req.body);
        res.set(noStore).json({ redirectUrl: await deps.sso.start(deps, req, res, email) });
      },
    ],
  });
  return r;
}

/** `/v1/admin`: the team, invitations, sessions and the sign-in policy. */
export function peopleAdminRoutes(deps: PeopleRouteDeps): Router {
  const r = Router();
  route(r, '/members', {
    get: [can('members:read'), async (req, res) => void res.json({ members: await svc.listMembers(deps, adminCtx(req)) })],
  });
  route(r, '/members/:id', {
    patch: [
      can('members:write'),
      async (req, res) => {
        const body = parse(UpdateMemberRequest, req.body);
        const id = uuidParam(req);
        const op = {
          operation: 'keys.privileged' as const,
          applies: await svc.grantsPrivilegeTo(deps, adminCtx(req), id, body),
          arguments: { member: id, ...body },
        };
        const out = await gated(deps, req, res, op, () => svc.updateMember(deps, adminCtx(req), id, body));
        if (out) res.json({ member: out.value });
      },
    ],
    delete: [
      can('members:write'),
      async (req, res) => {
        await svc.removeMember(deps, adminCtx(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  route(r, '/members/:id/sso-link', {
    delete: [
      can('members:write'),
      async (req, res) => {
        const id = uuidParam(req);
        // The next SSO sign-in links whoever the IdP vouches for with their address: for an owner or admin,
        // that hands out an approver, held as making an admin is.
        const op = {
          operation: 'keys.privileged' as const,
          applies: await ssoResetMakesApprover(deps, adminCtx(req), id),
          arguments: { member: id, ssoLink: 'reset' },
        };
        const out = await gated(deps, req, res, op, () => svc.resetSsoLink(deps, adminCtx(req), id));
        if (out) res.status(204).end();
      },
    ],
  });
  route(r, '/members/:id/sessions', {
    delete: [can('members:write'), async (req, res) => void res.json({ ended: await svc.revokeMemberSessions(deps, adminCtx(req), uuidParam(req)) })],
  });
  route(r, '/invites', {
    // Listed with members:write: while there is no SMTP server, open invitations show their links.
    get: [
      can('members:write'),
      async (req, res) => void res.set('Cache-Control', 'no-store').json({ invites: await svc.listInvites(deps, adminCtx(req)) }),
    ],
    post: [
      can('members:write'),
      async (req, res) => {
        const body = parse(CreateInviteRequest, req.body);
        const ctx = adminCtx(req);
        const op = { operation: 'keys.privileged' as const, applies: grantsPrivilege(body.role), arguments: body };
        const out = await gated(deps, req, res, op, () => svc.createInvite(deps, { ...ctx, role: ctx.admin.member?.role ?? null }, body));
        if (out) res.status(201).set('Cache-Control', 'no-store').json({ invite: out.value.invite });
      },
    ],
  });
  route(r, '/invites/:id', {
    delete: [
      can('members:write'),
      async (req, res) => {
        await svc.revokeInvite(deps, adminCtx(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  route(r, '/me/password', {
    post: [
      requireMember,
      async (req, res) =>
        void res.json({
          otherSessionsEnded: await svc.changeMyPassword(
            deps,
            { ...adminCtx(req), address: clientAddress(req) },
            parse(ChangePasswordRequest, req.body),
          ),
        }),
    ],
  });
  route(r, '/me/sessions', {
    get: [requireMember, async (req, res) => void res.json({ sessions: await svc.listMySessions(deps, adminCtx(req)) })],
  });
  route(r, '/me/sessions/:id', {
    delete: [
      requireMember,
      async (req, res) => {
        await svc.revokeMySession(deps, adminCtx(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  route(r, '/sign-in-policy', {
    get: [can('members:read'), async (req, res) => void res.json(await svc.getPolicyPage(deps, adminCtx(req)))],
    put: [
      can('signin:write'),
      async (req, res) => {
        const body = parse(SignInPolicySchema, req.body);
        const op = { operation: 'signin.relax' as const, applies: relaxes(await svc.getPolicy(deps, adminCtx(req)), body), arguments: body };
        const out = await gated(deps, req, res, op, () => svc.setPolicy(deps, adminCtx(req), body));
        if (out) res.json({ policy: out.value });
      },
    ],
  });
  return r;
}
