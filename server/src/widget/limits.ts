// Rate limits of the widget API. A request with a valid session token counts against its visitor's
// session and against its tenant (a higher ceiling for all its visitors together), not against its
// address: many visitors share one (an office, a carrier NAT). Requests without one — and every
// request that mints a session (config, refresh), token or not, else one session could mint
// unlimited others — count against their address. CORS preflights have a window of their own per
// address: a browser preflights each distinct URL it calls (once per Max-Age), so 100 visitors behind
// one address send several hundred a minute; a preflight costs two indexed lookups and writes nothing.
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { AddressLimit, RateLimits } from '../http/rate-limit.js';
import type { WidgetClaims, WidgetTokens } from './tokens.js';

export interface WidgetLimits {
  /** Runs first on every widget request. */
  gate: RequestHandler;
  /** On the routes that issue a session: always charged to the address. */
  minting: RequestHandler;
}

export function widgetLimits(
  limits: RateLimits,
  address: AddressLimit,
  tokens: WidgetTokens,
  perMinute: { session: number; tenant: number; preflight: number },
): WidgetLimits {
  const sessions = new WeakMap<Request, WidgetClaims>();
  const claims = (req: Request) => sessions.get(req)!;
  const perSession = limits.limiter('widget-session', perMinute.session, (req) => `${claims(req).tenantId}:${claims(req).visitorRef}`);
  // The session's headers are the ones a visitor can act on; the tenant's show only on its 429.
  const perTenant = limits.limiter('widget-tenant', perMinute.tenant, (req) => claims(req).tenantId, { headers: false });
  const preflight = limits.limiter('widget-preflight', perMinute.preflight, (req) => ipKeyGenerator(req.ip ?? ''));
  const gate: RequestHandler = async (req, res, next) => {
    if (req.method === 'OPTIONS') return preflight(req, res, next);
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    // The signature check costs no database round trip; the session middleware checks the rest.
    const verified = m ? await tokens.verify(m[1]!).catch(() => null) : null;
    if (!verified) return address(req, res, next);
    sessions.set(req, verified);
    perSession(req, res, (err?: unknown) => (err ? next(err) : perTenant(req, res, next)));
  };
  return { gate, minting: address };
}
