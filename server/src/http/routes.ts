// Route registration that answers 405 (with Allow) for a known path and an unknown method.
import type { RequestHandler, Router } from 'express';
import { HttpProblem } from './problem.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Handlers = Partial<Record<Method, RequestHandler | RequestHandler[]>>;

/**
 * `paths`: the OpenAPI path templates this route serves, when Express's own path does not say them (a
 * regular expression, or a trailing-slash path that also answers without it): what the contract test
 * compares with protocol's operations (http/router-table.ts).
 */
export function route(router: Router, path: string | RegExp, handlers: Handlers, paths?: string[]): void {
  const r = router.route(path);
  if (paths) Object.assign(r, { openApiPaths: paths });
  const allow: string[] = [];
  for (const [method, h] of Object.entries(handlers) as [Method, RequestHandler | RequestHandler[]][]) {
    r[method](...(Array.isArray(h) ? h : [h]));
    allow.push(method.toUpperCase());
  }
  if (allow.includes('GET')) allow.push('HEAD');
  r.all((_req, _res, next) =>
    next(new HttpProblem(405, 'method-not-allowed', `Allowed: ${allow.join(', ')}.`, { headers: { Allow: allow.join(', ') } })),
  );
}
