// Route registration that answers 405 (with Allow) for a known path and an unknown method.
import type { RequestHandler, Router } from 'express';
import { HttpProblem } from './problem.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Handlers = Partial<Record<Method, RequestHandler | RequestHandler[]>>;

export function route(router: Router, path: string | RegExp, handlers: Handlers): void {
  const r = router.route(path);
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
