import type { Capability, MemberRole } from '@parley/protocol';
import type { Request } from 'express';
import type { ActorRef } from '../db/types.js';

/**
 * What an authenticated admin request carries: a secret key (servers and scripts) or a person's console
 * session. Either way the capabilities come from one place (the key's list, or the role's row of the
 * permission table in protocol) and are checked by one function (tenants/auth.ts).
 */
export interface AdminAuth {
  tenantId: string;
  capabilities: Set<Capability>;
  /** The secret key, when a key authenticated the request. */
  keyId: string | null;
  /** The person, when a console session authenticated the request. */
  member: { id: string; role: MemberRole; sessionId: string } | null;
  /** A key's capabilities its maker's current role lacks (tenants/key-bounds.ts), so a refusal can say why. */
  heldBack?: { capabilities: ReadonlySet<Capability>; makerRole: MemberRole };
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

/** The audit actor of an admin request: the person, or the key. */
export const adminActor = (admin: AdminAuth): ActorRef =>
  admin.member ? { type: 'member', id: admin.member.id } : { type: 'api_key', id: admin.keyId };

export function adminCtx(req: Request): RequestCtx & { tenantId: string; admin: AdminAuth } {
  const admin = req.admin;
  if (!admin) throw new Error('admin route mounted without authentication');
  return { requestId: req.id, actor: adminActor(admin), tenantId: admin.tenantId, admin };
}

/** `{ requestId, actor }` for services and audit entries. */
export const by = (req: Request): RequestCtx => {
  const { requestId, actor } = adminCtx(req);
  return { requestId, actor };
};
