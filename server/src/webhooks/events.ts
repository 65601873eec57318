// The points where other capabilities raise webhook events, one call each, in their own transaction.
// The rules of what an event carries live here: message events carry redacted text (an agent's reply,
// stored as typed, redacted by the visitor's rule: handoff/service.ts agentReply) and never an internal
// note; key events never the secret; invitation events never the link.
import { isUuid } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { enqueueWebhook } from './outbox.js';
import { memberName, UNSTORED_TIME } from './store.js';

/** Roles whose messages are sent out; internal notes (`note`) and system lines are not. */
const SENT_ROLES = new Set(['visitor', 'assistant', 'agent']);

/**
 * A message's JSON in its `message.created` event, for the statement that stores the message and writes the
 * event when an endpoint wants it (webhooks/store.ts, MESSAGE_CREATED_CTES), its time left to that statement.
 * Null for a role whose messages are never sent.
 */
export function messageCreatedJson(message: {
  id: string;
  role: string;
  text: string;
  createdAt: string;
  citations?: unknown[];
  confidence?: number;
}): string | null {
  return SENT_ROLES.has(message.role) ? JSON.stringify({ ...message, createdAt: UNSTORED_TIME }) : null;
}

/** `handoff.assigned` or `handoff.resolved` after a status change (a return to pending raises nothing). */
export async function handoffChanged(
  tx: Tx,
  tenantId: string,
  handoff: { id: string; conversationId: string; status: string },
  assignedTo: string | null,
): Promise<void> {
  if (handoff.status !== 'assigned' && handoff.status !== 'resolved') return;
  // A person assigns a member id; an integration's key may name an agent of its own system instead.
  const assignee = assignedTo ? { id: assignedTo, ...(isUuid(assignedTo) ? await memberName(tx, assignedTo) : {}) } : null;
  await enqueueWebhook(tx, tenantId, handoff.status === 'assigned' ? 'handoff.assigned' : 'handoff.resolved', {
    handoff: { id: handoff.id, conversationId: handoff.conversationId, status: handoff.status },
    assignee,
  });
}

/** A visitor's rating; the comment as stored (redacted like the visitor's messages). */
export async function csatSubmitted(
  tx: Tx,
  tenantId: string,
  c: { conversationId: string; handoffId: string; score: number; comment: string | null },
): Promise<void> {
  await enqueueWebhook(tx, tenantId, 'csat.submitted', {
    conversationId: c.conversationId,
    handoffId: c.handoffId,
    score: c.score,
    ...(c.comment ? { comment: c.comment } : {}),
  });
}

export async function sourceSynced(
  tx: Tx,
  tenantId: string,
  s: { id: string; kind: string; title: string; url: string | null; chunk_count: number },
): Promise<void> {
  await enqueueWebhook(tx, tenantId, 'knowledge.source.synced', {
    source: { id: s.id, kind: s.kind, title: s.title, url: s.url },
    chunks: s.chunk_count,
  });
}

/** A crawl that failed: the source is the sitemap it was reading. */
export async function crawlFailed(tx: Tx, tenantId: string, job: { id: string; url: string }, error: string | null): Promise<void> {
  await enqueueWebhook(tx, tenantId, 'knowledge.source.failed', {
    source: { id: job.id, kind: 'sitemap', title: job.url, url: job.url },
    ...(error ? { error } : {}),
  });
}

export async function memberInvited(tx: Tx, tenantId: string, invite: { id: string; role: string; expires_at: Date }): Promise<void> {
  await enqueueWebhook(tx, tenantId, 'member.invited', { invite: { id: invite.id, role: invite.role, expiresAt: invite.expires_at.toISOString() } });
}

export async function keyCreated(tx: Tx, tenantId: string, key: { id: string; name: string; prefix: string; capabilities: string[] }): Promise<void> {
  await enqueueWebhook(tx, tenantId, 'key.created', { apiKey: { id: key.id, name: key.name, prefix: key.prefix, capabilities: key.capabilities } });
}

type ApprovalEventType = 'approval.requested' | 'approval.decided' | 'action.executed' | 'action.failed';

/**
 * The approval rail's events: the proposal's ids, action and status (and the decision, or the endpoint's
 * status code); never the arguments, the subject or what the endpoint answered.
 */
export async function approvalEvent(
  tx: Tx,
  tenantId: string,
  type: ApprovalEventType,
  data: {
    proposal: {
      id: string;
      kind: 'action' | 'admin';
      action: { id: string; name: string; risk: string } | null;
      operation: string | null;
      conversationId: string | null;
      status: string;
      expiresAt: string;
    };
    decision?: 'approve' | 'reject' | 'expire';
    statusCode?: number;
    error?: string;
  },
): Promise<void> {
  await enqueueWebhook(tx, tenantId, type, data);
}
