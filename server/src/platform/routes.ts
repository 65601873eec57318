// `/v1/platform`: for platform operators only (people of the deployment with the operator role, signed
// in to the console), and for the CLI beside a server on the embedded database, with the per-start
// platform key of the control file (platform/control.ts). Tenant keys never reach it.
import { CreateInviteRequest, PlatformCreateTenantRequest, PLATFORM_ROLE } from '@parley/protocol';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { isUuid, PLATFORM_TENANT } from '../db/index.js';
import type { ActorRef } from '../db/types.js';
import { assertSameOrigin } from '../http/csrf.js';
import { problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import type { MemberSessions } from '../people/sessions.js';
import { isPlatformKey } from './control.js';
import * as svc from './service.js';

export function platformRoutes(deps: svc.PlatformDeps & { sessions: MemberSessions; platformKey?: string | undefined }): Router {
  const r = Router();
  const origin = new URL(deps.config.publicUrl).origin;
  const operatorOnly: RequestHandler = async (req, res, next) => {
    try {
      const authorization = req.get('authorization');
      if (authorization !== undefined) {
        const presented = /^Bearer\s+(plt_\S+)$/i.exec(authorization)?.[1];
        if (!presented || !deps.platformKey || !isPlatformKey(presented, deps.platformKey)) {
          throw problems.unauthenticated(
            'Only a platform operator’s console session, or the running server’s platform key, may use the platform API.',
          );
        }
        res.locals.actor = { type: 'cli', id: 'platform-key' };
        return next();
      }
      const who = await deps.sessions.authenticate(req);
      if (!who) throw problems.unauthenticated('Sign in to the console as a platform operator.');
      if (who.tenantId !== PLATFORM_TENANT || who.role !== PLATFORM_ROLE)
        throw problems.forbidden('Only platform operators may use the platform API.');
      assertSameOrigin(req, origin);
      res.locals.actor = { type: 'member', id: who.memberId };
      next();
    } catch (err) {
      next(err);
    }
  };
  const ctx = (req: Request, res: Response) => ({ requestId: req.id, actor: res.locals.actor as ActorRef });
  r.use(operatorOnly);

  route(r, '/tenants', {
    get: async (req, res) => void res.json({ tenants: await svc.listTenants(deps, ctx(req, res)) }),
    post: async (req, res) => {
      const body = parse(PlatformCreateTenantRequest, req.body);
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json(await svc.provisionTenant(deps, ctx(req, res), body));
    },
  });
  route(r, '/tenants/:id/invites', {
    post: async (req, res) => {
      const id = String(req.params.id);
      if (!isUuid(id)) throw problems.notFound();
      const body = parse(CreateInviteRequest, req.body);
      const { invite, url } = await svc.inviteIntoTenant(deps, ctx(req, res), id, body);
      // The operator passes the link on when no SMTP server sent it.
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json({ invite: { ...invite, inviteUrl: invite.delivery === 'log' ? url : null } });
    },
  });
  return r;
}
