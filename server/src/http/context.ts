import type { Capability } from '@parley/protocol';
import type { Request } from 'express';
import type { ActorRef } from '../db/types.js';

/** What an authenticated admin request carries. */
export interface AdminAuth {
  tenantId: string;
  keyId: string;
  capabilities: Set<Capability>;
}

declare module 'express-serve-static-core' {
  interface Request {
    admin?: AdminAuth;
  }
}

export interface RequestCtx {
  requestId: string | null;
  actor: ActorRef;
}

export function adminCtx(req: Request): RequestCtx & { tenantId: string; admin: AdminAuth } {
  const admin = req.admin;
  if (!admin) throw new Error('admin route mounted without authentication');
  return { requestId: req.id, actor: { type: 'api_key', id: admin.keyId }, tenantId: admin.tenantId, admin };
}
