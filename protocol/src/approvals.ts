// Actions the assistant can take, behind the approval rail: a tenant defines an action (an HTTPS endpoint
// of its own with a JSON Schema of inputs and a risk level); every call is a proposal that goes
// propose → approve | reject | expire → execute, stored and audited at each step.
import { z } from 'zod';
import { jsonValue, text } from './text.js';
import { ADMIN_OPERATIONS } from './constants.js';

const instant = z.iso.datetime({ offset: true });

export const ACTION_RISKS = ['read', 'write', 'sensitive'] as const;
/** `read` runs at once; `write` needs one person's approval; `sensitive` an admin's, or two people's. */
export type ActionRisk = (typeof ACTION_RISKS)[number];

/**
 * An action the built-in answerer offers when the visitor's question names it (no provider configured):
 * the widget shows a confirm button, and only the visitor's confirmation (POST
 * /v1/widget/conversations/:id/actions) proposes it. Offered to verified visitors only.
 */
export const ActionOfferSchema = z.object({
  actionId: z.uuid(),
  name: z.string(),
  description: z.string(),
  risk: z.enum(ACTION_RISKS),
  /** The inputs the visitor fills before confirming, from the action's input schema. */
  fields: z.array(z.object({ name: z.string(), type: z.string(), required: z.boolean(), description: z.string().optional() })),
});
export type ActionOffer = z.infer<typeof ActionOfferSchema>;
/** The request header that runs an approved admin operation: the proposal's id. */
export const APPROVAL_HEADER = 'Parley-Approval';

export const ApprovalSettingsSchema = z.strictObject({
  operations: z.array(z.enum(ADMIN_OPERATIONS)).max(ADMIN_OPERATIONS.length),
});

export const PROPOSAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/** Longest wait for a decision, in seconds (30 days); the default is 24 hours. */
export const MAX_ACTION_EXPIRY_SECONDS = 30 * 86_400;
export const DEFAULT_ACTION_EXPIRY_SECONDS = 86_400;

/** A JSON Schema (draft 2020-12 subset) describing an object of arguments. */
const InputSchema = z
  .record(text(), jsonValue())
  .refine((s) => s.type === 'object', { message: 'must be a JSON Schema with "type": "object"' })
  .refine((s) => JSON.stringify(s).length <= 16_384, { message: 'must be at most 16 KB' });

/** POST /v1/admin/actions. */
export const CreateActionRequest = z.strictObject({
  /** What the model calls it: lower case, digits and underscores. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower case letters, digits and underscores, starting with a letter'),
  /** What the model is told the action does. */
  description: text().trim().min(1).max(1000),
  inputSchema: InputSchema,
  /** The tenant's endpoint Parley POSTs a call to (https outside development; public hosts only). */
  endpoint: text().min(1).max(2000),
  risk: z.enum(ACTION_RISKS),
  /** How long a proposal waits for a decision before it expires. */
  expiresAfterSeconds: z.number().int().min(60).max(MAX_ACTION_EXPIRY_SECONDS).optional(),
  enabled: z.boolean().optional(),
});
export type CreateActionRequest = z.infer<typeof CreateActionRequest>;

/** PATCH /v1/admin/actions/:id: the fields given change; proposals already made keep the risk they were made with. */
export const UpdateActionRequest = CreateActionRequest.omit({ name: true }).partial();
export type UpdateActionRequest = z.infer<typeof UpdateActionRequest>;

export const ActionSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
  endpoint: z.string(),
  risk: z.enum(ACTION_RISKS),
  expiresAfterSeconds: z.number().int(),
  enabled: z.boolean(),
  createdAt: instant,
  updatedAt: instant,
});
export type Action = z.infer<typeof ActionSchema>;
export const ActionResponse = z.object({ action: ActionSchema });
/** POST /v1/admin/actions: the action and its signing secret, shown this once (verify calls with `verifyWebhook`). */
export const ActionCreatedResponse = z.object({ action: ActionSchema, secret: z.string().regex(/^whsec_/) });
export const ActionListResponse = z.object({ actions: z.array(ActionSchema) });
export const ActionParams = z.strictObject({ id: z.uuid() });

