// Admin side of Sign-In Pro: signing secrets (shown once), public keys or a JWKS URL, and the mode.
import { PutIdentityRequest } from '@parley/protocol';
import { Router } from 'express';
import { isUuid } from '../db/index.js';
import { gated, gatedOnRow } from '../approvals/gate.js';
import { adminCtx } from '../http/context.js';
import { problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import type { Env } from '../tenants/service.js';
import * as svc from './service.js';
import type { IdentityServiceDeps } from './service.js';

export interface IdentityDeps extends IdentityServiceDeps {
  env: Env;
}

export function identityAdminRoutes(deps: IdentityDeps): Router {
  const r = Router();

  route(r, '/identity', {
    get: [
      can('settings:read'),
      async (req, res) => {
        res.json(await svc.getIdentity(deps, adminCtx(req)));
      },
    ],
    put: [
      can('identity:write'),
      async (req, res) => {
        const body = parse(PutIdentityRequest, req.body);
        const ctx = adminCtx(req);
        const kept = await svc.checkIdentity(deps, body);
        // Read under the lock the save takes: what is trusted now decides whether this trusts more.
        const saved = await gatedOnRow(
          deps,
          req,
          res,
          svc.lockTrusted,
          (now) => ({ operation: 'identity.mode' as const, applies: svc.widensTrust(now, body, kept), arguments: body }),
          (tx, now) => svc.saveIdentity(tx, deps, ctx, body, kept, now),
        );
        if (saved) res.status(204).end();
      },
    ],
  });

  route(r, '/identity/secrets', {
    post: [
      can('identity:write'),
      async (req, res) => {
        // A new secret is a new way to sign anyone in: held with the mode (revoking one only takes trust out).
        const op = { operation: 'identity.mode' as const, applies: true, arguments: { create: 'shared signing secret' } };
        const out = await gated(deps, req, res, op, () => svc.createSecret(deps, adminCtx(req)));
        if (out) res.status(201).setHeader('Cache-Control', 'no-store').json(out.value);
      },
    ],
  });

  route(r, '/identity/secrets/:id', {
    delete: [
      can('identity:write'),
      async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw problems.notFound();
        await svc.revokeSecret(deps, adminCtx(req), id);
        res.status(204).end();
      },
    ],
  });
  return r;
}
