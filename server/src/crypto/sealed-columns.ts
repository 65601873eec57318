// Every column that holds values sealed with a tenant's data key, and the seal context each value was
// sealed with. Rotation walks this list to re-seal values under the newest key. A sealed column missing
// here is not re-sealed: its values stay on an old version, which retirement marks but which still opens them.
export interface SealedColumn {
  table: string;
  column: string;
  /** Columns that identify a row within its tenant (the table also has `tenant_id`). */
  key: readonly string[];
  /** Further columns the context is derived from. */
  bind?: readonly string[];
  /** The seal context of a row: the same string must be used to seal and to open. */
  context: (row: Record<string, unknown>) => string;
}

/**
 * A provider key is bound to its provider and base URL: a sealed key copied onto another row, or a
 * base URL changed in the database to an attacker's host, no longer opens.
 */
export const PROVIDER_API_KEY: SealedColumn = {
  table: 'ai_providers',
  column: 'api_key_sealed',
  key: ['provider'],
  bind: ['base_url'],
  context: (row) => `ai_providers.api_key/${String(row.provider)}/${row.base_url == null ? '' : String(row.base_url)}`,
};

/** A webhook endpoint's signing secret, bound to the endpoint. */
export const WEBHOOK_SECRET: SealedColumn = {
  table: 'webhook_endpoints',
  column: 'secret_sealed',
  key: ['id'],
  context: (row) => `webhook-secret/${String(row.id)}`,
};
/** The secret before a rotation, still signing during the grace period. */
export const WEBHOOK_PREVIOUS_SECRET: SealedColumn = {
  table: 'webhook_endpoints',
  column: 'previous_secret_sealed',
  key: ['id'],
  context: (row) => `webhook-secret-previous/${String(row.id)}`,
};

/** An action's signing secret, bound to the action. */
export const ACTION_SECRET: SealedColumn = {
  table: 'actions',
  column: 'secret_sealed',
  key: ['id'],
  context: (row) => `action-secret/${String(row.id)}`,
};

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  PROVIDER_API_KEY,
  ACTION_SECRET,
  WEBHOOK_SECRET,
  WEBHOOK_PREVIOUS_SECRET,
  {
    table: 'identity_secrets',
    column: 'sealed',
    key: ['id'],
    bind: ['kid'],
    context: (row) => `identity-secret/${String(row.kid)}`,
  },
  {
    table: 'verified_visitors',
    column: 'profile',
    key: ['subject'],
    context: (row) => `visitor-profile/${String(row.subject)}`,
  },
  {
    table: 'pii_vault',
    column: 'sealed',
    key: ['conversation_id', 'token'],
    context: (row) => `pii-vault/${String(row.conversation_id)}/${String(row.token)}`,
  },
  {
    // The key behind a conversation's placeholder fingerprints: re-sealed, never changed, so a value
    // keeps its placeholder across a rotation.
    table: 'conversations',
    column: 'redaction_key',
    key: ['id'],
    context: (row) => `pii-tokens/${String(row.id)}`,
  },
  {
    // The email a visitor left to be answered on, bound to its conversation.
    table: 'conversations',
    column: 'contact_email_sealed',
    key: ['id'],
    context: (row) => `conversation-contact/${String(row.id)}`,
  },
  {
    // An OIDC client secret, bound to its connection kind.
    table: 'sso_connections',
    column: 'secret_sealed',
    key: ['kind'],
    context: (row) => `sso-secret/${String(row.kind)}`,
  },
  {
    // A member's TOTP secret, bound to the member: copied onto another member's row, it no longer opens.
    table: 'member_totp',
    column: 'secret_sealed',
    key: ['member_id'],
    context: (row) => `totp-secret/${String(row.member_id)}`,
  },
];