const Requester = z.object({ kind: z.enum(['visitor', 'member', 'key']), id: z.string() });
const Decision = z.object({
  by: z.object({ kind: z.enum(['member', 'key']), id: z.string() }),
  decision: z.enum(['approve', 'reject']),
  /**
   * Whether the decision counts now, which matters while the proposal is pending or approved and not yet run:
   * only while its decider may still decide (an active member whose role holds approvals:decide, or a key not
   * revoked whose maker is one; for an admin operation, an owner or admin in person). Removed, disabled or
   * demoted since, or the key revoked: the decision is shown, and counts for nothing.
   */
  counts: z.boolean(),
  at: instant,
  reason: z.string().nullable(),
});
/** What the endpoint answered: its status code and a bounded, redacted summary of its body (untrusted data). */
const Result = z.object({ statusCode: z.number().int(), summary: z.string() });

const ProposalAction = z.object({ id: z.uuid(), name: z.string(), risk: z.enum(ACTION_RISKS) });

/** A proposal: one call of an action, or one admin operation, from request to result. */
export const ProposalSchema = z.object({
  id: z.uuid(),
  kind: z.enum(['action', 'admin']),
  /** The action called (kind `action`). */
  action: ProposalAction.nullable(),
  /** The admin operation (kind `admin`). */
  operation: z.enum(ADMIN_OPERATIONS).nullable(),
  /** Exactly what the endpoint receives as `arguments`; for an admin operation, its request with secrets replaced by `[secret]`. */
  arguments: z.record(z.string(), z.unknown()),
  /** The verified user the action is about (Sign-In Pro), set by Parley, never by the arguments. */
  subject: z.string().nullable(),
  conversationId: z.uuid().nullable(),
  requestedBy: Requester,
  reason: z.string().nullable(),
  status: z.enum(PROPOSAL_STATUSES),
  decisions: z.array(Decision),
  expiresAt: instant,
  createdAt: instant,
  result: Result.nullable(),
  error: z.string().nullable(),
});
export type Proposal = z.infer<typeof ProposalSchema>;
export const ProposalResponse = z.object({ proposal: ProposalSchema });
export const ProposalListResponse = z.object({ proposals: z.array(ProposalSchema) });
export const ProposalListQuery = z.strictObject({ status: z.enum(PROPOSAL_STATUSES).optional() });
/** POST /v1/admin/approvals/:id/approve and …/reject. */
export const DecisionRequest = z.strictObject({ reason: text().trim().min(1).max(500).optional() });
export type DecisionRequest = z.infer<typeof DecisionRequest>;

/** What a visitor sees of a proposal (always an action's): no decider ids, no subject. */
export const WidgetProposalSchema = ProposalSchema.omit({ kind: true, operation: true, decisions: true, requestedBy: true, subject: true }).extend({
  action: ProposalAction,
});
export type WidgetProposal = z.infer<typeof WidgetProposalSchema>;
export const WidgetProposalResponse = z.object({ proposal: WidgetProposalSchema });
/** POST /v1/widget/conversations/:id/actions (verified visitors only). */
export const WidgetProposeRequest = z.strictObject({
  actionId: z.uuid(),
  arguments: z.record(text(), jsonValue()),
  reason: text().trim().min(1).max(500).optional(),
});
export type WidgetProposeRequest = z.infer<typeof WidgetProposeRequest>;
export const WidgetProposalParams = z.strictObject({ id: z.uuid(), proposalId: z.uuid() });

/** The live `action` event of a conversation: a proposal changed status. */
export const ActionEventData = z.object({ proposal: WidgetProposalSchema });

/** `data` of the approval and action webhook events: ids, the action and statuses; never arguments or subject. */
export const ApprovalEventData = z.looseObject({
  proposal: z.looseObject({
    id: z.string(),
    kind: z.enum(['action', 'admin']).optional(),
    action: z.looseObject({ id: z.string(), name: z.string(), risk: z.string() }).nullable(),
    operation: z.string().nullable().optional(),
    conversationId: z.string().nullable(),
    status: z.string(),
    expiresAt: z.string(),
  }),
  decision: z.enum(['approve', 'reject', 'expire']).optional(),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
});
