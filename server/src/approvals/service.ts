// The approval rail's rules: action definitions, and every call of an action as a proposal that goes
// propose → approve | reject | expire → execute. Each step is audited in its own transaction and raises
// its webhook and conversation events there; the database's triggers refuse any illegal step as well, so
// these rules are checked twice. Execution is executor.ts's alone, and only of an approved proposal.
//
// `propose` takes its requester as data (a visitor now; a member or a key later, e.g. the chat turn's
// tool calling or admin operations gated by the rail), so other callers reuse it as is.
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_ACTION_EXPIRY_SECONDS,
  type MemberRole,
  type CreateActionRequest,
  type Proposal,
  type ProposalStatus,
  type UpdateActionRequest,
  type WidgetProposal,
} from '@parley/protocol';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.js';
import type { ConversationBus, ConversationEvent } from '../conversations/bus.js';
import { recordEvent, type ConversationRow } from '../conversations/service.js';
import type { Redactor } from '../conversations/turn.js';
import type { Keyring } from '../crypto/keyring.js';
import { ACTION_SECRET } from '../crypto/sealed-columns.js';
import { objectWithPersonalKey } from '../ai/pii/outbound.js';
import { afterCommit } from '../db/index.js';
import type { ActorRef, Db, Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { AdminAuth } from '../http/context.js';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import { approvalEvent } from '../webhooks/events.js';
import { newWebhookSecret } from '../webhooks/signing.js';
import { keyPerson } from '../tenants/store.js';
import type { ApprovalNotifier } from './notices.js';
import * as store from './store.js';

export interface ApprovalDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  outbound: Outbound;
  bus: ConversationBus;
  /** Per call of an action endpoint; 10 s unless a test wants a shorter wait. */
  callTimeoutMs?: number;
  /** Emails approvers when an admin operation waits for them (the sweep sends them). */
  notifier?: ApprovalNotifier;
}

export interface RailCtx {
  tenantId: string;
  requestId: string | null;
  actor: ActorRef;
}

export type Requester = { kind: 'visitor' | 'member' | 'key'; id: string };
export type Decider = { kind: 'member' | 'key'; id: string; role?: MemberRole };

/** Who decides, from an admin request: the person (with their role), or the key. */
export const deciderOf = (admin: AdminAuth): Decider =>
  admin.member ? { kind: 'member', id: admin.member.id, role: admin.member.role } : { kind: 'key', id: admin.keyId! };

/** Whether this caller may decide admin operations at all: an owner or admin, signed in (never a key). */
const decidesAdmin = (by: Decider): boolean => by.kind === 'member' && (by.role === 'owner' || by.role === 'admin');

/**
 * Which admin proposals a caller sees: all of them when it could decide them, otherwise only those it asked
 * for itself (to see whether they were approved). Everyone with approvals:decide sees the actions' proposals.
 * An agent decides visitors' actions; an admin operation (an admin's invitation, a provider change) is no
 * more its to read than the request the operation holds.
 */
const adminProposalsOf = (by: Decider): store.AdminProposalsSeen => (decidesAdmin(by) ? 'all' : { requestedBy: { kind: by.kind, id: by.id } });

// ---- views ----

const iso = (d: Date) => d.toISOString();

/** What a proposal is about, as its views name it: the action, or the admin operation. */
const subjectOf = (p: store.ProposalRow) => ({
  kind: p.kind,
  action: p.action_id ? { id: p.action_id, name: p.action_name ?? '', risk: p.risk } : null,
  operation: p.operation,
});

/** The name audit entries give a proposal: its action's, or its operation. */
export const proposalName = (p: store.ProposalRow): string => p.action_name ?? p.operation ?? 'unknown';

export function proposalView(p: store.ProposalRow, decisions: store.DecisionRow[]): Proposal {
  return {
    id: p.id,
    ...subjectOf(p),
    arguments: p.arguments,
    subject: p.subject,
    conversationId: p.conversation_id,
    requestedBy: { kind: p.requested_by_kind, id: p.requested_by_id },
    reason: p.reason,
    status: p.status,
    decisions: decisions.map((d) => ({
      by: { kind: d.decided_by_kind, id: d.decided_by_id },
      decision: d.decision,
      counts: d.counts,
      at: iso(d.created_at),
      reason: d.reason,
    })),
    expiresAt: iso(p.expires_at),
    createdAt: iso(p.created_at),
    result: p.result_status === null ? null : { statusCode: p.result_status, summary: p.result_summary ?? '' },
    error: p.error,
  };
}

