import type { Capability, MemberRole } from '@parley/protocol';
import type { Request } from 'express';
import type { ActorRef, TxContext } from '../db/types.js';
import { authorityOf } from '../tenants/authority.js';

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
  /**
   * The member behind the request: the person signed in, or the member who made the key; null for a key no
   * person made (the CLI's). Its writes hold them (tenants/authority.ts).
   */
  person: string | null;
  /** A key's capabilities its maker's current role lacks (tenants/key-bounds.ts), so a refusal can say why. */
  heldBack?: { capabilities: ReadonlySet<Capability>; makerRole: MemberRole };
}

declare module 'express-serve-static-core' {
  interface Request {
    admin?: AdminAuth;
  }
}

/**
 * What a service is given for a request: its id, who acts and, for a request made with a member's authority,
 * that authority (TxContext). Passed as it is to withTenant, each read-write tenant transaction of the request
 * holds that member (tenants/authority.ts); a context built by hand from its id alone holds nobody.
 */
export interface RequestCtx extends TxContext {
  actor: ActorRef;
}

/** The audit actor of an admin request: the person, or the key. */
export const adminActor = (admin: AdminAuth): ActorRef =>
  admin.member ? { type: 'member', id: admin.member.id } : { type: 'api_key', id: admin.keyId };

/**
 * The context a service is given for an admin request. Its `authority` goes with it to the database: each
 * read-write tenant transaction opened with this context (or one spread from it) holds the person behind
 * the request until it commits, and is refused once they are gone or hold less (tenants/authority.ts).
 */
export function adminCtx(req: Request): RequestCtx & { tenantId: string; admin: AdminAuth } {
  const admin = req.admin;
  if (!admin) throw new Error('admin route mounted without authentication');
  return { requestId: req.id, actor: adminActor(admin), tenantId: admin.tenantId, admin, authority: authorityOf(admin) };
}
