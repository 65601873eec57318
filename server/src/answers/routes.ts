// POST /v1/answers: the API channel. A customer's back end asks for its own user with a secret key
// (`answers:write`); the turn runs through the same pipeline as a widget visitor's, on the `api`
// channel's redaction policy. The AI budget is checked before anything is stored: over it, the caller
// gets a 429 problem with Retry-After and the question leaves no trace but an audit entry.
import { randomUUID } from 'node:crypto';
import { AskRequest } from '@parley/protocol';
import { Router } from 'express';
import { admitOrRefuse, budgetFor, type BudgetRefusal } from '../ai/budget.js';
import type { AuditLog } from '../audit/log.js';
import { createConversation, type ConversationRow, type HandoffView, type MessageView } from '../conversations/service.js';
import { runTurn, type TurnDeps, type TurnEvent } from '../conversations/turn.js';
import type { Db } from '../db/index.js';
import { adminCtx } from '../http/context.js';
import { HttpProblem, problems } from '../http/problem.js';
import { asProblem } from '../http/errors.js';
import { route } from '../http/routes.js';
import { openSse, wantsSse } from '../http/sse.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';

export type AnswersDeps = TurnDeps & { db: Db; audit: AuditLog };

const API_VISITOR = 'api';

export function answersRoutes(deps: AnswersDeps): Router {
  const r = Router();
  route(r, '/answers', {
    post: [can('answers:write'), async (req, res) => {
      const body = parse(AskRequest, req.body);
      const { tenantId, actor } = adminCtx(req);
      const ctx = { requestId: req.id };

      // One transaction decides: the conversation is this tenant's and on the API channel, and the
      // budget admits the turn; only then is a new conversation created.
      const decided = await deps.db.withTenant(tenantId, ctx, async (tx): Promise<{ refused: BudgetRefusal } | { conversation: ConversationRow }> => {
        let existing: ConversationRow | undefined;
        if (body.conversationId) {
          const { rows } = await tx.query<ConversationRow>("SELECT * FROM conversations WHERE id = $1 AND channel = 'api' FOR UPDATE", [body.conversationId]);
          if (!rows[0]) throw problems.notFound('No such API conversation.');
          existing = rows[0];
          // A person has taken over (or closed) it: their replies come through the admin API.
          if (existing.status !== 'open') throw problems.conflict('A person is handling this conversation; ask in a new one or wait for their reply.');
        }
        // Only a tenant with a provider spends budget; the built-in answerer is free.
        const { rows: providers } = await tx.query('SELECT 1 FROM ai_providers LIMIT 1');
        if (providers.length) {
          const refused = await admitOrRefuse(tx, tenantId, await budgetFor(tx));
          if (refused) return { refused };
        }
        const visitorId = body.userRef ? `${API_VISITOR}:${body.userRef}` : API_VISITOR;
        return { conversation: existing ?? (await createConversation(tx, { tenantId, visitorId, origin: null, subject: null, channel: 'api' })) };
      });
      if ('refused' in decided) {
        const { budget, retryAfterSeconds } = decided.refused;
        await deps.db.withTenant(tenantId, ctx, (tx) =>
          deps.audit.append(tx, { tenantId, requestId: req.id, actor, action: 'ai.budget_refused', metadata: { channel: 'api', budget, retryAfterSeconds } }),
        );
        throw new HttpProblem(429, 'budget-exceeded', budget === 'tokensPerDay' ? "Today's AI token budget is spent." : 'Too many AI requests this minute.', {
          headers: { 'Retry-After': String(retryAfterSeconds) },
        });
      }

      const { conversation } = decided;
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
        sse.send('conversation', { conversationId: conversation.id });
        try {
          await runTurn(deps, turn, (e) => sse.send(e.type, eventData(e)));
        } catch (err) {
          const p = asProblem(err) ?? new HttpProblem(500, 'internal', 'The answer failed; try again.');
          sse.send('error', { type: `/docs/problems/${p.slug}`, title: p.slug, status: p.status, detail: p.detail, request_id: req.id });
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
        message: answer,
        confidence: answer.confidence ?? 0,
        handoff: handoff ? { id: handoff.id, reason: handoff.reason } : null,
      });
    }],
  });
  return r;
}

const eventData = (e: TurnEvent) => (e.type === 'delta' ? { text: e.text } : e.type === 'handoff' ? { handoff: e.handoff } : { message: e.message });