/** A visitor's view of an action's proposal (admin operations never reach a conversation). */
export function widgetView(p: store.ProposalRow): WidgetProposal {
  const { decisions: _d, requestedBy: _r, subject: _s, kind: _k, operation: _o, action, ...rest } = proposalView(p, []);
  return { ...rest, action: action! };
}

const actionView = (a: store.ActionRow) => ({
  id: a.id,
  name: a.name,
  description: a.description,
  inputSchema: a.input_schema,
  endpoint: a.endpoint,
  risk: a.risk,
  expiresAfterSeconds: a.expires_after_seconds,
  enabled: a.enabled,
  createdAt: iso(a.created_at),
  updatedAt: iso(a.updated_at),
});

/** What webhooks and the audit log carry of a proposal: ids, the action and statuses; no arguments, no subject. */
export const eventView = (p: store.ProposalRow, status: ProposalStatus = p.status) => ({
  id: p.id,
  ...subjectOf(p),
  conversationId: p.conversation_id,
  status,
  expiresAt: iso(p.expires_at),
});

// ---- action definitions ----

/** The input schema as a validator; a schema it cannot take (an external $ref, an unknown keyword's misuse) is a 400. */
function argumentValidator(schema: Record<string, unknown>, path = '/inputSchema'): z.ZodType {
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    throw new DomainError('invalid_input', 'The input schema is not one Parley can check arguments with.', {
      errors: [{ path, message: (err as Error).message.slice(0, 200), code: 'invalid_schema' }],
    });
  }
}

/** A schema that names personal data in a property name (which reaches the model unredacted) is a 400. */
function checkedSchema(schema: Record<string, unknown>): void {
  argumentValidator(schema);
  const at = objectWithPersonalKey(schema);
  if (at !== null)
    throw new DomainError('invalid_input', 'A property name in the input schema holds personal data; it would reach the model as written.', {
      errors: [{ path: `/inputSchema${at}`, message: 'Rename the property: keep personal data out of names.', code: 'personal_data_in_key' }],
    });
}

function checkedEndpoint(outbound: Outbound, url: string): string {
  try {
    return outbound.check(url).toString();
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    throw new DomainError('invalid_input', 'The endpoint URL is not allowed.', {
      errors: [{ path: '/endpoint', message: err.message, code: `url_${err.code}` }],
    });
  }
}

export const listActions = async (tx: Tx) => ({ actions: (await store.listActions(tx)).map(actionView) });

export async function createAction(tx: Tx, deps: ApprovalDeps, ctx: RailCtx, body: CreateActionRequest) {
  checkedSchema(body.inputSchema);
  const endpoint = checkedEndpoint(deps.outbound, body.endpoint);
  if (await store.actionNameTaken(tx, body.name)) throw new DomainError('conflict', `An action named ${body.name} exists.`);
  const id = randomUUID();
  const secret = newWebhookSecret();
  const row = await store.insertAction(tx, ctx.tenantId, {
    id,
    name: body.name,
    description: body.description,
    inputSchema: body.inputSchema,
    endpoint,
    risk: body.risk,
    expiresAfterSeconds: body.expiresAfterSeconds ?? DEFAULT_ACTION_EXPIRY_SECONDS,
    enabled: body.enabled ?? true,
    secretSealed: await deps.keyring.seal(tx, ctx.tenantId, secret, ACTION_SECRET.context({ id })),
  });
  await deps.audit.append(tx, {
    ...ctx,
    action: 'action.create',
    target: { type: 'action', id },
    metadata: { name: row.name, risk: row.risk, host: new URL(endpoint).host },
  });
  return { action: actionView(row), secret };
}

