// The wire's plain constants and the few pure rules on them, without zod: `@parley/protocol/constants`.
// The console and the widget import these (their bundles stay free of zod); protocol's schemas are built
// from the same values, so each is defined once. Everything here is re-exported by `@parley/protocol`.

// ---------------------------------------------------------------------------------------------------
// Limits

// Lengths the server accepts, in characters (after trimming): the console and the widget cap their
// fields with the same numbers, so a person cannot type more than will be taken. (Plain numbers, not an
// object, and first in this file: esbuild then inlines the ones a bundle uses and keeps nothing else.)

/** A visitor's message, an agent's reply, an internal note, a canned reply's body. */
export const MAX_MESSAGE_CHARS = 4000;
/** A visitor's comment with a rating. */
export const MAX_CSAT_COMMENT_CHARS = 1000;
/** An email address (a visitor's contact, an invitation). */
export const MAX_EMAIL_CHARS = 254;
/** A canned reply's title. */
export const MAX_CANNED_TITLE_CHARS = 100;
/** A canned reply's shortcut. */
export const MAX_CANNED_SHORTCUT_CHARS = 32;
/** A web address given to the API (a knowledge page or sitemap); a crawled page's address is held to it too. */
export const MAX_URL_CHARS = 2000;
/** A knowledge source's title; a title read from a fetched page is cut to it. */
export const MAX_SOURCE_TITLE_CHARS = 300;

// ---------------------------------------------------------------------------------------------------
// Capabilities and roles

/** What an API key or a role may do; each admin route needs one. */
export const CAPABILITIES = [
  'domains:read',
  'domains:write',
  'keys:read',
  'keys:write',
  'audit:read',
  'knowledge:read',
  'knowledge:write',
  'conversations:read',
  'conversations:write',
  'handoffs:read',
  'handoffs:write',
  'identity:write',
  'settings:read',
  'settings:write',
  'providers:write',
  'pii:read',
  'pii:reveal',
  'answers:write',
  'members:read',
  'members:write',
  'signin:write',
  'webhooks:read',
  'webhooks:write',
  'privacy:export',
  'privacy:erase',
  'evidence:export',
  'tenant:export',
  'actions:write',
  'approvals:decide',
] as const;
/** One capability name. */
export type Capability = (typeof CAPABILITIES)[number];

export const ROLES = ['owner', 'admin', 'agent', 'analyst'] as const;
/** A tenant role. */
export type Role = (typeof ROLES)[number];

/**
 * A platform operator: a person of the deployment (cross-tenant, audited in the platform log), never a
 * tenant role. Operators hold none of a tenant's capabilities; the platform routes check the role.
 */
export const PLATFORM_ROLE = 'operator' as const;
/** A member's role: a tenant role, or the platform operator. */
export type MemberRole = Role | typeof PLATFORM_ROLE;

/** What each role may do, by the capability names API keys use: one table for keys and people. */
export const ROLE_CAPABILITIES: Readonly<Record<Role, readonly Capability[]>> = {
  owner: CAPABILITIES,
  admin: CAPABILITIES,
  agent: [
    'conversations:read',
    'conversations:write',
    'handoffs:read',
    'handoffs:write',
    'knowledge:read',
    'pii:read',
    'members:read',
    'approvals:decide',
  ],
  analyst: ['conversations:read', 'handoffs:read', 'knowledge:read', 'audit:read', 'members:read'],
};

export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  owner:
    'Everything an admin can do; the only role that can grant or remove ownership and set up single sign-on (the IdP). A tenant always keeps one.',
  admin: 'Runs the tenant: members, sign-in policy, keys, domains, knowledge, provider, settings, actions, audit.',
  agent: 'Works the inbox: takes handoffs and answers visitors; approves or rejects actions; reads knowledge; sees conversations redacted.',
  analyst: 'Read-only: conversations (redacted), handoffs, knowledge, the audit log.',
};

export const capabilitiesOf = (role: MemberRole): readonly Capability[] => (role === PLATFORM_ROLE ? [] : ROLE_CAPABILITIES[role]);

