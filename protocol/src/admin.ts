// Admin API (Bearer secret key): domains, API keys, audit.
import { ApprovalSettingsSchema } from './approvals.js';
import { z } from 'zod';
import { CAPABILITIES, MAX_MESSAGE_CHARS, MEMBER_STATUSES, ROLES, SYNONYM_GROUP } from './constants.js';
import { RetentionSettingsSchema } from './lifecycle.js';
import { PiiMatchSchema } from './pii.js';
import { ONE_PLACEHOLDER } from './placeholder.js';
import { jsonValue, text } from './text.js';
import { CitationSchema } from './widget.js';
import { queryInt } from './query.js';
import {
  agentLabel,
  BusinessHoursSchema,
  InboxAssigneeSchema,
  WorkspaceHandoffSchema,
  WorkspaceMessageSchema,
  WorkspaceRoleSchema,
} from './workspace.js';

const iso = () => z.iso.datetime({ offset: true });

export const CapabilitySchema = z.enum(CAPABILITIES);

export const DomainSchema = z.object({ id: z.string().uuid(), pattern: z.string(), createdAt: iso() });
export type Domain = z.infer<typeof DomainSchema>;
export const CreateDomainRequest = z.strictObject({
  /** `example.com`, `*.example.com`, `shop.example.com:8443`, optionally with `https://` or `http://`. */
  pattern: text().min(1).max(260),
});
export const DomainListResponse = z.object({ domains: z.array(DomainSchema) });
export const DomainResponse = z.object({ domain: DomainSchema });

export const ApiKeySchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  prefix: z.string(),
  capabilities: z.array(CapabilitySchema),
  createdAt: iso(),
  expiresAt: iso().nullable(),
  revokedAt: iso().nullable(),
  lastUsedAt: iso().nullable(),
  rotatedFrom: z.string().uuid().nullable(),
  /**
   * The person behind the key: who made it, or who made the key that made or rotated it. A key is worth
   * no more than they are now. Null for a key made from the command line.
   */
  madeBy: z.object({ id: z.string().uuid(), displayName: z.string(), role: z.enum(ROLES), status: z.enum(MEMBER_STATUSES) }).nullable(),
  /** Capabilities the key holds but may not use now: its maker's role lacks them (all of them while the maker is disabled). */
  heldBack: z.array(CapabilitySchema),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;
export const CreateApiKeyRequest = z.strictObject({
  name: text().trim().min(1).max(100),
  capabilities: z.array(CapabilitySchema).min(1).max(CAPABILITIES.length),
  /** Optional lifetime; without it the key lives until revoked. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(5 * 365 * 24 * 3600)
    .optional(),
});
export const RotateApiKeyRequest = z.strictObject({
  /** How long the old key keeps working; 0 revokes it at once. Default one day. */
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .default(24 * 3600),
});
/** A new secret is returned exactly once, here. */
export const CreatedApiKeyResponse = z.object({ apiKey: ApiKeySchema, secret: z.string() });
export const ApiKeyListResponse = z.object({ apiKeys: z.array(ApiKeySchema) });