export async function updateAction(tx: Tx, deps: ApprovalDeps, ctx: RailCtx, id: string, body: UpdateActionRequest) {
  const before = await store.actionById(tx, id, true);
  if (!before) throw new DomainError('not_found', 'No such action.');
  if (body.inputSchema) checkedSchema(body.inputSchema);
  const row = await store.updateAction(tx, id, {
    description: body.description ?? before.description,
    inputSchema: body.inputSchema ?? before.input_schema,
    endpoint: body.endpoint !== undefined ? checkedEndpoint(deps.outbound, body.endpoint) : before.endpoint,
    risk: body.risk ?? before.risk,
    expiresAfterSeconds: body.expiresAfterSeconds ?? before.expires_after_seconds,
    enabled: body.enabled ?? before.enabled,
  });
  await deps.audit.append(tx, {
    ...ctx,
    action: 'action.update',
    target: { type: 'action', id },
    metadata: { name: row.name, fields: Object.keys(body).sort(), risk: row.risk, host: new URL(row.endpoint).host },
  });
  return { action: actionView(row) };
}

export async function deleteAction(tx: Tx, deps: ApprovalDeps, ctx: RailCtx, id: string): Promise<void> {
  const before = await store.actionById(tx, id, true);
  if (!before || !(await store.removeAction(tx, id))) throw new DomainError('not_found', 'No such action.');
  await deps.audit.append(tx, { ...ctx, action: 'action.delete', target: { type: 'action', id }, metadata: { name: before.name } });
}

// ---- proposals ----

/** Records a conversation event in this transaction and wakes the streams after the commit. */
export async function announce(tx: Tx, bus: ConversationBus, tenantId: string, p: store.ProposalRow): Promise<void> {
  if (!p.conversation_id) return;
  const event: ConversationEvent = await recordEvent(tx, tenantId, p.conversation_id, 'action', { proposal: widgetView(p) });
  afterCommit(tx, () => bus.publish(event));
}

export interface ProposeInput {
  actionId: string;
  arguments: Record<string, unknown>;
  reason: string | null;
  conversationId: string | null;
  /** The verified user the action is about, from the conversation's identity; never from the arguments. */
  subject: string | null;
  requestedBy: Requester;
}

/** Proposes one call of an action; a `read` action's proposal starts approved (the caller then executes it). */
export async function propose(tx: Tx, deps: ApprovalDeps, ctx: RailCtx, input: ProposeInput): Promise<store.ProposalRow> {
  const action = await store.actionById(tx, input.actionId);
  if (!action || !action.enabled) throw new DomainError('not_found', 'No such action.');
  if (Object.hasOwn(input.arguments, 'subject'))
    throw new DomainError('invalid_input', 'The arguments do not match the action.', {
      errors: [{ path: '/arguments/subject', message: 'is set by Parley from the verified identity, never by the arguments', code: 'reserved' }],
    });
  const checked = argumentValidator(action.input_schema).safeParse(input.arguments);
  if (!checked.success)
    throw new DomainError('invalid_input', 'The arguments do not match the action.', {
      errors: checked.error.issues.slice(0, 20).map((i) => ({
        path: `/arguments${i.path.map((s) => `/${String(s)}`).join('')}`,
        message: i.message,
        code: i.code,
      })),
    });
  const id = randomUUID();
  const status = action.risk === 'read' ? 'approved' : 'pending';
  await store.insertProposal(tx, ctx.tenantId, {
    id,
    actionId: action.id,
    risk: action.risk,
    conversationId: input.conversationId,
    subject: input.subject,
    // Exactly what the endpoint will receive: the arguments as given, which the schema accepted.
    arguments: input.arguments,
    reason: input.reason,
    requestedBy: input.requestedBy,
    status,
    expiresAt: new Date(Date.now() + action.expires_after_seconds * 1000),
  });
  const p = (await store.proposalById(tx, id))!;
  await deps.audit.append(tx, {
    ...ctx,
    action: 'approval.propose',
    target: { type: 'approval_proposal', id },
    metadata: { action: action.name, risk: action.risk, status, requestedBy: input.requestedBy.kind, conversationId: input.conversationId },
  });
  if (status === 'pending') await approvalEvent(tx, ctx.tenantId, 'approval.requested', { proposal: eventView(p) });
  await announce(tx, deps.bus, ctx.tenantId, p);
  return p;
}

/**
 * Audits an ask the rail refused (or that failed), in its own transaction since the ask's rolled back:
 * which action, its risk and why, never the arguments (they may be an attack's payload).
 */
export async function auditRefusal(deps: ApprovalDeps, ctx: RailCtx, at: { conversationId: string; actionId: string }, err: unknown): Promise<void> {
  const code = err instanceof DomainError ? err.code : 'error';
  await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, async (tx) => {
    const action = await store.anyActionById(tx, at.actionId);
    await deps.audit.append(tx, {
      ...ctx,
      action: 'approval.refuse',
      target: { type: 'conversation', id: at.conversationId },
      metadata: { action: action?.name ?? null, risk: action?.risk ?? null, code, requestedBy: 'visitor' },
    });
  });
}

