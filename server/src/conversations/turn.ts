// One visitor turn: store the visitor's message redacted, answer it, store the answer, and hand off
// when the answerer is not confident enough. Events stream to the caller as they happen. The answer is
// owed from the question's transaction to the answer's (pending.ts), so a turn cut off between the two
// (the instance died) is finished by a retry of the message or by the turn sweeper elsewhere.
import { randomUUID } from 'node:crypto';
import type { ActionOffer } from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { type CarriedReads, carryReads } from '../db/tx-memo.js';
import type { ConversationBus } from './bus.js';
import { tenantSettings } from '../tenants/settings.js';
import { readSubscriptions } from '../webhooks/outbox.js';
import { restoresFromVault } from '../ai/pii/redactor.js';
import { NOTICES } from './notices.js';
import { claimOwed, owe } from './pending.js';
import {
  appendAnswer,
  appendMessage,
  createHandoff,
  messagesBefore,
  lockedStatus,
  storedByClientId,
  visitorConversation,
  type Citation,
  type ConversationRow,
  type HandoffReason,
  type HandoffView,
  type MessageView,
  type OutsideHoursNotice,
} from './service.js';

/**
 * Redaction of inbound text before it is stored or sent anywhere; restoration for the visitor. Redacting
 * writes (values sealed in the vault, the placeholder numbering): only text about to be stored is given.
 */
export interface Redactor {
  inbound(tx: Tx, c: ConversationRow, text: string, channel: 'widget' | 'api' | 'email'): Promise<{ text: string; pii: unknown[] }>;
  restoreForVisitor(tx: Tx, c: ConversationRow, text: string): Promise<string>;
}

export interface AnswerInput {
  tenantId: string;
  conversation: ConversationRow;
  /** The redacted question and recent redacted history, oldest first. */
  question: string;
  history: { role: string; text: string }[];
  requestId: string;
  /** Already counted against the AI budget by the caller. */
  admitted?: boolean;
  /** The chunk of a "Did you mean" offer the visitor picked. */
  pick?: string;
  /** Reads the transaction that stored the question made for the answer (Answerer.warm): not asked again. */
  carried?: CarriedReads;
}

export interface Answer {
  text: string;
  citations: Citation[];
  confidence: number;
  handoff?: { reason: HandoffReason; detail?: Record<string, unknown> };
  /** An action offered for the visitor to confirm (shown with the answer, not stored with it). */
  offer?: ActionOffer;
  /** The answer's audit entries, appended in the transaction that stores the answer (or finds it settled). */
  record?: (tx: Tx) => Promise<void>;
}

export interface Answerer {
  answer(input: AnswerInput, onDelta: (text: string) => void): Promise<Answer>;
  /** Starts, in the transaction storing a question, the reads its answer begins with (carried to `answer`). */
  warm?(tx: Tx, tenantId: string): Promise<unknown>;
}

export type TurnEvent =
  | { type: 'message'; message: MessageView }
  | { type: 'delta'; text: string }
  | { type: 'done'; message: MessageView }
  | { type: 'handoff'; handoff: HandoffView; notice: OutsideHoursNotice };

export interface TurnDeps {
  db: Db;
  audit: AuditLog;
  bus: ConversationBus;
  redactor: Redactor;
  answerer: Answerer;
  /** How long a turn's claim on answering a question lasts (PARLEY_ANSWER_CLAIM_MS): after it, a retry
   * of the message or the turn sweeper answers a question still owed. */
  claimMs?: number;
}

export const DEFAULT_CLAIM_MS = 180_000;
/** Messages of history the assistant sees before the question. */
const HISTORY = 8;

/** The redacted history before `messageId` (null: the conversation's last messages; notes never). */
export function historyBefore(tx: Tx, conversationId: string, messageId: string | null) {
  return messagesBefore(tx, conversationId, messageId, HISTORY);
}

/**
 * Stores the visitor's message and answers it. A retry of a stored message (same clientMessageId) whose
 * answer is still owed and unclaimed (the turn that stored it died) runs the answer it never got.
 */
