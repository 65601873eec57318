// The agent workspace: the live inbox, working a conversation (notes, typing, canned replies, resolve,
// reopen), availability and business hours, and what the visitor sees of it (the agent's name, typing,
// the "resolved" notice and its rating, an email left outside business hours).
import { z } from 'zod';
import {
  AVAILABILITIES,
  CANNED_VARIABLES,
  INBOX_VIEWS,
  isMemberId,
  MAX_CANNED_SHORTCUT_CHARS,
  MAX_CANNED_TITLE_CHARS,
  MAX_CSAT_COMMENT_CHARS,
  MAX_MESSAGE_CHARS,
  unknownCannedVariables,
  WEEKDAYS,
  type Weekday,
} from './constants.js';
import { ActionEventData } from './approvals.js';
import { MessageAuthorSchema, TypingEventData } from './feed.js';
import { CitationSchema, ReconnectEventData } from './widget.js';
import { emailText, text } from './text.js';
import { queryInt } from './query.js';

const iso = () => z.iso.datetime({ offset: true });

// ---------------------------------------------------------------------------------------------------
// Authors and messages

/** Every role a stored message can have. `note` is an internal note: agents only, never the visitor,
 * never a webhook, never the AI history. */
export const WorkspaceRoleSchema = z.enum(['visitor', 'assistant', 'agent', 'system', 'note']);
export type WorkspaceRole = z.infer<typeof WorkspaceRoleSchema>;

/**
 * A message as agents see it on the inbox stream (events `message` and `note`): the stored (redacted)
 * text of a visitor or assistant; an agent's reply and a note exactly as typed.
 */
export const WorkspaceMessageSchema = z.object({
  id: z.string(),
  role: WorkspaceRoleSchema,
  text: z.string(),
  citations: z.array(CitationSchema),
  /** 0..1, on assistant answers only. */
  confidence: z.number().min(0).max(1).optional(),
  /** On `agent` and `note`: who wrote it. `id` is the member id (or a key's label); never sent to a visitor. */
  author: MessageAuthorSchema.extend({ id: z.string().optional() }).optional(),
  createdAt: iso(),
});
export type WorkspaceMessage = z.infer<typeof WorkspaceMessageSchema>;

// ---------------------------------------------------------------------------------------------------
// Availability and presence

export const AvailabilitySchema = z.enum(AVAILABILITIES);
export type Availability = z.infer<typeof AvailabilitySchema>;

/** PATCH /v1/admin/me/availability (a signed-in member only; a key has no availability). */
export const UpdateAvailabilityRequest = z.strictObject({ availability: AvailabilitySchema });
export type UpdateAvailabilityRequest = z.infer<typeof UpdateAvailabilityRequest>;

/** One member's presence: their chosen availability, and whether a console of theirs is connected. */
export const PresenceSchema = z.object({
  memberId: z.string(),
  displayName: z.string(),
  availability: AvailabilitySchema,
  /** A console of theirs had the inbox stream open within the last 90 s. Going offline is not pushed: read it from `lastSeenAt`. */
  online: z.boolean(),
  lastSeenAt: iso().nullable(),
});
export type Presence = z.infer<typeof PresenceSchema>;
/** Response of PATCH /v1/admin/me/availability. */
export const AvailabilityResponse = z.object({ presence: PresenceSchema });
export type AvailabilityResponse = z.infer<typeof AvailabilityResponse>;
/** GET /v1/admin/presence (`handoffs:read`): every active member of the tenant who can work the inbox. */
export const PresenceListResponse = z.object({ members: z.array(PresenceSchema) });
export type PresenceListResponse = z.infer<typeof PresenceListResponse>;

// ---------------------------------------------------------------------------------------------------
// Business hours (tenant settings `businessHours`, validated whole by the settings module)

const CLOCK = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** `["09:00", "17:00"]`: local wall-clock time in the schedule's time zone, start before end; `24:00` ends a day. */
export const OpeningIntervalSchema = z
  .tuple([text().regex(CLOCK, 'must be HH:MM'), text().regex(CLOCK, 'must be HH:MM')])
  .refine(([a, b]) => minutes(a) < minutes(b), { message: 'must start before it ends' });
export type OpeningInterval = z.infer<typeof OpeningIntervalSchema>;

const dayIntervals = z
  .array(OpeningIntervalSchema)
  .max(6)
  .refine((xs) => [...xs].sort((a, b) => minutes(a[0]) - minutes(b[0])).every((x, i, s) => i === 0 || minutes(s[i - 1]![1]) <= minutes(x[0])), {
    message: 'intervals of a day must not overlap',
  });

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * When people answer. A day missing from `schedule`, or with `[]`, is closed. With no `businessHours`
 * setting at all the tenant is always open (no "outside hours" notice).
 */
