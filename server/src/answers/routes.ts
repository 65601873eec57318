// POST /v1/answers: the API channel. A customer's back end asks for its own user with a secret key
// (`answers:write`); the turn runs through the same pipeline as a widget visitor's, on the `api`
// channel's redaction policy. The AI budget is checked before anything is stored: over it, the caller
// gets a 429 problem with Retry-After and the question leaves no trace but an audit entry.
import { randomUUID } from 'node:crypto';
import { AskRequest } from '@parley/protocol';
import { Router } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.js';
import type { HandoffView, MessageView } from '../conversations/service.js';
import { runTurn, type TurnDeps, type TurnEvent } from '../conversations/turn.js';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { streamProblem } from '../http/errors.js';
import { route } from '../http/routes.js';
import { openSse, wantsSse } from '../http/sse.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import { admitApiTurn } from './service.js';

export type AnswersDeps = TurnDeps & { db: Db; audit: AuditLog; logger: Logger };

export function answersRoutes(deps: AnswersDeps): Router {
  const r = Router();
  route(r, '/answers', {
    post: [
      can('answers:write'),
      async (req, res) => {
        const body = parse(AskRequest, req.body);
        const ctx = adminCtx(req);
        const { tenantId } = ctx;
        const conversation = await admitApiTurn(deps, ctx, body);
        const turn = {
          tenantId,
          conversationId: conversation.id,
          visitorId: conversation.visitor_id,
          subject: null,
          text: body.question,
          clientMessageId: randomUUID(),
          requestId: req.id,
          admitted: true,
        };
        if (wantsSse(req)) {
          const sse = openSse(req, res);
          sse.send('conversation', { conversationId: conversation.id, visitorRef: conversation.visitor_id });
          try {
            await runTurn(deps, turn, (e) => sse.send(e.type, eventData(e)));
          } catch (err) {
            sse.send('error', streamProblem(deps.logger, req, err, 'The answer failed; try again.'));
          }
          sse.close();
          return;
        }
        let answer: MessageView | undefined;
        let handoff: HandoffView | undefined;
        await runTurn(deps, turn, (e) => {
          if (e.type === 'done') answer = e.message;
          if (e.type === 'handoff') handoff = e.handoff;
        });
        if (!answer) throw new Error('the turn ended without an answer');
        res.json({
          conversationId: conversation.id,
          visitorRef: conversation.visitor_id,
          message: answer,
          confidence: answer.confidence ?? 0,
          handoff: handoff ? { id: handoff.id, reason: handoff.reason } : null,
        });
      },
    ],
  });
  return r;
}

const eventData = (e: TurnEvent) => (e.type === 'delta' ? { text: e.text } : e.type === 'handoff' ? { handoff: e.handoff } : { message: e.message });
