// Fixed-window limits per client address and per admin key; over the limit is a 429 problem.
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpProblem } from './problem.js';

export function limiter(perMinute: number, key: (req: Request) => string = (req) => ipKeyGenerator(req.ip ?? '')): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: key,
    handler: (_req, _res, next, options) =>
      next(
        new HttpProblem(429, 'rate-limited', `Slow down: at most ${options.limit} requests a minute.`, {
          headers: { 'Retry-After': String(Math.ceil(options.windowMs / 1000)) },
        }),
      ),
  });
}
