// Webhook events Parley sends to a tenant's endpoint, signed per the Standard Webhooks specification,
// and the admin API that manages endpoints and their delivery log. Payloads are loose objects so a
// receiver built against this version keeps accepting events that later versions enrich.
import { z } from 'zod';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENT_DESCRIPTIONS, WEBHOOK_EVENT_TYPES } from './constants.js';
import { ApprovalEventData } from './approvals.js';
import { ConversationSchema, HandoffSchema } from './widget.js';
import { text } from './text.js';
import { queryInt } from './query.js';

/** A message as webhooks carry it: redacted per the PII policy (an agent's reply, stored as typed, by the visitor's rule). Internal notes are never sent. */
export const WebhookMessageSchema = z.looseObject({
  id: z.string(),
  role: z.enum(['visitor', 'assistant', 'agent']),
  text: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});

const handoff = HandoffSchema.extend({ conversationId: z.string() });
const assignee = z.object({ id: z.string(), displayName: z.string().optional() }).nullable();
const source = z.looseObject({ id: z.string(), kind: z.string(), title: z.string(), url: z.string().nullable() });

/** `data` of `conversation.created`. */
export const ConversationCreatedData = z.looseObject({ conversation: ConversationSchema });
/** `data` of `conversation.created`. */
export type ConversationCreatedData = z.infer<typeof ConversationCreatedData>;
/** `data` of `message.created`. */
export const MessageCreatedData = z.looseObject({ conversationId: z.string(), message: WebhookMessageSchema });
/** `data` of `message.created`. */
export type MessageCreatedData = z.infer<typeof MessageCreatedData>;
/** `data` of `handoff.requested`, `handoff.assigned` and `handoff.resolved`. */
export const HandoffEventPayload = z.looseObject({ handoff, assignee: assignee.optional() });
/** `data` of the handoff events. */
export type HandoffEventPayload = z.infer<typeof HandoffEventPayload>;
/** `data` of `csat.submitted`. */
export const CsatSubmittedData = z.looseObject({
  conversationId: z.string(),
  handoffId: z.string().optional(),
  score: z.number().int().min(1).max(5),
  comment: z.string().optional(),
});
/** `data` of `knowledge.source.synced` and `knowledge.source.failed`. */
export const KnowledgeSourceEventData = z.looseObject({ source, chunks: z.number().int().optional(), error: z.string().optional() });
/** `data` of `member.invited`. */
export const MemberInvitedData = z.looseObject({ invite: z.looseObject({ id: z.string(), role: z.string(), expiresAt: z.string() }) });
/** `data` of `key.created`. Never the secret. */
export const KeyCreatedData = z.looseObject({
  apiKey: z.looseObject({ id: z.string(), name: z.string(), prefix: z.string(), capabilities: z.array(z.string()) }),
});
/** `data` of `webhook.test`. */
export const WebhookTestData = z.looseObject({ endpointId: z.string(), message: z.string() });

/**
 * The event catalog: every type Parley sends, what it means and the schema of its `data`. The docs
 * are generated from it.
 */
