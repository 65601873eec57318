import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// A caller's own id is kept (for the request log) only when it is harmless to log.
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    /** The X-Request-Id the caller (a gateway) sent, if well-formed: logged beside ours, never used as ours. */
    upstreamId?: string;
  }
}

/**
 * The request id is always the server's own: it names audit entries, problems and traces, so no caller
 * may choose it (or reuse one already in the audit log).
 */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('x-request-id');
  req.id = `req_${randomUUID().replaceAll('-', '')}`;
  if (incoming && WELL_FORMED.test(incoming)) req.upstreamId = incoming;
  res.setHeader('X-Request-Id', req.id);
  next();
}