export const BusinessHoursSchema = z.strictObject({
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: text().min(1).max(64).refine(isTimeZone, { message: 'must be an IANA time zone' }),
  schedule: z.strictObject(
    Object.fromEntries(WEEKDAYS.map((d) => [d, dayIntervals.optional()])) as Record<Weekday, z.ZodOptional<typeof dayIntervals>>,
  ),
});
export type BusinessHours = z.infer<typeof BusinessHoursSchema>;

// ---------------------------------------------------------------------------------------------------
// The inbox

/**
 * - `waiting`: open handoffs whose visitor waits for a person (nothing from an agent since their last
 *   message), longest wait first;
 * - `mine`: open handoffs assigned to the caller (a signed-in member; empty for a key);
 * - `unassigned`: open handoffs nobody has taken;
 * - `open`: every handoff not resolved;
 * - `resolved`: resolved handoffs, most recently resolved first.
 */
export const InboxViewSchema = z.enum(INBOX_VIEWS);
export type InboxView = z.infer<typeof InboxViewSchema>;

/** GET /v1/admin/inbox (`conversations:read`: rows show message text). */
export const InboxListQuery = z.strictObject({
  view: InboxViewSchema.default('open'),
  /** Search: a visitor reference (`v_…`), a verified user id, or words of the stored (redacted) text. */
  q: text().trim().min(1).max(200).optional(),
  /** `nextCursor` of the previous page (opaque). */
  cursor: text().max(200).optional(),
  limit: queryInt(1, 100).prefault(50),
});
export type InboxListQuery = z.infer<typeof InboxListQuery>;

export const InboxAssigneeSchema = z.object({ id: z.string(), displayName: z.string() });
export type InboxAssignee = z.infer<typeof InboxAssigneeSchema>;

/** One conversation with a handoff, as a row of the inbox; the stream's `conversation` event upserts it by `conversationId`. */
export const InboxRowSchema = z.object({
  conversationId: z.string(),
  /** The conversation's latest handoff. */
  handoffId: z.string(),
  status: z.enum(['pending', 'assigned', 'resolved']),
  /** Why it was handed off: `low_confidence`, `visitor_request`, `sensitive_topic`, `budget`, `provider_error`, `identity_required`. */
  reason: z.string(),
  visitor: z.object({
    /** Pseudonymous reference (`v_…`, `api[:ref]`); names the visitor, resumes nothing. */
    ref: z.string(),
    verified: z.boolean(),
    /** Sign-In Pro name, when verified and the tenant's PII policy lets agents see names. */
    name: z.string().optional(),
  }),
  /**
   * The latest words of a person (the visitor or an agent), else the assistant's latest message; never a
   * note; redacted as stored; null before any.
   */
  lastMessage: z.object({ role: z.enum(['visitor', 'assistant', 'agent', 'system']), text: z.string(), at: iso() }).nullable(),
  /** Since when the visitor waits for a person (their first message after the last agent reply, or the handoff); null when not waiting. */
  waitingSince: iso().nullable(),
  assignee: InboxAssigneeSchema.nullable(),
  /** Visitor messages since the last agent reply. */
  unread: z.number().int().optional(),
  /** The visitor left an email (outside business hours); read it on the conversation. */
  contactLeft: z.boolean(),
  handoffAt: iso(),
  resolvedAt: iso().nullable(),
  updatedAt: iso(),
});
export type InboxRow = z.infer<typeof InboxRowSchema>;

/** Open work by view, for the tab badges (for the caller: `mine` is theirs). */
export const InboxCountsSchema = z.object({
  waiting: z.number().int(),
  mine: z.number().int(),
  unassigned: z.number().int(),
  open: z.number().int(),
});
export type InboxCounts = z.infer<typeof InboxCountsSchema>;

export const InboxListResponse = z.object({
  rows: z.array(InboxRowSchema),
  nextCursor: z.string().nullable(),
  counts: InboxCountsSchema,
  /** Pass as `?after=` to GET /v1/admin/inbox/stream to receive every change since this list was read. */
  streamCursor: z.string(),
});
export type InboxListResponse = z.infer<typeof InboxListResponse>;

/**
 * GET /v1/admin/inbox/stream (`conversations:read`, SSE; a request without `Accept: text/event-stream`
 * is a 400 problem). Streams count against the same per-tenant and per-holder caps as the widget's. Resume with `Last-Event-ID` (or `?after=` with a
 * list's `streamCursor`): the id is an opaque string; every change after it arrives once, in commit
 * order. Events without an id (`counts`) are derived and not resumed. Typing events older than a few
 * seconds are not replayed on resume.
 */
