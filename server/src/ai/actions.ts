// The tenant's actions as the model's tools, for a verified visitor's turn. A tool call executes nothing
// by itself: it becomes a proposal on the approval rail (approvals/service.ts `propose`), with the
// conversation's verified identity as its subject and the visitor as its requester. A `read` action is
// executed at once by the one executor and its (redacted, bounded) result goes back to the model as
// data; a `write` or `sensitive` one waits for a person. Whatever the model was talked into — other
// arguments, another subject, "already approved" — it can only ask; every ask is audited.
import { jsonSchema, tool, type ToolSet } from 'ai';
import type { ConversationRow } from '../conversations/service.js';
import { execute } from '../approvals/executor.js';
import { auditRefusal, propose, verifiedSubject, type ApprovalDeps } from '../approvals/service.js';
import * as store from '../approvals/store.js';
import { DomainError } from '../errors.js';
import { neutralise } from './prompt.js';

export const WAITING = 'Your request is waiting for a person to confirm it.';

export interface TurnActions {
  tools: ToolSet;
  /** Proposals made in this turn that wait for a person. */
  waiting: string[];
  /** Read actions executed in this turn (their results are what the model answers from). */
  ran: string[];
}

/** The enabled actions as tools, or null when the visitor is not verified or the tenant has none. */
export async function turnActions(
  deps: ApprovalDeps,
  input: { tenantId: string; requestId: string; conversation: ConversationRow },
): Promise<TurnActions | null> {
  const subject = verifiedSubject(input.conversation);
  if (!subject) return null;
  const { tenantId, requestId, conversation } = input;
  const actions = (await deps.db.withTenant(tenantId, { requestId }, (tx) => store.listActions(tx))).filter((a) => a.enabled);
  if (!actions.length) return null;
  const ctx = { tenantId, requestId, actor: { type: 'visitor' as const, id: conversation.visitor_id } };
  const waiting: string[] = [];
  const ran: string[] = [];
  const tools: ToolSet = {};
  let queue: Promise<unknown> = Promise.resolve();
  for (const action of actions) {
    tools[action.name] = tool({
      description: action.description,
      inputSchema: jsonSchema(action.input_schema as Parameters<typeof jsonSchema>[0]),
      // One at a time: a model may call several tools in one step, and each ask locks the conversation.
      execute: (args: unknown) => {
        const run = queue.then(() => ask(args));
        queue = run.catch(() => undefined);
        return run;
      },
    });
    const ask = async (args: unknown): Promise<string> => {
      const given = args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
      let proposal: store.ProposalRow;
      try {
        proposal = await deps.db.withTenant(tenantId, { requestId }, (tx) =>
          propose(tx, deps, ctx, {
            actionId: action.id,
            arguments: given,
            reason: null,
            conversationId: conversation.id,
            // Never from the arguments or the model: propose refuses a `subject` argument as well.
            subject,
            requestedBy: { kind: 'visitor', id: conversation.visitor_id },
          }),
        );
      } catch (err) {
        // A refused or failed ask is audited too; a failure is passed on once audited.
        const audited = auditRefusal(deps, ctx, { conversationId: conversation.id, actionId: action.id }, err);
        if (!(err instanceof DomainError)) {
          await audited.catch(() => undefined);
          throw err;
        }
        await audited;
        return `The request was refused: ${err.message}`;
      }
      if (proposal.status !== 'approved') {
        waiting.push(proposal.id);
        return WAITING;
      }
      const done = await execute(deps, tenantId, proposal.id, requestId);
      ran.push(done.id);
      const summary = done.status === 'executed' ? (done.result_summary ?? '') : `failed: ${done.error ?? 'error'}`;
      // Untrusted data for the model, contained like a knowledge passage.
      return `<action_result name="${action.name}">\n${neutralise(summary)}\n</action_result>`;
    };
  }
  return { tools, waiting, ran };
}
