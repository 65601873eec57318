// The public widget API (publishable key + page Origin, then a widget session token).
// The widget imports these as types only, so zod never enters its bundle.
import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from './constants.js';
import { text } from './text.js';
import { ProblemSchema } from './problem.js';
import { queryInt } from './query.js';
import { AssignedEventData, MessageAuthorSchema, OutsideHoursSchema, ReopenedEventData, ResolvedEventData, TypingEventData } from './feed.js';
import { ActionEventData, ActionOfferSchema } from './approvals.js';

export const CitationSchema = z.object({
  title: z.string(),
  /** Null when the source has no public address (e.g. an uploaded document). */
  url: z.string().nullable(),
  chunkId: z.string(),
  /** Offered with "Did you mean" rather than quoted: the visitor may pick it (`pick` of a sent message) to get its passage. */
  suggested: z.boolean().optional(),
});
export type Citation = z.infer<typeof CitationSchema>;

export const MessageRoleSchema = z.enum(['visitor', 'assistant', 'agent', 'system']);
export type MessageRole = z.infer<typeof MessageRoleSchema>;

/** What an assistant message is when it hands the conversation to a person; the text is the English wording. */
export const MessageNoticeSchema = z.enum(['handoff', 'unsure', 'sensitive', 'busy']);
export type MessageNotice = z.infer<typeof MessageNoticeSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  role: MessageRoleSchema,
  text: z.string(),
  citations: z.array(CitationSchema),
  /** 0..1, on assistant answers only. */
  confidence: z.number().min(0).max(1).optional(),
  /** On role `agent`: the agent's display name and avatar initial. */
  author: MessageAuthorSchema.optional(),
  notice: MessageNoticeSchema.optional(),
  /** On the answer's `done` event only (not kept with the message): an action the visitor may confirm. */
  offer: ActionOfferSchema.optional(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type Message = z.infer<typeof MessageSchema>;

export const WidgetSessionSchema = z.object({
  /** Short-lived bearer token for every call after the session starts. */
  token: z.string(),
  expiresAt: z.iso.datetime({ offset: true }),
  /** One-time: presenting a spent one revokes the whole family. */
  refreshToken: z.string(),
  /** The visitor's pseudonymous reference (`v_…`): what agents and the audit log see. Not a credential. */
  visitorRef: z.string(),
  /**
   * Only when this call created the visitor: the secret (`pvs_…`) that resumes it. Shown once and stored
   * by the server only as a hash; the browser keeps it and sends it back as `X-Parley-Visitor`.
   */
  visitorSecret: z.string().optional(),
});
export type WidgetSession = z.infer<typeof WidgetSessionSchema>;

export const WidgetSettingsSchema = z.object({
  tenantName: z.string(),
  /** The tenant's own greeting and launcher text; absent when unset, so the widget uses its translation. */
  greeting: z.string().optional(),
  launcherText: z.string().optional(),
  /** A BCP 47 tag, or `auto` to follow the browser. */
  locale: z.string(),
  theme: z.enum(['light', 'dark', 'auto']),
  accentColor: z.string(),
  position: z.enum(['bottom-right', 'bottom-left']),
  identityMode: z.enum(['off', 'optional', 'required']),
});
export type WidgetSettings = z.infer<typeof WidgetSettingsSchema>;

/**
 * GET /v1/widget/config: a pure read, what the page needs to draw the launcher. `?session=1` also starts
 * a session there (as POST /v1/widget/session does), for clients from before sessions started lazily.
 */
export const WidgetConfigQuery = z.object({ session: z.enum(['0', '1']).optional() });
export type WidgetConfigQuery = z.infer<typeof WidgetConfigQuery>;
export const WidgetConfigResponse = z.object({ settings: WidgetSettingsSchema, session: WidgetSessionSchema.optional() });
export type WidgetConfigResponse = z.infer<typeof WidgetConfigResponse>;

/** POST /v1/widget/session: starts (or, with X-Parley-Visitor, resumes) the visitor's session. */
export const WidgetSessionRequest = z.strictObject({});
export type WidgetSessionRequest = z.infer<typeof WidgetSessionRequest>;
export const WidgetSessionResponse = z.object({ session: WidgetSessionSchema });
export type WidgetSessionResponse = z.infer<typeof WidgetSessionResponse>;

/** POST /v1/widget/session/refresh */
export const WidgetRefreshRequest = z.strictObject({ refreshToken: text().min(10).max(200) });
export type WidgetRefreshRequest = z.infer<typeof WidgetRefreshRequest>;
export const WidgetRefreshResponse = z.object({ session: WidgetSessionSchema });
export type WidgetRefreshResponse = z.infer<typeof WidgetRefreshResponse>;

export const VisitorSchema = z.object({
  verified: z.literal(true),
  id: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
});
export type Visitor = z.infer<typeof VisitorSchema>;

/** POST /v1/widget/identify: the host backend's Sign-In Pro token. */
export const WidgetIdentifyRequest = z.strictObject({ token: text().min(10).max(8192) });
export type WidgetIdentifyRequest = z.infer<typeof WidgetIdentifyRequest>;
export const WidgetIdentifyResponse = z.object({ visitor: VisitorSchema, session: WidgetSessionSchema });
export type WidgetIdentifyResponse = z.infer<typeof WidgetIdentifyResponse>;

export const ConversationSchema = z.object({
  id: z.string(),
  status: z.enum(['open', 'handoff', 'closed']),
  verified: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type Conversation = z.infer<typeof ConversationSchema>;

/** POST /v1/widget/conversations */
export const CreateConversationRequest = z.strictObject({});
export type CreateConversationRequest = z.infer<typeof CreateConversationRequest>;
export const CreateConversationResponse = z.object({ conversation: ConversationSchema });
export type CreateConversationResponse = z.infer<typeof CreateConversationResponse>;

/** GET /v1/widget/conversations/:id */
export const ConversationResponse = z.object({ conversation: ConversationSchema, messages: z.array(MessageSchema) });
export type ConversationResponse = z.infer<typeof ConversationResponse>;

/** POST /v1/widget/conversations/:id/messages */
export const SendMessageRequest = z.strictObject({
  text: text().trim().min(1).max(MAX_MESSAGE_CHARS),
  /** Chosen by the client so a retried send is stored once. */
  clientMessageId: text().min(1).max(100),
  /** The `chunkId` of a suggested citation the visitor picked ("Did you mean …?"): the answer is that passage. */
  pick: z.string().uuid().optional(),
});
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;

export const HandoffStatusSchema = z.enum(['pending', 'assigned', 'resolved']);
export type HandoffStatus = z.infer<typeof HandoffStatusSchema>;

export const HandoffSchema = z.object({
  id: z.string(),
  conversationId: z.string().optional(),
  status: HandoffStatusSchema,
  reason: z.string().optional(),
  createdAt: z.iso.datetime({ offset: true }).optional(),
});
export type Handoff = z.infer<typeof HandoffSchema>;

/** POST /v1/widget/conversations/:id/handoff */
export const HandoffRequest = z.strictObject({ reason: text().max(500).optional() });
export type HandoffRequest = z.infer<typeof HandoffRequest>;
/** Outside the tenant's business hours, `outsideHours: true` and `nextOpenAt` say when people answer;
 * the widget then offers an email field (POST …/contact). */
export const HandoffResponse = z.object({ handoff: HandoffSchema }).extend(OutsideHoursSchema.shape);
export type HandoffResponse = z.infer<typeof HandoffResponse>;

/**
 * POST /v1/widget/conversations/:id/messages without `Accept: text/event-stream`: the turn's events at
 * once, as the stream would send them (no `delta`s): the stored visitor `message`, the answer (`done`),
 * and a `handoff` when the assistant handed over.
 */
export const TurnEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), message: MessageSchema }),
  z.object({ type: z.literal('done'), message: MessageSchema }),
  z.object({ type: z.literal('handoff'), handoff: HandoffSchema }).extend(OutsideHoursSchema.shape),
]);
export type TurnEvent = z.infer<typeof TurnEventSchema>;
export const SendMessageResponse = z.object({ events: z.array(TurnEventSchema) });
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

