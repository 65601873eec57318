// `/v1/admin/webhooks/endpoints`: endpoints (the `whsec_` secret is in the create and rotate answers
// only), their delivery log, replays and test events.
import {
  CreateWebhookEndpointRequest,
  ReplayWebhookRequest,
  RotateWebhookSecretRequest,
  UpdateWebhookEndpointRequest,
  WebhookDeliveryListQuery,
} from '@parley/protocol';
import { Router } from 'express';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import * as svc from './service.js';

const noStore = { 'Cache-Control': 'no-store' };

export function webhookRoutes(deps: svc.WebhookDeps): Router {
  const r = Router();
  const base = '/webhooks/endpoints';
  route(r, base, {
    get: [can('webhooks:read'), async (req, res) => void res.json({ endpoints: await svc.listEndpoints(deps, adminCtx(req)) })],
    post: [
      can('webhooks:write'),
      async (req, res) => {
        const body = parse(CreateWebhookEndpointRequest, req.body);
        res
          .status(201)
          .set(noStore)
          .json(await svc.createEndpoint(deps, adminCtx(req), body));
      },
    ],
  });
  route(r, `${base}/:id`, {
    get: [can('webhooks:read'), async (req, res) => void res.json({ endpoint: await svc.getEndpoint(deps, adminCtx(req), uuidParam(req)) })],
    patch: [
      can('webhooks:write'),
      async (req, res) => {
        const body = parse(UpdateWebhookEndpointRequest, req.body);
        res.json({ endpoint: await svc.updateEndpoint(deps, adminCtx(req), uuidParam(req), body) });
      },
    ],
    delete: [
      can('webhooks:write'),
      async (req, res) => {
        await svc.deleteEndpoint(deps, adminCtx(req), uuidParam(req));
        res.status(204).end();
      },
    ],
  });
  route(r, `${base}/:id/rotate`, {
    post: [
      can('webhooks:write'),
      async (req, res) => {
        const { graceSeconds } = parse(RotateWebhookSecretRequest, req.body ?? {});
        res.set(noStore).json(await svc.rotateSecret(deps, adminCtx(req), uuidParam(req), graceSeconds));
      },
    ],
  });
  route(r, `${base}/:id/test`, {
    post: [can('webhooks:write'), async (req, res) => void res.status(202).json(await svc.sendTest(deps, adminCtx(req), uuidParam(req)))],
  });
  route(r, `${base}/:id/replay`, {
    post: [
      can('webhooks:write'),
      async (req, res) => {
        const body = parse(ReplayWebhookRequest, req.body);
        res.status(202).json({ replayed: await svc.replay(deps, adminCtx(req), uuidParam(req), body) });
      },
    ],
  });
  route(r, `${base}/:id/deliveries`, {
    get: [
      can('webhooks:read'),
      async (req, res) => {
        const q = parse(WebhookDeliveryListQuery, req.query, 'query');
        res.json(await svc.listDeliveries(deps, adminCtx(req), uuidParam(req), q));
      },
    ],
  });
  route(r, `${base}/:id/deliveries/:deliveryId`, {
    get: [
      can('webhooks:read'),
      async (req, res) => void res.json({ delivery: await svc.getDelivery(deps, adminCtx(req), uuidParam(req), uuidParam(req, 'deliveryId')) }),
    ],
  });
  return r;
}