/** The subject a conversation's actions may be about: its verified Sign-In Pro identity, or none. */
export const verifiedSubject = (c: ConversationRow): string | null => (c.verified && c.identity_subject ? c.identity_subject : null);

/**
 * A verified visitor asks for an action about themself, in their conversation (locked by the caller). Their
 * reason is their own words, redacted with the conversation's policy before it is stored, as their messages
 * are; the arguments are what the endpoint receives, exactly as the action's schema accepted them.
 */
export async function proposeAsVisitor(
  tx: Tx,
  deps: ApprovalDeps,
  redactor: Pick<Redactor, 'inbound'>,
  ctx: RailCtx,
  c: ConversationRow,
  visitor: { visitorRef: string; subject: string | null },
  body: { actionId: string; arguments: Record<string, unknown>; reason?: string | undefined },
): Promise<store.ProposalRow> {
  // The conversation's verified identity (bound when the visitor signed in) is the only subject there is.
  const subject = verifiedSubject(c);
  if (!subject || subject !== visitor.subject)
    throw new DomainError('identity_required', 'Only a visitor signed in with Sign-In Pro can ask for actions.');
  return propose(tx, deps, ctx, {
    actionId: body.actionId,
    arguments: body.arguments,
    reason: body.reason ? (await redactor.inbound(tx, c, body.reason, c.channel)).text : null,
    conversationId: c.id,
    subject,
    requestedBy: { kind: 'visitor', id: visitor.visitorRef },
  });
}

export async function visitorProposal(tx: Tx, conversationId: string, proposalId: string): Promise<WidgetProposal> {
  const p = await store.proposalById(tx, proposalId);
  if (!p || p.conversation_id !== conversationId) throw new DomainError('not_found', 'No such action request.');
  return widgetView(p);
}

/** One proposal as `viewer` may see it; an admin proposal it may not see is absent, as in its list. */
export async function getProposal(tx: Tx, id: string, viewer: Decider): Promise<Proposal> {
  const p = await store.seenProposal(tx, id, adminProposalsOf(viewer));
  if (!p) throw new DomainError('not_found', 'No such proposal.');
  return proposalView(p, (await store.decisionsOf(tx, [id])).get(id) ?? []);
}

export async function listProposals(tx: Tx, status: ProposalStatus | undefined, viewer: Decider) {
  const rows = await store.listProposals(tx, status, 200, adminProposalsOf(viewer));
  const decisions = await store.decisionsOf(
    tx,
    rows.map((r) => r.id),
  );
  return { proposals: rows.map((r) => proposalView(r, decisions.get(r.id) ?? [])) };
}

/**
 * Whether the decisions approve a proposal (the database checks the same, migration 123). Only decisions that
 * still count do: their decider may decide now; an admin's weighs as one only while they are one. "Two
 * different people" counts people: a key is its maker, and a key no person made is nobody. An admin
 * operation needs an owner's or admin's own approval; a `read` action none.
 */
function approves(p: Pick<store.ProposalRow, 'kind' | 'risk'>, decisions: store.DecisionRow[]): boolean {
  if (decisions.some((d) => d.decision === 'reject')) return false;
  const yes = decisions.filter((d) => d.decision === 'approve' && d.counts);
  if (p.kind === 'admin') return yes.some((d) => d.admin && d.decided_by_kind === 'member');
  if (p.risk === 'read') return true;
  const people = new Set(yes.flatMap((d) => (d.person ? [d.person] : []))).size;
  return p.risk === 'sensitive' ? yes.some((d) => d.admin) || people >= 2 : yes.length >= 1;
}

/**
 * Checks an approved proposal once more as it is claimed to run (in the claim's transaction): its approval
 * holds only while its approvals still count. One that no longer does (an approver removed, disabled or
 * demoted, a key revoked since) goes back to pending, as if that approval had not been given, and waits for
 * another person's decision until it expires: it is audited `approval.reopen` and requested again. Returns
 * whether the caller may go on to its claim; anything but an approved proposal is left to the claim to refuse.
 */