/** The path of every /v1/widget/conversations/:id… operation. Not a uuid names no conversation: a 404. */
export const WidgetConversationParams = z.object({ id: z.uuid() });

// Server-sent event payloads (the `data:` line of each event, JSON).
export const MessageEventData = z.object({ message: MessageSchema });
export type MessageEventData = z.infer<typeof MessageEventData>;
/**
 * A `message` of a conversation's live events. A message sent with a `clientMessageId` names it, so that
 * the tab that sent it knows it as its own when the stream brings it before the send's answer does.
 */
export const LiveMessageEventData = MessageEventData.extend({ clientMessageId: z.string().optional() });
export type LiveMessageEventData = z.infer<typeof LiveMessageEventData>;
export const DeltaEventData = z.object({ text: z.string() });
export type DeltaEventData = z.infer<typeof DeltaEventData>;
export const HandoffEventData = z.object({ handoff: HandoffSchema }).extend(OutsideHoursSchema.shape);
export type HandoffEventData = z.infer<typeof HandoffEventData>;
export const StatusEventData = z.object({ handoff: HandoffSchema.pick({ id: true, status: true }) });
export type StatusEventData = z.infer<typeof StatusEventData>;

/** Events of a streamed answer (POST …/messages with `Accept: text/event-stream`), in order:
 * `message` (the stored visitor message), `delta`*, then `done`, optionally `handoff`, or `error`. */
