import { CreateApiKeyRequest, CreateDomainRequest, RotateApiKeyRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import { gated, gatedOnRow } from '../approvals/gate.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { requireCapability as can } from './auth.js';
import * as svc from './service.js';

export function tenantAdminRoutes(deps: svc.TenantDeps): Router {
  const r = Router();
  const held = (req: Request) => ({ ...adminCtx(req), held: adminCtx(req).admin.capabilities });

  // Any valid key may read which tenant it belongs to and what it can do (the console's navigation).
  route(r, '/me', {
    get: async (req, res) => void res.setHeader('Cache-Control', 'no-store').json(await svc.describeCaller(deps, adminCtx(req))),
  });

  route(r, '/domains', {
    get: [can('domains:read'), async (req, res) => void res.json({ domains: await svc.listDomains(deps, adminCtx(req)) })],
    post: [
      can('domains:write'),
      async (req, res) => {
        const body = parse(CreateDomainRequest, req.body);
        res.status(201).json({ domain: await svc.addDomain(deps, adminCtx(req), body.pattern) });
      },
    ],
  });
  route(r, '/domains/:id', {
    delete: [
      can('domains:write'),
      async (req, res) => {
        await svc.removeDomain(deps, adminCtx(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });

  route(r, '/api-keys', {
    get: [can('keys:read'), async (req, res) => void res.json({ apiKeys: await svc.listKeys(deps, adminCtx(req)) })],
    post: [
      can('keys:write'),
      async (req, res) => {
        const body = parse(CreateApiKeyRequest, req.body);
        const out = await gated(deps, req, res, { operation: 'keys.privileged', applies: svc.isPrivileged(body.capabilities), arguments: body }, () =>
          svc.createKey(deps, held(req), body),
        );
        if (out) res.status(201).setHeader('Cache-Control', 'no-store').json(out.value);
      },
    ],
  });
  route(r, '/api-keys/:id/rotate', {
    post: [
      can('keys:write'),
      async (req, res) => {
        const id = uuidParam(req);
        const body = parse(RotateApiKeyRequest, req.body ?? {});
        // A rotation hands out a new secret with the key's capabilities: for a privileged key, as much a
        // privileged key as a new one. The key read under its lock decides that and is what is rotated.
        const out = await gatedOnRow(
          deps,
          req,
          res,
          (tx) => svc.activeKey(tx, id),
          (key) => ({
            operation: 'keys.privileged',
            applies: svc.isPrivileged(key.capabilities),
            arguments: { rotate: { id, name: key.name, capabilities: key.capabilities }, graceSeconds: body.graceSeconds },
          }),
          (tx, key) => svc.rotateKey(deps, tx, held(req), key, body.graceSeconds),
        );
        if (out) res.status(201).setHeader('Cache-Control', 'no-store').json(out.value);
      },
    ],
  });
  route(r, '/api-keys/:id', {
    delete: [
      can('keys:write'),
      async (req, res) => {
        await svc.revokeKey(deps, held(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  return r;
}
