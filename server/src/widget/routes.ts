// The public widget API: config and sessions, Sign-In Pro, conversations, streamed answers, live events.
import { CreateConversationRequest, HandoffRequest, SendMessageRequest, WidgetIdentifyRequest as IdentifyRequest, WidgetRefreshRequest as RefreshRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import { isUuid, type Db } from '../db/index.js';
import { HttpProblem, problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { openSse, wantsSse } from '../http/sse.js';
import { parse } from '../http/validate.js';
import { verifyIdentityToken } from '../identity/verify.js';
import type { ConversationBus } from '../conversations/bus.js';
import { conversationView, createConversation, createHandoff, eventsAfter, listMessages, visitorConversation } from '../conversations/service.js';
import { runTurn, type Answerer, type Redactor } from '../conversations/turn.js';
import type { Env } from '../tenants/service.js';
import { widgetGate, widgetSession } from './gate.js';
import { newVisitorId, VISITOR_ID, type WidgetTokens } from './tokens.js';

export interface WidgetDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  env: Env;
  tokens: WidgetTokens;
  bus: ConversationBus;
  redactor: Redactor;
  answerer: Answerer;
}

interface WidgetSettings {
  greeting?: string;
  launcherText?: string;
  locale?: string;
  theme?: 'light' | 'dark' | 'auto';
  accentColor?: string;
  position?: 'bottom-right' | 'bottom-left';
}

const HEARTBEAT_MS = 15_000;

export function widgetRoutes(deps: WidgetDeps): Router {
  const r = Router();
  r.use(widgetGate(deps));
  const session = widgetSession(deps);
  const w = (req: Request) => req.widget!;
  const s = (req: Request) => req.widget!.session!;
  const convId = (req: Request) => {
    const id = String(req.params.id);
    if (!isUuid(id)) throw problems.notFound('No such conversation.');
    return id;
  };

  route(r, '/config', {
    get: async (req, res) => {
      const { tenantId, origin } = w(req);
      const incoming = req.get('x-parley-visitor');
      const visitorId = incoming && VISITOR_ID.test(incoming) ? incoming : newVisitorId();
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const t = (await tx.query<{ name: string; settings: { widget?: WidgetSettings } }>('SELECT name, settings FROM tenants')).rows[0]!;
        const mode = (await tx.query<{ mode: string }>('SELECT mode FROM identity_settings')).rows[0]?.mode ?? 'optional';
        const ws = t.settings.widget ?? {};
        return {
          settings: {
            tenantName: t.name,
            greeting: ws.greeting ?? `Hi! Ask us anything about ${t.name}.`,
            launcherText: ws.launcherText ?? 'Chat with us',
            locale: ws.locale ?? 'auto',
            theme: ws.theme ?? 'auto',
            accentColor: ws.accentColor ?? '#2f6feb',
            position: ws.position ?? 'bottom-right',
            identityMode: mode,
          },
          session: await deps.tokens.issue(tx, { tenantId, visitorId, origin, subject: null }),
        };
      });
      res.setHeader('Cache-Control', 'no-store').json(out);
    },
  });

  route(r, '/session/refresh', {
    post: async (req, res) => {
      const body = parse(RefreshRequest, req.body);
      const { tenantId, origin } = w(req);
      const outcome = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const redeemed = await deps.tokens.redeem(tx, tenantId, body.refreshToken, origin);
        if (redeemed === 'reused') {
          await deps.audit.append(tx, { tenantId, requestId: req.id, actor: { type: 'visitor', id: null }, action: 'widget.refresh_reuse', source: 'widget-api', metadata: { origin } });
          return 'reused' as const;
        }
        if (!redeemed) return null;
        return deps.tokens.issue(tx, redeemed.claims, redeemed.familyId);
      });
      if (outcome === 'reused') throw new HttpProblem(401, 'token-replayed', 'This refresh token was already used; its session family is revoked.');
      if (!outcome) throw new HttpProblem(401, 'token-invalid', 'The refresh token is unknown, expired or revoked.');
      res.setHeader('Cache-Control', 'no-store').json({ session: outcome });
    },
  });

  route(r, '/identify', {
    post: [session, async (req, res) => {
      const body = parse(IdentifyRequest, req.body);
      const { tenantId, origin } = w(req);
      const { visitorId } = s(req);
      try {
        const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const identity = await verifyIdentityToken(tx, deps.keyring, tenantId, body.token);
          const sealed = await deps.keyring.seal(tx, tenantId, JSON.stringify(identity.profile), `visitor-profile/${identity.subject}`);
          await tx.query(
            `INSERT INTO verified_visitors (tenant_id, subject, profile) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, subject) DO UPDATE SET profile = EXCLUDED.profile, updated_at = now()`,
            [tenantId, identity.subject, sealed],
          );
          await deps.audit.append(tx, {
            tenantId,
            requestId: req.id,
            actor: { type: 'visitor', id: identity.subject },
            action: 'identity.verify',
            source: 'widget-api',
            metadata: { jti: identity.jti },
          });
          return {
            visitor: { verified: true, id: identity.subject, ...identity.profile },
            session: await deps.tokens.issue(tx, { tenantId, visitorId, origin, subject: identity.subject }),
          };
        });
        res.setHeader('Cache-Control', 'no-store').json(out);
      } catch (err) {
        if (err instanceof HttpProblem) {
          await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
            deps.audit.append(tx, { tenantId, requestId: req.id, actor: { type: 'visitor', id: null }, action: 'identity.refused', source: 'widget-api', metadata: { reason: err.slug } }),
          );
        }
        throw err;
      }
    }],
  });

  route(r, '/conversations', {
    post: [session, async (req, res) => {
      parse(CreateConversationRequest, req.body ?? {});
      const { tenantId, origin } = w(req);
      const { visitorId, subject } = s(req);
      const conversation = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const mode = (await tx.query<{ mode: string }>('SELECT mode FROM identity_settings')).rows[0]?.mode;
        if (mode === 'required' && !subject) throw new HttpProblem(403, 'identity-required', 'This site requires you to be signed in to chat.');
        return createConversation(tx, { tenantId, visitorId, origin, subject });
      });
      res.status(201).json({ conversation: conversationView(conversation) });
    }],
  });

  route(r, '/conversations/:id', {
    get: [session, async (req, res) => {
      const { tenantId } = w(req);
      const { visitorId, subject } = s(req);
      const id = convId(req);
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const c = await visitorConversation(tx, id, visitorId, subject);
        const messages = await listMessages(tx, id);
        for (const m of messages) m.text = await deps.redactor.restoreForVisitor(tx, c, m.text);
        return { conversation: conversationView(c), messages };
      });
      res.json(out);
    }],
  });

  route(r, '/conversations/:id/messages', {
    post: [session, async (req, res) => {
      const body = parse(SendMessageRequest, req.body);
      const { tenantId } = w(req);
      const { visitorId, subject } = s(req);
      const id = convId(req);
      const turn = { tenantId, conversationId: id, visitorId, subject, text: body.text, clientMessageId: body.clientMessageId, requestId: req.id };
      if (!wantsSse(req)) {
        const events: unknown[] = [];
        await runTurn(deps, turn, (e) => e.type !== 'delta' && events.push(e));
        res.json({ events });
        return;
      }
      // Validate access before committing to a stream, so refusals are plain problems.
      await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => visitorConversation(tx, id, visitorId, subject));
      const sse = openSse(req, res);
      try {
        await runTurn(deps, turn, (e) => sse.send(e.type, e.type === 'delta' ? { text: e.text } : e.type === 'handoff' ? { handoff: e.handoff } : { message: e.message }));
      } catch (err) {
        const p = err instanceof HttpProblem ? err : new HttpProblem(500, 'internal', 'The answer failed; try again or ask for a person.');
        sse.send('error', { type: `/docs/problems/${p.slug}`, title: p.slug, status: p.status, detail: p.detail, request_id: req.id });
      }
      sse.close();
    }],
  });

  route(r, '/conversations/:id/events', {
    get: [session, async (req, res) => {
      const { tenantId } = w(req);
      const { visitorId, subject } = s(req);
      const id = convId(req);
      await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => visitorConversation(tx, id, visitorId, subject));
      const lastHeader = Number(req.get('last-event-id') ?? 0);
      let last = Number.isSafeInteger(lastHeader) && lastHeader > 0 ? lastHeader : 0;
      const sse = openSse(req, res);
      const deliver = async () => {
        const events = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const c = await visitorConversation(tx, id, visitorId, subject);
          const list = await eventsAfter(tx, id, last);
          for (const e of list) {
            const p = e.payload as { message?: { text: string } };
            if (p.message) p.message.text = await deps.redactor.restoreForVisitor(tx, c, p.message.text);
          }
          return list;
        });
        for (const e of events) {
          sse.send(e.type, e.payload, e.id);
          last = e.id;
        }
      };
      let chain = deliver();
      const unsubscribe = deps.bus.subscribe(id, () => {
        chain = chain.then(deliver, deliver);
      });
      const heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
      req.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
      await chain.catch(() => sse.close());
    }],
  });

  route(r, '/conversations/:id/handoff', {
    post: [session, async (req, res) => {
      const body = parse(HandoffRequest, req.body ?? {});
      const { tenantId } = w(req);
      const { visitorId, subject } = s(req);
      const id = convId(req);
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        await visitorConversation(tx, id, visitorId, subject, true);
        return createHandoff(tx, deps.audit, {
          tenantId,
          conversationId: id,
          reason: 'visitor_request',
          detail: body.reason ? { visitorNote: true } : {},
          requestId: req.id,
          actor: { type: 'visitor', id: subject ?? visitorId },
        });
      });
      if (out.event) deps.bus.publish(out.event);
      res.status(201).json({ handoff: out.handoff });
    }],
  });
  return r;
}
