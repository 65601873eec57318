// All SQL of evidence/: the reads a pack is built from, and the kept packs with their subscription. Inside
// the tenant's transaction (RLS scopes every table but the deployment-wide signing-key history, which is
// public), except subscribedTenants, which the sweep reads on the platform path.
import type { EvidenceFramework } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { ENTRY_COLUMNS, type EntryRow } from '../audit/store.js';

/** Integrated audit entries of the period below the checkpoint's size, oldest first; at most `limit`. */
export async function entriesInPeriod(tx: Tx, tenantId: string, from: Date, to: Date, size: number, limit: number): Promise<EntryRow[]> {
  const { rows } = await tx.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM audit_entries
      WHERE tenant_id = $1 AND seq IS NOT NULL AND seq < $2 AND ts >= $3 AND ts <= $4 ORDER BY seq LIMIT $5`,
    [tenantId, size, from, to, limit],
  );
  return rows;
}

/** Every leaf hash of the log below `size`, in order: the tree the proofs are computed over. */
export async function leafHashes(tx: Tx, tenantId: string, size: number): Promise<Buffer[]> {
  const { rows } = await tx.query<{ leaf_hash: Uint8Array }>(
    'SELECT leaf_hash FROM audit_entries WHERE tenant_id = $1 AND seq IS NOT NULL AND seq < $2 ORDER BY seq',
    [tenantId, size],
  );
  return rows.map((r) => Buffer.from(r.leaf_hash));
}

export async function dataKeyHistory(tx: Tx) {
  const { rows } = await tx.query<{ version: number; kek_id: string; created_at: Date; retired_at: Date | null }>(
    'SELECT version, kek_id, created_at, retired_at FROM tenant_data_keys ORDER BY version',
  );
  return rows.map((r) => ({
    version: r.version,
    kekId: r.kek_id,
    createdAt: r.created_at.toISOString(),
    retiredAt: r.retired_at?.toISOString() ?? null,
  }));
}

export async function signingKeyHistory(tx: Tx) {
  const { rows } = await tx.query<{ public_key: Uint8Array; previous: Uint8Array | null; created_at: Date }>(
    'SELECT public_key, previous, created_at FROM audit_signing_keys ORDER BY created_at',
  );
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return rows.map((r) => ({ publicKey: b64(r.public_key), previous: r.previous ? b64(r.previous) : null, createdAt: r.created_at.toISOString() }));
}

/** Providers and models; the sealed API key and its last four characters are left out. */
export async function providers(tx: Tx) {
  const { rows } = await tx.query<{
    provider: string;
    base_url: string | null;
    model: string;
    embedding_model: string | null;
    created_at: Date;
    updated_at: Date;
  }>('SELECT provider, base_url, model, embedding_model, created_at, updated_at FROM ai_providers ORDER BY provider');
  return rows.map((r) => ({
    provider: r.provider,
    // The origin only: a URL's path or credentials could carry a secret.
    endpoint: r.base_url ? new URL(r.base_url).origin : null,
    model: r.model,
    embeddingModel: r.embedding_model,
    configuredAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }));
}

/** People by role and status, and how many have a confirmed second factor: counts only, no one named. */
export async function memberCounts(tx: Tx) {
  const { rows } = await tx.query<{ role: string; status: string; members: number; with_mfa: number }>(
    `SELECT role, status, count(*)::int AS members,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM member_totp t WHERE t.member_id = m.id AND t.confirmed_at IS NOT NULL)
                                OR EXISTS (SELECT 1 FROM member_passkeys p WHERE p.member_id = m.id))::int AS with_mfa
       FROM members m GROUP BY role, status ORDER BY role, status`,
  );
  return rows;
}

/** SSO connections without their configuration or secrets: kind, default role, how many domains. */
export async function ssoConnections(tx: Tx) {
  const { rows } = await tx.query<{ kind: string; default_role: string; domains: number; created_at: Date; updated_at: Date }>(
    'SELECT kind, default_role, cardinality(allowed_domains) AS domains, created_at, updated_at FROM sso_connections ORDER BY kind',
  );
  return rows.map((r) => ({
    kind: r.kind,
    defaultRole: r.default_role,
    domains: r.domains,
    configuredAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }));
}

export async function allowedDomains(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ pattern: string }>('SELECT pattern FROM tenant_domains ORDER BY pattern');
  return rows.map((r) => r.pattern);
}

/** Handoffs opened in the period, by reason and by current status. */
export async function handoffCounts(tx: Tx, from: Date, to: Date) {
  const { rows } = await tx.query<{ reason: string; status: string; handoffs: number }>(
    `SELECT reason, status, count(*)::int AS handoffs FROM handoffs WHERE created_at >= $1 AND created_at <= $2
      GROUP BY reason, status ORDER BY reason, status`,
    [from, to],
  );
  return rows;
}

export async function conversationCount(tx: Tx, from: Date, to: Date): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM conversations WHERE created_at >= $1 AND created_at <= $2', [
    from,
    to,
  ]);
  return rows[0]!.n;
}

/** Daily AI requests and tokens (the budget counters) in the period. */
export async function aiUsage(tx: Tx, from: Date, to: Date) {
  const { rows } = await tx.query<{ day: string; requests: number; tokens: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, requests, tokens::text AS tokens FROM ai_usage
      WHERE day >= $1::date AND day <= $2::date ORDER BY day`,
    [from, to],
  );
  return rows.map((r) => ({ day: r.day, requests: r.requests, tokens: Number(r.tokens) }));
}