export const AuditEntrySchema = z.object({
  seq: z.number().int(),
  ts: z.string(),
  tenantId: z.string(),
  requestId: z.string().nullable(),
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  policyVersion: z.number().int(),
  source: z.string(),
  reason: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  leafHash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export const AuditListQuery = z.strictObject({
  after: queryInt(-1).prefault(-1),
  limit: queryInt(1, 1000).prefault(100),
});
export const AuditListResponse = z.object({ entries: z.array(AuditEntrySchema), next: z.number().int().nullable() });
export const CheckpointResponse = z.object({
  origin: z.string(),
  size: z.number().int(),
  root: z.string(),
  /** The C2SP signed note, verifiable with `verifierKey` (also served alone with `Accept: text/plain`). */
  checkpoint: z.string(),
  /** The key signing this log's checkpoints now. */
  verifierKey: z.string(),
  /** Every key this log's checkpoints were ever signed with, current first (signing keys rotate). */
  verifierKeys: z.array(z.string()),
});
export type CheckpointResponse = z.infer<typeof CheckpointResponse>;
export const InclusionProofQuery = z.strictObject({
  index: queryInt(0),
  size: queryInt(1),
});
export const InclusionProofResponse = z.object({
  index: z.number().int(),
  size: z.number().int(),
  leafHash: z.string(),
  proof: z.array(z.string()),
});
export const ConsistencyProofQuery = z.strictObject({
  from: queryInt(1),
  to: queryInt(1),
});
export const ConsistencyProofResponse = z.object({
  from: z.number().int(),
  to: z.number().int(),
  proof: z.array(z.string()),
});

// Every member of a public key is stored as JSON: each must be safe text and shallow.
const safeMembers = ({ kty: _kty, kid: _kid, ...members }: Record<string, unknown>, ctx: z.RefinementCtx) => {
  const r = jsonValue().safeParse(members);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
};

/** Sign-In Pro settings. Prefer public keys: the private key then never leaves the tenant. */
export const PutIdentityRequest = z.strictObject({
  mode: z.enum(['optional', 'required']),
  /**
   * Each `kid` at most once, and at most one key without a `kid`. A token names its key by its kid; one
   * without a kid is verified by the key without one (where every key has a kid, by the only key of its
   * type). A token whose kid two keys share verifies against neither, so a second key under a kid would end
   * every sign-in signed under it, with the first key too; two keys without a kid would leave every token
   * without one as ambiguous.
   */
  publicKeys: z
    .array(z.looseObject({ kty: z.enum(['OKP', 'EC', 'RSA']), kid: text().min(1).max(200).optional() }).superRefine(safeMembers))
    .max(10)
    .superRefine((keys, ctx) => {
      const seen = new Set<string>();
      let kidless = false;
      keys.forEach((k, i) => {
        if (k.kid === undefined) {
          if (kidless)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'kid'],
              message: 'is required: an earlier key here has no kid, and at most one key may go without one',
            });
          kidless = true;
          return;
        }
        if (seen.has(k.kid)) ctx.addIssue({ code: 'custom', path: [i, 'kid'], message: 'is the kid of an earlier key here' });
        seen.add(k.kid);
      });
    })
    .optional(),
  jwksUrl: text().url().max(2000).optional(),
});
export const IdentitySettingsResponse = z.object({
  /**
   * This tenant's id: what `signUserSession` takes as its `tenant` option, so that a token signed for this
   * tenant is refused by every other (one that registered the same public key, say).
   */
  tenantId: z.string(),
  /**
   * The `aud` a Sign-In Pro token for this tenant carries: `parley:identity:<tenantId>`. Required of tokens
   * verified by a public key or the JWKS URL; a token naming another tenant is refused whatever signed it.
   */
  audience: z.string(),
  mode: z.enum(['optional', 'required']),
  publicKeys: z.array(z.record(z.string(), z.unknown())),
  jwksUrl: z.string().nullable(),
  secrets: z.array(z.object({ id: z.string(), kid: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() })),
});
export type IdentitySettingsResponse = z.infer<typeof IdentitySettingsResponse>;
/** A new shared signing secret, returned exactly once. */
export const CreatedIdentitySecretResponse = z.object({ id: z.string(), kid: z.string(), secret: z.string(), createdAt: z.string() });

export const HandoffListQuery = z.strictObject({
  status: z.enum(['pending', 'assigned', 'resolved']).optional(),
  limit: queryInt(1, 200).prefault(50),
});
export const UpdateHandoffRequest = z.strictObject({
  /** `pending` gives an assigned handoff back to the queue (unassigned). */
  status: z.enum(['pending', 'assigned', 'resolved']),
  /**
   * Who takes it. A signed-in person: a member id of the tenant, or nothing for themselves. A key (an
   * integration): a member id or its own label.
   */
  assignedTo: text().trim().min(1).max(200).optional(),
  /**
   * Who the caller believes holds it now (a member id or a key's label; `null`: nobody). When given, the
   * change applies only if that is still so, else a `409` whose `assignedTo` names who holds it. Taking it
   * for yourself without this field is the same as expecting nobody (or yourself): taking over from a
   * teammate names them here. Handing it to someone named in `assignedTo` without this field reassigns it
   * whoever holds it.
   */
  expectedAssignee: text().trim().min(1).max(200).nullable().optional(),
});
/**
 * Who a conversation belongs to, as agents and the audit log see it: a widget visitor's pseudonymous
 * reference (`v_…`), or on the API channel `api:<userRef>` (the caller's user) or `api_…` (a conversation asked
 * for nobody named, a subject of its own). It names the visitor and resumes
 * nothing: only the visitor's browser holds the secret that does.
 */
