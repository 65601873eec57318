// The public widget API: config and sessions, Sign-In Pro, conversations, streamed answers, live events.
import { decodeJwt } from 'jose';
import {
  LastEventIdHeader,
  ContactRequest,
  CreateConversationRequest,
  CsatRequest,
  HandoffRequest,
  SendMessageRequest,
  TypingRequest,
  WidgetIdentifyRequest as IdentifyRequest,
  WidgetConfigQuery as ConfigQuery,
  WidgetRefreshRequest as RefreshRequest,
  WidgetSessionRequest as SessionRequest,
  WidgetProposalParams,
  WidgetProposeRequest,
} from '@parley/protocol';
import { Router, type Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.js';
import type { RefusalLog } from '../audit/refusals.js';
import type { Keyring } from '../crypto/keyring.js';
import { isUuid, type Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { HttpProblem, problems } from '../http/problem.js';
import { asProblem, streamProblem } from '../http/errors.js';
import { DomainError } from '../errors.js';
import { route } from '../http/routes.js';
import { RECONNECT_MS, type Drain } from '../http/drain.js';
import { openSse, type SseStream, wantsSse } from '../http/sse.js';
import { parse } from '../http/validate.js';
import type { JwksCache } from '../identity/jwks.js';
import { recordVerifiedVisitor } from '../identity/service.js';
import { verifyIdentityToken } from '../identity/verify.js';
import type { ConversationBus } from '../conversations/bus.js';
import type { ConversationHub } from '../conversations/hub.js';
import {
  conversationView,
  createHandoff,
  listMessages,
  resumeAfter,
  visitorConversation,
  visitorMessage,
  type ConversationRow,
} from '../conversations/service.js';
import { runTurn, type Answerer, type Redactor } from '../conversations/turn.js';
import { recordTyping, type TypingThrottle } from '../conversations/typing.js';
import { leaveContact, submitCsat } from '../handoff/service.js';
import { execute } from '../approvals/executor.js';
import { auditRefusal, proposeAsVisitor, visitorProposal, widgetView, type ApprovalDeps } from '../approvals/service.js';
import type { Env } from '../tenants/service.js';
import type { WidgetFrontCache } from './front-cache.js';
import { bearerToken, widgetGate, widgetSession } from './gate.js';
import type { WidgetLimits } from './limits.js';
import { refreshReused, startConversation, widgetSettings } from './service.js';
import type { WidgetTokens } from './tokens.js';
import { claimVisitorSecret, resolveVisitor, visitorExists, visitorGone } from './visitors.js';

export interface WidgetDeps {
  db: Db;
  audit: AuditLog;
  refusals: RefusalLog;
  keyring: Keyring;
  env: Env;
  tokens: WidgetTokens;
  bus: ConversationBus;
  /** Live event streams: caps and per-conversation fan-out. */
  streams: ConversationHub;
  redactor: Redactor;
  answerer: Answerer;
  /** How long a turn's claim on answering lasts (see conversations/turn.ts). */
  claimMs?: number;
  /** Shutdown draining: live event streams end with a reconnect hint. */
  drain?: Drain;
  typing: TypingThrottle;
  /** Sign-In Pro keys from JWKS URLs, fetched through the outbound module. */
  jwks: JwksCache;
  logger: Logger;
  /** Per session and tenant, or per address (limits.ts). */
  limits: WidgetLimits;
  /** What every page view reads, kept for a few seconds per instance. */
  cache: WidgetFrontCache;
  /** The approval rail: verified visitors ask for actions through it. */
  approvals: ApprovalDeps;
}

const HEARTBEAT_MS = 15_000;

export function widgetRoutes(deps: WidgetDeps): Router {
  const r = Router();
  r.use(deps.limits.gate);
  r.use(widgetGate(deps));
  const session = widgetSession(deps);
  const w = (req: Request) => req.widget!;
  const s = (req: Request) => req.widget!.session!;
  const convId = (req: Request) => {
    const id = String(req.params.id);
    if (!isUuid(id)) throw problems.notFound('No such conversation.');
    return id;
  };
  /** Runs `fn` on this visitor's conversation (locked), as the visitor. */
  const asVisitor = <T>(
    req: Request,
    fn: (tx: Tx, c: ConversationRow, ctx: { tenantId: string; requestId: string; actor: { type: 'visitor'; id: string } }) => Promise<T>,
  ) => {
    const { tenantId } = w(req);
    const { visitorRef, subject } = s(req);
    const id = convId(req);
    const ctx = { tenantId, requestId: req.id, actor: { type: 'visitor' as const, id: subject ?? visitorRef } };
    return deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) =>
      fn(tx, await visitorConversation(tx, id, visitorRef, subject, true), ctx),
    );
  };

  /** A new session for the visitor whose secret the browser presented (a new visitor when none or unknown). */
  const startSession = (req: Request) => {
    const { tenantId, origin } = w(req);
    return deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
      const visitor = await resolveVisitor(tx, tenantId, req.get('x-parley-visitor'));
      return {
        ...(await deps.tokens.issue(tx, { tenantId, visitorRef: visitor.ref, origin, subject: null })),
        ...(visitor.secret ? { visitorSecret: visitor.secret } : {}),
      };
    });
  };

  // Every page view: a read of cached settings and nothing written. The session waits for the visitor.
  // The settings are kept serialised too: serialising them on every view cost a seventh of its CPU time.
  route(r, '/config', {
    get: [
      deps.limits.minting,
      async (req, res) => {
        const query = parse(ConfigQuery, req.query, 'query');
        const { tenantId } = w(req);
        const { settings, body } = await deps.cache.widgetSettings(tenantId, async () => {
          const settings = await deps.db.withTenant(tenantId, { requestId: req.id }, widgetSettings);
          return { settings, body: Buffer.from(JSON.stringify({ settings })) };
        });
        res.setHeader('Cache-Control', 'no-store');
        // Clients from before lazy sessions ask for one here.
        if (query.session === '1') return void res.json({ settings, session: await startSession(req) });
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Length', body.length);
        res.end(body);
      },
    ],
  });

  route(r, '/session', {
    post: [
      deps.limits.minting,
      async (req, res) => {
        parse(SessionRequest, req.body ?? {});
        res.setHeader('Cache-Control', 'no-store').json({ session: await startSession(req) });
      },
    ],
  });

  route(r, '/session/refresh', {
    post: [
      deps.limits.minting,
      async (req, res) => {
        const body = parse(RefreshRequest, req.body);
        const { tenantId, origin } = w(req);
        const outcome = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const redeemed = await deps.tokens.redeem(tx, tenantId, body.refreshToken, origin);
          if (!redeemed) return null;
          if ('reused' in redeemed) {
            await refreshReused(tx, deps.refusals, { tenantId, requestId: req.id, origin, visitorRef: redeemed.reused.visitorRef });
            return 'reused' as const;
          }
          const session = await deps.tokens.issue(tx, redeemed.claims, redeemed.family);
          const secret = await claimVisitorSecret(tx, redeemed.claims.visitorRef);
          return secret ? { ...session, visitorSecret: secret } : session;
        });
        if (outcome === 'reused')
          throw new HttpProblem(
            401,
            'token-replayed',
            "This refresh token was already used: its sessions are revoked and its visitor's secret resumes nothing; start a new session.",
          );
        if (!outcome) throw new HttpProblem(401, 'token-invalid', 'The refresh token is unknown, expired or revoked.');
        res.setHeader('Cache-Control', 'no-store').json({ session: outcome });
      },
    ],
  });

  route(r, '/identify', {
    post: [
      session,
      async (req, res) => {
        const body = parse(IdentifyRequest, req.body);
        const { tenantId, origin } = w(req);
        const { visitorRef } = s(req);
        try {
          const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
            if (!(await visitorExists(tx, visitorRef))) throw visitorGone();
            const identity = await verifyIdentityToken(tx, deps.keyring, deps.jwks, tenantId, body.token);
            await recordVerifiedVisitor(tx, deps, { tenantId, requestId: req.id }, identity);
            return {
              visitor: { verified: true, id: identity.subject, ...identity.profile },
              session: await deps.tokens.issue(tx, { tenantId, visitorRef, origin, subject: identity.subject }, { proof: identity.proof }),
            };
          });
          res.setHeader('Cache-Control', 'no-store').json(out);
        } catch (err) {
          const refused = asProblem(err);
          if (refused) {
            await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
              deps.refusals.record(tx, {
                tenantId,
                requestId: req.id,
                action: 'identity.refused',
                subject: { field: 'reason', value: refused.slug },
              }),
            );
          }
          throw err;
        }
      },
    ],
  });

  route(r, '/conversations', {
    post: [
      session,
      async (req, res) => {
        parse(CreateConversationRequest, req.body ?? {});
        const { tenantId, origin } = w(req);
        const { visitorRef, subject } = s(req);
        const conversation = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
          startConversation(tx, { tenantId, visitorId: visitorRef, origin, subject }),
        );
        res.status(201).json({ conversation: conversationView(conversation) });
      },
    ],
  });

  route(r, '/conversations/:id', {
    get: [
      session,
      async (req, res) => {
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const id = convId(req);
        const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const c = await visitorConversation(tx, id, visitorRef, subject);
          const messages = (await listMessages(tx, id)).map(visitorMessage);
          for (const m of messages) m.text = await deps.redactor.restoreForVisitor(tx, c, m.text);
          return { conversation: conversationView(c), messages };
        });
        res.json(out);
      },
    ],
  });

  route(r, '/conversations/:id/messages', {
    post: [
      session,
      async (req, res) => {
        const body = parse(SendMessageRequest, req.body);
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const id = convId(req);
        const turn = {
          tenantId,
          conversationId: id,
          visitorId: visitorRef,
          subject,
          text: body.text,
          clientMessageId: body.clientMessageId,
          requestId: req.id,
          ...(body.pick ? { pick: body.pick } : {}),
        };
        if (!wantsSse(req)) {
          // The same events as the stream, minus deltas (a handoff's notice beside it, as in the stream).
          const events: unknown[] = [];
          await runTurn(deps, turn, (e) => {
            if (e.type === 'handoff') events.push({ type: 'handoff', handoff: e.handoff, ...e.notice });
            else if (e.type !== 'delta') events.push(e);
          });
          res.json({ events });
          return;
        }
        // The stream opens with the turn's first event (the stored message): a refusal before it (no such
        // conversation, another visitor's) is a plain problem, and access costs no transaction of its own.
        let opened: SseStream | null = null;
        const stream = () => (opened ??= openSse(req, res));
        try {
          await runTurn(deps, turn, (e) =>
            stream().send(
              e.type,
              e.type === 'delta' ? { text: e.text } : e.type === 'handoff' ? { handoff: e.handoff, ...e.notice } : { message: e.message },
            ),
          );
        } catch (err) {
          if (!opened) throw err;
          stream().send('error', streamProblem(deps.logger, req, err, 'The answer failed; try again or ask for a person.'));
        }
        stream().close();
      },
    ],
  });

  route(r, '/conversations/:id/events', {
    get: [
      session,
      async (req, res) => {
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const id = convId(req);
        // A place under the per-visitor, per-address and per-tenant caps (a 429 problem when over), before
        // the stream opens; given back when the response closes, however it ends. An address as the rate
        // limits read it: an IPv6 one by its /56, an IPv4 one however it is written.
        const release = deps.streams.reserve(tenantId, visitorRef, ipKeyGenerator(req.ip ?? ''));
        let leave = () => {};
        let undrain = () => {};
        let heartbeat: NodeJS.Timeout | undefined;
        let expiry: NodeJS.Timeout | undefined;
        res.on('close', () => {
          clearInterval(heartbeat);
          clearTimeout(expiry);
          leave();
          undrain();
          release();
        });
        // An event id as protocol reads any number sent as text: plain decimal digits, or a 400 naming it.
        const given = parse(LastEventIdHeader, { 'last-event-id': req.get('last-event-id') }, 'header')['last-event-id'];
        const last = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          await visitorConversation(tx, id, visitorRef, subject);
          return resumeAfter(tx, id, given);
        });
        if (res.destroyed) return;
        const sse = openSse(req, res);
        // Stored events after Last-Event-ID, then live ones: read once per batch for all of this
        // conversation's streams, restored for the visitor.
        leave = deps.streams.join(tenantId, id, {
          view: 'visitor',
          last,
          send: (e) => sse.send(e.type, e.payload, e.id),
          close: () => sse.close(),
        });
        if (deps.drain) undrain = deps.drain.stream(() => sse.reconnect(RECONNECT_MS));
        heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
        // The stream lasts as long as the token that opened it (checked by the session gate just now): then
        // the client reconnects with a refreshed one, which an erased visitor or a revoked family cannot get.
        const exp = decodeJwt(bearerToken(req)!).exp ?? 0;
        expiry = setTimeout(() => sse.reconnect(0, 'session_expired'), Math.max(0, exp * 1000 - Date.now()));
      },
    ],
  });

  route(r, '/conversations/:id/handoff', {
    post: [
      session,
      async (req, res) => {
        const body = parse(HandoffRequest, req.body ?? {});
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const id = convId(req);
        const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          await visitorConversation(tx, id, visitorRef, subject, true);
          return createHandoff(tx, deps.audit, {
            tenantId,
            conversationId: id,
            reason: 'visitor_request',
            detail: body.reason ? { visitorNote: true } : {},
            requestId: req.id,
            actor: { type: 'visitor', id: subject ?? visitorRef },
          });
        });
        if (out.event) deps.bus.publish(out.event);
        res.status(201).json({ handoff: out.handoff, ...out.notice });
      },
    ],
  });

  route(r, '/conversations/:id/typing', {
    post: [
      session,
      async (req, res) => {
        const body = parse(TypingRequest, req.body);
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const id = convId(req);
        const who = { role: 'visitor' as const, key: visitorRef };
        // Only while a person is on the conversation is anyone watching the visitor type.
        const event = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const c = await visitorConversation(tx, id, visitorRef, subject);
          return c.status === 'handoff' && deps.typing.admit(id, who, body.active) ? recordTyping(tx, tenantId, id, who, body.active) : null;
        });
        if (event) deps.bus.publish(event);
        res.status(204).end();
      },
    ],
  });

  route(r, '/conversations/:id/csat', {
    post: [
      session,
      async (req, res) => {
        const body = parse(CsatRequest, req.body);
        const out = await asVisitor(req, (tx, c, ctx) => submitCsat(tx, deps.audit, deps.redactor, ctx, c, body));
        for (const e of out.events) deps.bus.publish(e);
        res.status(201).json({ csat: out.csat });
      },
    ],
  });

  // Actions, for a visitor verified with Sign-In Pro, about themself: a proposal on the approval rail. A
  // `read` action executes at once (after the proposal commits); the others wait for a person.
  route(r, '/conversations/:id/actions', {
    post: [
      session,
      async (req, res) => {
        const body = parse(WidgetProposeRequest, req.body);
        const { visitorRef, subject } = s(req);
        const ask = asVisitor(req, (tx, c, ctx) => proposeAsVisitor(tx, deps.approvals, deps.redactor, ctx, c, { visitorRef, subject }, body));
        // Every ask is audited: a refused one (off-schema, unverified, a smuggled subject) as a refusal.
        const proposal = await ask.catch(async (err: unknown) => {
          if (err instanceof DomainError) {
            const ctx = { tenantId: w(req).tenantId, requestId: req.id, actor: { type: 'visitor' as const, id: visitorRef } };
            await auditRefusal(deps.approvals, ctx, { conversationId: convId(req), actionId: body.actionId }, err);
          }
          throw err;
        });
        const done = proposal.status === 'approved' ? await execute(deps.approvals, w(req).tenantId, proposal.id, req.id) : proposal;
        res.status(201).json({ proposal: widgetView(done) });
      },
    ],
  });
  route(r, '/conversations/:id/actions/:proposalId', {
    get: [
      session,
      async (req, res) => {
        const id = convId(req);
        const { proposalId } = parse(WidgetProposalParams, req.params, 'path');
        const { tenantId } = w(req);
        const { visitorRef, subject } = s(req);
        const proposal = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          await visitorConversation(tx, id, visitorRef, subject);
          return visitorProposal(tx, id, proposalId);
        });
        res.json({ proposal });
      },
    ],
  });

  route(r, '/conversations/:id/contact', {
    post: [
      session,
      async (req, res) => {
        const body = parse(ContactRequest, req.body);
        const out = await asVisitor(req, (tx, c, ctx) => leaveContact(tx, deps.audit, deps.keyring, ctx, c, body.email));
        for (const e of out.events) deps.bus.publish(e);
        res.status(201).json({ contact: { at: out.at } });
      },
    ],
  });
  return r;
}
