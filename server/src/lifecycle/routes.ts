// /v1/admin/privacy: data-subject export and erasure. The subject travels in the body, never in a URL.
import { DataSubjectRequest } from '@parley/protocol';
import { Router } from 'express';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { eraseDataSubject, exportSubject, type SubjectDeps } from './service.js';

export function lifecycleRoutes(deps: SubjectDeps & { db: Db }): Router {
  const r = Router();
  route(r, '/privacy/export', {
    post: [
      can('privacy:export'),
      async (req, res) => {
        const subject = parse(DataSubjectRequest, req.body);
        const ctx = adminCtx(req);
        res.set('cache-control', 'no-store');
        res.json(await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, (tx) => exportSubject(tx, deps, ctx, subject)));
      },
    ],
  });
  route(r, '/privacy/erase', {
    post: [
      can('privacy:erase'),
      async (req, res) => {
        const subject = parse(DataSubjectRequest, req.body);
        const ctx = adminCtx(req);
        res.json(await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, (tx) => eraseDataSubject(tx, deps, ctx, subject)));
      },
    ],
  });
  return r;
}
