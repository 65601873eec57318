// Bearer secret-key authentication and capability checks for the admin API.
import type { Capability } from '@parley/protocol';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/index.js';
import { problems } from '../http/problem.js';
import { hashSecret, SECRET_KEY_SHAPE } from './secrets.js';

export function secretKeyAuth(db: Db): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const secret = m?.[1];
    if (!secret || !SECRET_KEY_SHAPE.test(secret)) {
      return next(problems.unauthenticated('Send a secret key as `Authorization: Bearer sk_…`.'));
    }
    const { rows } = await db.withoutTenant({ requestId: req.id }, (tx) =>
      tx.query<{ key_id: string; tenant_id: string; capabilities: Capability[] }>(
        'SELECT key_id, tenant_id, capabilities FROM parley_resolve_secret_key($1)',
        [hashSecret(secret)],
      ),
    );
    const key = rows[0];
    if (!key) return next(problems.unauthenticated('The key is unknown, revoked or expired.'));
    req.admin = { tenantId: key.tenant_id, keyId: key.key_id, capabilities: new Set(key.capabilities) };
    next();
  };
}

export function requireCapability(capability: Capability): RequestHandler {
  return (req, _res, next) => {
    if (!req.admin) return next(problems.unauthenticated());
    if (!req.admin.capabilities.has(capability)) return next(problems.missingCapability(capability));
    next();
  };
}