export async function runTurn(
  deps: TurnDeps,
  t: {
    tenantId: string;
    conversationId: string;
    visitorId: string;
    subject: string | null;
    text: string;
    clientMessageId: string;
    requestId: string;
    admitted?: boolean;
    /** The chunk of a "Did you mean" offer the visitor picked. */
    pick?: string;
  },
  emit: (e: TurnEvent) => void,
): Promise<void> {
  const ctx = { requestId: t.requestId };
  const claimMs = deps.claimMs ?? DEFAULT_CLAIM_MS;
  const first = await deps.db.withTenant(t.tenantId, ctx, async (tx) => {
    // The settings (which redaction reads next), the lock, the history and a message already stored under
    // the client's id are asked for together, so that they go with BEGIN in one message (db/postgres.ts),
    // in this order: the history and the stored message are read with the lock held, before this turn's
    // message. The answer's first reads go with them too, and are carried to it.
    const [, conversation, latest, , earlier] = await Promise.all([
      tenantSettings(tx),
      visitorConversation(tx, t.conversationId, t.visitorId, t.subject, true),
      historyBefore(tx, t.conversationId, null),
      deps.answerer.warm?.(tx, t.tenantId),
      storedByClientId(tx, t.tenantId, t.conversationId, t.clientMessageId),
    ]);
    // A retry (the same clientMessageId) is the message stored before, whatever its text: nothing of it is
    // redacted, sealed in the vault or stored. What it owes is read in a transaction of its own, below.
    if (earlier) return { conversation, message: earlier, event: null, carried: carryReads(tx, t.tenantId), turn: null };
    const redacted = await deps.redactor.inbound(tx, conversation, t.text, conversation.channel);
    // What the visitor sees of the message stored now (a retry's is the one stored before: read again below).
    const visible = await deps.redactor.restoreForVisitor(tx, conversation, redacted.text);
    // A conversation with a person on it is theirs: the assistant stays quiet and owes nothing. Else the
    // question is owed, unless a retry finds it stored. The message (with its webhook event) is stored with
    // COMMIT in one message: nothing is asked after it.
    const owes = conversation.status === 'open';
    const id = randomUUID();
    if (owes)
      owe(tx, { tenantId: t.tenantId, conversationId: conversation.id, messageId: id, clientMessageId: t.clientMessageId, claimMs, pick: t.pick });
    const stored = await appendMessage(tx, {
      id,
      tenantId: t.tenantId,
      conversationId: conversation.id,
      role: 'visitor',
      text: redacted.text,
      pii: redacted.pii,
      clientMessageId: t.clientMessageId,
      last: true,
    });
    const base = { conversation, message: stored.message, event: stored.event, carried: carryReads(tx, t.tenantId) };
    if (!stored.duplicate) return { ...base, turn: { owed: owes, history: latest, pick: t.pick ?? null, visible } };
    // Not found above, so not reached while the lock is held; the statement keeps its own check regardless.
    return { ...base, turn: null };
  });
  const { conversation, message, carried } = first;
  const { owed, history, pick, visible } =
    first.turn ?? (await deps.db.withTenant(t.tenantId, ctx, (tx) => retried(deps, tx, conversation, message, claimMs)));
  if (first.event) deps.bus.publish(first.event);
  emit({ type: 'message', message: { ...message, text: visible } });
  if (!owed) return;
  await answerOwed(
    deps,
    {
      tenantId: t.tenantId,
      conversation,
      messageId: message.id,
      question: message.text,
      history,
      requestId: t.requestId,
      actor: null,
      carried,
      ...(pick ? { pick } : {}),
    },
    t.admitted ? { admitted: true } : {},
    emit,
  );
}

/**
 * A retried send of a stored question: claims its answer if still owed and unclaimed (the turn that stored it
 * died), with the offer picked then, if any; its history is what came before it.
 */
