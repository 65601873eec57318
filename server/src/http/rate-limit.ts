// Fixed-window request limits; over a limit is a 429 problem with Retry-After and RateLimit headers.
// Who is counted: a widget visitor's session (and its tenant, with a bounded share of it for each
// address: widget/limits.ts), an admin key or signed-in person — and the client address only for requests
// that are not authenticated (an office or a carrier NAT puts many visitors behind one address). Counters
// live in a shared store (limit-store.ts), so a limit holds across instances.
//
// A store that cannot be reached (Redis down) lets requests through: fail open. Failing closed would
// turn a Redis outage into an outage of the whole API, widget included; what guards money and
// accounts does not depend on it (the AI budget and sign-in throttling count in PostgreSQL), and the
// outage is logged once.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { LimitStores } from './limit-store.js';
import { HttpProblem } from './problem.js';

const WINDOW_MS = 60_000;

/**
 * Requests already charged to some limit, and those charged to their address (at most once each): marks on
 * the request itself, as a WeakSet entry per request cost more (and work for every scavenge).
 */
const CHARGED = Symbol('charged');
const CHARGED_TO_ADDRESS = Symbol('chargedToAddress');
type Marked = Request & { [CHARGED]?: true; [CHARGED_TO_ADDRESS]?: true };

export interface LimiterOptions {
  /** Requests this limiter lets through unchanged (and does not count). */
  skip?: (req: Request) => boolean;
  /** Whether a response that passes carries this limiter's RateLimit headers (a 429 always does). */
  headers?: boolean;
}

export class RateLimits {
  private readonly names = new Set<string>();
  constructor(
    private readonly stores: LimitStores,
    private readonly logger: Logger,
  ) {}

  /** A limit of `perMinute` requests per `key`; `name` keeps its counters apart from other limits'. */
  limiter(name: string, perMinute: number, key: (req: Request) => string, opts: LimiterOptions = {}): RequestHandler {
    if (this.names.has(name)) throw new Error(`rate limit ${name} defined twice`);
    this.names.add(name);
    const log = (level: 'warn' | 'error') => (err: unknown, message?: string) =>
      this.logger[level]({ limit: name, err: { message: (err as Error)?.message ?? String(err) } }, message ?? 'rate limit');
    const limit = rateLimit({
      windowMs: WINDOW_MS,
      limit: perMinute,
      standardHeaders: opts.headers === false ? false : 'draft-7',
      legacyHeaders: false,
      store: this.stores.create(name),
      passOnStoreError: true,
      logger: { warn: log('warn'), error: log('error') },
      // Keys here are never raw addresses but for the per-address limit, which uses ipKeyGenerator.
      validate: { keyGeneratorIpFallback: false },
      keyGenerator: key,
      skip: opts.skip,
      handler: (req, _res, next, options) => {
        const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
        const seconds = Math.max(1, Math.ceil(((info?.resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000));
        next(
          new HttpProblem(429, 'rate-limited', `Slow down: at most ${info?.limit ?? perMinute} requests a minute.`, {
            headers: {
              'Retry-After': String(seconds),
              RateLimit: `limit=${info?.limit ?? perMinute}, remaining=0, reset=${seconds}`,
              'RateLimit-Policy': `${info?.limit ?? perMinute};w=${Math.round(options.windowMs / 1000)}`,
            },
          }),
        );
      },
    });
    return (req, res, next) => {
      if (!opts.skip?.(req)) (req as Marked)[CHARGED] = true;
      return limit(req, res, next);
    };
  }

  /**
   * The per-address limit for requests that are not authenticated. One counter per address however
   * many places it is mounted, and a request is charged to it at most once.
   */
  perAddress(perMinute: number): AddressLimit {
    const limit = this.limiter('address', perMinute, (req) => ipKeyGenerator(req.ip ?? ''));
    const mw: RequestHandler = (req, res, next) => {
      // Already charged (a second mount on its way): through, without the limiter's work.
      if ((req as Marked)[CHARGED_TO_ADDRESS]) return next();
      void limit(req, res, (err?: unknown) => {
        (req as Marked)[CHARGED_TO_ADDRESS] = true;
        next(err);
      });
    };
    const unless =
      (authenticated: (req: Request) => boolean): RequestHandler =>
      (req, res, next) =>
        authenticated(req) ? next() : mw(req, res, next);
    // A request that failed before any limit counted it (a bad credential, a body that did not parse,
    // an unknown path under an authenticated prefix) is charged to its address.
    const onError: ErrorRequestHandler = (err, req, res, next) => {
      if ((req as Marked)[CHARGED] || res.headersSent) return next(err);
      mw(req, res, (limited?: unknown) => next(limited ?? err));
    };
    return Object.assign(mw, { unless, onError });
  }
}

export type AddressLimit = RequestHandler & {
  /** The limit, except for requests `authenticated` says another limit counts further on. */
  unless(authenticated: (req: Request) => boolean): RequestHandler;
  /** Error middleware: charges a failed request no limit counted to its address. */
  onError: ErrorRequestHandler;
};
