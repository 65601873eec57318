// GET / PUT /v1/admin/settings: the tenant's settings, read and written through the one settings module.
import { PutSettingsRequest } from '@parley/protocol';
import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from './auth.js';
import { readSettings, writeSettings } from './settings.js';

export function settingsRoutes(deps: { db: Db; audit: AuditLog }): Router {
  const r = Router();
  route(r, '/settings', {
    get: [can('settings:read'), async (req, res) => {
      const { tenantId } = adminCtx(req);
      const s = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => readSettings(tx));
      res.json({ settings: s.settings, policyVersion: s.policyVersion });
    }],
    put: [can('settings:write'), async (req, res) => {
      const body = parse(PutSettingsRequest, req.body);
      const { tenantId, requestId, actor } = adminCtx(req);
      const version = await deps.db.withTenant(tenantId, { requestId }, (tx) => writeSettings(tx, deps.audit, { tenantId, requestId, actor }, body));
      res.json({ policyVersion: version });
    }],
  });
  return r;
}
