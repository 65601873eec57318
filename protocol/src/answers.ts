// The API channel: a customer's own back end asks on behalf of its user, with a secret key holding
// `answers:write`. Same pipeline as the widget (redaction on the `api` channel, citations, handoff);
// over the AI budget the answer is a 429 problem rather than a handoff.
import { z } from 'zod';
import { text } from './text.js';
import { ProblemSchema } from './problem.js';
import { DeltaEventData, HandoffSchema, MessageEventData, MessageSchema } from './widget.js';

export const AskRequest = z.strictObject({
  question: text().trim().min(1).max(4000),
  /** Continue an earlier API conversation of this tenant; omit to start one. */
  conversationId: z.uuid().optional(),
  /**
   * Your own opaque id for the end user (no personal data), kept with a new conversation: its visitor
   * reference is `api:<userRef>`, the data subject a privacy export or erasure for that user names. Without
   * one, a new conversation is a subject of its own (`api_…`), shared with no other question. No `@`: the
   * reference is shown and stored in clear, so an email address is refused rather than kept.
   */
  userRef: text()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .regex(/^[^@]*$/, 'an opaque id of yours, not an email address')
    .optional(),
});
export type AskRequest = z.infer<typeof AskRequest>;

export const AskResponse = z.object({
  conversationId: z.uuid(),
  /**
   * Whose conversation it is: `api:<userRef>`, or for a question asked without one, its own `api_…`. The
   * reference a privacy export or erasure names (`{"type": "visitor", "id": …}`).
   */
  visitorRef: z.string(),
  /** The assistant's reply; when handed off, the message telling the user a person will follow up. */
  message: MessageSchema,
  confidence: z.number().min(0).max(1),
  handoff: HandoffSchema.pick({ id: true, reason: true }).nullable(),
});
export type AskResponse = z.infer<typeof AskResponse>;

/**
 * Events of a streamed answer (`Accept: text/event-stream`), in order: `conversation` (which
 * conversation, new or continued, and whose), `message` (the stored question), `delta`*, then `done`, optionally
 * `handoff`, or `error` (a problem).
 */
export const ApiAnswerEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('conversation'), data: z.object({ conversationId: z.uuid(), visitorRef: z.string() }) }),
  z.object({ event: z.literal('message'), data: MessageEventData }),
  z.object({ event: z.literal('delta'), data: DeltaEventData }),
  z.object({ event: z.literal('done'), data: MessageEventData }),
  z.object({ event: z.literal('handoff'), data: z.object({ handoff: HandoffSchema }) }),
  z.object({ event: z.literal('error'), data: ProblemSchema }),
]);
export type ApiAnswerEvent = z.infer<typeof ApiAnswerEventSchema>;