export const MEMBER_STATUSES = ['active', 'disabled'] as const;

export const MFA_METHODS = ['totp', 'passkey', 'recovery_code'] as const;
export type MfaMethod = (typeof MFA_METHODS)[number];
/**
 * Mailbox providers anyone can get an address at: never a single sign-on domain, since listing one would
 * send every one of its users to a tenant's identity provider.
 */
export const SHARED_EMAIL_DOMAINS = [
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'ymail.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'web.de',
  'mail.com',
  'yandex.com',
  'zoho.com',
  'qq.com',
  '163.com',
  '126.com',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.co.jp',
  'hotmail.co.uk',
  'hotmail.fr',
  'hotmail.de',
  'outlook.fr',
  'outlook.de',
  'live.co.uk',
  'live.fr',
  'yandex.ru',
  'mail.ru',
  'fastmail.com',
  'pm.me',
  'tutanota.com',
  'gmx.net',
  'comcast.net',
  'btinternet.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  't-online.de',
  'libero.it',
  'naver.com',
  'hanmail.net',
  'rediffmail.com',
  'seznam.cz',
  'wp.pl',
] as const;

/** An email domain as single sign-on lists it: ASCII labels (an IDN as its xn-- form), at least two, no trailing dot. */
export const EMAIL_DOMAIN = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** How a session's sign-in began (its first factor). */
export const SIGN_IN_METHODS = ['password', 'oidc', 'saml', 'passkey', 'invite'] as const;

/**
 * Why a SAML sign-in was refused: the `<code>` of `/console/?sso_error=<code>` and of the audit entry
 * `sso.saml_refused` (metadata.reason). The console says what each means (console/src/session.ts).
 */
export const SAML_REFUSALS = [
  'not_configured',
  'malformed',
  'binding_missing',
  'browser_mismatch',
  'unsigned',
  'signature_invalid',
  'weak_signature',
  'issuer_mismatch',
  'audience_mismatch',
  'recipient_mismatch',
  'expired',
  'not_yet_valid',
  'in_response_to_unknown',
  'request_expired',
  'replayed',
  'idp_error',
  'no_email',
  'domain_not_allowed',
  'member_disabled',
  'link_required',
  'identity_mismatch',
  'sign_in_refused',
  'unavailable',
] as const;
export type SamlSignInError = (typeof SAML_REFUSALS)[number];
/** Why an OpenID Connect sign-in was refused (the code in `/console/?sso_error=<code>`). */
export const OIDC_REFUSALS = [
  'not_configured',
  'state_unknown',
  'state_used',
  'state_expired',
  'binding_mismatch',
  'config_changed',
  'idp_error',
  'idp_unreachable',
  'issuer_refused',
  'code_replayed',
  'code_invalid',
  'issuer_mismatch',
  'audience_mismatch',
  'nonce_mismatch',
  'token_expired',
  'signature_invalid',
  'token_invalid',
  'token_replayed',
  'email_missing',
  'email_unverified',
  'domain_not_allowed',
  'member_disabled',
  'link_required',
  'identity_mismatch',
  'sign_in_failed',
] as const;
export type OidcRefusalReason = (typeof OIDC_REFUSALS)[number];

// ---------------------------------------------------------------------------------------------------
// Problems

/** Stable problem type slugs; each `type` URI is `/docs/problems/<slug>` on the API origin. */
export const PROBLEM_SLUGS = [
  'malformed-json',
  'malformed-request',
  'validation-failed',
  'unsupported-media-type',
  'payload-too-large',
  'headers-too-large',
  'request-timeout',
  'not-found',
  'method-not-allowed',
  'unauthenticated',
  'missing-capability',
  'forbidden',
  'origin-not-allowed',
  'conflict',
  'rate-limited',
  'budget-exceeded',
  'quota-exceeded',
  'token-invalid',
  'token-expired',
  'token-replayed',
  'sso-required',
  'identity-required',
  'mail-not-sent',
  'service-unavailable',
  'internal',
] as const;
export type ProblemSlug = (typeof PROBLEM_SLUGS)[number];

