// One visitor turn: store the visitor's message redacted, answer it, store the answer, and hand off
// when the answerer is not confident enough. Events stream to the caller as they happen.
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import type { ConversationBus } from './bus.js';
import {
  appendMessage,
  createHandoff,
  listMessages,
  visitorConversation,
  type Citation,
  type ConversationRow,
  type HandoffReason,
  type HandoffView,
  type MessageView,
  type OutsideHoursNotice,
} from './service.js';

/** Redaction of inbound text before it is stored or sent anywhere; restoration for the visitor. */
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
}

export interface Answer {
  text: string;
  citations: Citation[];
  confidence: number;
  handoff?: { reason: HandoffReason; detail?: Record<string, unknown> };
}

export interface Answerer {
  answer(input: AnswerInput, onDelta: (text: string) => void): Promise<Answer>;
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
}

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
  },
  emit: (e: TurnEvent) => void,
): Promise<void> {
  const ctx = { requestId: t.requestId };
  const { conversation, stored, history } = await deps.db.withTenant(t.tenantId, ctx, async (tx) => {
    const conversation = await visitorConversation(tx, t.conversationId, t.visitorId, t.subject, true);
    const redacted = await deps.redactor.inbound(tx, conversation, t.text, conversation.channel);
    const stored = await appendMessage(tx, {
      tenantId: t.tenantId,
      conversationId: conversation.id,
      role: 'visitor',
      text: redacted.text,
      pii: redacted.pii,
      clientMessageId: t.clientMessageId,
    });
    // Notes never reach the assistant: listMessages leaves them out.
    const history = (await listMessages(tx, conversation.id)).slice(-9, -1).map((m) => ({ role: m.role, text: m.text }));
    const visible = { ...stored.message, text: await deps.redactor.restoreForVisitor(tx, conversation, stored.message.text) };
    return { conversation, stored: { ...stored, visible }, history };
  });
  if (stored.event) deps.bus.publish(stored.event);
  emit({ type: 'message', message: stored.visible });
  if (stored.duplicate) return;

  // A conversation with a person on it is theirs: the assistant stays quiet.
  if (conversation.status === 'handoff') return;

  const answer = await deps.answerer.answer(
    { tenantId: t.tenantId, conversation, question: stored.message.text, history, requestId: t.requestId, ...(t.admitted ? { admitted: true } : {}) },
    (text) => emit({ type: 'delta', text }),
  );
  const done = await deps.db.withTenant(t.tenantId, ctx, async (tx) => {
    const saved = await appendMessage(tx, {
      tenantId: t.tenantId,
      conversationId: conversation.id,
      role: 'assistant',
      text: answer.text,
      citations: answer.citations,
      confidence: answer.confidence,
    });
    const handoff = answer.handoff
      ? await createHandoff(tx, deps.audit, {
          tenantId: t.tenantId,
          conversationId: conversation.id,
          reason: answer.handoff.reason,
          detail: { confidence: answer.confidence, ...(answer.handoff.detail ?? {}) },
          requestId: t.requestId,
          actor: { type: 'system', id: 'assistant' },
        })
      : null;
    const visible = { ...saved.message, text: await deps.redactor.restoreForVisitor(tx, conversation, saved.message.text) };
    return { saved, visible, handoff };
  });
  for (const e of [done.saved.event, done.handoff?.event]) if (e) deps.bus.publish(e);
  emit({ type: 'done', message: done.visible });
  if (done.handoff) emit({ type: 'handoff', handoff: done.handoff.handoff, notice: done.handoff.notice });
}
