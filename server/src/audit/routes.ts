import { AuditListQuery, ConsistencyProofQuery, InclusionProofQuery } from '@parley/protocol';
import { Router } from 'express';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import type { AuditLog } from './log.js';
import { consistencyProof, inclusionProof } from './merkle.js';
import { listEntries, nodeReader, toAuditEntry, treeSize } from './store.js';

const hex = (b: Buffer) => b.toString('hex');

/** Public: the keys that sign checkpoints, so anyone can check a checkpoint a tenant shows them. */
export function auditPublicRoutes(deps: { db: Db; audit: AuditLog }): Router {
  const r = Router();
  const keys = (tenantId: string | null) => deps.db.withoutTenant({ requestId: null }, (tx) => deps.audit.verifierKeys(tx, tenantId));
  // The current key, one line (C2SP verifier key form).
  route(r, '/audit/verifier-key', { get: async (_req, res) => void res.type('text/plain; charset=utf-8').send(`${(await keys(null))[0]}\n`) });
  // Every key the deployment has signed with, current first, one per line: older checkpoints verify with these.
  route(r, '/audit/verifier-keys', {
    get: async (_req, res) => void res.type('text/plain; charset=utf-8').send(`${(await keys(null)).join('\n')}\n`),
  });
  return r;
}

export function auditRoutes(deps: { db: Db; audit: AuditLog }): Router {
  const r = Router();
  const read = can('audit:read');
  // What was written before a read is listed and provable: the tenant's pending entries are integrated first.
  const catchUp = async (tenantId: string) => deps.audit.integrator?.catchUp(tenantId);

  route(r, '/audit', {
    get: [
      read,
      async (req, res) => {
        const q = parse(AuditListQuery, req.query, 'query');
        const ctx = adminCtx(req);
        await catchUp(ctx.tenantId);
        // A list: the read path (a replica, when configured, once it shows this instance's writes).
        const rows = await deps.db.withTenantRead(ctx.tenantId, ctx, (tx) => listEntries(tx, ctx.tenantId, q.after, q.limit));
        const entries = rows.map(toAuditEntry);
        res.json({ entries, next: entries.length === q.limit ? entries.at(-1)!.seq : null });
      },
    ],
  });

  route(r, '/audit/checkpoint', {
    get: [
      read,
      async (req, res) => {
        const ctx = adminCtx(req);
        await catchUp(ctx.tenantId);
        const out = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
          const cp = await deps.audit.latestCheckpoint(tx, ctx.tenantId);
          return { cp, origin: await deps.audit.originFor(tx, ctx.tenantId), verifierKeys: await deps.audit.verifierKeys(tx, ctx.tenantId) };
        });
        res.vary('Accept');
        // The signed note itself, as transparency-log tooling and witnesses read it (C2SP tlog-checkpoint).
        if (req.accepts(['application/json', 'text/plain']) === 'text/plain') return void res.type('text/plain; charset=utf-8').send(out.cp.note);
        res.json({
          origin: out.origin,
          size: out.cp.size,
          root: hex(out.cp.root),
          checkpoint: out.cp.note,
          verifierKey: out.verifierKeys[0]!,
          verifierKeys: out.verifierKeys,
        });
      },
    ],
  });

  route(r, '/audit/proof/inclusion', {
    get: [
      read,
      async (req, res) => {
        const q = parse(InclusionProofQuery, req.query, 'query');
        const ctx = adminCtx(req);
        await catchUp(ctx.tenantId);
        const out = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
          const size = await treeSize(tx, ctx.tenantId);
          if (q.size > size)
            throw new HttpProblem(400, 'validation-failed', `The log has ${size} entries.`, {
              errors: [{ path: '/size', message: `must be at most ${size}`, code: 'too_big' }],
            });
          if (q.index >= q.size)
            throw new HttpProblem(400, 'validation-failed', 'index must be below size.', {
              errors: [{ path: '/index', message: 'must be below size', code: 'too_big' }],
            });
          const getNode = nodeReader(tx, ctx.tenantId);
          return { leaf: await getNode(0, q.index), proof: await inclusionProof(q.index, q.size, getNode) };
        });
        res.json({ index: q.index, size: q.size, leafHash: hex(out.leaf), proof: out.proof.map(hex) });
      },
    ],
  });

  route(r, '/audit/proof/consistency', {
    get: [
      read,
      async (req, res) => {
        const q = parse(ConsistencyProofQuery, req.query, 'query');
        const ctx = adminCtx(req);
        await catchUp(ctx.tenantId);
        const proof = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
          const size = await treeSize(tx, ctx.tenantId);
          if (q.to > size)
            throw new HttpProblem(400, 'validation-failed', `The log has ${size} entries.`, {
              errors: [{ path: '/to', message: `must be at most ${size}`, code: 'too_big' }],
            });
          if (q.from > q.to)
            throw new HttpProblem(400, 'validation-failed', 'from must not exceed to.', {
              errors: [{ path: '/from', message: 'must not exceed to', code: 'too_big' }],
            });
          return consistencyProof(q.from, q.to, nodeReader(tx, ctx.tenantId));
        });
        res.json({ from: q.from, to: q.to, proof: proof.map(hex) });
      },
    ],
  });
  return r;
}