export const problemType = (slug: ProblemSlug): string => `/docs/problems/${slug}`;

// ---------------------------------------------------------------------------------------------------
// Webhooks

/** Every webhook event type Parley sends. */
export const WEBHOOK_EVENT_TYPES = [
  'conversation.created',
  'message.created',
  'handoff.requested',
  'handoff.assigned',
  'handoff.resolved',
  'csat.submitted',
  'knowledge.source.synced',
  'knowledge.source.failed',
  'member.invited',
  'key.created',
  'approval.requested',
  'approval.decided',
  'action.executed',
  'action.failed',
  'webhook.test',
] as const;
/** The name of a webhook event type (`WebhookEventType` is its schema). */
export type WebhookEventName = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Event types an endpoint may subscribe to (`webhook.test` goes to whichever endpoint it is sent to). */
export const SUBSCRIBABLE_EVENT_TYPES = /* @__PURE__ */ WEBHOOK_EVENT_TYPES.filter(
  (t): t is Exclude<WebhookEventName, 'webhook.test'> => t !== 'webhook.test',
);
/** What each webhook event type means (the catalog `WEBHOOK_EVENTS` adds the schema of its `data`). */
export const WEBHOOK_EVENT_DESCRIPTIONS: Readonly<Record<WebhookEventName, string>> = {
  'conversation.created': 'A visitor (or the API) started a conversation.',
  'message.created':
    "A visitor, the assistant or an agent added a message. The text is redacted per the PII policy: a visitor's as stored, an agent's reply (stored as typed) by the same rule; internal notes are never sent.",
  'handoff.requested': 'A conversation was handed to a person (the visitor asked, or the assistant was not confident).',
  'handoff.assigned': 'A handoff was taken by, or assigned to, a member.',
  'handoff.resolved': 'An agent resolved a handoff.',
  'csat.submitted': 'A visitor rated a resolved conversation (1–5, with an optional comment).',
  'knowledge.source.synced': 'A knowledge source was added or re-synced successfully.',
  'knowledge.source.failed': 'A knowledge source (or a sitemap crawl) failed to sync.',
  'member.invited': 'Someone was invited to the team (the invitation, never its link).',
  'key.created': 'An admin API key was created or rotated (its name and capabilities, never the secret).',
  'approval.requested': 'An action a visitor asked for waits for a person to approve it (ids, the action and its risk; never the arguments).',
  'approval.decided': 'A proposed action was approved, rejected or expired.',
  'action.executed': 'An action ran: your endpoint answered 2xx (the status code; never the body).',
  'action.failed': 'An action was attempted and failed (refused by the outbound rules, no answer, a non-2xx status, or interrupted).',
  'webhook.test': 'Sent by “Send test event”; only to the endpoint it was sent for, whatever it subscribes to.',
};
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

// ---------------------------------------------------------------------------------------------------
// Providers, reports

export const PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;

/** The longest report range, in days. */
export const REPORT_MAX_DAYS = 366;

// ---------------------------------------------------------------------------------------------------
// The agent workspace and the widget

export const AVAILABILITIES = ['available', 'away'] as const;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const INBOX_VIEWS = ['waiting', 'mine', 'unassigned', 'open', 'resolved'] as const;

/** The initial of a display name, as the server computes it for a `MessageAuthor`. */
export function authorInitial(name: string): string {
  const first = [...name.trim()][0];
  return first ? first.toLocaleUpperCase() : '?';
}

// ---------------------------------------------------------------------------------------------------
// Tenant deletion, evidence packs

/**
 * How long past its `messages` window a conversation with an open handoff (waiting for a person, or taken
 * by one) is held for it, at most, in days: resolved sooner, it keeps its window from the resolution; still
 * open then, it goes like any other (a handoff nobody touched for that long is abandoned).
 */
export const HANDOFF_RETENTION_HOLD_DAYS = 30;

/** Grace period of a tenant deletion an owner schedules, in days. */
export const TENANT_DELETION_GRACE_DAYS = { default: 7, min: 1, max: 30 } as const;

