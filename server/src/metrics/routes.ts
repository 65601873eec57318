// GET /metrics: Prometheus text, for a scraper holding PARLEY_METRICS_TOKEN. Without a configured token
// the endpoint does not exist (404); a missing or wrong token is a 401 problem that says nothing more.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';
import type { Metrics } from './registry.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time: both sides are hashed to the same length first, so neither length nor prefix leaks. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export function metricsRoutes(opts: { metrics: Metrics; token: string | null }): Router {
  const r = Router();
  route(r, '/metrics', {
    get: async (req, res) => {
      if (!opts.token) throw new HttpProblem(404, 'not-found', 'No metrics endpoint: set PARLEY_METRICS_TOKEN to enable it.');
      const m = /^Bearer ([^\s]+)$/.exec(req.get('authorization') ?? '');
      if (!m || !tokenMatches(m[1]!, opts.token)) {
        throw new HttpProblem(401, 'unauthenticated', 'The metrics token is missing or wrong.', { headers: { 'WWW-Authenticate': 'Bearer' } });
      }
      const body = await opts.metrics.registry.metrics();
      res.setHeader('Cache-Control', 'no-store');
      res.type(opts.metrics.registry.contentType).send(body);
    },
  });
  return r;
}
