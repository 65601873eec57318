// The data classification registry: every column of every table Parley stores has one class, and the
// protections follow from the class (log and trace redaction, admin views, export rules, retention). A
// server test compares this registry with the migrated database's catalog both ways, so a migration cannot
// add an unclassified column and the registry cannot name one that is gone. The docs' "Data lifecycle"
// guide renders its tables from here.
import { z } from 'zod';
import { HANDOFF_RETENTION_HOLD_DAYS, TENANT_DELETION_GRACE_DAYS } from './constants.js';
import { text } from './text.js';

/** The classes, least to most sensitive. */
export const DATA_CLASSES = ['public', 'internal', 'confidential', 'personal', 'restricted', 'secret'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/** What each class means and how it is protected, in the docs' words. */
export const DATA_CLASS_TEXT: Record<DataClass, { meaning: string; protection: string }> = {
  public: {
    meaning: 'Meant to be seen by anyone (publishable keys, the audit verifier key).',
    protection: 'No restriction beyond tenant isolation.',
  },
  internal: {
    meaning: 'Identifiers, timestamps, counters, states and hashes that say nothing about a person.',
    protection: 'Tenant isolation (row-level security); shown to members with the capability to read it.',
  },
  confidential: {
    meaning: "The tenant's business content and configuration: knowledge, settings, endpoint URLs, audit reasons.",
    protection: 'Tenant isolation; changes audited; exported only in a tenant export.',
  },
  personal: {
    meaning: 'About an identifiable person: what a visitor wrote, emails, names, user agents, verified user ids.',
    protection:
      'Redacted before any AI model and in admin views unless revealed with a reason; never in logs, traces or audit payloads; kept only for its retention window; exported and erased by data-subject requests.',
  },
  restricted: {
    meaning: 'Special-category data, payment data and government ids: the original values the PII engine took out of messages.',
    protection: 'Encrypted with the tenant data key (AES-256-GCM); everything for personal, and each reveal audited with its reason.',
  },
  secret: {
    meaning: 'Keys, tokens, password hashes and signing material.',
    protection: 'Sealed (encrypted) or hashed at rest, write-only through the API, never returned, logged or exported.',
  },
};

type Columns = Partial<Record<DataClass, readonly string[]>>;

/** table → class → columns. Keep each table's columns in the order the schema has them within a class. */
export const CLASSIFICATION = {
  actions: {
    internal: ['tenant_id', 'id', 'name', 'risk', 'expires_after_seconds', 'enabled', 'created_at', 'updated_at', 'deleted_at'],
    confidential: ['description', 'input_schema', 'endpoint'],
    secret: ['secret_sealed'],
  },
  ai_providers: {
    internal: ['tenant_id', 'provider', 'base_url', 'model', 'embedding_model', 'created_at', 'updated_at'],
    confidential: ['api_key_last4'],
    secret: ['api_key_sealed'],
  },
  ai_usage: { internal: ['tenant_id', 'day', 'requests', 'tokens'] },
  api_keys: {
    internal: [
      'id',
      'tenant_id',
      'name',
      'prefix',
      'capabilities',
      'created_at',
      'created_by',
      'rotated_from',
      'expires_at',
      'revoked_at',
      'last_used_at',
      'created_by_member',
    ],
    secret: ['hash'],
  },
  approval_decisions: {
    internal: ['tenant_id', 'proposal_id', 'decided_by_kind', 'decided_by_id', 'decision', 'admin', 'created_at'],
    // Free text by a member about the decision: like audit reasons, not meant to hold personal data.
    confidential: ['reason'],
  },
  approval_notices: { internal: ['tenant_id', 'proposal_id', 'recipients', 'sent_at'] },
  approval_proposals: {
    internal: [
      'tenant_id',
      'id',
      'kind',
      'action_id',
      'risk',
      'conversation_id',
      'requested_by_kind',
      'status',
      'expires_at',
      'created_at',
      'updated_at',
      'executing_at',
      'finished_at',
      'result_status',
      'error',
      'operation',
      'arguments_hash',
      'redacted_at',
    ],
    // The verified user, the arguments about them, the visitor's reference and what the endpoint answered:
    // redacted by the retention sweep once the proposal is decided or expired (see FIXED_RETENTION).
    personal: ['subject', 'arguments', 'reason', 'requested_by_id', 'result_summary'],
  },
  audit_checkpoints: { internal: ['tenant_id', 'size', 'root', 'note', 'created_at'] },
  audit_entries: {
    internal: [
      'tenant_id',
      'id',
      'seq',
      'ts',
      'request_id',
      'actor_type',
      'actor_id',
      'action',
      'target_type',
      'target_id',
      'policy_version',
      'source',
      'leaf_hash',
      'sig',
    ],
    // Free text and structured detail given by admins: never personal data (a test holds the log to it).
    confidential: ['reason', 'metadata'],
  },
  audit_heads: {
    internal: [
      'tenant_id',
      'size',
      'frontier',
      'last_checkpoint_size',
      'last_checkpoint_at',
      'origin',
      'key_name',
      'checkpoint_count',
      'last_checkpoint_hash',
      'signed_from',
    ],
  },
  audit_identity: { internal: ['singleton', 'origin_prefix', 'key_name', 'created_at'] },
  audit_nodes: { internal: ['tenant_id', 'level', 'idx', 'hash'] },
  audit_refusals: {
    internal: ['tenant_id', 'action', 'subject', 'window_start', 'window_end', 'count', 'metadata', 'first_at', 'last_at'],
  },
  audit_signing_keys: { public: ['public_key', 'previous'], internal: ['note', 'created_at'] },
  canned_replies: {
    internal: ['tenant_id', 'id', 'created_by', 'created_at', 'updated_at'],
    confidential: ['title', 'body', 'shortcut'],
  },
  conversation_events: {
    internal: ['id', 'tenant_id', 'conversation_id', 'type', 'created_at', 'audience', 'xid'],
    personal: ['payload'],
  },
  conversations: {
    internal: [
      'id',
      'tenant_id',
      'channel',
      'origin',
      'verified',
      'status',
      'redaction_state',
      'created_at',
      'updated_at',
      'active_hour',
      'last_seq',
      'contact_left_at',
      'retention_held_at',
    ],
    personal: ['visitor_id', 'identity_subject', 'identity_profile', 'contact_email_sealed'],
    secret: ['redaction_key'],
  },
  crawl_jobs: {
    internal: [
      'id',
      'tenant_id',
      'kind',
      'status',
      'pages_total',
      'pages_done',
      'pages_failed',
      'bytes',
      'errors',
      'error',
      'requested_by',
      'request_id',
      'holder',
      'lease_until',
      'attempts',
      'served_at',
      'created_at',
      'started_at',
      'finished_at',
      'updated_at',
    ],
    confidential: ['url', 'urls'],
  },
  csat_responses: {
    internal: ['tenant_id', 'id', 'conversation_id', 'handoff_id', 'resolution', 'score', 'created_at'],
    personal: ['comment', 'comment_pii'],
  },
  evidence_packs: {
    internal: ['tenant_id', 'version', 'framework', 'policy_sha256', 'manifest_sha256', 'created_at', 'superseded_at'],
    confidential: ['archive'],
  },
  evidence_subscriptions: { internal: ['tenant_id', 'framework', 'period_days', 'created_at', 'updated_at'] },
  handoffs: {
    internal: [
      'id',
      'tenant_id',
      'conversation_id',
      'status',
      'reason',
      'detail',
      'assigned_to',
      'created_at',
      'updated_at',
      'assigned_at',
      'first_response_at',
      'resolved_at',
      'resolved_by',
      'resolutions',
    ],
  },
  identity_secrets: { internal: ['id', 'tenant_id', 'kid', 'created_at', 'revoked_at'], secret: ['sealed'] },
  identity_settings: { internal: ['tenant_id', 'mode', 'updated_at'], confidential: ['public_keys', 'jwks_url'] },
  identity_token_uses: { internal: ['tenant_id', 'jti', 'expires_at'] },
  job_leases: { internal: ['name', 'holder', 'lease_until', 'next_run_at', 'finished_at'] },
  knowledge_chunks: {
    internal: ['id', 'tenant_id', 'source_id', 'position', 'content_hash', 'token_count', 'embedded_model'],
    confidential: ['title', 'anchor_url', 'text', 'terms', 'tsv'],
  },
  knowledge_postings: { internal: ['tenant_id', 'chunk_id', 'tf', 'chunk_len', 'in_title'], confidential: ['term'] },
  knowledge_sources: {
    internal: ['id', 'tenant_id', 'kind', 'content_hash', 'status', 'error', 'chunk_count', 'created_at', 'updated_at', 'content_bytes'],
    confidential: ['external_id', 'title', 'url'],
  },
  knowledge_stats: { internal: ['tenant_id', 'chunk_count', 'total_length', 'version'] },
  knowledge_terms: { internal: ['tenant_id', 'df'], confidential: ['term'] },
  knowledge_vectors: { internal: ['chunk_id', 'tenant_id', 'model', 'dims'], confidential: ['embedding'] },
  member_invites: {
    internal: ['tenant_id', 'id', 'role', 'delivery', 'invited_by', 'created_at', 'expires_at', 'accepted_at', 'revoked_at', 'member_id'],
    personal: ['email'],
    secret: ['token_hash', 'link_sealed'],
  },
  member_passkeys: {
    internal: ['tenant_id', 'id', 'member_id', 'credential_id', 'public_key', 'counter', 'transports', 'name', 'created_at', 'last_used_at'],
  },
  member_recovery_codes: { internal: ['tenant_id', 'id', 'member_id', 'created_at', 'used_at'], secret: ['code_hash'] },
  member_refresh_tokens: {
    internal: ['tenant_id', 'id', 'family_id', 'created_at', 'expires_at', 'used_at', 'revoked_at'],
    secret: ['token_hash'],
  },
  member_sessions: {
    internal: [
      'tenant_id',
      'id',
      'member_id',
      'method',
      'created_at',
      'last_seen_at',
      'idle_expires_at',
      'expires_at',
      'revoked_at',
      'revoked_reason',
    ],
    personal: ['user_agent'],
  },
  // The IdP's subject is often the person's email address (SAML's email NameID).
  member_sso_links: { internal: ['tenant_id', 'member_id', 'kind', 'issuer', 'created_at'], personal: ['subject'] },
  member_totp: { internal: ['tenant_id', 'member_id', 'created_at', 'confirmed_at', 'last_step'], secret: ['secret_sealed'] },
  members: {
    internal: ['tenant_id', 'id', 'role', 'status', 'created_at', 'created_by', 'last_sign_in_at', 'availability', 'last_seen_at'],
    personal: ['email', 'display_name'],
    secret: ['password_hash'],
  },
  messages: {
    internal: ['id', 'tenant_id', 'conversation_id', 'seq', 'role', 'citations', 'confidence', 'author_id', 'client_message_id', 'created_at'],
    personal: ['text', 'pii'],
  },
  parley_migrations: { internal: ['name', 'checksum', 'applied_at'] },
  pending_answers: { internal: ['tenant_id', 'message_id', 'conversation_id', 'claimed_until', 'attempts', 'created_at', 'pick'] },
  pii_vault: { internal: ['tenant_id', 'conversation_id', 'token', 'class', 'created_at'], restricted: ['sealed'] },
  publishable_keys: { public: ['key'], internal: ['id', 'tenant_id', 'created_at', 'revoked_at'] },
  rate_limit_windows: { internal: ['key', 'hits', 'reset_at'] },
  sign_in_throttle: { internal: ['key', 'failures', 'last_failure_at', 'blocked_until', 'prior_blocked_until'] },
  sso_connections: {
    internal: ['tenant_id', 'kind', 'allowed_domains', 'default_role', 'groups_claim', 'group_roles', 'created_at', 'updated_at'],
    confidential: ['config'],
    secret: ['secret_sealed'],
  },
  sso_replay: { internal: ['tenant_id', 'kind', 'id_hash', 'expires_at'] },
  sso_requests: { internal: ['tenant_id', 'id', 'kind', 'created_at', 'expires_at', 'used_at'], confidential: ['data'], secret: ['binding'] },
  tenant_deletions: {
    internal: [
      'tenant',
      'state',
      'requested_at',
      'due_at',
      'shredded_at',
      'keys_destroyed',
      'final_checkpoint',
      'final_verifier_key',
      'counts',
      'completed_at',
    ],
  },
  tenant_data_keys: { internal: ['tenant_id', 'version', 'kek_id', 'created_at', 'retired_at'], secret: ['wrapped'] },
  tenant_domains: { internal: ['id', 'tenant_id', 'pattern', 'created_at'] },
  tenants: { internal: ['id', 'name', 'policy_version', 'created_at'], confidential: ['settings'] },
  verified_visitors: { internal: ['tenant_id', 'updated_at'], personal: ['subject', 'profile'] },
  visitors: { internal: ['tenant_id', 'created_at', 'last_seen_at'], personal: ['id'], secret: ['secret_hash'] },
  webauthn_challenges: { internal: ['key', 'purpose', 'tenant_id', 'member_id', 'expires_at'], secret: ['challenge'] },
  webhook_attempts: { internal: ['tenant_id', 'delivery_id', 'n', 'at', 'response_code', 'latency_ms', 'error'] },
  webhook_deliveries: {
    internal: [
      'tenant_id',
      'id',
      'endpoint_id',
      'event_id',
      'status',
      'attempts',
      'next_attempt_at',
      'holder',
      'lease_until',
      'response_code',
      'latency_ms',
      'error',
      'created_at',
      'delivered_at',
    ],
  },
  webhook_endpoints: {
    internal: ['tenant_id', 'id', 'events', 'enabled', 'disabled_reason', 'previous_secret_expires_at', 'failing_since', 'created_at', 'updated_at'],
    confidential: ['url', 'description'],
    secret: ['secret_sealed', 'previous_secret_sealed'],
  },
  webhook_events: { internal: ['tenant_id', 'id', 'type', 'conversation_id', 'created_at'], personal: ['body'] },
  widget_refresh_tokens: {
    internal: ['id', 'tenant_id', 'family_id', 'origin', 'expires_at', 'used_at', 'revoked_at', 'created_at', 'identity_proof'],
    personal: ['visitor_id', 'identity_subject'],
    secret: ['token_hash'],
  },
} as const satisfies Record<string, Columns>;

/**
 * Fields that travel on the wire or through the code but are not stored under that name (request bodies,
 * headers, options): classified here so log and trace redaction has one source.
 */
export const WIRE_FIELDS = {
  authorization: 'secret',
  cookie: 'secret',
  'x-parley-key': 'secret',
  'x-parley-visitor': 'secret',
  secret: 'secret',
  secretKey: 'secret',
  token: 'secret',
  refreshToken: 'secret',
  visitorSecret: 'secret',
  password: 'secret',
  apiKey: 'secret',
  masterKey: 'secret',
  visitorId: 'personal',
  email: 'personal',
  text: 'personal',
} as const satisfies Record<string, DataClass>;

/** Each column with its class, table by table (alphabetical), for catalog checks and the docs. */
export function classifiedColumns(): { table: string; column: string; dataClass: DataClass }[] {
  const out: { table: string; column: string; dataClass: DataClass }[] = [];
  for (const [table, classes] of Object.entries(CLASSIFICATION) as [string, Columns][]) {
    for (const dataClass of DATA_CLASSES) for (const column of classes[dataClass] ?? []) out.push({ table, column, dataClass });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

/** The class of `table.column`, or undefined when the registry does not know it. */
export function classOf(table: string, column: string): DataClass | undefined {
  const classes = (CLASSIFICATION as Record<string, Columns>)[table];
  if (!classes) return undefined;
  return DATA_CLASSES.find((c) => classes[c]?.includes(column));
}

/**
 * The personal fields admin views show, each to whom and why the work needs it. Every other `personal`
 * value is withheld in admin views (listed as redacted) unless the tenant's PII policy only flags its
 * kind, and a person holding `pii:reveal` reveals it with a reason, audited; `restricted` values are
 * revealed one at a time the same way; `secret` ones never leave the server. A server test holds every
 * entry to a `personal` column of the registry, and the docs render this list.
 */
export const SHOWN_PERSONAL_FIELDS: readonly { table: string; columns: readonly string[]; to: string; why: string }[] = [
  {
    table: 'messages',
    columns: ['text'],
    to: 'conversations:read',
    why: 'Stored redacted by the PII policy; the values behind its tokens are restricted and revealed one at a time.',
  },
  { table: 'csat_responses', columns: ['comment'], to: 'conversations:read', why: 'Stored redacted, like a message.' },
  {
    table: 'conversations',
    columns: ['visitor_id', 'identity_subject'],
    to: 'conversations:read',
    why: "A pseudonymous reference (v_…) and the host's own user id: the names agents and the host look a visitor up by.",
  },
  {
    table: 'conversations',
    columns: ['contact_email_sealed'],
    to: 'conversations:read',
    why: 'The visitor left it to be answered on; each read is audited.',
  },
  {
    table: 'webhook_events',
    columns: ['body'],
    to: 'webhooks:read',
    why: "What was sent to the tenant's own endpoint (message text in it is redacted per the PII policy, an agent's reply included).",
  },
  {
    table: 'approval_proposals',
    columns: ['subject', 'arguments', 'reason', 'requested_by_id', 'result_summary'],
    to: 'approvals:decide',
    why: 'An approver decides on what they can see.',
  },
  { table: 'members', columns: ['email', 'display_name'], to: 'members:read', why: "Workspace members' own sign-in and name, to manage the team." },
  { table: 'member_invites', columns: ['email'], to: 'members:read', why: 'Where an invitation was sent.' },
  { table: 'member_sessions', columns: ['user_agent'], to: 'the member themself', why: 'Their own devices, to sign them out.' },
];

/** Whether admin views show `table.column` (a `personal` field) without a reveal. */
export function shownInAdminViews(table: string, column: string): boolean {
  return SHOWN_PERSONAL_FIELDS.some((f) => f.table === table && f.columns.includes(column));
}

/** A retention window a tenant can set (days), per kind of stored data, with its class and default. */
export interface RetentionWindow {
  /** The key under `retention` in the tenant settings. */
  key: 'messages' | 'webhookBodies' | 'verifiedProfiles';
  dataClass: DataClass;
  defaultDays: number;
  minDays: number;
  maxDays: number;
  /** What goes when the window has passed, in the docs' words. */
  what: string;
}

export const RETENTION_WINDOWS: readonly RetentionWindow[] = [
  {
    key: 'messages',
    dataClass: 'personal',
    defaultDays: 365,
    minDays: 1,
    maxDays: 3650,
    what: `Conversations with no activity for this long, with their messages, live-feed events, PII vault entries, handoffs and ratings, and the webhook events about them with their delivery logs (sent or not, whatever the webhook window). One whose handoff is still open is held until it is resolved, at most ${HANDOFF_RETENTION_HOLD_DAYS} days more, and counted in the tenant's audit log when first held.`,
  },
  {
    key: 'webhookBodies',
    dataClass: 'personal',
    defaultDays: 7,
    minDays: 1,
    maxDays: 30,
    what: 'Webhook event bodies and their delivery logs (never while a delivery is still being retried); an event about a conversation goes with the conversation if that goes first.',
  },
  {
    key: 'verifiedProfiles',
    dataClass: 'personal',
    defaultDays: 365,
    minDays: 1,
    maxDays: 3650,
    what: 'Verified users’ stored profiles (Sign-In Pro) not refreshed for this long.',
  },
];

/** What is deleted on a fixed schedule, not settable by a tenant (documented beside the windows). */
export const FIXED_RETENTION: readonly { what: string; when: string }[] = [
  { what: 'Widget refresh tokens', when: 'An hour after they expire' },
  { what: 'One-time identity token ids (replay protection)', when: 'Ten minutes after the token they guard expires' },
  { what: 'Console sessions and their refresh tokens', when: 'A day after the session ended (or an hour after a token expired)' },
  { what: 'Invitations', when: 'After the deployment’s event retention, once accepted, revoked or expired' },
  { what: 'SSO requests and replay ids, WebAuthn challenges', when: 'An hour (replay ids: ten minutes) after they expire' },
  { what: 'Unconfirmed authenticator-app set-ups', when: 'A day after they were begun' },
  { what: 'Rate-limit windows and sign-in throttle counters', when: 'A minute after the window ended; a day after the last failure' },
  { what: 'Visitors who never chatted, finished crawl jobs', when: 'After the deployment’s event retention (PARLEY_EVENT_RETENTION_DAYS)' },
  {
    what: 'Approval proposals’ arguments, reasons and results (an invitee’s email, what an endpoint answered); the decision, who asked and decided, when, and the operation stay',
    when: 'After the deployment’s event retention, once decided or expired (a proposal in a conversation goes with the conversation)',
  },
  { what: 'The audit log', when: 'Kept: it holds no personal data, and it is never edited' },
];

const days = (w: RetentionWindow) => z.number().int().min(w.minDays).max(w.maxDays).optional();
const windowOf = (key: RetentionWindow['key']) => RETENTION_WINDOWS.find((w) => w.key === key)!;

/** `retention` in the tenant settings: days per window; one left out takes its default. */
export const RetentionSettingsSchema = z.strictObject({
  messages: days(windowOf('messages')),
  webhookBodies: days(windowOf('webhookBodies')),
  verifiedProfiles: days(windowOf('verifiedProfiles')),
});
export type RetentionSettings = z.infer<typeof RetentionSettingsSchema>;

export const DEFAULT_RETENTION = {
  messages: windowOf('messages').defaultDays,
  webhookBodies: windowOf('webhookBodies').defaultDays,
  verifiedProfiles: windowOf('verifiedProfiles').defaultDays,
} as const;

/**
 * A data subject: a verified user (the `sub` your backend signed with Sign-In Pro) or a widget visitor by
 * their pseudonymous reference (`v_…`, shown in the inbox).
 */
export const DataSubject = z.strictObject({
  type: z.enum(['user', 'visitor']),
  id: text().trim().min(1).max(256),
});
export type DataSubject = z.infer<typeof DataSubject>;

/**
 * Why a person's data is exported or erased (a ticket, a request's reference): kept in the audit log, which
 * is never edited, with any personal value in it taken out, so name the request, not the person.
 */
const subjectReason = text().trim().min(10).max(500);

/** POST /v1/admin/privacy/erase: the subject, and optionally why. */
export const DataSubjectRequest = DataSubject.extend({ reason: subjectReason.optional() });
export type DataSubjectRequest = z.infer<typeof DataSubjectRequest>;

/**
 * POST /v1/admin/privacy/export: the subject and why, required: the export puts back every original value
 * the PII engine took out, which `pii:reveal` releases one at a time, each with a reason.
 */
export const DataSubjectExportRequest = DataSubject.extend({ reason: subjectReason });
export type DataSubjectExportRequest = z.infer<typeof DataSubjectExportRequest>;

const iso = z.iso.datetime({ offset: true });

/** POST /v1/admin/privacy/export: everything stored about the subject, personal values revealed. */
export const DataSubjectExport = z.object({
  subject: DataSubject,
  exportedAt: iso,
  /** The Sign-In Pro profile as your backend signed it (users only; null when none is stored). */
  profile: z.record(z.string(), z.unknown()).nullable(),
  visitors: z.array(z.object({ ref: z.string(), createdAt: iso, lastSeenAt: iso })),
  conversations: z.array(
    z.object({
      id: z.string(),
      visitorRef: z.string(),
      userId: z.string().nullable(),
      channel: z.string(),
      origin: z.string().nullable(),
      status: z.string(),
      createdAt: iso,
      updatedAt: iso,
      /** The email the visitor left to be contacted, if any. */
      contactEmail: z.string().nullable(),
      /** Every message with the values the PII policy took out put back (this export is for the person). */
      messages: z.array(z.object({ seq: z.number().int(), role: z.string(), text: z.string(), createdAt: iso })),
      handoffs: z.array(z.object({ status: z.string(), reason: z.string().nullable(), createdAt: iso, resolvedAt: iso.nullable() })),
      ratings: z.array(z.object({ score: z.number().int(), comment: z.string().nullable(), createdAt: iso })),
      /** The actions asked for in the conversation (the approval rail), with what was sent and answered. */
      actions: z.array(
        z.object({
          action: z.string(),
          arguments: z.record(z.string(), z.unknown()),
          reason: z.string().nullable(),
          status: z.string(),
          createdAt: iso,
          result: z.string().nullable(),
          error: z.string().nullable(),
        }),
      ),
    }),
  ),
});
export type DataSubjectExport = z.infer<typeof DataSubjectExport>;

/** POST /v1/admin/privacy/erase: how many rows of each kind were deleted. */
export const DataSubjectErasure = z.object({
  deleted: z.object({
    conversations: z.number().int(),
    messages: z.number().int(),
    vaultEntries: z.number().int(),
    profiles: z.number().int(),
    visitors: z.number().int(),
    sessions: z.number().int(),
    /** Webhook events about these conversations, sent or not (their pending deliveries go with them). */
    webhookEvents: z.number().int(),
  }),
});
export type DataSubjectErasure = z.infer<typeof DataSubjectErasure>;

/**
 * POST /v1/admin/tenant/export: the whole workspace as a signed archive. `secret` columns are never in it;
 * `restricted` ones (the original values the PII engine took out of messages) only when an owner, signed
 * in, asks for them with a reason, which the audit log keeps.
 */
export const TenantExportRequest = z
  .strictObject({
    includeRestricted: z.boolean().default(false),
    reason: text().trim().min(10).max(500).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.includeRestricted && !v.reason)
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a reason is required to include restricted values' });
  });
export type TenantExportRequest = z.infer<typeof TenantExportRequest>;

/** POST /v1/admin/tenant/deletion: schedule the deletion of the whole tenant. */
export const TenantDeletionRequest = z
  .object({
    graceDays: z.number().int().min(TENANT_DELETION_GRACE_DAYS.min).max(TENANT_DELETION_GRACE_DAYS.max).default(TENANT_DELETION_GRACE_DAYS.default),
  })
  .strict();
export type TenantDeletionRequest = z.infer<typeof TenantDeletionRequest>;

/** The tenant's deletion: none, scheduled (cancellable until dueAt), or under way. */
export const TenantDeletionStatus = z.object({
  state: z.enum(['none', 'scheduled', 'erasing']),
  requestedAt: z.string().nullable(),
  dueAt: z.string().nullable(),
});
export type TenantDeletionStatus = z.infer<typeof TenantDeletionStatus>;
