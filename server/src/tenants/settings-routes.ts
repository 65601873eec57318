// /v1/admin/settings: GET the document (and what applies), PUT a whole document, PATCH a merge patch
// (RFC 7396), all through the one settings module.
import { PutSettingsRequest, SettingsMergePatch } from '@parley/protocol';
import { Router, type Request, type Response } from 'express';
import type { AuditLog } from '../audit/log.js';
import { gated } from '../approvals/gate.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from './auth.js';
import { readSettings, relaxesApprovals, writeSettings, type SettingsWrite } from './settings.js';

export function settingsRoutes(deps: { db: Db; audit: AuditLog }): Router {
  const r = Router();
  // PUT and PATCH: taking operations off the approvals list is itself an operation that may need approval.
  const write = async (req: Request, res: Response, how: SettingsWrite, body: Record<string, unknown>) => {
    const ctx = adminCtx(req);
    const { tenantId, requestId, actor } = ctx;
    // With the request's authority: the write holds the person behind it until it commits (tenants/authority.ts).
    const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => deps.db.withTenant(tenantId, ctx, fn);
    const applies = await inTenant((tx) => relaxesApprovals(tx, how, body));
    const out = await gated(deps, req, res, { operation: 'approvals.relax', applies, arguments: body }, () =>
      inTenant((tx) => writeSettings(tx, deps.audit, { tenantId, requestId, actor }, how, body, applies)),
    );
    if (out) res.json({ policyVersion: out.value });
  };
  route(r, '/settings', {
    get: [
      can('settings:read'),
      async (req, res) => {
        const ctx = adminCtx(req);
        res.json(await deps.db.withTenant(ctx.tenantId, ctx, (tx) => readSettings(tx)));
      },
    ],
    put: [can('settings:write'), (req, res) => write(req, res, 'replace', parse(PutSettingsRequest, req.body))],
    patch: [can('settings:write'), (req, res) => write(req, res, 'merge', parse(SettingsMergePatch, req.body))],
  });
  return r;
}
