// The rules of working a conversation: take, hand over, give back, resolve and reopen a handoff; reply
// and write internal notes; read the transcript, the visitor's verified profile and a left email
// (sensitive reads, audited); the visitor's rating and email. Every function runs in the caller's
// transaction, locks the conversation first (one lock order for every writer), and returns the feed
// events to publish after commit.
import { randomUUID } from 'node:crypto';
import {
  capabilitiesOf,
  ProfileField,
  shownInAdminViews,
  type AdminHandoff,
  type Capability,
  type ConversationListQuery,
  type ConversationListResponse,
  type VisitorProfileResponse,
  type WorkspaceHandoff,
} from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { modeFor, type PiiPolicy } from '../ai/pii/index.js';
import { tenantPolicy, vaultContext } from '../ai/pii/redactor.js';
import { vaultEntry } from '../ai/pii/store.js';
import type { ConversationEvent } from '../conversations/bus.js';
import { appendMessage, conversationView, recordEvent, SUPPORT_NAME, type ConversationRow, type MessageView } from '../conversations/service.js';
import type { Redactor } from '../conversations/turn.js';
import { recordTyping, type TypingThrottle } from '../conversations/typing.js';
import * as webhooks from '../webhooks/events.js';
import * as store from './store.js';

export interface Ctx extends RequestCtx {
  tenantId: string;
}

/** Who is acting on the agent side: a signed-in member, or a key (an integration) naming its agent. */
export interface Agent {
  /** A member id, or the key's `agent` label. */
  id: string;
  memberId: string | null;
  capabilities: ReadonlySet<Capability>;
}

export const contactContext = (conversationId: string) => `conversation-contact/${conversationId}`;

async function locked(tx: Tx, conversationId: string): Promise<ConversationRow> {
  const c = await store.lockConversation(tx, conversationId);
  if (!c) throw new DomainError('not_found', 'No such conversation.');
  return c;
}

async function found(tx: Tx, conversationId: string): Promise<ConversationRow> {
  const c = await store.conversationById(tx, conversationId);
  if (!c) throw new DomainError('not_found', 'No such conversation.');
  return c;
}

/** The handoff, after its conversation's lock. */
async function lockedHandoff(tx: Tx, handoffId: string): Promise<store.HandoffRow> {
  const conversationId = await store.handoffConversation(tx, handoffId);
  if (!conversationId) throw new DomainError('not_found', 'No such handoff.');
  await locked(tx, conversationId);
  return (await store.handoffById(tx, handoffId))!;
}

export function handoffView(h: store.HandoffRow): WorkspaceHandoff {
  return {
    id: h.id,
    status: h.status,
    reason: h.reason,
    assignee: h.assigned_to ? { id: h.assigned_to, displayName: h.assignee_name ?? h.assigned_to } : null,
    createdAt: h.created_at.toISOString(),
    firstResponseAt: h.first_response_at?.toISOString() ?? null,
    resolvedAt: h.resolved_at?.toISOString() ?? null,
  };
}

/**
 * Who wrote it, for the audit log: a member by id. A key's author label is free text (often a person's
 * name) and stays on the message, where erasure can reach it; the entry's actor already names the key.
 */
const authorOf = (agent: Agent) => (agent.memberId ? { agent: agent.memberId } : {});

/** The name an agent's words are shown under: the member's display name, or the key's label. */
async function agentName(tx: Tx, agent: Agent): Promise<string> {
  return (agent.memberId ? await store.memberName(tx, agent.memberId) : null) ?? agent.id;
}

/** An agent's typing signal, recorded when the throttle admits it (else null). */
export async function agentTyping(
  tx: Tx,
  ctx: Ctx,
  typing: TypingThrottle,
  agent: Agent,
  conversationId: string,
  active: boolean,
): Promise<ConversationEvent | null> {
  await locked(tx, conversationId);
  const who = { role: 'agent' as const, key: agent.id, name: (agent.memberId ? await store.memberName(tx, agent.memberId) : null) ?? SUPPORT_NAME };
  return typing.admit(conversationId, who, active) ? recordTyping(tx, ctx.tenantId, conversationId, who, active) : null;
}