/** Query of GET /v1/admin/inbox/stream: `after` is a list's `streamCursor` or an event id; `Last-Event-ID` wins when both are sent. */
export const InboxStreamQuery = z.strictObject({ after: text().min(1).max(200).optional() });
export type InboxStreamQuery = z.infer<typeof InboxStreamQuery>;
export const InboxConversationEventData = z.object({ row: InboxRowSchema });
export const InboxMessageEventData = z.object({ conversationId: z.string(), message: WorkspaceMessageSchema });
export const InboxTypingEventData = TypingEventData.extend({ conversationId: z.string() });
export const PresenceEventData = PresenceSchema;
export const InboxActionEventData = ActionEventData.extend({ conversationId: z.string() });

export const InboxStreamEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('conversation'), data: InboxConversationEventData, id: z.string() }),
  z.object({ event: z.literal('message'), data: InboxMessageEventData, id: z.string() }),
  z.object({ event: z.literal('note'), data: InboxMessageEventData, id: z.string() }),
  z.object({ event: z.literal('typing'), data: InboxTypingEventData, id: z.string() }),
  z.object({ event: z.literal('presence'), data: PresenceEventData, id: z.string() }),
  /** A proposed action of the conversation changed status (the agent's cue to approve or reject it). */
  z.object({ event: z.literal('action'), data: InboxActionEventData, id: z.string() }),
  z.object({ event: z.literal('counts'), data: InboxCountsSchema }),
  /** The server is shutting down: reconnect (see `ReconnectEventData`). */
  z.object({ event: z.literal('reconnect'), data: ReconnectEventData }),
]);
export type InboxStreamEvent = z.infer<typeof InboxStreamEventSchema>;

// ---------------------------------------------------------------------------------------------------
// Conversation feed events (conversation_events.type) beyond `message`, `handoff`, `status`.
// The widget gets the visitor's share over GET /v1/widget/conversations/:id/events.

/** `contact` (agents only): the visitor left an email. The address itself is read on the conversation (audited). */
export const ContactEventData = z.object({ contact: z.object({ at: iso() }) });
export type ContactEventData = z.infer<typeof ContactEventData>;
/** `csat` (agents only): the visitor rated a resolution. */
export const CsatEventData = z.object({ handoff: z.object({ id: z.string() }), score: z.number().int().min(1).max(5) });
export type CsatEventData = z.infer<typeof CsatEventData>;

// ---------------------------------------------------------------------------------------------------
// Working a conversation (admin API)

/**
 * The name a key (an integration) writes under. Never a member id: an author that is one shows as that
 * person, so a key could put words in a teammate's mouth.
 */
export const agentLabel = () =>
  text()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => !isMemberId(s), { message: "is the agent's name, not a member id: a key does not write as a person" });

/** POST /v1/admin/conversations/:id/notes (`conversations:write`): an internal note, never shown to the visitor. */
export const CreateNoteRequest = z.strictObject({
  text: text().trim().min(1).max(MAX_MESSAGE_CHARS),
  /** For a key (an integration): the author's label. A signed-in person is the author themselves. */
  agent: agentLabel().optional(),
});
export type CreateNoteRequest = z.infer<typeof CreateNoteRequest>;
export const NoteResponse = z.object({ message: WorkspaceMessageSchema });
export type NoteResponse = z.infer<typeof NoteResponse>;

/**
 * POST /v1/admin/conversations/:id/typing (`conversations:write`) and
 * POST /v1/widget/conversations/:id/typing (the visitor): 204. Send `active: true` while typing (the
 * server forwards at most one every 2 s per author) and `active: false` on stop or send.
 */
export const TypingRequest = z.strictObject({ active: z.boolean() });
export type TypingRequest = z.infer<typeof TypingRequest>;

/**
 * POST /v1/admin/handoffs/:id/reopen (`handoffs:write`): a resolved handoff back to work; 200 with the
 * handoff. Only the conversation's latest handoff (409 otherwise). Resolving stays
 * PATCH /v1/admin/handoffs/:id `{status: 'resolved'}`; `{status: 'pending'}` gives it back to the queue.
 * A signed-in member replying to a pending handoff takes it (an `assigned` event follows the message).
 */
export const ReopenHandoffRequest = z.strictObject({});
export const WorkspaceHandoffSchema = z.object({
  id: z.string(),
  status: z.enum(['pending', 'assigned', 'resolved']),
  reason: z.string(),
  assignee: InboxAssigneeSchema.nullable(),
  createdAt: iso(),
  firstResponseAt: iso().nullable(),
  resolvedAt: iso().nullable(),
});
export type WorkspaceHandoff = z.infer<typeof WorkspaceHandoffSchema>;
export const WorkspaceHandoffResponse = z.object({ handoff: WorkspaceHandoffSchema });

