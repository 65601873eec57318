// /v1/admin/actions (definitions) and /v1/admin/approvals (the proposals people decide). A deciding
// approval executes an action before the answer (after its own commit), through executor.ts; an approved
// admin operation waits for its requester to repeat the request (gate.ts).
import { ActionParams, CreateActionRequest, DecisionRequest, ProposalListQuery, UpdateActionRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import { DomainError } from '../errors.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { execute } from './executor.js';
import * as service from './service.js';

export function approvalRoutes(deps: service.ApprovalDeps): Router {
  const r = Router();
  const define = can('actions:write');
  const decide = can('approvals:decide');
  const ctxOf = (req: Request) => {
    const { tenantId, requestId, actor, admin, authority } = adminCtx(req);
    return { tenantId, requestId, actor, admin, authority };
  };
  // With the request's authority: a definition and a decision hold the person behind the request until they
  // commit (tenants/authority.ts), so an approver removed at that moment decides nothing after they are gone.
  const inTenant = <T>(req: Request, fn: Parameters<typeof deps.db.withTenant<T>>[2]) => {
    const ctx = ctxOf(req);
    return deps.db.withTenant(ctx.tenantId, ctx, fn);
  };

  route(r, '/actions', {
    get: [define, async (req, res) => void res.json(await inTenant(req, service.listActions))],
    post: [
      define,
      async (req, res) => {
        const body = parse(CreateActionRequest, req.body);
        const { admin: _, ...ctx } = ctxOf(req);
        res.status(201).json(await inTenant(req, (tx) => service.createAction(tx, deps, ctx, body)));
      },
    ],
  });
  route(r, '/actions/:id', {
    patch: [
      define,
      async (req, res) => {
        const { id } = parse(ActionParams, req.params, 'path');
        const body = parse(UpdateActionRequest, req.body);
        const { admin: _, ...ctx } = ctxOf(req);
        res.json(await inTenant(req, (tx) => service.updateAction(tx, deps, ctx, id, body)));
      },
    ],
    delete: [
      define,
      async (req, res) => {
        const { id } = parse(ActionParams, req.params, 'path');
        const { admin: _, ...ctx } = ctxOf(req);
        await inTenant(req, (tx) => service.deleteAction(tx, deps, ctx, id));
        res.status(204).end();
      },
    ],
  });

  route(r, '/approvals', {
    get: [
      decide,
      async (req, res) => {
        const { status } = parse(ProposalListQuery, req.query, 'query');
        const viewer = service.deciderOf(ctxOf(req).admin);
        res.json(await inTenant(req, (tx) => service.listProposals(tx, status, viewer)));
      },
    ],
  });
  route(r, '/approvals/:id', {
    get: [
      decide,
      async (req, res) => {
        const { id } = parse(ActionParams, req.params, 'path');
        const viewer = service.deciderOf(ctxOf(req).admin);
        res.json({ proposal: await inTenant(req, (tx) => service.getProposal(tx, id, viewer)) });
      },
    ],
  });
  for (const decision of ['approve', 'reject'] as const) {
    route(r, `/approvals/:id/${decision}`, {
      post: [
        decide,
        async (req, res) => {
          const { id } = parse(ActionParams, req.params, 'path');
          const body = parse(DecisionRequest, req.body ?? {});
          const { admin, ...ctx } = ctxOf(req);
          const out = await inTenant(req, (tx) => service.decide(tx, deps, ctx, id, service.deciderOf(admin), decision, body.reason ?? null));
          // Another executor (the sweep) may have claimed it first: then this one calls nothing and answers its state.
          if (out.approved && out.proposal.kind === 'action')
            await execute(deps, ctx.tenantId, id, ctx.requestId).catch((err) => {
              if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
            });
          // What was decided, as it now stands: a read (on the read path, which shows this instance's writes), so
          // an approver removed once their decision committed is not told that nothing was changed.
          const view = await deps.db.withTenantRead(ctx.tenantId, ctx, (tx) => service.getProposal(tx, id, service.deciderOf(admin)));
          res.json({ proposal: view });
        },
      ],
    });
  }
  return r;
}
