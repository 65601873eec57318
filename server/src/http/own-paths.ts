// A router mounted at '/' is entered by every request that reaches it, and each of its routes is tried in
// turn: an admin search passed some 80 routes of 17 routers before its own (a tenth of its CPU time). Most
// routers serve paths under a few first segments of their own ("/knowledge/…", "/webhooks/…"); a request
// whose first segment is none of them cannot match any of their routes, and passes them at once instead.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

interface Layer {
  route?: { path?: unknown };
  rawPath?: unknown;
}

/** What path-to-regexp reads as other than literal text: a parameter, a wildcard, a group, an escape. */
const SPECIAL = /[:*?+(){}[\]!\\]/;
const ASCII = /^[\x20-\x7e]*$/;

/** The first segment of a path ("/knowledge/search" → "knowledge"), or null when not a literal one. */
function literalFirst(path: unknown, lower: boolean): string | null {
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  const end = path.indexOf('/', 1);
  const first = path.slice(1, end === -1 ? undefined : end);
  // Compared in lower case only where that is what the router's case-insensitive match means (ASCII).
  if (SPECIAL.test(first) || !ASCII.test(first)) return null;
  return lower ? first.toLowerCase() : first;
}

/**
 * The first segments of every path the router's layers match, or null when one of them could match any
 * (a middleware for every path, a regular expression, a parameter first).
 */
export function firstSegments(router: Router): Set<string> | null {
  const lower = !(router as Router & { caseSensitive?: boolean }).caseSensitive;
  const out = new Set<string>();
  for (const layer of router.stack as Layer[]) {
    const paths = layer.route ? [layer.route.path] : Array.isArray(layer.rawPath) ? layer.rawPath.flat(Infinity) : [layer.rawPath];
    for (const p of paths) {
      const first = literalFirst(p, lower);
      // A middleware at '/' (or a route at '/', whose first segment is empty) matches paths of any first segment.
      if (first === null || (first === '' && !layer.route)) return null;
      out.add(first);
    }
  }
  return out;
}

/** The first segment of a request's path as the routers at its level see it, or null when it has none. */
function firstOf(req: Request): string | null {
  const path = req.path;
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  const end = path.indexOf('/', 1);
  return path.slice(1, end === -1 ? undefined : end);
}

interface Member {
  router: Router;
  /** Its layers' count when `firsts` was read: layers added since are read again. */
  seen: number;
  firsts: Set<string> | null;
  lower: boolean;
}

/** Whether a request whose path's first segment is `exact` (`lower` in lower case) may match one of the member's layers. */
function enters(m: Member, exact: string | null, lower: string | null): boolean {
  if (m.seen !== m.router.stack.length) {
    m.firsts = firstSegments(m.router);
    m.seen = m.router.stack.length;
  }
  const first = m.lower ? lower : exact;
  return m.firsts === null || first === null || m.firsts.has(first);
}

/**
 * Passes the request to the members from `i` on that it may enter, in turn; then on. The path is read at each
 * step: a router before may have rewritten it (none of ours does).
 */
function dispatch(members: Member[], i: number, req: Request, res: Response, next: NextFunction): void {
  const exact = firstOf(req);
  const lower = exact?.toLowerCase() ?? null;
  for (; i < members.length; i++) {
    if (!enters(members[i]!, exact, lower)) continue;
    const after = i + 1;
    members[i]!.router(req, res, (err?: unknown) => (err ? next(err) : dispatch(members, after, req, res, next)));
    return;
  }
  next();
}

/**
 * `routers`, mounted together in this order: a request enters only those whose layers match its path's first
 * segment (all of them that have a layer that could match any path), as if each were mounted alone. An error
 * passes them all, as it passes any router.
 */
export function ownPaths(...routers: Router[]): RequestHandler & { readonly stack: Router['stack'] } {
  const members: Member[] = routers.map((router) => ({
    router,
    seen: -1,
    firsts: null,
    lower: !(router as Router & { caseSensitive?: boolean }).caseSensitive,
  }));
  const handler: RequestHandler = (req, res, next) => dispatch(members, 0, req, res, next);
  // The route tables (http/router-table.ts, the route × role matrix) read the routers' layers through it.
  return Object.defineProperty(handler, 'stack', { get: () => routers.flatMap((r) => r.stack) }) as RequestHandler & {
    readonly stack: Router['stack'];
  };
}
