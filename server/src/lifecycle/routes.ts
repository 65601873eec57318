// /v1/admin/privacy: data-subject export and erasure (the subject travels in the body, never in a URL);
// /v1/admin/tenant/export: the whole workspace as a signed archive.
import { APPROVAL_HEADER, DataSubjectExportRequest, DataSubjectRequest, TenantExportRequest } from '@parley/protocol';
import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import { gated } from '../approvals/gate.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { eraseDataSubject, exportSubject, type SubjectDeps } from './service.js';
import { checkRestricted, exportTenant } from './tenant-export.js';

export function lifecycleRoutes(deps: SubjectDeps & { db: Db; audit: AuditLog }): Router {
  const r = Router();
  route(r, '/tenant/export', {
    post: [
      can('tenant:export'),
      async (req, res) => {
        const asked = parse(TenantExportRequest, req.body ?? {});
        // With the request's authority: the export holds the person behind it (tenants/authority.ts).
        const { admin, ...held } = adminCtx(req);
        const ctx = { ...held, role: admin.member?.role ?? null, approvalId: req.get(APPROVAL_HEADER) ?? null };
        // Refused before it is proposed: only an owner with a reason may ask for restricted values at all. From
        // here on the request is as kept, its reason with personal values taken out.
        const body = checkRestricted(ctx, asked);
        const op = { operation: 'export.restricted' as const, applies: body.includeRestricted, arguments: body, reason: body.reason ?? null };
        const out = await gated(deps, req, res, op, () => exportTenant(deps, ctx, body));
        if (!out) return;
        const built = out.value;
        res
          .status(200)
          .set({
            'content-type': 'application/zip',
            'content-disposition': `attachment; filename="tenant-export-${built.manifestSha256.slice(0, 12)}.zip"`,
            'cache-control': 'no-store',
            'x-parley-evidence-manifest': built.manifestSha256,
          })
          .send(Buffer.from(built.zip));
      },
    ],
  });
  route(r, '/privacy/export', {
    post: [
      can('privacy:export'),
      async (req, res) => {
        const subject = parse(DataSubjectExportRequest, req.body);
        const ctx = adminCtx(req);
        res.set('cache-control', 'no-store');
        res.json(await deps.db.withTenant(ctx.tenantId, ctx, (tx) => exportSubject(tx, deps, ctx, subject)));
      },
    ],
  });
  route(r, '/privacy/erase', {
    post: [
      can('privacy:erase'),
      async (req, res) => {
        const subject = parse(DataSubjectRequest, req.body);
        const ctx = adminCtx(req);
        res.json(await deps.db.withTenant(ctx.tenantId, ctx, (tx) => eraseDataSubject(tx, deps, ctx, subject)));
      },
    ],
  });
  return r;
}
