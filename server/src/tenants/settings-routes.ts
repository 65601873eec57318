// /v1/admin/settings: GET the document (and what applies), PUT a whole document, PATCH a merge patch
// (RFC 7396), all through the one settings module.
import { PutSettingsRequest, SettingsMergePatch } from '@parley/protocol';
import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import { gated } from '../approvals/gate.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from './auth.js';
import { mergeSettings, readSettings, relaxesApprovals, replaceSettings } from './settings.js';

export function settingsRoutes(deps: { db: Db; audit: AuditLog }): Router {
  const r = Router();
  route(r, '/settings', {
    get: [
      can('settings:read'),
      async (req, res) => {
        const { tenantId } = adminCtx(req);
        res.json(await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => readSettings(tx)));
      },
    ],
    put: [
      can('settings:write'),
      async (req, res) => {
        const doc = parse(PutSettingsRequest, req.body);
        const { tenantId, requestId, actor } = adminCtx(req);
        const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => deps.db.withTenant(tenantId, { requestId }, fn);
        const op = { operation: 'approvals.relax' as const, applies: await inTenant((tx) => relaxesApprovals(tx, 'replace', doc)), arguments: doc };
        const out = await gated(deps, req, res, op, () => inTenant((tx) => replaceSettings(tx, deps.audit, { tenantId, requestId, actor }, doc)));
        if (out) res.json({ policyVersion: out.value });
      },
    ],
    patch: [
      can('settings:write'),
      async (req, res) => {
        const patch = parse(SettingsMergePatch, req.body);
        const { tenantId, requestId, actor } = adminCtx(req);
        const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => deps.db.withTenant(tenantId, { requestId }, fn);
        const op = { operation: 'approvals.relax' as const, applies: await inTenant((tx) => relaxesApprovals(tx, 'merge', patch)), arguments: patch };
        const out = await gated(deps, req, res, op, () => inTenant((tx) => mergeSettings(tx, deps.audit, { tenantId, requestId, actor }, patch)));
        if (out) res.json({ policyVersion: out.value });
      },
    ],
  });
  return r;
}
