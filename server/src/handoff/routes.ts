// The agent side over HTTP: handoffs, reading conversations, replying live, internal notes, typing,
// the visitor's profile, and break-glass reveal of reversible personal data.
import {
  ConversationListQuery,
  AgentMessageRequest,
  CreateNoteRequest,
  HandoffListQuery,
  PiiScanRequest,
  ReopenHandoffRequest,
  RevealProfileRequest,
  RevealRequest,
  TypingRequest,
  UpdateHandoffRequest,
} from '@parley/protocol';
import { Router, type Request } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { adminCtx } from '../http/context.js';
import { problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { redact, newRedactionState } from '../ai/pii/index.js';
import { tenantPolicy, type ConversationRedactor } from '../ai/pii/redactor.js';
import type { ConversationBus, ConversationEvent } from '../conversations/bus.js';
import type { TypingThrottle } from '../conversations/typing.js';
import { requireCapability as can } from '../tenants/auth.js';
import * as service from './service.js';

export interface HandoffDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  bus: ConversationBus;
  redactor: ConversationRedactor;
  typing: TypingThrottle;
}

/** The acting agent: a signed-in person as themselves; a key under the label it gives (or its key id). */
function agentOf(req: Request, label?: string): service.Agent {
  const { admin } = adminCtx(req);
  if (admin.member) return { id: admin.member.id, memberId: admin.member.id, capabilities: admin.capabilities };
  return { id: label ?? `key:${admin.keyId}`, memberId: null, capabilities: admin.capabilities };
}

/** A key writing words names their author; a person is the author. */
function writer(req: Request, label: string | undefined): service.Agent {
  if (!adminCtx(req).admin.member && !label)
    throw problems.validation([{ path: '/agent', message: 'is required when a key writes', code: 'required' }]);
  return agentOf(req, label);
}

