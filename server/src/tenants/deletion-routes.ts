// /v1/admin/tenant/deletion: an owner (a person, never a key) schedules, inspects and cancels the deletion of
// the whole tenant.
import { TenantDeletionRequest } from '@parley/protocol';
import { Router } from 'express';
import { gated } from '../approvals/gate.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireOwner } from './auth.js';
import { cancelDeletion, deletionStatus, scheduleDeletion, type SchedulingDeps } from './deletion.js';

export function tenantDeletionRoutes(deps: SchedulingDeps): Router {
  const r = Router();
  route(r, '/tenant/deletion', {
    get: [requireOwner, async (req, res) => void res.json(await deletionStatus(deps, adminCtx(req)))],
    post: [
      requireOwner,
      async (req, res) => {
        const input = parse(TenantDeletionRequest, req.body ?? {});
        const op = { operation: 'tenant.delete' as const, applies: true, arguments: input };
        const out = await gated(deps, req, res, op, () => scheduleDeletion(deps, adminCtx(req), input));
        if (out) res.status(201).json(out.value);
      },
    ],
    delete: [
      requireOwner,
      async (req, res) => {
        await cancelDeletion(deps, adminCtx(req));
        res.status(204).end();
      },
    ],
  });
  return r;
}
