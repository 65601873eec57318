// Health probes and the RFC 9116 security.txt.
import { Router } from 'express';
import type { Db } from '../db/index.js';
import type { Drain } from './drain.js';
import { HttpProblem } from './problem.js';
import { route } from './routes.js';

export function wellKnownRoutes(opts: { db: Db; publicUrl: string; securityContact: string; drain?: Drain }): Router {
  const r = Router();
  route(r, '/healthz', { get: (_req, res) => void res.json({ status: 'ok' }) });
  route(r, '/readyz', {
    get: async (req, res) => {
      // Shutting down: the load balancer should send nothing new here.
      if (opts.drain?.draining) throw new HttpProblem(503, 'service-unavailable', 'This instance is shutting down.');
      try {
        await opts.db.withoutTenant({ requestId: req.id }, (tx) => tx.query('SELECT 1'));
      } catch {
        throw new HttpProblem(503, 'service-unavailable', 'The database is not reachable.');
      }
      res.json({ status: 'ready' });
    },
  });
  route(r, '/.well-known/security.txt', {
    get: (_req, res) => {
      // Expires must be less than a year ahead (RFC 9116 §2.5.5); regenerated on every request.
      const expires = new Date(Date.now() + 180 * 24 * 3600 * 1000);
      expires.setUTCHours(0, 0, 0, 0);
      res
        .type('text/plain; charset=utf-8')
        .send(
          [
            `Contact: ${opts.securityContact}`,
            `Expires: ${expires.toISOString()}`,
            'Preferred-Languages: en',
            `Canonical: ${opts.publicUrl}/.well-known/security.txt`,
            `Policy: ${opts.publicUrl}/docs/security`,
            '',
          ].join('\n'),
        );
    },
  });
  return r;
}