/** Row-level security of every table with a tenant_id column, and whether this session's role bypasses it. */
export async function rowSecurity(tx: Tx) {
  const tables = await tx.query<{ table: string; enabled: boolean; forced: boolean }>(
    `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname`,
  );
  const role = await tx.query<{ role: string; bypass: boolean }>(
    'SELECT current_user AS role, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user',
  );
  return { tables: tables.rows, role: role.rows[0]!.role, bypassesRls: role.rows[0]!.bypass };
}

/** Rows of a few tenant tables the current session can see: of this tenant, and of any other. */
export async function visibleRows(tx: Tx, tenantId: string | null) {
  const { rows } = await tx.query<{ own: number; others: number }>(
    `SELECT (SELECT count(*) FROM audit_entries WHERE tenant_id = $1)::int + (SELECT count(*) FROM members WHERE tenant_id = $1)::int AS own,
            (SELECT count(*) FROM audit_entries WHERE tenant_id IS DISTINCT FROM $1)::int
              + (SELECT count(*) FROM members WHERE tenant_id IS DISTINCT FROM $1)::int
              + (SELECT count(*) FROM conversations WHERE tenant_id IS DISTINCT FROM $1)::int AS others`,
    [tenantId],
  );
  return rows[0]!;
}

// ---- kept packs (evidence_subscriptions, evidence_packs) ----

export interface SubscriptionRow {
  framework: EvidenceFramework;
  period_days: number;
  updated_at: Date;
}

export async function subscription(tx: Tx): Promise<SubscriptionRow | null> {
  const { rows } = await tx.query<SubscriptionRow>('SELECT framework, period_days, updated_at FROM evidence_subscriptions');
  return rows[0] ?? null;
}

export async function upsertSubscription(tx: Tx, tenantId: string, framework: EvidenceFramework, periodDays: number): Promise<SubscriptionRow> {
  const { rows } = await tx.query<SubscriptionRow>(
    `INSERT INTO evidence_subscriptions (tenant_id, framework, period_days) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET framework = EXCLUDED.framework, period_days = EXCLUDED.period_days, updated_at = now()
     RETURNING framework, period_days, updated_at`,
    [tenantId, framework, periodDays],
  );
  return rows[0]!;
}

export async function deleteSubscription(tx: Tx): Promise<boolean> {
  return ((await tx.query('DELETE FROM evidence_subscriptions')).rowCount ?? 0) > 0;
}

/** Tenants with a subscription (ids only): the sweep's work list, read on the platform path. */
export async function subscribedTenants(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM evidence_subscriptions ORDER BY tenant_id');
  return rows.map((r) => r.tenant_id);
}

export interface PackRow {
  version: number;
  framework: EvidenceFramework;
  policy_sha256: Uint8Array;
  manifest_sha256: Uint8Array;
  created_at: Date;
  superseded_at: Date | null;
}

const PACK_COLUMNS = 'version, framework, policy_sha256, manifest_sha256, created_at, superseded_at';

/** Kept versions, newest first; the newest one locked, so two sweeps cannot both add the next version. */
export async function packs(tx: Tx, opts: { latestForUpdate?: boolean } = {}): Promise<PackRow[]> {
  if (opts.latestForUpdate) {
    const { rows } = await tx.query<PackRow>(`SELECT ${PACK_COLUMNS} FROM evidence_packs ORDER BY version DESC LIMIT 1 FOR UPDATE`);
    return rows;
  }
  const { rows } = await tx.query<PackRow>(`SELECT ${PACK_COLUMNS} FROM evidence_packs ORDER BY version DESC`);
  return rows;
}

export async function packArchive(tx: Tx, version: number): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ archive: Uint8Array }>('SELECT archive FROM evidence_packs WHERE version = $1', [version]);
  return rows[0]?.archive ?? null;
}

/** Stores a new version and marks every earlier one still current as superseded, in the caller's transaction. */
export async function addPack(
  tx: Tx,
  tenantId: string,
  p: { version: number; framework: EvidenceFramework; policySha256: Buffer; manifestSha256: Buffer; archive: Uint8Array },
): Promise<void> {
  await tx.query(
    `INSERT INTO evidence_packs (tenant_id, version, framework, policy_sha256, manifest_sha256, archive) VALUES ($1, $2, $3, $4, $5, $6)`,
    [tenantId, p.version, p.framework, p.policySha256, p.manifestSha256, Buffer.from(p.archive)],
  );
  await tx.query('UPDATE evidence_packs SET superseded_at = now() WHERE version < $1 AND superseded_at IS NULL', [p.version]);
}
