// The retention sweep: deletes what has expired from tables that would otherwise only grow — spent and
// expired widget refresh tokens, one-time identity token ids past their expiry, the live feed's old
// events, visitors that never chatted and were not seen within the retention period, long-finished
// crawl jobs, ended console sessions, closed invitations, SSO requests and replay ids past their
// lifetime, stale sign-in throttle counters and rate-limit windows, unanswered WebAuthn challenges,
// unconfirmed TOTP set-ups — and personal data past the tenant's own retention windows
// (settings.retention, defaults in @parley/protocol RETENTION_WINDOWS): webhook events with their
// delivery logs, idle conversations with everything in them (their webhook events too), stale verified
// profiles. Deletes are
// cross-tenant, so they run as parley_platform, in bounded batches (short transactions, no long locks);
// a sweep that removed anything writes one platform audit entry with the counts. It runs under the
// `retention-sweep` lease: once per interval across all instances, resumed by another if one dies.
import { DEFAULT_RETENTION } from '@parley/protocol';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { asWorker, runLeased, type LeasedRun } from './lease.js';

export const RETENTION_JOB = 'retention-sweep';

interface Rule {
  table: string;
  /** Rows that may go; `$2` is the retention in days of events and finished jobs. */
  expired: string;
  /**
   * Rows of another table that go in the same statement as each batch, where no foreign key carries them
   * away: `sql` is a DELETE reading the deleted rows as `gone` (tenant_id, id) and returning a row for each.
   */
  with?: { table: string; sql: string };
}

/**
 * Rows of `table` past the tenant's own window `key` (tenants.settings -> 'retention', days; the default
 * when unset) by `column`. The one-day floor (the smallest window) lets the index on `column` narrow first.
 */
const tenantWindow = (table: string, column: string, key: keyof typeof DEFAULT_RETENTION) =>
  `${column} < now() - interval '1 day' AND ${column} < now() - make_interval(days => parley_retention_days(
     (SELECT t.settings FROM tenants t WHERE t.id = ${table}.tenant_id), '${key}', ${Number(DEFAULT_RETENTION[key])}))`;

// Margins: a refresh token is refused from its expiry on, so an hour later it is only history; a
// token id must outlive the token it guards (its expiry already includes the verifier's clock skew),
// with ten minutes more for clocks that disagree between the app and the database.
const RULES: Rule[] = [
  { table: 'widget_refresh_tokens', expired: "expires_at < now() - interval '1 hour'" },
  { table: 'identity_token_uses', expired: "expires_at < now() - interval '10 minutes'" },
  { table: 'conversation_events', expired: 'created_at < now() - make_interval(days => $2::int)' },
  {
    table: 'visitors',
    expired: `last_seen_at < now() - make_interval(days => $2::int)
      AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = visitors.tenant_id AND c.visitor_id = visitors.id)
      AND NOT EXISTS (SELECT 1 FROM widget_refresh_tokens r WHERE r.tenant_id = visitors.tenant_id AND r.visitor_id = visitors.id AND r.expires_at > now())`,
  },
  { table: 'crawl_jobs', expired: "status IN ('done', 'failed') AND finished_at < now() - make_interval(days => $2::int)" },
  // Console sessions a day after they ended (their refresh tokens go with them). A spent refresh token
  // of a live session is kept: it is what detects a stolen copy being replayed.
  {
    table: 'member_sessions',
    expired: "expires_at < now() - interval '1 day' OR idle_expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'",
  },
  { table: 'member_refresh_tokens', expired: "expires_at < now() - interval '1 hour'" },
  {
    table: 'member_invites',
    expired: '(accepted_at IS NOT NULL OR revoked_at IS NOT NULL OR expires_at < now()) AND created_at < now() - make_interval(days => $2::int)',
  },
  { table: 'sso_requests', expired: "expires_at < now() - interval '1 hour'" },
  { table: 'sso_replay', expired: "expires_at < now() - interval '10 minutes'" },
  // Rate-limit windows a minute after they ended (a live window's row is reused, never deleted).
  { table: 'rate_limit_windows', expired: "reset_at < now() - interval '1 minute'" },
  { table: 'sign_in_throttle', expired: "last_failure_at < now() - interval '1 day' AND (blocked_until IS NULL OR blocked_until < now())" },
  // MFA: WebAuthn challenges never answered, and authenticator-app set-ups begun and never confirmed.
  { table: 'webauthn_challenges', expired: "expires_at < now() - interval '1 hour'" },
  { table: 'member_totp', expired: "confirmed_at IS NULL AND created_at < now() - interval '1 day'" },
  // Webhook bodies and delivery logs are kept the tenant's `webhookBodies` window (7 days by default;
  // deliveries and attempts go with their event), but never while a delivery is still being retried.
  {
    table: 'webhook_events',
    expired: `${tenantWindow('webhook_events', 'created_at', 'webhookBodies')}
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = webhook_events.tenant_id AND d.event_id = webhook_events.id AND d.status = 'pending')`,
  },
  // Personal data by the tenant's windows: conversations with no activity (messages, events, vault
  // entries, handoffs and ratings go with them), then verified users' profiles not refreshed.
  // A question still owed an answer (pending_answers) keeps its conversation until the turn is done.
  // Candidates come by the hour of their last message (indexed; see migration 105), the window is exact.
  // The webhook events about a conversation (their text and what was said when, by id; no foreign key
  // ties them to it) go with it, with their deliveries, whatever the webhookBodies window, as in a
  // data-subject erasure: a body must not outlive the conversation it copies.
  {
    table: 'conversations',
    expired: `conversations.active_hour < now() - interval '1 day' AND ${tenantWindow('conversations', 'updated_at', 'messages')}
      AND NOT EXISTS (SELECT 1 FROM pending_answers p WHERE p.tenant_id = conversations.tenant_id AND p.conversation_id = conversations.id)`,
    with: {
      table: 'webhook_events',
      sql: 'DELETE FROM webhook_events w USING gone WHERE w.tenant_id = gone.tenant_id AND w.conversation_id = gone.id RETURNING 1',
    },
  },
  { table: 'verified_visitors', expired: tenantWindow('verified_visitors', 'updated_at', 'verifiedProfiles') },
];