export const AnswerEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('message'), data: MessageEventData }),
  z.object({ event: z.literal('delta'), data: DeltaEventData }),
  z.object({ event: z.literal('done'), data: MessageEventData }),
  z.object({ event: z.literal('handoff'), data: HandoffEventData }),
  z.object({ event: z.literal('error'), data: ProblemSchema }),
]);
export type AnswerEvent = z.infer<typeof AnswerEventSchema>;

/**
 * The last event of a live stream (a conversation's events, the inbox stream) whose server is shutting
 * down: `event: reconnect`, after an SSE `retry:` field of `retryMs`. The stream then ends cleanly;
 * reconnect after about `retryMs` with the last event id (an EventSource does so by itself), and a load
 * balancer sends the new stream to another instance. Nothing is missed: the feed resumes after the id.
 */
export const ReconnectEventData = z.object({
  /** `shutdown`: the server is going away; `session_expired`: the session token that opened the stream expired (reconnect with a refreshed one). */
  reason: z.enum(['shutdown', 'session_expired']),
  retryMs: z.number().int().min(0),
});
export type ReconnectEventData = z.infer<typeof ReconnectEventData>;

/** Live events of a conversation (GET …/events); `id` is what `Last-Event-ID` resumes from. */
export const LiveEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('message'), data: LiveMessageEventData, id: z.string() }),
  z.object({ event: z.literal('handoff'), data: HandoffEventData, id: z.string() }),
  z.object({ event: z.literal('status'), data: StatusEventData, id: z.string() }),
  /** An agent is typing (`role: 'agent'`). */
  z.object({ event: z.literal('typing'), data: TypingEventData, id: z.string() }),
  z.object({ event: z.literal('assigned'), data: AssignedEventData, id: z.string() }),
  z.object({ event: z.literal('resolved'), data: ResolvedEventData, id: z.string() }),
  z.object({ event: z.literal('reopened'), data: ReopenedEventData, id: z.string() }),
  /** A proposed action changed status (waiting for a person, then its result). */
  z.object({ event: z.literal('action'), data: ActionEventData, id: z.string() }),
]);
export type LiveEvent = z.infer<typeof LiveEventSchema>;

/** The header a visitor's event stream resumes from: the id of the last event it had, in decimal digits. */
export const LastEventIdHeader = z.object({ 'last-event-id': queryInt(0).optional() });