export function handoffRoutes(deps: HandoffDeps): Router {
  const r = Router();
  const publish = (events: ConversationEvent[]) => {
    for (const e of events) deps.bus.publish(e);
  };
  // With the request's authority: each transaction holds the person behind the request (tenants/authority.ts).
  const inTenant = <T>(req: Request, fn: (tx: Tx, ctx: service.Ctx) => Promise<T>) => {
    const { admin: _, ...ctx } = adminCtx(req);
    return deps.db.withTenant(ctx.tenantId, ctx, (tx) => fn(tx, ctx));
  };

  route(r, '/handoffs', {
    get: [
      can('handoffs:read'),
      async (req, res) => {
        const q = parse(HandoffListQuery, req.query, 'query');
        // A list: the read path (a replica, when configured, once it shows this instance's writes).
        const { tenantId } = adminCtx(req);
        res.json({
          handoffs: await deps.db.withTenantRead(tenantId, { requestId: req.id }, (tx) => service.listHandoffs(tx, q.status ?? null, q.limit)),
        });
      },
    ],
  });

  route(r, '/handoffs/:id', {
    patch: [
      can('handoffs:write'),
      async (req, res) => {
        const body = parse(UpdateHandoffRequest, req.body);
        const id = uuidParam(req, 'id');
        const events = await inTenant(req, (tx, ctx) => service.updateHandoff(tx, deps.audit, ctx, agentOf(req), id, body));
        publish(events);
        res.status(204).end();
      },
    ],
  });

  route(r, '/handoffs/:id/reopen', {
    post: [
      can('handoffs:write'),
      async (req, res) => {
        parse(ReopenHandoffRequest, req.body ?? {});
        const id = uuidParam(req, 'id');
        const out = await inTenant(req, (tx, ctx) => service.reopenHandoff(tx, deps.audit, ctx, id));
        publish(out.events);
        res.json({ handoff: out.handoff });
      },
    ],
  });

  route(r, '/conversations', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        const q = parse(ConversationListQuery, req.query, 'query');
        // A list: the read path, like the handoffs above.
        const { tenantId } = adminCtx(req);
        res.json(await deps.db.withTenantRead(tenantId, { requestId: req.id }, (tx) => service.listConversations(tx, q)));
      },
    ],
  });

  route(r, '/conversations/:id', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        const id = uuidParam(req, 'id');
        res.json(await inTenant(req, (tx, ctx) => service.readConversation(tx, deps.audit, ctx, id)));
      },
    ],
  });

  route(r, '/conversations/:id/messages', {
    post: [
      can('conversations:write'),
      async (req, res) => {
        const body = parse(AgentMessageRequest, req.body);
        const id = uuidParam(req, 'id');
        const agent = writer(req, body.agent);
        const out = await inTenant(req, (tx, ctx) => service.agentReply(tx, deps.audit, deps.redactor, ctx, agent, id, body.text));
        publish(out.events);
        res.status(201).json({ message: out.message });
      },
    ],
  });

  route(r, '/conversations/:id/notes', {
    post: [
      can('conversations:write'),
      async (req, res) => {
        const body = parse(CreateNoteRequest, req.body);
        const id = uuidParam(req, 'id');
        const agent = writer(req, body.agent);
        const out = await inTenant(req, (tx, ctx) => service.addNote(tx, deps.audit, ctx, agent, id, body.text));
        publish(out.events);
        res.status(201).json({ message: out.message });
      },
    ],
  });

  route(r, '/conversations/:id/typing', {
    post: [
      can('conversations:write'),
      async (req, res) => {
        const body = parse(TypingRequest, req.body);
        const id = uuidParam(req, 'id');
        const agent = agentOf(req);
        const event = await inTenant(req, (tx, ctx) => service.agentTyping(tx, ctx, deps.typing, agent, id, body.active));
        if (event) publish([event]);
        res.status(204).end();
      },
    ],
  });

  route(r, '/conversations/:id/visitor', {
    get: [
      can('conversations:read'),
      async (req, res) => {
        const id = uuidParam(req, 'id');
        const out = await inTenant(req, (tx, ctx) => service.visitorProfile(tx, deps.audit, deps.keyring, ctx, agentOf(req), id));
        res.setHeader('Cache-Control', 'no-store').json(out);
      },
    ],
  });

  route(r, '/conversations/:id/visitor/reveal', {
    post: [
      can('pii:reveal'),
      async (req, res) => {
        const { reason } = parse(RevealProfileRequest, req.body);
        const id = uuidParam(req, 'id');
        const out = await inTenant(req, (tx, ctx) => service.visitorProfile(tx, deps.audit, deps.keyring, ctx, agentOf(req), id, { reason }));
        res.setHeader('Cache-Control', 'no-store').json(out);
      },
    ],
  });

  route(r, '/conversations/:id/reveal', {
    post: [
      can('pii:reveal'),
      async (req, res) => {
        const body = parse(RevealRequest, req.body);
        const id = uuidParam(req, 'id');
        const value = await inTenant(req, (tx, ctx) => service.reveal(tx, deps.audit, deps.keyring, ctx, id, body.token, body.reason));
        res.setHeader('Cache-Control', 'no-store').json({ token: body.token, value });
      },
    ],
  });

  route(r, '/pii/scan', {
    post: [
      can('pii:read'),
      async (req, res) => {
        const body = parse(PiiScanRequest, req.body);
        const policy = await inTenant(req, (tx) => tenantPolicy(tx));
        const out = redact(body.text, policy, body.channel, newRedactionState());
        res.json({
          // The span the policy replaces: a name's honorific ("Dr.") goes with it unless the match is only flagged.
          matches: out.matches.map((m) => ({
            class: m.class,
            start: m.replacedFrom,
            end: m.end,
            score: Number(m.score.toFixed(3)),
            action: m.action,
          })),
          redacted: out.redacted,
        });
      },
    ],
  });
  return r;
}