export const WEBHOOK_EVENTS = {
  'conversation.created': { description: WEBHOOK_EVENT_DESCRIPTIONS['conversation.created'], data: ConversationCreatedData },
  'message.created': { description: WEBHOOK_EVENT_DESCRIPTIONS['message.created'], data: MessageCreatedData },
  'handoff.requested': { description: WEBHOOK_EVENT_DESCRIPTIONS['handoff.requested'], data: HandoffEventPayload },
  'handoff.assigned': { description: WEBHOOK_EVENT_DESCRIPTIONS['handoff.assigned'], data: HandoffEventPayload },
  'handoff.resolved': { description: WEBHOOK_EVENT_DESCRIPTIONS['handoff.resolved'], data: HandoffEventPayload },
  'csat.submitted': { description: WEBHOOK_EVENT_DESCRIPTIONS['csat.submitted'], data: CsatSubmittedData },
  'knowledge.source.synced': { description: WEBHOOK_EVENT_DESCRIPTIONS['knowledge.source.synced'], data: KnowledgeSourceEventData },
  'knowledge.source.failed': { description: WEBHOOK_EVENT_DESCRIPTIONS['knowledge.source.failed'], data: KnowledgeSourceEventData },
  'member.invited': { description: WEBHOOK_EVENT_DESCRIPTIONS['member.invited'], data: MemberInvitedData },
  'key.created': { description: WEBHOOK_EVENT_DESCRIPTIONS['key.created'], data: KeyCreatedData },
  'approval.requested': { description: WEBHOOK_EVENT_DESCRIPTIONS['approval.requested'], data: ApprovalEventData },
  'approval.decided': { description: WEBHOOK_EVENT_DESCRIPTIONS['approval.decided'], data: ApprovalEventData },
  'action.executed': { description: WEBHOOK_EVENT_DESCRIPTIONS['action.executed'], data: ApprovalEventData },
  'action.failed': { description: WEBHOOK_EVENT_DESCRIPTIONS['action.failed'], data: ApprovalEventData },
  'webhook.test': { description: WEBHOOK_EVENT_DESCRIPTIONS['webhook.test'], data: WebhookTestData },
} as const satisfies Record<WebhookEventType, { description: string; data: z.ZodType }>;

/** The type of a webhook event. */
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
/** The type of a webhook event. */
export type WebhookEventType = z.infer<typeof WebhookEventType>;
/** Event types an endpoint may subscribe to (`webhook.test` goes to whichever endpoint it is sent to). */
export const SubscribableEventType = WebhookEventType.exclude(['webhook.test']);
export type SubscribableEventType = z.infer<typeof SubscribableEventType>;

type ConversationOf = { [T in WebhookEventType]: (data: z.output<(typeof WEBHOOK_EVENTS)[T]['data']>) => string | null | undefined };
// Where each type's `data` names the conversation the event is about. A data-subject erasure deletes
// the events of the person's conversations by this id, stored beside each event: a new type cannot be
// added without saying here whether (and where) it names one, and a test walks every `data` schema for
// a conversation reference this misses.
const CONVERSATION_OF: ConversationOf = {
  'conversation.created': (d) => d.conversation.id,
  'message.created': (d) => d.conversationId,
  'handoff.requested': (d) => d.handoff.conversationId,
  'handoff.assigned': (d) => d.handoff.conversationId,
  'handoff.resolved': (d) => d.handoff.conversationId,
  'csat.submitted': (d) => d.conversationId,
  'knowledge.source.synced': () => null,
  'knowledge.source.failed': () => null,
  'member.invited': () => null,
  'key.created': () => null,
  'approval.requested': (d) => d.proposal.conversationId,
  'approval.decided': (d) => d.proposal.conversationId,
  'action.executed': (d) => d.proposal.conversationId,
  'action.failed': (d) => d.proposal.conversationId,
  'webhook.test': () => null,
};

/** The conversation a webhook event is about, from its `data` as parsed by the catalog; null when none. */
export function webhookEventConversationId(type: WebhookEventType, data: unknown): string | null {
  return (CONVERSATION_OF[type] as (data: unknown) => string | null | undefined)(data) ?? null;
}

const envelope = {
  /** Equals the `webhook-id` header and stays the same across retries: deduplicate on it. */
  id: z.string().min(1),
  /** When the event happened (not when this delivery was attempted). */
  createdAt: z.iso.datetime({ offset: true }),
  tenantId: z.string(),
};
const variant = <T extends WebhookEventType>(type: T) =>
  z.object({ ...envelope, type: z.literal(type), data: WEBHOOK_EVENTS[type].data as (typeof WEBHOOK_EVENTS)[T]['data'] });

/** A webhook event: `{ id, type, createdAt, tenantId, data }`, discriminated by `type`. */
export const WebhookEvent = z.discriminatedUnion('type', [
  variant('conversation.created'),
  variant('message.created'),
  variant('handoff.requested'),
  variant('handoff.assigned'),
  variant('handoff.resolved'),
  variant('csat.submitted'),
  variant('knowledge.source.synced'),
  variant('knowledge.source.failed'),
  variant('member.invited'),
  variant('key.created'),
  variant('approval.requested'),
  variant('approval.decided'),
  variant('action.executed'),
  variant('action.failed'),
  variant('webhook.test'),
]);
/** A webhook event, discriminated by `type`. */
export type WebhookEvent = z.infer<typeof WebhookEvent>;

