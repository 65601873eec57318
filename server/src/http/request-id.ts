import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// Accept a caller's id only when it is harmless to echo and log.
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('x-request-id');
  req.id = incoming && WELL_FORMED.test(incoming) ? incoming : `req_${randomUUID().replaceAll('-', '')}`;
  res.setHeader('X-Request-Id', req.id);
  next();
}
