// Caches of what a write may change are dropped when a write request ends, just before its response is
// sent: a client that sees the response never reads the value it replaced from this instance.
import type { Request, RequestHandler } from 'express';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function invalidatesOnWrite(drop: (req: Request) => void): RequestHandler {
  return (req, res, next) => {
    if (READS.has(req.method)) return next();
    const end = res.end;
    res.end = function (this: typeof res, ...args: Parameters<typeof end>) {
      drop(req);
      return end.apply(this, args);
    } as typeof end;
    next();
  };
}
