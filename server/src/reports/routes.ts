// Reports for the console and for keys holding `conversations:read`: the same redacted data an agent
// already reads, aggregated; no separate capability.
import { ReportQuery } from '@parley/protocol';
import { Router } from 'express';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { buildReport } from './service.js';

export function reportsRoutes(deps: { db: Db }): Router {
  const r = Router();
  route(r, '/reports', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        const q = parse(ReportQuery, req.query, 'query');
        // Visitor questions, even redacted, stay out of browser and proxy caches.
        res.setHeader('Cache-Control', 'no-store').json(await buildReport(deps.db, adminCtx(req), q));
      },
    ],
  });
  return r;
}
