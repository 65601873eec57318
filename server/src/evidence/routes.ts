// /v1/admin/evidence/packs: build a signed evidence pack and send it back as a zip.
import { EvidencePackRequest } from '@parley/protocol';
import { Router } from 'express';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { buildEvidencePack, type EvidenceDeps } from './service.js';

export function evidenceRoutes(deps: EvidenceDeps): Router {
  const r = Router();
  route(r, '/evidence/packs', {
    post: [
      can('evidence:export'),
      async (req, res) => {
        const body = parse(EvidencePackRequest, req.body);
        const { tenantId, requestId, actor } = adminCtx(req);
        const pack = await buildEvidencePack(deps, { tenantId, requestId, actor }, body);
        res
          .status(200)
          .set({
            'content-type': 'application/zip',
            'content-disposition': `attachment; filename="evidence-${body.framework}-${pack.manifestSha256.slice(0, 12)}.zip"`,
            'cache-control': 'no-store',
            'x-parley-evidence-manifest': pack.manifestSha256,
          })
          .send(Buffer.from(pack.zip));
      },
    ],
  });
  return r;
}