/** The verified profile's fields: the name and email are personal; the plan is one of the host's traits. */
export const ProfileField = z.enum(['name', 'email', 'plan']);
export type ProfileField = z.infer<typeof ProfileField>;
/**
 * GET /v1/admin/conversations/:id/visitor (`conversations:read`; audited as a sensitive read): the
 * verified profile from the Sign-In Pro claims and the email the visitor left, if any. A name or email
 * is shown when the tenant's PII policy only flags its kind; otherwise it is withheld (`redacted`), and
 * revealed with a reason (POST …/visitor/reveal, `pii:reveal`) unless the policy makes it strict.
 */
export const VisitorProfileResponse = z.object({
  visitor: z.object({
    ref: z.string(),
    verified: z.boolean(),
    /** The Sign-In Pro subject (the host's user id). */
    id: z.string().nullable(),
    name: z.string().optional(),
    email: z.string().optional(),
    plan: z.string().optional(),
    /** Profile fields present but withheld: by the PII policy, or until revealed with a reason. */
    redacted: z.array(ProfileField),
    /** The withheld fields this caller may reveal (holding `pii:reveal`) with POST …/visitor/reveal. */
    revealable: z.array(ProfileField),
  }),
  contact: z.object({ email: z.string(), at: iso() }).nullable(),
});
export type VisitorProfileResponse = z.infer<typeof VisitorProfileResponse>;
/** POST /v1/admin/conversations/:id/visitor/reveal: why a person needs the withheld profile fields. */
export const RevealProfileRequest = z.strictObject({
  /** Stored in the audit log with the names of the fields revealed, never their values. */
  reason: text().trim().min(10).max(500),
});
export type RevealProfileRequest = z.infer<typeof RevealProfileRequest>;

// ---------------------------------------------------------------------------------------------------
// Canned replies: GET (`conversations:read`), POST / PATCH / DELETE (`conversations:write`: the team
// that answers curates its replies). Variables are rendered in the console when the reply is inserted
// (with `renderCannedReply` of the constants), so the agent sees and can edit the final text before sending.

export const CannedReplySchema = z.object({
  id: z.string(),
  title: z.string(),
  body: z.string(),
  /** Typed after `/` in the composer to find it. */
  shortcut: z.string().nullable(),
  createdAt: iso(),
  updatedAt: iso(),
});
export type CannedReply = z.infer<typeof CannedReplySchema>;
const cannedBody = text()
  .trim()
  .min(1)
  .max(MAX_MESSAGE_CHARS)
  .refine((b) => unknownCannedVariables(b).length === 0, {
    message: `variables must be one of ${CANNED_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`,
  });
export const CreateCannedReplyRequest = z.strictObject({
  title: text().trim().min(1).max(MAX_CANNED_TITLE_CHARS),
  body: cannedBody,
  shortcut: text()
    .trim()
    .regex(
      new RegExp(`^[a-z0-9][a-z0-9_-]{0,${MAX_CANNED_SHORTCUT_CHARS - 1}}$`),
      `lower-case letters, digits, - and _ (at most ${MAX_CANNED_SHORTCUT_CHARS})`,
    )
    .nullable()
    .optional(),
});
export type CreateCannedReplyRequest = z.infer<typeof CreateCannedReplyRequest>;
export const UpdateCannedReplyRequest = CreateCannedReplyRequest.partial();
export type UpdateCannedReplyRequest = z.infer<typeof UpdateCannedReplyRequest>;
export const CannedReplyResponse = z.object({ cannedReply: CannedReplySchema });
export const CannedReplyListResponse = z.object({ cannedReplies: z.array(CannedReplySchema) });

// ---------------------------------------------------------------------------------------------------
// The visitor's side (widget API)

/**
 * POST /v1/widget/conversations/:id/csat → 201: once per resolution, only after one (a 409 `conflict`
 * problem before a resolution and for a second rating; a reopened and again resolved handoff may be
 * rated again). The comment is stored redacted like any visitor text.
 */
export const CsatRequest = z.strictObject({
  score: z.number().int().min(1).max(5),
  comment: text().trim().max(MAX_CSAT_COMMENT_CHARS).optional(),
});
export type CsatRequest = z.infer<typeof CsatRequest>;
export const CsatResponse = z.object({ csat: z.object({ handoffId: z.string(), score: z.number().int(), createdAt: iso() }) });
export type CsatResponse = z.infer<typeof CsatResponse>;

/** POST /v1/widget/conversations/:id/contact: an email to answer on (stored sealed; the last one counts). 201. */
export const ContactRequest = z.strictObject({ email: emailText() });
export type ContactRequest = z.infer<typeof ContactRequest>;
export const ContactResponse = z.object({ contact: z.object({ at: iso() }) });
export type ContactResponse = z.infer<typeof ContactResponse>;
