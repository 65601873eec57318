import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { KekUnavailableError } from '../crypto/kek.js';
import { bodyParserProblem } from './body.js';
import { DomainError, type DomainCode } from '../errors.js';
import type { Problem } from '@parley/protocol';
import { HttpProblem, problemBody, problems, sendProblem } from './problem.js';

export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new HttpProblem(404, 'not-found', `No route for ${req.method} ${req.path}.`));
}

/** The router's refusal of a path parameter that is not valid percent-encoding (e.g. `/demo/help/%`). */
function pathProblem(err: unknown): HttpProblem | null {
  const e = err as { status?: unknown; message?: unknown } | null;
  if (e?.status === 400 && typeof e.message === 'string' && e.message.startsWith('Failed to decode param')) {
    return new HttpProblem(400, 'malformed-request', 'The path is not valid percent-encoding.');
  }
  return null;
}

/** Each domain error code as the problem it is on the wire: the one table. */
const DOMAIN_PROBLEMS: Record<DomainCode, (e: DomainError) => HttpProblem> = {
  not_found: (e) => problems.notFound(e.message),
  unauthenticated: (e) => problems.unauthenticated(e.message),
  invalid_input: (e) => problems.validation(e.details.errors ?? [], e.message),
  quota_exceeded: (e) => new HttpProblem(409, 'quota-exceeded', e.message, e.details.quota ? { quota: e.details.quota } : {}),
  too_many_streams: (e) => new HttpProblem(429, 'rate-limited', e.message, { headers: { 'Retry-After': String(e.details.retryAfterSeconds ?? 15) } }),
  throttled: (e) => new HttpProblem(429, 'rate-limited', e.message, { headers: { 'Retry-After': String(e.details.retryAfterSeconds ?? 60) } }),
  forbidden: (e) => problems.forbidden(e.message),
  missing_capability: (e) => problems.missingCapability(e.details.capability ?? 'unknown', e.message),
  origin_not_allowed: (e) => new HttpProblem(403, 'origin-not-allowed', e.message),
  identity_required: (e) => new HttpProblem(403, 'identity-required', e.message),
  budget_exceeded: (e) =>
    new HttpProblem(429, 'budget-exceeded', e.message, { headers: { 'Retry-After': String(e.details.retryAfterSeconds ?? 60) } }),
  conflict: (e) => new HttpProblem(409, 'conflict', e.message, e.details.assignedTo !== undefined ? { assignedTo: e.details.assignedTo } : {}),
  token_invalid: (e) => new HttpProblem(401, 'token-invalid', e.message),
  token_expired: (e) => new HttpProblem(401, 'token-expired', e.message),
  token_replayed: (e) => new HttpProblem(401, 'token-replayed', e.message),
  sso_required: (e) => new HttpProblem(403, 'sso-required', e.message),
  mail_not_sent: (e) => new HttpProblem(502, 'mail-not-sent', e.message),
};

/** A known refusal (a problem, or a service's domain error) as its problem; null for anything else. */
export function asProblem(err: unknown): HttpProblem | null {
  if (err instanceof HttpProblem) return err;
  if (err instanceof DomainError) return DOMAIN_PROBLEMS[err.code](err);
  return null;
}

/** Logs an error no table knows (message, code and stack only: driver errors can carry row values in other fields). */
function logUnhandled(logger: Logger, req: Request, err: unknown, msg: string): void {
  const e = err as { message?: string; code?: string; stack?: string };
  logger.error({ requestId: req.id, err: { message: e?.message, code: e?.code, stack: e?.stack } }, msg);
}

/**
 * An error that ended a streamed answer after the stream opened, as the problem its `error` event
 * carries (built like any response's) and logged: unknown errors in full, refusals by their type only.
 */
export function streamProblem(logger: Logger, req: Request, err: unknown, detail500: string): Problem {
  let p = asProblem(err);
  if (p) logger.warn({ requestId: req.id, problem: p.slug, status: p.status }, 'stream ended by a problem');
  else {
    logUnhandled(logger, req, err, 'stream failed');
    p = new HttpProblem(500, 'internal', detail500);
  }
  return problemBody(req, p);
}

/** The last middleware: known problems go out as they are; anything else is a 500 with no internals. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let problem = asProblem(err) ?? bodyParserProblem(err) ?? pathProblem(err);
    if (!problem && err instanceof KekUnavailableError) {
      logger.warn({ requestId: req.id, err: { message: err.message } }, 'key service unavailable');
      problem = new HttpProblem(503, 'service-unavailable', 'A key service is unavailable; try again shortly.', { headers: { 'Retry-After': '30' } });
    }
    if (!problem) {
      logUnhandled(logger, req, err, 'unhandled error');
      problem = new HttpProblem(500, 'internal', 'Something went wrong on our side. Quote the request id when you contact support.');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(req, res, problem);
  };
}
