// The public widget API (publishable key + page Origin, then a widget session token).
// The widget imports these as types only, so zod never enters its bundle.
import { z } from 'zod';

export const CitationSchema = z.object({ title: z.string(), url: z.string().nullable(), chunkId: z.string() });
export type Citation = z.infer<typeof CitationSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  role: z.enum(['visitor', 'assistant', 'agent', 'system']),
  text: z.string(),
  citations: z.array(CitationSchema),
  confidence: z.number().optional(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof MessageSchema>;

export const WidgetSessionSchema = z.object({
  token: z.string(),
  expiresAt: z.string(),
  refreshToken: z.string(),
  visitorId: z.string(),
});
export type WidgetSession = z.infer<typeof WidgetSessionSchema>;

export const WidgetSettingsSchema = z.object({
  tenantName: z.string(),
  greeting: z.string(),
  launcherText: z.string(),
  locale: z.string(),
  theme: z.enum(['light', 'dark', 'auto']),
  accentColor: z.string(),
  position: z.enum(['bottom-right', 'bottom-left']),
  identityMode: z.enum(['optional', 'required']),
});
export type WidgetSettings = z.infer<typeof WidgetSettingsSchema>;

export const WidgetConfigResponse = z.object({ settings: WidgetSettingsSchema, session: WidgetSessionSchema });
export type WidgetConfigResponse = z.infer<typeof WidgetConfigResponse>;

export const ConversationSchema = z.object({
  id: z.string(),
  status: z.enum(['open', 'handoff', 'closed']),
  verified: z.boolean(),
  createdAt: z.string(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

export const HandoffSchema = z.object({
  id: z.string(),
  conversationId: z.string().optional(),
  status: z.enum(['pending', 'assigned', 'resolved']),
  reason: z.string().optional(),
  createdAt: z.string().optional(),
});
export type Handoff = z.infer<typeof HandoffSchema>;

export const VisitorSchema = z.object({ verified: z.literal(true), id: z.string(), name: z.string().optional(), email: z.string().optional() });
export type Visitor = z.infer<typeof VisitorSchema>;

/** Events of a streamed answer (POST …/messages with Accept: text/event-stream). */
export type AnswerEvent =
  | { event: 'message'; data: { message: Message } }
  | { event: 'delta'; data: { text: string } }
  | { event: 'done'; data: { message: Message } }
  | { event: 'handoff'; data: { handoff: Handoff } }
  | { event: 'error'; data: { type: string; title: string; status: number; detail?: string; request_id: string } };

/** Live events of a conversation (GET …/events). */
export type LiveEvent =
  | { event: 'message'; data: { message: Message }; id: string }
  | { event: 'handoff'; data: { handoff: Handoff }; id: string }
  | { event: 'status'; data: { handoff: Pick<Handoff, 'id' | 'status'> }; id: string };
