// The tenant inbox over HTTP: views and search, the live stream, presence and availability, canned replies.
import { CreateCannedReplyRequest, InboxListQuery, InboxStreamQuery, UpdateAvailabilityRequest, UpdateCannedReplyRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import type { ConversationBus } from '../conversations/bus.js';
import type { ConversationHub } from '../conversations/hub.js';
import { adminCtx } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';
import { RECONNECT_MS, type Drain } from '../http/drain.js';
import { openSse, wantsSse } from '../http/sse.js';
import { parse, uuidParam } from '../http/validate.js';
import { requireCapability as can, requireMember, stillAllowed } from '../tenants/auth.js';
import * as service from './service.js';
import type { CredentialChanges } from '../tenants/key-cache.js';
import type { InboxHub } from './stream.js';

export interface InboxDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  bus: ConversationBus;
  /** The per-tenant cap on open streams, shared with the widget's streams. */
  streams: ConversationHub;
  inbox: InboxHub;
  /** Keep-alive interval; the stream's credential is checked again at each one. */
  heartbeatMs: number;
  /** The database's notices of credential changes: the stream's credential is checked again at each. */
  credentials: CredentialChanges;
  /** Shutdown draining: the stream ends with a reconnect hint. */
  drain?: Drain;
}

/** Every this many heartbeats the member is marked seen (presence "online"). */
const SEEN_EVERY = 4;

export function inboxRoutes(deps: InboxDeps): Router {
  const r = Router();
  // With the request's authority: each transaction holds the person behind the request (tenants/authority.ts).
  const inTenant = <T>(req: Request, fn: (tx: Tx, ctx: service.Ctx) => Promise<T>) => {
    const { admin: _, ...ctx } = adminCtx(req);
    return deps.db.withTenant(ctx.tenantId, ctx, (tx) => fn(tx, ctx));
  };
  const me = (req: Request) => adminCtx(req).admin.member?.id ?? null;

  // Rows show message text (redacted as stored): the same capability as reading a conversation. Read on the
  // primary, not the read path: the list's stream cursor is a transaction-id horizon of the primary.
  route(r, '/inbox', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        const q = parse(InboxListQuery, req.query, 'query');
        res.json(await inTenant(req, (tx, ctx) => service.list(tx, deps.keyring, ctx.tenantId, me(req), q)));
      },
    ],
  });

  route(r, '/inbox/stream', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        if (!wantsSse(req)) throw new HttpProblem(400, 'malformed-request', 'This is an event stream: ask with `Accept: text/event-stream`.');
        const q = parse(InboxStreamQuery, req.query, 'query');
        const { tenantId, admin } = adminCtx(req);
        const memberId = me(req);
        const release = deps.streams.reserve(tenantId, memberId ? `member:${memberId}` : `key:${admin.keyId}`);
        let leave = () => {};
        let undrain = () => {};
        let heartbeat: NodeJS.Timeout | undefined;
        let unwatch = () => {};
        res.on('close', () => {
          clearInterval(heartbeat);
          unwatch();
          leave();
          undrain();
          release();
        });
        const start = await inTenant(req, async (tx) => {
          const cursor = await service.resumeFrom(tx, req.get('last-event-id') ?? q.after);
          const presence = memberId ? await service.touch(tx, tenantId, memberId) : null;
          return { cursor, counts: await service.counts(tx, memberId), presence };
        });
        if (start.presence) deps.bus.publish(start.presence);
        if (res.destroyed) return;
        const sse = openSse(req, res);
        sse.send('counts', start.counts);
        // A stream that carries approval requests ends when its credential no longer decides them (the
        // reconnect then carries none).
        const decidesApprovals = admin.capabilities.has('approvals:decide');
        leave = deps.inbox.join(tenantId, {
          memberId,
          decidesApprovals,
          cursor: start.cursor,
          send: (event, data, id) => sse.send(event, data, id),
          close: () => sse.close(),
        });
        if (deps.drain) undrain = deps.drain.stream(() => sse.reconnect(RECONNECT_MS));
        // An ended session, an expired access token, a revoked key or a member disabled or given a role without
        // the capabilities ends the stream: the console reconnects through a refresh, which a signed-out or
        // disabled member cannot pass. Checked at each heartbeat, and at once when the database says a
        // credential of the tenant changed (a key, a member's role or status, a session ended).
        const allowed = () => stillAllowed(req, 'conversations:read', ...(decidesApprovals ? (['approvals:decide'] as const) : []));
        // A notice that comes while a check runs asks for another after it (that check may have read the state
        // just before the change); one check follows registering, for a change made while the stream opened.
        let checking = false;
        let again = false;
        const check = (): void => {
          if (checking) {
            again = true;
            return;
          }
          checking = true;
          void allowed().then((ok) => {
            checking = false;
            if (!ok) return sse.close();
            if (again) {
              again = false;
              check();
            }
          });
        };
        unwatch = deps.credentials.watch(tenantId, check);
        check();
        let beats = 0;
        heartbeat = setInterval(() => {
          sse.comment('keep-alive');
          void allowed().then((ok) => {
            if (!ok) return sse.close();
            if (memberId && ++beats % SEEN_EVERY === 0) {
              void inTenant(req, (tx) => service.touch(tx, tenantId, memberId)).then(
                (e) => e && deps.bus.publish(e),
                () => {},
              );
            }
          });
        }, deps.heartbeatMs);
      },
    ],
  });

  route(r, '/presence', {
    get: [
      can('handoffs:read'),
      async (req, res) => {
        res.json({ members: await inTenant(req, (tx) => service.presence(tx)) });
      },
    ],
  });

  route(r, '/me/availability', {
    patch: [
      requireMember,
      async (req, res) => {
        const body = parse(UpdateAvailabilityRequest, req.body);
        const out = await inTenant(req, (tx, ctx) => service.setAvailability(tx, deps.audit, ctx, me(req)!, body.availability));
        deps.bus.publish(out.event);
        res.json({ presence: out.presence });
      },
    ],
  });

  // Canned replies: read by whoever reads conversations; written by whoever answers them.
  route(r, '/canned-replies', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        res.json({ cannedReplies: await inTenant(req, (tx) => service.listCanned(tx)) });
      },
    ],
    post: [
      can('conversations:write'),
      async (req, res) => {
        const body = parse(CreateCannedReplyRequest, req.body);
        res.status(201).json({ cannedReply: await inTenant(req, (tx, ctx) => service.createCanned(tx, deps.audit, ctx, body)) });
      },
    ],
  });

  route(r, '/canned-replies/:id', {
    patch: [
      can('conversations:write'),
      async (req, res) => {
        const body = parse(UpdateCannedReplyRequest, req.body);
        const id = uuidParam(req, 'id');
        res.json({ cannedReply: await inTenant(req, (tx, ctx) => service.updateCanned(tx, deps.audit, ctx, id, body)) });
      },
    ],
    delete: [
      can('conversations:write'),
      async (req, res) => {
        const id = uuidParam(req, 'id');
        await inTenant(req, (tx, ctx) => service.deleteCanned(tx, deps.audit, ctx, id));
        res.status(204).end();
      },
    ],
  });
  return r;
}