/** The refusal of a change made on a stale view of who holds a handoff: it names who holds it now. */
function heldBy(current: string | null): DomainError {
  return new DomainError(
    'conflict',
    current
      ? 'Someone else holds this handoff now. To take it over, send their id as expectedAssignee.'
      : 'Nobody holds this handoff now: it is back in the queue.',
    { assignedTo: current },
  );
}

/**
 * Who may be given a handoff: someone who can reply to the visitor (`conversations:write`). A member by
 * the role's capabilities; a key's own agent label by the key's.
 */
async function assignee(tx: Tx, agent: Agent, id: string): Promise<{ id: string; displayName: string }> {
  const member = await store.activeMember(tx, id);
  // A person hands work only to members; an integration may name its own agent label.
  if (!member && (agent.memberId || /^[0-9a-f-]{36}$/i.test(id))) {
    throw new DomainError('invalid_input', 'The assignee is not a member of this tenant.', {
      errors: [{ path: '/assignedTo', message: 'must be a member id of this tenant', code: 'not_member' }],
    });
  }
  const canReply = member ? capabilitiesOf(member.role).includes('conversations:write') : agent.capabilities.has('conversations:write');
  if (!canReply) {
    throw new DomainError('invalid_input', 'The assignee could not reply to the visitor.', {
      errors: [
        {
          path: '/assignedTo',
          message: member
            ? 'must be a member whose role may reply to conversations (conversations:write)'
            : 'a key names its own agent only when it may reply to conversations (conversations:write)',
          code: 'cannot_reply',
        },
      ],
    });
  }
  // A key taking it for itself is SUPPORT_NAME to the visitor, not its id.
  return { id, displayName: member?.display_name ?? (id === agent.id && !agent.memberId ? SUPPORT_NAME : id) };
}

/**
 * Assigns a handoff (`assignee`: a member id, or null to give it back to the queue) or resolves it.
 * A person assigns only members of the tenant who may reply; a key may also name its own label.
 * Taking it for yourself is conditional: a 409 naming the holder when someone else has it. With
 * `expectedAssignee`, any change applies only while that is who holds it (taking over on purpose).
 */
export async function updateHandoff(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  agent: Agent,
  handoffId: string,
  change: {
    status: 'pending' | 'assigned' | 'resolved';
    assignedTo?: string | undefined;
    expectedAssignee?: string | null | undefined;
  },
): Promise<ConversationEvent[]> {
  const h = await lockedHandoff(tx, handoffId);
  if (h.status === 'resolved') throw new DomainError('not_found', 'No such open handoff.');
  if (change.expectedAssignee !== undefined && change.expectedAssignee !== h.assigned_to) throw heldBy(h.assigned_to);
  const events: ConversationEvent[] = [];
  if (change.status === 'resolved') {
    const resolution = await store.resolveHandoff(tx, { id: h.id, conversationId: h.conversation_id, by: agent.id });
    await audit.append(tx, { ...ctx, action: 'handoff.update', target: { type: 'handoff', id: h.id }, metadata: { status: 'resolved' } });
    await webhooks.handoffChanged(tx, ctx.tenantId, { id: h.id, conversationId: h.conversation_id, status: 'resolved' }, h.assigned_to);
    events.push(await recordEvent(tx, ctx.tenantId, h.conversation_id, 'status', { handoff: { id: h.id, status: 'resolved' } }));
    events.push(await recordEvent(tx, ctx.tenantId, h.conversation_id, 'resolved', { handoff: { id: h.id }, resolution, csat: true }));
    return events;
  }
  let to: { id: string; displayName: string } | null = null;
  if (change.status === 'assigned') {
    // Yourself by default: a member, or a key as `key:<id>` (a label it names is someone else).
    const id = change.assignedTo ?? agent.id;
    to = await assignee(tx, agent, id);
    // Taking it for yourself: only from the queue (or yourself), unless the caller named whom it takes it from.
    const takes = id === agent.id && change.expectedAssignee === undefined;
    if (takes && h.assigned_to !== null && h.assigned_to !== id) throw heldBy(h.assigned_to);
  }
  // A conditional update on who held it as read under the conversation's lock.
  if (!(await store.assignHandoff(tx, h.id, to?.id ?? null, h.assigned_to))) {
    throw heldBy((await store.handoffById(tx, h.id))?.assigned_to ?? null);
  }
  const status = to ? 'assigned' : 'pending';
  await audit.append(tx, {
    ...ctx,
    action: 'handoff.update',
    target: { type: 'handoff', id: h.id },
    metadata: { status, ...(to ? { assignedTo: to.id } : {}) },
  });
  await webhooks.handoffChanged(tx, ctx.tenantId, { id: h.id, conversationId: h.conversation_id, status }, to?.id ?? null);
  events.push(await recordEvent(tx, ctx.tenantId, h.conversation_id, 'status', { handoff: { id: h.id, status } }));
  events.push(await recordEvent(tx, ctx.tenantId, h.conversation_id, 'assigned', { handoff: { id: h.id, status }, assignee: to }));
  return events;
}