export interface SweepOptions {
  /** Rows per delete statement (and transaction). */
  batchSize?: number;
  /** At most this many batches per table per run; the rest waits for the next run. */
  maxBatches?: number;
  signal?: AbortSignal;
}

export type SweepCounts = Record<string, number>;

/** Deletes expired rows now (no lease): what the leased job and `parley sweep` run. */
export async function sweepExpired(rt: Runtime, opts: SweepOptions = {}): Promise<SweepCounts> {
  const batchSize = opts.batchSize ?? 1000;
  const maxBatches = opts.maxBatches ?? 1000;
  const counts: SweepCounts = {};
  for (const rule of RULES) {
    counts[rule.table] = 0;
    for (let i = 0; i < maxBatches && !opts.signal?.aborted; i++) {
      const params = rule.expired.includes('$2') ? [batchSize, rt.config.eventRetentionDays] : [batchSize];
      const batch = `DELETE FROM ${rule.table} WHERE ctid = ANY (ARRAY(
                       SELECT ctid FROM ${rule.table} WHERE ${rule.expired} LIMIT $1))`;
      const { n, also } = await asWorker(rt.db, async (tx) => {
        if (!rule.with) return { n: (await tx.query(batch, params)).rowCount, also: 0 };
        const { rows } = await tx.query<{ n: number; also: number }>(
          `WITH gone AS (${batch} RETURNING tenant_id, id), also AS (${rule.with.sql})
           SELECT (SELECT count(*) FROM gone)::int AS n, (SELECT count(*) FROM also)::int AS also`,
          params,
        );
        return rows[0]!;
      });
      counts[rule.table]! += n;
      if (rule.with) counts[rule.with.table] = (counts[rule.with.table] ?? 0) + also;
      if (n < batchSize) break;
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0) {
    await rt.db.withPlatform(
      {
        requestId: null,
        actor: { type: 'system', id: 'retention-sweep' },
        reason: 'delete expired rows',
        action: 'retention.sweep',
        metadata: { deleted: counts },
      },
      async () => undefined,
    );
  }
  return counts;
}

/**
 * The scheduled sweep: runs only on the instance that takes the lease, and only if it is due (unless
 * `now`, for an operator). A run outliving the lease's ttl keeps it by renewal.
 */
export async function runRetentionSweep(
  rt: Runtime,
  holder: string,
  opts: { now?: boolean; logger?: Logger; signal?: AbortSignal } = {},
): Promise<LeasedRun<SweepCounts>> {
  return runLeased(
    rt.db,
    {
      name: RETENTION_JOB,
      holder,
      ttlMs: 60_000,
      everyMs: rt.config.sweepIntervalMs,
      ignoreSchedule: !!opts.now,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    async ({ signal }) => {
      const counts = await sweepExpired(rt, { signal });
      if (Object.values(counts).some((n) => n > 0)) opts.logger?.info({ deleted: counts }, 'retention sweep');
      return counts;
    },
  );
}