async function retried(deps: TurnDeps, tx: Tx, conversation: ConversationRow, question: MessageView, claimMs: number) {
  const claim = await claimOwed(tx, question.id, claimMs);
  const history = claim ? await historyBefore(tx, conversation.id, question.id) : [];
  const visible = await deps.redactor.restoreForVisitor(tx, conversation, question.text);
  return { owed: claim !== null, pick: claim?.pick ?? null, history, visible };
}

/**
 * Answers an owed question this caller holds the claim on, and stores the answer (and handoff) only if
 * the question is still owed: a slower claimant whose claim lapsed meanwhile stores nothing. With
 * `handOff`, no answer is tried: the conversation goes to a person (a question that keeps failing).
 */
export async function answerOwed(
  deps: TurnDeps,
  q: {
    tenantId: string;
    conversation: ConversationRow;
    messageId: string;
    /** Redacted, as stored. */
    question: string;
    history: { role: string; text: string }[];
    requestId: string;
    /** The chunk of a "Did you mean" offer the visitor picked. */
    pick?: string;
    /** Who hands off when it is not the assistant's own answer (the turn sweeper). */
    actor: { type: string; id: string | null } | null;
    carried?: CarriedReads;
  },
  opts: { admitted?: boolean; handOff?: HandoffReason },
  emit: (e: TurnEvent) => void,
): Promise<'answered' | 'settled elsewhere'> {
  const ctx = { requestId: q.requestId };
  const answer: Answer = opts.handOff
    ? { text: NOTICES.busy, citations: [], confidence: 0, handoff: { reason: opts.handOff } }
    : await deps.answerer.answer(
        {
          tenantId: q.tenantId,
          conversation: q.conversation,
          question: q.question,
          history: q.history,
          requestId: q.requestId,
          ...(opts.admitted ? { admitted: true } : {}),
          ...(q.pick ? { pick: q.pick } : {}),
          ...(q.carried ? { carried: q.carried } : {}),
        },
        (text) => emit({ type: 'delta', text }),
      );
  const done = await deps.db.withTenant(q.tenantId, ctx, async (tx) => {
    await answer.record?.(tx);
    // Lock order as every append: the conversation row first. Asked together, the lock and the statement
    // that settles the question and stores the answer go in one message, in this order (db/postgres.ts),
    // and with COMMIT when nothing follows: no handoff to open, no placeholder to restore for the visitor.
    // A handoff's event reads the webhook subscriptions with them.
    const last = !answer.handoff && !restoresFromVault(answer.text);
    const [, , saved] = await Promise.all([
      lockedStatus(tx, q.conversation.id),
      last ? null : readSubscriptions(tx, q.tenantId),
      appendAnswer(
        tx,
        {
          tenantId: q.tenantId,
          conversationId: q.conversation.id,
          role: 'assistant',
          text: answer.text,
          citations: answer.citations,
          confidence: answer.confidence,
          last,
        },
        q.messageId,
      ),
    ]);
    // Settled by another claimant, or a person took the conversation while the answer ran: theirs to answer.
    if (!saved) return null;
    const handoff = answer.handoff
      ? await createHandoff(tx, deps.audit, {
          tenantId: q.tenantId,
          conversationId: q.conversation.id,
          reason: answer.handoff.reason,
          detail: { confidence: answer.confidence, ...(answer.handoff.detail ?? {}) },
          requestId: q.requestId,
          actor: q.actor ?? { type: 'system', id: 'assistant' },
        })
      : null;
    const visible = { ...saved.message, text: await deps.redactor.restoreForVisitor(tx, q.conversation, saved.message.text) };
    return { saved, visible, handoff };
  });
  if (!done) return 'settled elsewhere';
  for (const e of [done.saved.event, done.handoff?.event]) if (e) deps.bus.publish(e);
  emit({ type: 'done', message: answer.offer ? { ...done.visible, offer: answer.offer } : done.visible });
  if (done.handoff) emit({ type: 'handoff', handoff: done.handoff.handoff, notice: done.handoff.notice });
  return 'answered';
}