/** A resolved handoff back to work, if it is the conversation's latest and nothing else is open. */
export async function reopenHandoff(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  handoffId: string,
): Promise<{ handoff: WorkspaceHandoff; events: ConversationEvent[] }> {
  const h = await lockedHandoff(tx, handoffId);
  if (h.status !== 'resolved') throw new DomainError('conflict', 'This handoff is not resolved.');
  const latest = await store.latestHandoff(tx, h.conversation_id);
  if (latest?.id !== h.id) throw new DomainError('conflict', 'The conversation has a newer handoff; work on that one.');
  const status = await store.reopenHandoff(tx, { id: h.id, conversationId: h.conversation_id });
  await audit.append(tx, { ...ctx, action: 'handoff.reopen', target: { type: 'handoff', id: h.id }, metadata: { status } });
  const event = await recordEvent(tx, ctx.tenantId, h.conversation_id, 'reopened', { handoff: { id: h.id, status } });
  return { handoff: handoffView((await store.handoffById(tx, h.id))!), events: [event] };
}

/**
 * An agent's reply, stored as typed (the tenant's staff, not a visitor: the visitor and agents read it as
 * written; provider prompts are still redacted whole). It leaves in the `message.created` webhook redacted
 * by the visitor's rule (the tenant's PII policy on the conversation's channel, one placeholder numbering
 * with the visitor's words), as every message event carries only redacted text. A person replying to a
 * handoff nobody has taken takes it. Replying to a conversation someone else holds is allowed.
 */
export async function agentReply(
  tx: Tx,
  audit: AuditLog,
  redactor: Redactor,
  ctx: Ctx,
  agent: Agent,
  conversationId: string,
  text: string,
): Promise<{ message: MessageView; events: ConversationEvent[] }> {
  const c = await locked(tx, conversationId);
  const name = await agentName(tx, agent);
  // Always, not only when an endpoint is known to want it: one created meanwhile gets the message event.
  const webhookText = (await redactor.inbound(tx, c, text, c.channel)).text;
  const saved = await appendMessage(tx, {
    tenantId: ctx.tenantId,
    conversationId,
    role: 'agent',
    text,
    webhookText,
    pii: [],
    author: { id: agent.id, name },
  });
  await store.markFirstResponse(tx, conversationId);
  await audit.append(tx, {
    ...ctx,
    action: 'conversation.agent_reply',
    target: { type: 'conversation', id: conversationId },
    metadata: { messageId: saved.message.id, ...authorOf(agent) },
  });
  const events = saved.event ? [saved.event] : [];
  const open = await store.latestHandoff(tx, conversationId);
  if (agent.memberId && open?.status === 'pending' && (await store.assignHandoff(tx, open.id, agent.memberId, open.assigned_to))) {
    const assignee = { id: agent.memberId, displayName: name };
    await audit.append(tx, {
      ...ctx,
      action: 'handoff.update',
      target: { type: 'handoff', id: open.id },
      metadata: { status: 'assigned', assignedTo: agent.memberId },
    });
    await webhooks.handoffChanged(tx, ctx.tenantId, { id: open.id, conversationId, status: 'assigned' }, agent.memberId);
    events.push(await recordEvent(tx, ctx.tenantId, conversationId, 'assigned', { handoff: { id: open.id, status: 'assigned' }, assignee }));
  }
  return { message: saved.message, events };
}

