// Webhook events Parley sends to a tenant's endpoint, signed per the Standard Webhooks specification.
// Payloads are loose objects so a receiver built against this version keeps accepting events that
// later versions enrich.
import { z } from 'zod';
import { ConversationSchema, HandoffSchema, MessageSchema } from './widget.js';

/** Every webhook event type Parley sends. */
export const WEBHOOK_EVENT_TYPES = ['conversation.created', 'message.created', 'handoff.created', 'handoff.updated'] as const;
/** The type of a webhook event. */
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
/** The type of a webhook event. */
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** `data` of `conversation.created`. */
export const ConversationCreatedData = z.looseObject({ conversation: ConversationSchema });
/** `data` of `conversation.created`. */
export type ConversationCreatedData = z.infer<typeof ConversationCreatedData>;

/** `data` of `message.created`. */
export const MessageCreatedData = z.looseObject({ conversationId: z.string(), message: MessageSchema });
/** `data` of `message.created`. */
export type MessageCreatedData = z.infer<typeof MessageCreatedData>;

/** `data` of `handoff.created` and `handoff.updated`. */
export const HandoffEventPayload = z.looseObject({
  handoff: HandoffSchema.extend({ conversationId: z.string(), assignedTo: z.string().nullable().optional() }),
});
/** `data` of `handoff.created` and `handoff.updated`. */
export type HandoffEventPayload = z.infer<typeof HandoffEventPayload>;

const envelope = {
  /** Equals the `webhook-id` header and stays the same across retries: deduplicate on it. */
  id: z.string().min(1),
  /** When the event happened (not when this delivery was attempted). */
  createdAt: z.iso.datetime({ offset: true }),
  tenantId: z.string(),
};

/** A webhook event: `{ id, type, createdAt, tenantId, data }`, discriminated by `type`. */
export const WebhookEvent = z.discriminatedUnion('type', [
  z.object({ ...envelope, type: z.literal('conversation.created'), data: ConversationCreatedData }),
  z.object({ ...envelope, type: z.literal('message.created'), data: MessageCreatedData }),
  z.object({ ...envelope, type: z.literal('handoff.created'), data: HandoffEventPayload }),
  z.object({ ...envelope, type: z.literal('handoff.updated'), data: HandoffEventPayload }),
]);
/** A webhook event, discriminated by `type`. */
export type WebhookEvent = z.infer<typeof WebhookEvent>;
