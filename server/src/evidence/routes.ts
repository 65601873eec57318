// /v1/admin/evidence: build a signed evidence pack (sent back as a zip), keep one current as policies
// change (the subscription), and list or download the kept versions.
import { EvidencePackParams, EvidencePackRequest, EvidenceSubscriptionRequest } from '@parley/protocol';
import { Router, type Response } from 'express';
import type { TxContext } from '../db/types.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { buildEvidencePack, getSubscription, keptPack, listPacks, removeSubscription, setSubscription, type EvidenceDeps } from './service.js';

const sendZip = (res: Response, zip: Uint8Array, name: string) =>
  void res
    .status(200)
    .set({ 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${name}.zip"`, 'cache-control': 'no-store' })
    .send(Buffer.from(zip));

export function evidenceRoutes(deps: EvidenceDeps): Router {
  const r = Router();
  const allowed = can('evidence:export');
  // With the request's authority (adminCtx): each transaction holds the person behind it (tenants/authority.ts).
  const inTenant = <T>(ctx: TxContext & { tenantId: string }, fn: Parameters<typeof deps.db.withTenant<T>>[2]) =>
    deps.db.withTenant(ctx.tenantId, ctx, fn);

  route(r, '/evidence/packs', {
    post: [
      allowed,
      async (req, res) => {
        const body = parse(EvidencePackRequest, req.body);
        const pack = await buildEvidencePack(deps, adminCtx(req), body);
        res.set('x-parley-evidence-manifest', pack.manifestSha256);
        sendZip(res, pack.zip, `evidence-${body.framework}-${pack.manifestSha256.slice(0, 12)}`);
      },
    ],
    get: [allowed, async (req, res) => void res.json(await inTenant(adminCtx(req), listPacks))],
  });
  route(r, '/evidence/packs/:version', {
    get: [
      allowed,
      async (req, res) => {
        const { version } = parse(EvidencePackParams, req.params, 'path');
        sendZip(res, await inTenant(adminCtx(req), (tx) => keptPack(tx, version)), `evidence-v${version}`);
      },
    ],
  });
  route(r, '/evidence/subscription', {
    get: [allowed, async (req, res) => void res.json(await inTenant(adminCtx(req), getSubscription))],
    put: [
      allowed,
      async (req, res) => {
        const body = parse(EvidenceSubscriptionRequest, req.body);
        const ctx = adminCtx(req);
        res.json(await inTenant(ctx, (tx) => setSubscription(tx, deps.audit, ctx, body)));
      },
    ],
    delete: [
      allowed,
      async (req, res) => {
        const ctx = adminCtx(req);
        await inTenant(ctx, (tx) => removeSubscription(tx, deps.audit, ctx));
        res.status(204).end();
      },
    ],
  });
  return r;
}
