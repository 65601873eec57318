// Authentication and capability checks for the admin API: a Bearer secret key (servers and scripts) or a
// person's console session (cookies, CSRF-checked). Both end as one AdminAuth, checked by one function.
import { capabilitiesOf, type Capability, type MemberRole } from '@parley/protocol';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/index.js';
import type { AdminAuth } from '../http/context.js';
import { assertSameOrigin } from '../http/csrf.js';
import { DomainError, missingCapability } from '../errors.js';
import type { MemberSessions } from '../people/sessions.js';
import type { SecretKeyCache } from './key-cache.js';
import { heldBack, usableCapabilities, type KeyMakerNow } from './key-bounds.js';
import { hashSecret, SECRET_KEY_SHAPE } from './secrets.js';

async function keyAuth(db: Db, keys: SecretKeyCache, authorization: string): Promise<AdminAuth> {
  const secret = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (!secret || !SECRET_KEY_SHAPE.test(secret)) throw new DomainError('unauthenticated', 'Send a secret key as `Authorization: Bearer sk_…`.');
  const hash = hashSecret(secret);
  const key = await keys.resolve(hash, async () => {
    const [row] = await db.callDefiner<{
      key_id: string;
      tenant_id: string;
      capabilities: Capability[];
      expires_at: Date | null;
      maker_id: string | null;
      maker_role: MemberRole | null;
      maker_status: string | null;
    }>('parley_resolve_secret_key', [hash]);
    if (!row) return null;
    // A key naming a member who is no longer one is worth nothing (fail closed): only a key naming nobody is the CLI's.
    const maker: KeyMakerNow = !row.maker_id
      ? null
      : row.maker_role && row.maker_status
        ? { role: row.maker_role, status: row.maker_status }
        : 'gone';
    const held = heldBack(row.capabilities, maker);
    return {
      keyId: row.key_id,
      tenantId: row.tenant_id,
      capabilities: usableCapabilities(row.capabilities, maker),
      heldBack: maker && maker !== 'gone' && held.length ? { capabilities: held, makerRole: maker.role } : null,
      makerId: row.maker_id,
      makerDisabled: maker !== 'gone' && maker?.status === 'disabled',
      makerGone: maker === 'gone',
      expiresAt: row.expires_at?.getTime() ?? null,
    };
  });
  if (!key) throw new DomainError('unauthenticated', 'The key is unknown, revoked or expired.');
  if (key.makerGone) throw new DomainError('unauthenticated', 'The member who made this key is no longer a member: the key no longer works.');
  if (key.makerDisabled) throw new DomainError('unauthenticated', 'The member who made this key is disabled: it works again if they are enabled.');
  const auth: AdminAuth = { tenantId: key.tenantId, keyId: key.keyId, member: null, person: key.makerId, capabilities: new Set(key.capabilities) };
  if (key.heldBack) auth.heldBack = { capabilities: new Set(key.heldBack.capabilities), makerRole: key.heldBack.makerRole };
  return auth;
}

/** Secret keys only: the API channel (`/v1/answers`) is for servers. */
export function secretKeyAuth(db: Db, keys: SecretKeyCache): RequestHandler {
  return (req, _res, next) =>
    void keyAuth(db, keys, req.get('authorization') ?? '').then((admin) => {
      req.admin = admin;
      next();
    }, next);
}

// What a request is marked with on its way, as properties of its own rather than WeakMap entries: an entry
// per request in a WeakMap cost more than the rest of the credential check (and work for every scavenge).
const REAUTHENTICATE = Symbol('reauthenticate');
const GRANTED = Symbol('granted');
type Marked = Request & { [REAUTHENTICATE]?: (req: Request) => Promise<AdminAuth>; [GRANTED]?: Capability };

export function adminAuth(db: Db, keys: SecretKeyCache, sessions: MemberSessions, origin: string): RequestHandler {
  const authenticate = async (req: Request): Promise<AdminAuth> => {
    const authorization = req.get('authorization');
    if (authorization !== undefined) return keyAuth(db, keys, authorization);
    const person = await sessions.authenticate(req);
    if (!person) throw new DomainError('unauthenticated', 'Sign in to the console, or send a secret key as `Authorization: Bearer sk_…`.');
    assertSameOrigin(req, origin);
    return {
      tenantId: person.tenantId,
      keyId: null,
      member: { id: person.memberId, role: person.role, sessionId: person.sessionId },
      person: person.memberId,
      capabilities: new Set(capabilitiesOf(person.role)),
    };
  };
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      req.admin = await authenticate(req);
      (req as Marked)[REAUTHENTICATE] = authenticate;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Whether a long-lived request (an event stream) may go on: its credential is checked again as on a new
 * request — a revoked key, an ended session, an expired access token or a role without the capability
 * any more end it — and must still name the same tenant.
 */
export async function stillAllowed(req: Request, ...capabilities: Capability[]): Promise<boolean> {
  const again = await (req as Marked)[REAUTHENTICATE]?.(req).catch(() => null);
  return !!again && again.tenantId === req.admin?.tenantId && capabilities.every((c) => again.capabilities.has(c));
}

/** Whether the request's route needs only a `:read` capability (a search is a POST, yet changes nothing). */
export const onlyReads = (req: Request): boolean => (req as Marked)[GRANTED]?.endsWith(':read') ?? false;

/** The permission check for keys and people alike. The capability is kept on the handler for the route × role matrix. */
export function requireCapability(capability: Capability): RequestHandler & { capability: Capability } {
  const check: RequestHandler = (req, _res, next) => {
    if (!req.admin) return next(new DomainError('unauthenticated', 'A valid credential is required.'));
    if (!req.admin.capabilities.has(capability)) {
      const held = req.admin.heldBack;
      return next(
        held?.capabilities.has(capability)
          ? missingCapability(capability, `This key holds ${capability}, but the member who made it is now an ${held.makerRole}, a role without it.`)
          : missingCapability(capability),
      );
    }
    (req as Marked)[GRANTED] = capability;
    next();
  };
  return Object.assign(check, { capability });
}

/** Routes about the signed-in person's own account (their MFA, their sessions): not for keys. */
export const requireMember: RequestHandler & { member: true } = Object.assign(
  ((req, _res, next) => {
    if (!req.admin) return next(new DomainError('unauthenticated', 'A valid credential is required.'));
    if (!req.admin.member)
      return next(new DomainError('forbidden', 'This is about a person’s own account: sign in to the console; a key cannot use it.'));
    next();
  }) as RequestHandler,
  { member: true as const },
);

/** Routes for a tenant's owners only, as people (the tenant's deletion): no admin, no key. */
export const requireOwner: RequestHandler & { owner: true } = Object.assign(
  ((req, _res, next) => {
    if (!req.admin) return next(new DomainError('unauthenticated', 'A valid credential is required.'));
    if (req.admin.member?.role !== 'owner') return next(new DomainError('forbidden', 'Only an owner, signed in, can do this.'));
    next();
  }) as RequestHandler,
  { owner: true as const },
);
