// Rate limits of the widget API. A request with a valid session token counts against its visitor's
// session and against its tenant (a higher ceiling for all its visitors together), not against a small
// per-address limit: many visitors share one address (an office, a carrier NAT). But no one address may
// spend more than a share of its tenant's ceiling (a quarter by default, PARLEY_WIDGET_ADDRESS_RATE_LIMIT):
// sessions are cheap to mint, and one source that spent the whole ceiling would lock every other visitor
// of the site out; a hundred ordinary visitors behind one address stay well under it. Requests without
// a token — and every request that mints a session (config, refresh), token or not, else one session
// could mint unlimited others — count against their address. CORS preflights have a window of their own
// per address: a browser preflights each distinct URL it calls (once per Max-Age), so 100 visitors behind
// one address send several hundred a minute; a preflight costs two indexed lookups and writes nothing.
//
// A request is counted against the tenant last, once every narrower limit let it through: what a session,
// an address's share or (when it mints) the address refuses does not eat into what the tenant's other
// visitors may use.
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

/**
 * The routes that issue a session (routes.ts puts `minting` on each), as the gate sees them: there the
 * address is charged before the tenant. One missed here is still charged to its address by `minting`.
 */
const MINTING = new Set(['GET /config', 'HEAD /config', 'POST /session', 'POST /session/refresh']);
const mints = (req: Request) => MINTING.has(`${req.method} ${req.path.toLowerCase().replace(/(?<=.)\/$/, '')}`);

export function widgetLimits(
  limits: RateLimits,
  address: AddressLimit,
  tokens: WidgetTokens,
  perMinute: { session: number; tenant: number; address: number; preflight: number },
): WidgetLimits {
  const sessions = new WeakMap<Request, WidgetClaims>();
  const claims = (req: Request) => sessions.get(req)!;
  const client = (req: Request) => ipKeyGenerator(req.ip ?? '');
  const perSession = limits.limiter('widget-session', perMinute.session, (req) => `${claims(req).tenantId}:${claims(req).visitorRef}`);
  // The session's headers are the ones a visitor can act on; the address's share and the tenant's show
  // only on their 429.
  const perAddress = limits.limiter('widget-address', perMinute.address, (req) => `${claims(req).tenantId}:${client(req)}`, { headers: false });
  const perTenant = limits.limiter('widget-tenant', perMinute.tenant, (req) => claims(req).tenantId, { headers: false });
  const preflight = limits.limiter('widget-preflight', perMinute.preflight, client);
  /** Runs `steps` in order, each only when the one before let the request through. */
  const chain =
    (...steps: RequestHandler[]): RequestHandler =>
    (req, res, next) => {
      const run = (i: number) => (i === steps.length ? next() : steps[i]!(req, res, (err?: unknown) => (err ? next(err) : run(i + 1))));
      run(0);
    };
  const counted = chain(perSession, perAddress, perTenant);
  // The address's own limit when the request mints (it is charged once: `minting` lets it through after).
  const countedMinting = chain(perSession, perAddress, address, perTenant);
  const gate: RequestHandler = async (req, res, next) => {
    if (req.method === 'OPTIONS') return preflight(req, res, next);
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    // The signature check costs no database round trip; the session middleware checks the rest.
    const verified = m ? await tokens.verify(m[1]!).catch(() => null) : null;
    if (!verified) return address(req, res, next);
    sessions.set(req, verified);
    (mints(req) ? countedMinting : counted)(req, res, next);
  };
  return { gate, minting: address };
}
