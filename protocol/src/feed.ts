// Conversation feed events a visitor receives too (conversation_events.type `typing`, `assigned`,
// `resolved`, `reopened`), the author of an agent's message, and the "outside business hours" notice.
// Shared by the widget API (widget.ts) and the agent workspace (workspace.ts).
import { z } from 'zod';

const iso = () => z.iso.datetime({ offset: true });

/** Who wrote a message, as a visitor sees it: the member's display name (or a key's `agent` label) and
 * the one character the widget shows as an avatar. Only on role `agent`. */
export const MessageAuthorSchema = z.object({
  name: z.string(),
  /** The first letter of `name`, upper-cased (grapheme-aware); `?` when there is none. */
  initial: z.string(),
});
export type MessageAuthor = z.infer<typeof MessageAuthorSchema>;

/** What a visitor is told with a handoff: present (with `outsideHours: true`) only outside business hours. */
export const OutsideHoursSchema = z.object({
  outsideHours: z.literal(true).optional(),
  /** When the team is next open; null when the schedule has no open time at all. */
  nextOpenAt: iso().nullable().optional(),
  /** The visitor has left an email to be answered on: not asked again. */
  contactLeft: z.literal(true).optional(),
});
export type OutsideHours = z.infer<typeof OutsideHoursSchema>;

/** `typing` */
export const TypingEventData = z.object({
  /** Who is typing: the visitor, or an agent (then `name` is their display name). */
  role: z.enum(['visitor', 'agent']),
  name: z.string().optional(),
  /** false: stopped. A client clears an indicator itself after 6 s without a new `active: true`. */
  active: z.boolean(),
});
export type TypingEventData = z.infer<typeof TypingEventData>;

/** `assigned`: a handoff was taken, handed to someone else, or given back (`assignee: null`).
 * A visitor sees only `displayName`. */
export const AssignedEventData = z.object({
  handoff: z.object({ id: z.string(), status: z.enum(['pending', 'assigned']) }),
  assignee: z.object({ id: z.string().optional(), displayName: z.string() }).nullable(),
});
export type AssignedEventData = z.infer<typeof AssignedEventData>;
/** `resolved`: the visitor sees a "resolved" notice and, while `csat` is true, may rate it once. */
export const ResolvedEventData = z.object({
  handoff: z.object({ id: z.string() }),
  /** Which resolution of the handoff this is (a reopened handoff is resolved again, and rated again). */
  resolution: z.number().int().min(1).optional(),
  /** False once this resolution is rated: a visitor who comes back is not asked again. */
  csat: z.boolean(),
});
export type ResolvedEventData = z.infer<typeof ResolvedEventData>;
/** `reopened`: a resolved handoff is back with a person (assigned when it had an assignee, else pending). */
export const ReopenedEventData = z.object({ handoff: z.object({ id: z.string(), status: z.enum(['pending', 'assigned']) }) });
export type ReopenedEventData = z.infer<typeof ReopenedEventData>;