/** An internal note: agents only, never the visitor, a webhook or the assistant's history. */
export async function addNote(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  agent: Agent,
  conversationId: string,
  text: string,
): Promise<{ message: MessageView; events: ConversationEvent[] }> {
  await locked(tx, conversationId);
  const saved = await appendMessage(tx, {
    tenantId: ctx.tenantId,
    conversationId,
    role: 'note',
    text,
    pii: [],
    author: { id: agent.id, name: await agentName(tx, agent) },
  });
  await audit.append(tx, {
    ...ctx,
    action: 'conversation.note',
    target: { type: 'conversation', id: conversationId },
    metadata: { messageId: saved.message.id, ...authorOf(agent) },
  });
  return { message: saved.message, events: saved.event ? [saved.event] : [] };
}

/** The tenant's handoffs, newest first. */
export async function listHandoffs(tx: Tx, status: string | null, limit: number): Promise<AdminHandoff[]> {
  return (await store.listHandoffs(tx, status, limit)).map((h) => ({
    id: h.id,
    conversationId: h.conversation_id,
    status: h.status as AdminHandoff['status'],
    reason: h.reason,
    assignedTo: h.assigned_to,
    assignee: h.assignee_name && h.assigned_to ? { id: h.assigned_to, displayName: h.assignee_name } : null,
    visitorVerified: h.verified,
    visitorRef: h.visitor_ref,
    createdAt: h.created_at.toISOString(),
    updatedAt: h.updated_at.toISOString(),
  }));
}

