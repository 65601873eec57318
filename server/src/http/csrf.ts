// Cross-site request forgery: a state-changing request that a browser sends with our cookies must come
// from our own pages. Browsers send Origin on every non-GET request and Fetch Metadata on every request;
// both must say "this origin". Requests authenticated by a Bearer key carry no ambient credential and
// are not checked here.
import type { Request, RequestHandler } from 'express';
import { problems } from './problem.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function assertSameOrigin(req: Request, origin: string): void {
  if (SAFE.has(req.method)) return;
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') throw problems.forbidden(`Cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 20)}).`);
  const from = req.get('origin');
  if (from !== origin)
    throw problems.forbidden(
      from
        ? 'Cross-origin request refused: the console only accepts requests from its own pages.'
        : 'Request refused: a browser request that changes something must carry its Origin.',
    );
}

/** The same check as middleware, for routes a browser reaches without a session yet (sign-in, MFA step). */
export const sameOriginOnly =
  (origin: string): RequestHandler =>
  (req, _res, next) => {
    try {
      assertSameOrigin(req, origin);
      next();
    } catch (err) {
      next(err);
    }
  };

/**
 * For a read only our own pages make (what the browser's cookies say about a session): Fetch Metadata's
 * resource isolation policy, so another site's page cannot even send it. Browsers that predate Fetch
 * Metadata send no header and are let through; SameSite=Strict already keeps the cookies from them.
 */
export const sameOriginRead: RequestHandler = (req, _res, next) => {
  const site = req.get('sec-fetch-site');
  next(
    site !== undefined && site !== 'same-origin'
      ? problems.forbidden(`Cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 20)}).`)
      : undefined,
  );
};

/** The client's address as throttles count it (the proxy's view when PARLEY_TRUST_PROXY is set). */
export const clientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