export async function approvalHolds(
  tx: Tx,
  deps: Pick<ApprovalDeps, 'audit'> & Partial<Pick<ApprovalDeps, 'bus'>>,
  ctx: RailCtx,
  id: string,
): Promise<boolean> {
  const p = await store.proposalById(tx, id, true);
  if (!p || p.status !== 'approved') return true;
  const decisions = (await store.decisionsOf(tx, [id])).get(id) ?? [];
  if (approves(p, decisions)) return true;
  if (!(await store.transition(tx, id, 'approved', 'pending'))) return true;
  const after = (await store.proposalById(tx, id))!;
  await deps.audit.append(tx, {
    ...ctx,
    action: 'approval.reopen',
    target: { type: 'approval_proposal', id },
    metadata: {
      action: proposalName(p),
      risk: p.risk,
      status: after.status,
      approvals: decisions.filter((d) => d.decision === 'approve' && d.counts).length,
      lapsed: decisions.filter((d) => !d.counts).length,
    },
  });
  await approvalEvent(tx, ctx.tenantId, 'approval.requested', { proposal: eventView(after) });
  if (deps.bus) await announce(tx, deps.bus, ctx.tenantId, after);
  return false;
}

/** What a caller is told when the approval it would run no longer holds (approvalHolds reopened it). */
export const lapsedApproval = () =>
  new DomainError(
    'conflict',
    'The approval no longer holds: someone who approved can no longer decide (removed, disabled, demoted, or their key revoked). The proposal is pending again and needs another approval.',
  );

/**
 * One person's decision on a pending proposal. Returns the proposal after it and whether it is now
 * approved (the caller then executes it, after the commit).
 */
export async function decide(
  tx: Tx,
  deps: ApprovalDeps,
  ctx: RailCtx,
  id: string,
  by: Decider,
  decision: 'approve' | 'reject',
  reason: string | null,
): Promise<{ proposal: store.ProposalRow; approved: boolean }> {
  const p = await store.proposalById(tx, id, true);
  if (!p) throw new DomainError('not_found', 'No such proposal.');
  if (p.requested_by_kind === by.kind && p.requested_by_id === by.id)
    throw new DomainError('forbidden', 'Whoever asked for an action cannot decide it.');
  // Whoever may not decide an admin operation does not see it (getProposal): the same 404, not a 403 that confirms it.
  if (p.kind === 'admin' && !decidesAdmin(by)) throw new DomainError('not_found', 'No such proposal.');
  // A key's request is its maker's too (the database refuses it as well).
  if (p.kind === 'admin' && p.requested_by_kind === 'key' && by.kind === 'member' && (await keyPerson(tx, p.requested_by_id)) === by.id)
    throw new DomainError('forbidden', 'Whoever made the key that asked cannot decide its request.');
  if (p.status !== 'pending') throw new DomainError('conflict', `The proposal is ${p.status}; only a pending one is decided.`);
  if (p.expires_at.getTime() <= Date.now()) throw new DomainError('conflict', 'The proposal has expired.');
  const before = (await store.decisionsOf(tx, [id])).get(id) ?? [];
  if (before.some((d) => d.decided_by_kind === by.kind && d.decided_by_id === by.id))
    throw new DomainError('conflict', 'You already decided this proposal; another person’s decision is needed.');
  await store.insertDecision(tx, ctx.tenantId, { proposalId: id, by, decision, reason });
  const decisions = (await store.decisionsOf(tx, [id])).get(id) ?? [];
  const to: ProposalStatus | null = decision === 'reject' ? 'rejected' : approves(p, decisions) ? 'approved' : null;
  if (to && !(await store.transition(tx, id, 'pending', to))) throw new DomainError('conflict', 'The proposal changed meanwhile.');
  const after = (await store.proposalById(tx, id))!;
  await deps.audit.append(tx, {
    ...ctx,
    action: decision === 'approve' ? 'approval.approve' : 'approval.reject',
    target: { type: 'approval_proposal', id },
    metadata: {
      action: proposalName(p),
      risk: p.risk,
      status: after.status,
      approvals: decisions.filter((d) => d.decision === 'approve' && d.counts).length,
    },
  });
  if (to) {
    await approvalEvent(tx, ctx.tenantId, 'approval.decided', { proposal: eventView(after), decision });
    await announce(tx, deps.bus, ctx.tenantId, after);
  }
  return { proposal: after, approved: to === 'approved' };
}