export const VisitorRefSchema = z.string();
/** One handoff of `GET /v1/admin/handoffs`. */
export const AdminHandoffSchema = z.object({
  id: z.string().uuid(),
  conversationId: z.string().uuid(),
  status: z.enum(['pending', 'assigned', 'resolved']),
  reason: z.string(),
  /** The member id (or a key's label) it is assigned to. */
  assignedTo: z.string().nullable(),
  /** The assignee's display name, when `assignedTo` is a member. */
  assignee: InboxAssigneeSchema.nullable(),
  visitorVerified: z.boolean(),
  visitorRef: VisitorRefSchema,
  createdAt: iso(),
  updatedAt: iso(),
});
export type AdminHandoff = z.infer<typeof AdminHandoffSchema>;
export const HandoffListResponse = z.object({ handoffs: z.array(AdminHandoffSchema) });

/** `GET /v1/admin/conversations`: every conversation, answered or handed off, most recently active first. */
export const ConversationListQuery = z.strictObject({
  /**
   * A visitor reference (`v_…`), a `userRef` of the API channel (with or without `api:`), a verified user
   * id, or words of the stored (redacted) text.
   */
  q: text().trim().min(1).max(200).optional(),
  status: z.enum(['open', 'handoff', 'closed']).optional(),
  channel: z.enum(['widget', 'api', 'email']).optional(),
  /** `nextCursor` of the previous page (opaque). */
  cursor: text().max(200).optional(),
  limit: queryInt(1, 100).prefault(50),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuery>;

/** One conversation of `GET /v1/admin/conversations`. */
export const ConversationSummarySchema = z.object({
  id: z.string().uuid(),
  status: z.enum(['open', 'handoff', 'closed']),
  channel: z.enum(['widget', 'api', 'email']),
  visitorRef: VisitorRefSchema,
  /** Sign-In Pro vouched for the visitor. Who they are (their user id) is read with the transcript, an audited read. */
  verified: z.boolean(),
  /** Messages of the visitor, the assistant and agents (notes not counted). */
  messageCount: z.number().int(),
  /** The latest message that is not a note, redacted as stored; null before any. */
  lastMessage: z.object({ role: z.enum(['visitor', 'assistant', 'agent', 'system']), text: z.string(), at: iso() }).nullable(),
  /** The status of the conversation's latest handoff; null when it was never handed off. */
  handoffStatus: z.enum(['pending', 'assigned', 'resolved']).nullable(),
  createdAt: iso(),
  updatedAt: iso(),
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;
export const ConversationListResponse = z.object({ conversations: z.array(ConversationSummarySchema), nextCursor: z.string().nullable() });
export type ConversationListResponse = z.infer<typeof ConversationListResponse>;

/** `GET /v1/admin/conversations/:id`: the transcript as stored (redacted); a read is audited. */
export const AdminConversationResponse = z.object({
  conversation: z.object({
    id: z.string().uuid(),
    status: z.enum(['open', 'handoff', 'closed']),
    verified: z.boolean(),
    createdAt: iso(),
    visitorRef: VisitorRefSchema,
    /** The Sign-In Pro subject when the visitor is verified. */
    identitySubject: z.string().nullable(),
    /** The conversation's latest handoff (null when none). */
    handoff: WorkspaceHandoffSchema.nullable().optional(),
    /** The visitor left an email (read it with GET …/visitor, audited). */
    contactLeft: z.boolean().optional(),
  }),
  messages: z.array(
    z.object({
      id: z.string(),
      role: WorkspaceRoleSchema,
      /** As stored: redacted visitor and assistant text; agent replies and notes as typed. */
      text: z.string(),
      /** What was redacted from a visitor's message before it was stored. */
      redactions: z.array(PiiMatchSchema),
      citations: z.array(CitationSchema),
      confidence: z.number().nullable(),
      /** The member id (or a key's label) of an `agent` reply or a `note`. */
      author: z.string().nullable(),
      /** The author's display name, when `author` is a member. */
      authorName: z.string().nullable().optional(),
      createdAt: iso(),
    }),
  ),
});
export type AdminConversationResponse = z.infer<typeof AdminConversationResponse>;
export const AgentMessageRequest = z.strictObject({
  text: text().trim().min(1).max(MAX_MESSAGE_CHARS),
  /** For a key (an integration): the author's label, never a member id. A signed-in person is the author themselves. */
  agent: agentLabel().optional(),
});
/** `POST /v1/admin/conversations/:id/messages` (201) and `…/notes` (201): the message as stored. */
export const AgentMessageResponse = z.object({ message: WorkspaceMessageSchema });
export type AgentMessageResponse = z.infer<typeof AgentMessageResponse>;
export const RevealRequest = z.strictObject({
  token: text().regex(ONE_PLACEHOLDER),
  /** Why a person needs the original value; stored in the audit log. */
  reason: text().trim().min(10).max(500),
});
/** The original value of a reversible token: never cached, audited with the reason. */
export const RevealResponse = z.object({ token: z.string(), value: z.string() });
export const PiiScanRequest = z.strictObject({
  text: text().min(1).max(20_000),
  channel: z.enum(['widget', 'api', 'email']).default('api'),
});
/** What the tenant's PII policy finds in a text and the text as it would be stored; nothing is stored. */
export const SettingsSchema = z.strictObject({
  widget: z
    .strictObject({
      greeting: text().max(500).optional(),
      launcherText: text().max(60).optional(),
      locale: text().max(20).optional(),
      theme: z.enum(['light', 'dark', 'auto']).optional(),
      accentColor: text()
        .regex(/^#[0-9a-fA-F]{6}$/)
        .optional(),
      position: z.enum(['bottom-right', 'bottom-left']).optional(),
    })
    .optional(),
  handoff: z
    .strictObject({
      threshold: z.number().min(0).max(1).optional(),
      sensitiveTopics: z.array(text().trim().min(2).max(100)).max(100).optional(),
      /** Between this and `threshold` the assistant offers "Did you mean: <heading>?" instead of handing off (0..1; at or above `threshold`: never). */
      suggestThreshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** When people answer; a handoff outside these hours tells the visitor when they will hear back. `null` removes it (always open). */
  businessHours: BusinessHoursSchema.nullable().optional(),
  /** AI provider budgets; over them a widget visitor is handed to a person and `POST /v1/answers` is a 429. */
  budget: z
    .strictObject({
      requestsPerMinute: z.number().int().min(0).max(10_000).optional(),
      tokensPerDay: z.number().int().min(0).max(1_000_000_000).optional(),
    })
    .optional(),
  /** Per-class PII policy; see the PII guide. Validated by the server against its classes. */
  pii: z.record(text(), jsonValue()).optional(),
  /** How knowledge is searched (`auto`: hybrid once an embedding model is configured, else BM25). */
  retrieval: z
    .strictObject({
      mode: z.enum(['auto', 'bm25', 'dense', 'hybrid']).optional(),
      /** Words the tenant's visitors use for the same thing, one group per entry: "parcel = package = order". */
      synonyms: z.array(text().trim().max(300).regex(SYNONYM_GROUP, 'a group of two or more words or phrases joined by "="')).max(500).optional(),
      /** The built-in support vocabulary ("voucher" → "gift card", "dispatched" → "shipped"); on unless set to false. */
      supportVocabulary: z.boolean().optional(),
    })
    .optional(),
  /** Retention windows in days per kind of personal data (see the Data lifecycle guide); left out, the defaults apply. */
  retention: RetentionSettingsSchema.optional(),
  /** Admin operations that wait for another owner's or admin's approval before they run (the approval rail). */
  approvals: ApprovalSettingsSchema.optional(),
});
