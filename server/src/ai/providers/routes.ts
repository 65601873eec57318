import { ProviderParams, SetProviderRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import { gated } from '../../approvals/gate.js';
import { adminCtx } from '../../http/context.js';
import { route } from '../../http/routes.js';
import { parse } from '../../http/validate.js';
import { requireCapability as can } from '../../tenants/auth.js';
import * as svc from './service.js';

const providerParam = (req: Request) => parse(ProviderParams, req.params, 'path').provider;

export function providerRoutes(deps: svc.ProviderDeps): Router {
  const r = Router();
  // Nothing here returns a key, but keep provider configuration out of shared caches all the same.
  r.use('/providers', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  route(r, '/providers', {
    get: [can('settings:read'), async (req, res) => void res.json({ providers: await svc.listProviders(deps, adminCtx(req)) })],
  });
  route(r, '/providers/:provider', {
    put: [
      can('providers:write'),
      async (req, res) => {
        const provider = providerParam(req);
        const { apiKey, ...shown } = parse(SetProviderRequest, req.body);
        const op = { operation: 'ai.provider' as const, applies: true, arguments: { provider, ...shown }, secrets: { apiKey } };
        const out = await gated(deps, req, res, op, () => svc.setProvider(deps, adminCtx(req), provider, { apiKey, ...shown }));
        if (out) res.status(out.value.created ? 201 : 200).json({ provider: out.value.provider });
      },
    ],
    delete: [
      can('providers:write'),
      async (req, res) => {
        const provider = providerParam(req);
        const op = { operation: 'ai.provider' as const, applies: true, arguments: { provider, remove: true } };
        if (await gated(deps, req, res, op, () => svc.removeProvider(deps, adminCtx(req), provider))) res.status(204).end();
      },
    ],
  });
  return r;
}
