// The widget API's front door: the publishable key names the tenant, the page's Origin must be one of
// the tenant's allowed domains, and CORS answers only those origins. Refusals are audited through the
// refusal log: bounded facts, one entry per tenant × origin (or reason) per window, with a count.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditLog } from '../audit/log.js';
import { boundedPath, normaliseOrigin, type RefusalLog } from '../audit/refusals.js';
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';
import { PUBLISHABLE_KEY_SHAPE } from '../tenants/secrets.js';
import { allowedDomainPatterns, type Env } from '../tenants/service.js';
import { allowsOrigin, type WidgetFrontCache } from './front-cache.js';
import type { WidgetClaims, WidgetTokens } from './tokens.js';

export interface WidgetRequestContext {
  tenantId: string;
  origin: string;
  session?: WidgetClaims;
}

declare module 'express-serve-static-core' {
  interface Request {
    widget?: WidgetRequestContext;
  }
}

const ALLOW_HEADERS = 'Authorization, Content-Type, X-Parley-Key, X-Parley-Visitor, X-Request-Id, Last-Event-ID';

export interface GateDeps {
  db: Db;
  audit: AuditLog;
  refusals: RefusalLog;
  env: Env;
  tokens: WidgetTokens;
  /** Keys' tenants and allowed origins, kept for a few seconds (front-cache.ts). */
  cache: WidgetFrontCache;
}

// Express parses the query string again on each read of req.query: read once.
const queryKey = (key: unknown) => (typeof key === 'string' ? key : null);

function publishableKey(req: Request): string | null {
  const raw = req.get('x-parley-key') ?? queryKey(req.query.key);
  return raw && PUBLISHABLE_KEY_SHAPE.test(raw) ? raw : null;
}

async function refuse(
  deps: GateDeps,
  req: Request,
  tenantId: string,
  action: string,
  subject: { field: string; value: string | null },
  metadata: Record<string, unknown> = {},
) {
  await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
    deps.refusals.record(tx, { tenantId, requestId: req.id, action, subject, metadata }),
  );
}

/** Resolves tenant and origin; answers preflights; refuses (and audits) pages that are not allowed. */
export function widgetGate(deps: GateDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    // Browsers omit Origin on same-origin GETs (a page served by this server, like the demo); the
    // fetch metadata header, which page scripts cannot set, says so, and the Host is then the origin.
    const origin = req.get('origin') ?? (req.get('sec-fetch-site') === 'same-origin' ? `${req.protocol}://${req.get('host')}` : undefined);
    const key = publishableKey(req);
    if (!key) return next(new DomainError('unauthenticated', 'Send the publishable key as X-Parley-Key or ?key=.'));
    const entry = await deps.cache.key(key, async () => {
      const [resolved] = await deps.db.callDefiner<{ tenant_id: string }>('parley_resolve_publishable_key', [key]);
      const tenantId = resolved?.tenant_id;
      if (!tenantId) return null;
      const patterns = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => allowedDomainPatterns(tx, deps.env));
      return { tenantId, patterns, verdicts: new Map() };
    });
    if (!entry) return next(new DomainError('unauthenticated', 'The publishable key is unknown or revoked.'));
    const { tenantId } = entry;
    if (!origin || !allowsOrigin(entry, origin)) {
      if (req.method !== 'OPTIONS')
        await refuse(
          deps,
          req,
          tenantId,
          'widget.origin_refused',
          { field: 'origin', value: normaliseOrigin(origin) },
          { path: boundedPath(req.path) },
        );
      return next(new DomainError('origin_not_allowed', 'This page is not on the allowed domains for this key.'));
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    req.widget = { tenantId, origin };
    next();
  };
}

/** The session token of a widget request (`Authorization: Bearer …`), or null. */
export const bearerToken = (req: Request): string | null => /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? null;

/** Requires a widget session token of this tenant, presented from the origin it was issued to. */
export function widgetSession(deps: GateDeps): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const w = req.widget!;
    const token = bearerToken(req);
    if (!token) return next(new DomainError('unauthenticated', 'Send the widget session token as a Bearer token.'));
    const claims = await deps.tokens.verify(token);
    if (claims.tenantId !== w.tenantId) {
      await refuse(deps, req, w.tenantId, 'widget.token_refused', { field: 'reason', value: 'other_tenant' });
      return next(new DomainError('token_invalid', 'The session token belongs to another tenant.'));
    }
    if (claims.origin !== w.origin) {
      await refuse(deps, req, w.tenantId, 'widget.token_refused', { field: 'reason', value: 'other_origin' }, { origin: normaliseOrigin(w.origin) });
      return next(new DomainError('token_invalid', 'The session token was issued to another origin.'));
    }
    w.session = claims;
    next();
  };
}
