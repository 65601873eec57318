// The rules of the API channel before a turn runs: the conversation is this tenant's and on the `api`
// channel, nobody has taken it over, and the AI budget admits the turn (only a tenant with a provider
// spends budget; the built-in answerer is free). Only then is a new conversation created; a refusal
// leaves no trace but an audit entry.
//
// Whose a new conversation is (its visitor reference, the data subject an export or erasure names): the
// caller's user, `api:<userRef>`, when a userRef is given; otherwise nobody else's, a reference of its own
// (`api_` + 16 random characters), so one caller's questions never share a subject with another's.
import { randomBytes } from 'node:crypto';
import { admitOrRefuse, budgetFor, type BudgetRefusal } from '../ai/budget.js';
import type { AuditLog } from '../audit/log.js';
import { createConversation, type ConversationRow } from '../conversations/service.js';
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import * as store from './store.js';

/** The reference of a conversation asked for `userRef`, or of one asked for nobody named (its own). */
const apiVisitor = (userRef: string | undefined) => (userRef ? `api:${userRef}` : `api_${randomBytes(12).toString('base64url')}`);

export async function admitApiTurn(
  deps: { db: Db; audit: AuditLog },
  ctx: RequestCtx & { tenantId: string },
  ask: { conversationId?: string; userRef?: string },
): Promise<ConversationRow> {
  const { tenantId } = ctx;
  const decided = await deps.db.withTenant(tenantId, ctx, async (tx): Promise<{ refused: BudgetRefusal } | { conversation: ConversationRow }> => {
    let existing: ConversationRow | null = null;
    if (ask.conversationId) {
      existing = await store.lockApiConversation(tx, ask.conversationId);
      if (!existing) throw new DomainError('not_found', 'No such API conversation.');
      // Handed to a person (taken or still waiting for one) or closed: their replies come through the admin API.
      if (existing.status !== 'open')
        throw new DomainError('conflict', 'This conversation is handed to a person; ask in a new one or wait for their reply.');
    }
    if (await store.hasProvider(tx)) {
      const refused = await admitOrRefuse(tx, tenantId, await budgetFor(tx));
      if (refused) return { refused };
    }
    return {
      conversation:
        existing ?? (await createConversation(tx, { tenantId, visitorId: apiVisitor(ask.userRef), origin: null, subject: null, channel: 'api' })),
    };
  });
  if ('conversation' in decided) return decided.conversation;
  const { budget, retryAfterSeconds } = decided.refused;
  await deps.db.withTenant(tenantId, ctx, (tx) =>
    deps.audit.append(tx, {
      tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'ai.budget_refused',
      metadata: { channel: 'api', budget, retryAfterSeconds },
    }),
  );
  throw new DomainError('budget_exceeded', budget === 'tokensPerDay' ? "Today's AI token budget is spent." : 'Too many AI requests this minute.', {
    retryAfterSeconds,
  });
}