/** The frameworks an evidence pack's report maps its contents to. */
export const EVIDENCE_FRAMEWORKS = ['soc2', 'eu-ai-act', 'nist-ai-rmf', 'iso-42001'] as const;
/** One framework an evidence pack can be mapped to. */
export type EvidenceFramework = (typeof EVIDENCE_FRAMEWORKS)[number];

/** The longest period one pack covers: a year and a day, so a yearly audit fits. */
export const MAX_EVIDENCE_PERIOD_DAYS = 366;

// ---------------------------------------------------------------------------------------------------
// Canned replies

export const CANNED_VARIABLES = ['visitor.name', 'agent.name'] as const;
const VARIABLE = /\{\{\s*([a-z]+\.[a-z]+)\s*\}\}/g;

/** The `{{…}}` variables of a canned reply's body that are not one of {@link CANNED_VARIABLES}. */
export const unknownCannedVariables = (body: string): string[] =>
  [...body.matchAll(VARIABLE)].map((m) => m[1]!).filter((v) => !(CANNED_VARIABLES as readonly string[]).includes(v));

/** Fills `{{visitor.name}}` and `{{agent.name}}`; an unknown visitor name becomes `there` ("Hi there"). */
export function renderCannedReply(body: string, vars: { visitorName?: string | null; agentName?: string | null }): string {
  return body.replace(VARIABLE, (whole, name: string) => {
    if (name === 'visitor.name') return vars.visitorName?.trim() || 'there';
    if (name === 'agent.name') return vars.agentName?.trim() || '';
    return whole;
  });
}

/** One synonym group of the settings' `retrieval.synonyms`: two or more words or phrases joined by "=". */
export const SYNONYM_GROUP = /^[^=]+(=[^=]+)+$/;

/**
 * The capabilities that make a key or a role privileged: making keys, revealing personal values one by
 * one, and putting them all back (a data-subject export) or erasing a person. Granting one is what
 * `keys.privileged` holds for approval.
 */
export const PRIVILEGED_CAPABILITIES = ['keys:write', 'pii:reveal', 'privacy:export', 'privacy:erase'] as const satisfies readonly Capability[];

/**
 * Admin operations a tenant can mark as high risk (settings `approvals.operations`): each then waits for
 * an owner's or admin's approval, never the requester's, and runs only when the requester repeats the
 * request with the `Parley-Approval` header naming the approved proposal.
 */
export const ADMIN_OPERATIONS = [
  /** Granting a privileged capability (PRIVILEGED_CAPABILITIES): creating or rotating a key that holds one, inviting or promoting an owner or admin, an SSO connection that makes admins. */
  'keys.privileged',
  /** Setting, changing (model, base URL, key) or removing an AI provider. */
  'ai.provider',
  /** Changing what Sign-In Pro trusts: its mode (`optional` or `required`), a public key or JWKS URL added, a new shared signing secret. */
  'identity.mode',
  /** Turning MFA or SSO enforcement off, or requiring MFA of fewer members. */
  'signin.relax',
  /** A tenant export that includes restricted data. */
  'export.restricted',
  /** Scheduling the tenant's deletion. */
  'tenant.delete',
  /** Taking operations off this list. */
  'approvals.relax',
] as const;
export type AdminOperation = (typeof ADMIN_OPERATIONS)[number];
/** Each admin operation as a person reads it (the console's checklist and approvals, the approvers' email). */
export const ADMIN_OPERATION_LABELS: Readonly<Record<AdminOperation, string>> = {
  'keys.privileged': 'Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin',
  'ai.provider': 'Change the AI provider',
  'identity.mode': 'Change Sign-In Pro mode or what it trusts',
  'signin.relax': 'Turn off MFA or SSO enforcement',
  'export.restricted': 'Export restricted data',
  'tenant.delete': 'Delete the workspace',
  'approvals.relax': 'Require fewer approvals',
};

/**
 * Whether an agent message's author is a member (their id) rather than a key's label: a label never looks
 * like one (see `agentLabel`), so a label is never shown as a person.
 */
export const isMemberId = (author: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(author);