// A page's position: the last row's activity time (microseconds) and id, as `<µs>_<id>`. Sixteen digits
// reach past the year 2200; more would overflow the database's interval (a 500, found by a review).
const CURSOR = /^(\d{1,16})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Every conversation, most recently active first, searchable; listing reads no transcript, so it is not audited. */
export async function listConversations(tx: Tx, q: ConversationListQuery): Promise<ConversationListResponse> {
  const m = q.cursor === undefined ? null : CURSOR.exec(q.cursor);
  if (q.cursor !== undefined && !m) {
    throw new DomainError('invalid_input', 'The cursor is not one this API gave.', {
      errors: [{ path: '/cursor', message: 'must be a nextCursor of a previous page', code: 'invalid' }],
    });
  }
  const rows = await store.listConversations(tx, {
    q: q.q ?? null,
    status: q.status ?? null,
    channel: q.channel ?? null,
    after: m ? { position: m[1]!, id: m[2]! } : null,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    conversations: page.map((r) => ({
      id: r.id,
      status: r.status,
      channel: r.channel,
      visitorRef: r.visitor_id,
      verified: r.verified,
      messageCount: r.message_count,
      lastMessage: r.last_role && r.last_at ? { role: r.last_role, text: r.last_text ?? '', at: r.last_at.toISOString() } : null,
      handoffStatus: r.handoff_status,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    })),
    nextCursor: rows.length > q.limit && last ? `${last.position}_${last.id}` : null,
  };
}

/** The transcript as stored (redacted), notes included; a read is audited. */
export async function readConversation(tx: Tx, audit: AuditLog, ctx: Ctx, conversationId: string) {
  const c = await found(tx, conversationId);
  const messages = await store.transcript(tx, conversationId);
  const handoff = await store.latestHandoff(tx, conversationId);
  // Reading a transcript is a sensitive read even in its redacted form.
  await audit.append(tx, { ...ctx, action: 'conversation.read', target: { type: 'conversation', id: conversationId } });
  return {
    // The visitor's pseudonymous reference: it names the visitor, it does not let anyone become them.
    conversation: {
      ...conversationView(c),
      visitorRef: c.visitor_id,
      identitySubject: c.identity_subject,
      handoff: handoff ? handoffView(handoff) : null,
      contactLeft: c.contact_left_at != null,
    },
    messages: messages.map((m) => ({
      id: m.id,
      role: m.role,
      text: m.text,
      redactions: m.pii,
      citations: m.citations,
      confidence: m.confidence,
      author: m.author_id,
      authorName: m.author_name ?? (m.author_id && m.role !== 'visitor' ? m.author_id : null),
      createdAt: m.created_at.toISOString(),
    })),
  };
}

/** One reversible value, for a person with a reason; audited with the reason. */
export async function reveal(
  tx: Tx,
  audit: AuditLog,
  keyring: Keyring,
  ctx: Ctx,
  conversationId: string,
  token: string,
  reason: string,
): Promise<string> {
  const v = await vaultEntry(tx, conversationId, token);
  if (!v) throw new DomainError('not_found', 'No reversible value with that token in this conversation.');
  await audit.append(tx, {
    ...ctx,
    action: 'pii.reveal',
    target: { type: 'conversation', id: conversationId },
    reason,
    metadata: { token, class: v.class },
  });
  return keyring.openString(tx, ctx.tenantId, v.sealed, vaultContext(conversationId, token));
}

// The PII engine's kind of each profile field; the plan is one of the host's traits, not personal.
const FIELD_KIND: Record<ProfileField, 'person' | 'email' | null> = { name: 'person', email: 'email', plan: null };

/**
 * How admin views treat a profile field, by the registry (verified_visitors.profile is personal, shown
 * only where the PII policy merely flags its kind) and the policy: shown, revealable with a reason by a
 * holder of `pii:reveal`, or withheld (a strict kind, or a caller who may not reveal).
 */
function fieldView(policy: PiiPolicy, field: ProfileField, caps: ReadonlySet<Capability>): 'shown' | 'revealable' | 'withheld' {
  const kind = FIELD_KIND[field];
  if (!kind) return 'shown';
  const mode = modeFor(policy, kind, 'widget');
  if (mode === 'flag' || shownInAdminViews('verified_visitors', 'profile')) return 'shown';
  return mode === 'reversible' && caps.has('pii:reveal') ? 'revealable' : 'withheld';
}

/**
 * The verified profile and a left email: a sensitive read, audited. With a reason (`pii:reveal`), the
 * fields the policy lets be revealed are shown too, and the reason is audited with their names.
 */
export async function visitorProfile(
  tx: Tx,
  audit: AuditLog,
  keyring: Keyring,
  ctx: Ctx,
  agent: Agent,
  conversationId: string,
  reveal?: { reason: string },
): Promise<VisitorProfileResponse> {
  const c = await found(tx, conversationId);
  const policy = await tenantPolicy(tx);
  const shown: Partial<Record<ProfileField, string>> = {};
  const redacted: ProfileField[] = [];
  const revealable: ProfileField[] = [];
  const revealed: ProfileField[] = [];
  if (c.identity_subject) {
    const sealed = await store.verifiedProfile(tx, c.identity_subject);
    const profile = sealed
      ? (JSON.parse(await keyring.openString(tx, ctx.tenantId, sealed, `visitor-profile/${c.identity_subject}`)) as {
          name?: unknown;
          email?: unknown;
          traits?: { plan?: unknown };
        })
      : {};
    const claims: Record<ProfileField, unknown> = { name: profile.name, email: profile.email, plan: profile.traits?.plan };
    for (const field of ProfileField.options) {
      const value = claims[field];
      if (typeof value !== 'string' || !value) continue;
      const view = fieldView(policy, field, agent.capabilities);
      if (view === 'revealable' && reveal) revealed.push(field);
      if (view === 'shown' || (view === 'revealable' && reveal)) shown[field] = value;
      else {
        redacted.push(field);
        if (view === 'revealable') revealable.push(field);
      }
    }
  }
  if (reveal && !revealed.length) throw new DomainError('conflict', 'This visitor has no withheld profile field you may reveal.');
  // The visitor gave this email to be answered on (a shown personal field of the registry).
  const contact =
    c.contact_email_sealed && c.contact_left_at && shownInAdminViews('conversations', 'contact_email_sealed')
      ? { email: await keyring.openString(tx, ctx.tenantId, c.contact_email_sealed, contactContext(c.id)), at: c.contact_left_at.toISOString() }
      : null;
  await audit.append(tx, {
    ...ctx,
    action: reveal ? 'visitor.profile.reveal' : 'visitor.profile.read',
    target: { type: 'conversation', id: conversationId },
    ...(reveal ? { reason: reveal.reason } : {}),
    metadata: { fields: Object.keys(shown), withheld: redacted, ...(reveal ? { revealed } : {}), contact: contact !== null },
  });
  return { visitor: { ref: c.visitor_id, verified: c.verified, id: c.identity_subject, ...shown, redacted, revealable }, contact };
}

// The visitor's side ------------------------------------------------------------------------------

/**
 * The visitor's rating of the latest resolution: only after one, once per resolution. The comment is
 * visitor text, redacted like a message before it is stored.
 */
export async function submitCsat(
  tx: Tx,
  audit: AuditLog,
  redactor: Redactor,
  ctx: Ctx,
  c: ConversationRow,
  rating: { score: number; comment?: string | undefined },
): Promise<{ csat: { handoffId: string; score: number; createdAt: string }; events: ConversationEvent[] }> {
  const h = await store.latestHandoff(tx, c.id);
  if (!h || h.status !== 'resolved') throw new DomainError('conflict', 'There is no resolved conversation to rate yet.');
  const comment = rating.comment ? await redactor.inbound(tx, c, rating.comment, c.channel) : null;
  const row = await store.insertCsat(tx, {
    id: randomUUID(),
    tenantId: ctx.tenantId,
    conversationId: c.id,
    handoffId: h.id,
    resolution: h.resolutions,
    score: rating.score,
    comment: comment?.text ?? null,
    commentPii: comment?.pii ?? [],
  });
  if (!row) throw new DomainError('conflict', 'This conversation was rated already.');
  await audit.append(tx, {
    ...ctx,
    action: 'csat.submit',
    target: { type: 'handoff', id: h.id },
    metadata: { score: rating.score, resolution: h.resolutions, comment: comment !== null },
  });
  await webhooks.csatSubmitted(tx, ctx.tenantId, { conversationId: c.id, handoffId: h.id, score: row.score, comment: comment?.text ?? null });
  const event = await recordEvent(tx, ctx.tenantId, c.id, 'csat', { handoff: { id: h.id }, score: rating.score }, 'agents');
  return { csat: { handoffId: h.id, score: row.score, createdAt: row.created_at.toISOString() }, events: [event] };
}

/** The email a visitor leaves to be answered on (outside business hours): sealed, the last one counts. */
export async function leaveContact(
  tx: Tx,
  audit: AuditLog,
  keyring: Keyring,
  ctx: Ctx,
  c: ConversationRow,
  email: string,
): Promise<{ at: string; events: ConversationEvent[] }> {
  const sealed = await keyring.seal(tx, ctx.tenantId, email, contactContext(c.id));
  const at = (await store.storeContact(tx, c.id, sealed)).toISOString();
  await audit.append(tx, { ...ctx, action: 'conversation.contact', target: { type: 'conversation', id: c.id } });
  const event = await recordEvent(tx, ctx.tenantId, c.id, 'contact', { contact: { at } }, 'agents');
  return { at, events: [event] };
}