// ---- The admin API: /v1/admin/webhooks/endpoints -------------------------------------------------

const events = z.array(SubscribableEventType).min(1).max(WEBHOOK_EVENT_TYPES.length);

/** POST /v1/admin/webhooks/endpoints */
export const CreateWebhookEndpointRequest = z.strictObject({
  /** Where events are POSTed: https (http only in development), a public host. */
  url: text().trim().min(1).max(2000),
  events: events,
  description: text().trim().max(200).optional(),
});
export type CreateWebhookEndpointRequest = z.infer<typeof CreateWebhookEndpointRequest>;

/** PATCH /v1/admin/webhooks/endpoints/:id — `enabled: true` re-enables an endpoint that was disabled for failing. */
export const UpdateWebhookEndpointRequest = z.strictObject({
  url: text().trim().min(1).max(2000).optional(),
  events: events.optional(),
  description: text().trim().max(200).nullable().optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookEndpointRequest = z.infer<typeof UpdateWebhookEndpointRequest>;

/** POST /v1/admin/webhooks/endpoints/:id/rotate */
export const RotateWebhookSecretRequest = z.strictObject({
  /** How long the old secret keeps signing (both signatures are sent); 0 drops it at once. Default one day. */
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
});

export const WebhookEndpointSchema = z.object({
  id: z.string().uuid(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(SubscribableEventType),
  enabled: z.boolean(),
  /** Why the endpoint was disabled (e.g. it failed for five days), when it was. */
  disabledReason: z.string().nullable(),
  /** Since when every delivery has failed, or null. */
  failingSince: z.iso.datetime({ offset: true }).nullable(),
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretExpiresAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;
export const WebhookEndpointResponse = z.object({ endpoint: WebhookEndpointSchema });
export const WebhookEndpointListResponse = z.object({ endpoints: z.array(WebhookEndpointSchema) });
/** Create and rotate: the `whsec_…` secret is returned exactly once, here. */
export const WebhookSecretResponse = z.object({ endpoint: WebhookEndpointSchema, secret: z.string() });

export const WebhookAttemptSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  /** The HTTP status the endpoint answered, or null when there was no answer (timeout, refused, network). */
  responseCode: z.number().int().nullable(),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
});
export const WebhookDeliverySchema = z.object({
  id: z.string().uuid(),
  /** The event id: the `webhook-id` header. */
  eventId: z.string(),
  eventType: WebhookEventType,
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.number().int(),
  responseCode: z.number().int().nullable(),
  latencyMs: z.number().int().nullable(),
  error: z.string().nullable(),
  nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  deliveredAt: z.iso.datetime({ offset: true }).nullable(),
  /** The event as sent; kept for 7 days. */
  payload: z.unknown().optional(),
  attemptLog: z.array(WebhookAttemptSchema).optional(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;
/** GET …/:id/deliveries */
export const WebhookDeliveryListQuery = z.strictObject({
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  /** Deliveries created before this one (the `next` of the previous page). */
  before: z.string().uuid().optional(),
  limit: queryInt(1, 100).prefault(50),
});
export const WebhookDeliveryListResponse = z.object({ deliveries: z.array(WebhookDeliverySchema), next: z.string().nullable() });
export const WebhookDeliveryResponse = z.object({ delivery: WebhookDeliverySchema });
/**
 * POST …/:id/replay: one delivery again (`deliveryId`), or every failed one created since a time
 * (`since`). A replay sends the same event id, so receivers that already have it skip it.
 */
export const ReplayWebhookRequest = z.union([
  z.strictObject({ deliveryId: z.string().uuid() }),
  z.strictObject({ since: z.iso.datetime({ offset: true }) }),
]);
export type ReplayWebhookRequest = z.infer<typeof ReplayWebhookRequest>;
export const ReplayWebhookResponse = z.object({ replayed: z.number().int() });
/** POST …/:id/test (202): the `webhook.test` event queued for this endpoint; its delivery appears in the log. */
export const WebhookTestResponse = z.object({ eventId: z.string() });
