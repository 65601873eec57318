// The retention sweep: deletes what has expired from tables that would otherwise only grow — spent and
// expired widget refresh tokens, one-time identity token ids past their expiry, the live feed's old
// events, visitors that never chatted and were not seen within the retention period, long-finished
// crawl jobs, ended console sessions, closed invitations, SSO requests and replay ids past their
// lifetime, stale sign-in throttle counters and rate-limit windows, unanswered WebAuthn challenges,
// unconfirmed TOTP set-ups — and personal data past the tenant's own retention windows
// (settings.retention, defaults in @parley/protocol RETENTION_WINDOWS): webhook events with their
// delivery logs, idle conversations with everything in them (their webhook events too) unless a handoff
// of theirs is still open, stale verified profiles. Deletes are cross-tenant, so they run as
// parley_platform, in bounded batches (short transactions, no long locks); a sweep that removed anything
// writes one platform audit entry with the counts, and every batch that deleted a tenant's personal data
// past a retention period writes, in its own transaction, an entry to that tenant's log. It runs under the
// `retention-sweep` lease: once per interval across all instances, resumed by another if one dies.
import { DEFAULT_RETENTION, HANDOFF_RETENTION_HOLD_DAYS } from '@parley/protocol';
import type { Logger } from 'pino';
import type { Tx } from '../db/types.js';
import type { Runtime } from '../runtime.js';
import { asWorker, runLeased, type LeasedRun } from './lease.js';

export const RETENTION_JOB = 'retention-sweep';

/** The retention period a rule applies: a tenant's own window (settings.retention) or the deployment's event retention. */
type Window = keyof typeof DEFAULT_RETENTION | 'events';

interface Rule {
  table: string;
  /** Rows that may go; `$2` is the retention in days of events and finished jobs. */
  expired: string;
  /**
   * Set on the rules that delete a tenant's personal data when a retention period has passed: what each
   * run of them deletes is recorded in that tenant's own audit log (counts per kind and the periods in force).
   */
  window?: Window;
  /** An UPDATE's SET clause: the rule redacts the rows' personal columns instead of deleting them. */
  set?: string;
  /**
   * Rows of another table that go in the same statement as each batch, where no foreign key carries them
   * away: `sql` is a DELETE reading the deleted rows as `gone` (tenant_id, id) and returning the tenant_id of each.
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

/** Conversations idle past the tenant's `messages` window (and owed no answer). */
const IDLE_CONVERSATION = `conversations.active_hour < now() - interval '1 day' AND ${tenantWindow('conversations', 'updated_at', 'messages')}
      AND NOT EXISTS (SELECT 1 FROM pending_answers p WHERE p.tenant_id = conversations.tenant_id AND p.conversation_id = conversations.id)`;
const OPEN_HANDOFF = `EXISTS (SELECT 1 FROM handoffs h WHERE h.tenant_id = conversations.tenant_id AND h.conversation_id = conversations.id
      AND h.status <> 'resolved')`;
/** Idle past its window and the longest hold for an open handoff as well. */
const HOLD_OVER = `conversations.updated_at < now() - make_interval(days => ${Number(HANDOFF_RETENTION_HOLD_DAYS)} + parley_retention_days(
     (SELECT t.settings FROM tenants t WHERE t.id = conversations.tenant_id), 'messages', ${Number(DEFAULT_RETENTION.messages)}))`;

/**
 * An idle conversation with an open handoff is not deleted under the agent working it (or the visitor
 * waiting for one): it is held until the handoff is resolved, and from then keeps its window as after any
 * activity; but never more than HANDOFF_RETENTION_HOLD_DAYS past its window (a handoff nobody touched for
 * that long is abandoned, and the data would otherwise be kept for as long as nobody resolves it). Not
 * silently: the first run to pass it by marks it (retention_held_at, cleared on resolution) and counts it in
 * the tenant's retention.sweep entry as `held.openHandoff`.
 */
const HOLD = `UPDATE conversations SET retention_held_at = now() WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM conversations WHERE ${IDLE_CONVERSATION} AND ${OPEN_HANDOFF} AND NOT ${HOLD_OVER}
    AND conversations.retention_held_at IS NULL LIMIT $1))
  RETURNING tenant_id`;

// Margins: a refresh token is refused from its expiry on, so an hour later it is only history; a
// token id must outlive the token it guards (its expiry already includes the verifier's clock skew),
// with ten minutes more for clocks that disagree between the app and the database.
const RULES: Rule[] = [
  { table: 'widget_refresh_tokens', expired: "expires_at < now() - interval '1 hour'" },
  { table: 'identity_token_uses', expired: "expires_at < now() - interval '10 minutes'" },
  { table: 'conversation_events', expired: 'created_at < now() - make_interval(days => $2::int)', window: 'events' },
  {
    table: 'visitors',
    window: 'events',
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
    window: 'events',
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
    window: 'webhookBodies',
    expired: `${tenantWindow('webhook_events', 'created_at', 'webhookBodies')}
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = webhook_events.tenant_id AND d.event_id = webhook_events.id AND d.status = 'pending')`,
  },
  // Personal data by the tenant's windows: conversations with no activity (messages, events, vault
  // entries, handoffs and ratings go with them), then verified users' profiles not refreshed.
  // A question still owed an answer (pending_answers) keeps its conversation until the turn is done.
  // Candidates come by the hour of their last message (indexed; see migration 105), the window is exact.
  // The webhook events about a conversation (their text and what was said when, by id; no foreign key
  // ties them to it) go with it, with their deliveries, whatever the webhookBodies window, as in a
  // data-subject erasure: a body must not outlive the conversation it copies. A conversation whose handoff
  // is still open (a person is waiting for an agent, or working it) is held until it is resolved: see HOLD.
  {
    table: 'conversations',
    window: 'messages',
    expired: `${IDLE_CONVERSATION} AND (NOT ${OPEN_HANDOFF} OR ${HOLD_OVER})`,
    with: {
      table: 'webhook_events',
      sql: 'DELETE FROM webhook_events w USING gone WHERE w.tenant_id = gone.tenant_id AND w.conversation_id = gone.id RETURNING w.tenant_id',
    },
  },
  { table: 'verified_visitors', window: 'verifiedProfiles', expired: tenantWindow('verified_visitors', 'updated_at', 'verifiedProfiles') },
  // Decided or expired approval proposals outside a conversation (admin operations, actions asked for by a
  // member or key) keep what was decided, by whom and when; what the approver was shown about a person (an
  // invitee's email, the arguments, free-text reasons, what the endpoint answered) is redacted after the
  // event retention (migration 119). Those in a conversation go with it.
  {
    table: 'approval_proposals',
    window: 'events',
    set: "arguments = '{}'::jsonb, subject = NULL, reason = NULL, result_summary = NULL, redacted_at = now()",
    expired: `redacted_at IS NULL AND status IN ('rejected', 'expired', 'executed', 'failed') AND conversation_id IS NULL
      AND updated_at < now() - make_interval(days => $2::int)`,
  },
];

export interface SweepOptions {
  /** Rows per delete statement (and transaction). */
  batchSize?: number;
  /** At most this many batches per table per run; the rest waits for the next run. */
  maxBatches?: number;
  signal?: AbortSignal;
}

export type SweepCounts = Record<string, number>;

/** One batch of `rule`: rows deleted (and rows of its companion table), per tenant for a retention rule. */
async function deleteBatch(tx: Tx, rule: Rule, params: unknown[]): Promise<{ tenant_id: string; n: number; also: number }[]> {
  const rows = `ctid = ANY (ARRAY(SELECT ctid FROM ${rule.table} WHERE ${rule.expired} LIMIT $1))`;
  const batch = rule.set ? `UPDATE ${rule.table} SET ${rule.set} WHERE ${rows}` : `DELETE FROM ${rule.table} WHERE ${rows}`;
  const result = await tx.query<{ tenant_id: string; n: number; also: number }>(
    rule.with
      ? `WITH gone AS (${batch} RETURNING tenant_id, id), also AS (${rule.with.sql})
         SELECT tenant_id, sum(n)::int AS n, sum(also)::int AS also FROM (
           SELECT tenant_id, 1 AS n, 0 AS also FROM gone UNION ALL SELECT tenant_id, 0, 1 FROM also) x GROUP BY tenant_id`
      : rule.window
        ? `WITH gone AS (${batch} RETURNING tenant_id) SELECT tenant_id, count(*)::int AS n, 0 AS also FROM gone GROUP BY tenant_id`
        : // Housekeeping tables need no tenant (some have none): one row with the count.
          `WITH gone AS (${batch} RETURNING 1) SELECT NULL AS tenant_id, count(*)::int AS n, 0 AS also FROM gone`,
    params,
  );
  return result.rows;
}

/** The retention periods in force for each tenant (days): its own windows, defaults for the rest, and the deployment's event retention. */
async function windowsOf(tx: Tx, tenantIds: string[], eventDays: number): Promise<Map<string, Record<Window, number>>> {
  const { rows } = await tx.query<{ id: string } & Record<Window, number>>(
    `SELECT id, parley_retention_days(settings, 'messages', $2) AS "messages",
            parley_retention_days(settings, 'webhookBodies', $3) AS "webhookBodies",
            parley_retention_days(settings, 'verifiedProfiles', $4) AS "verifiedProfiles", $5::int AS "events"
       FROM tenants WHERE id = ANY($1)`,
    [tenantIds, DEFAULT_RETENTION.messages, DEFAULT_RETENTION.webhookBodies, DEFAULT_RETENTION.verifiedProfiles, eventDays],
  );
  return new Map(rows.map(({ id, ...w }) => [id, w]));
}

const SWEEP_ACTOR = { type: 'system', id: 'retention-sweep' } as const;

/** A rule's key in the run's counts: its table, or `<table>_redacted` for a rule that redacts. */
const countKey = (rule: Rule) => (rule.set ? `${rule.table}_redacted` : rule.table);

/** Deletes expired rows now (no lease): what the leased job and `parley sweep` run. */
export async function sweepExpired(rt: Runtime, opts: SweepOptions = {}): Promise<SweepCounts> {
  const batchSize = opts.batchSize ?? 1000;
  const maxBatches = opts.maxBatches ?? 1000;
  const counts: SweepCounts = {};
  const paramsOf = (rule: Rule) => (rule.expired.includes('$2') ? [batchSize, rt.config.eventRetentionDays] : [batchSize]);
  const add = (to: SweepCounts, table: string, n: number) => {
    if (n > 0 || to === counts) to[table] = (to[table] ?? 0) + n;
  };
  // Housekeeping (expired tokens, sessions, challenges, counters, finished jobs): a batch per transaction.
  for (const rule of RULES.filter((r) => !r.window)) {
    counts[rule.table] = 0;
    for (let i = 0; i < maxBatches && !opts.signal?.aborted; i++) {
      const rows = await asWorker(rt.db, (tx) => deleteBatch(tx, rule, paramsOf(rule)));
      const n = rows.reduce((a, r) => a + r.n, 0);
      add(counts, rule.table, n);
      if (n < batchSize) break;
    }
  }
  // Personal data past a retention period: in rounds, each one transaction that deletes a batch of every
  // rule still due and writes, in the same transaction, one entry to the log of each tenant it deleted from
  // (counts per kind and the periods in force), so no deletion commits without the tenant's record of it.
  let due = RULES.filter((r) => r.window);
  for (const rule of due) counts[countKey(rule)] ??= 0;
  let holding = true;
  for (let i = 0; i < maxBatches && (due.length || holding) && !opts.signal?.aborted; i++) {
    due = await asWorker(rt.db, async (tx) => {
      const perTenant = new Map<string, { deleted: SweepCounts; redacted: SweepCounts }>();
      const held = new Map<string, number>();
      const again: Rule[] = [];
      if (holding) {
        const { rows } = await tx.query<{ tenant_id: string; n: number }>(
          `WITH held AS (${HOLD}) SELECT tenant_id, count(*)::int AS n FROM held GROUP BY tenant_id`,
          [batchSize],
        );
        for (const r of rows) held.set(r.tenant_id, r.n);
        holding = rows.reduce((a, r) => a + r.n, 0) >= batchSize;
      }
      for (const rule of due) {
        let n = 0;
        for (const row of await deleteBatch(tx, rule, paramsOf(rule))) {
          const tenant = perTenant.get(row.tenant_id) ?? { deleted: {}, redacted: {} };
          perTenant.set(row.tenant_id, tenant);
          const mine = rule.set ? tenant.redacted : tenant.deleted;
          add(mine, rule.table, row.n);
          add(counts, countKey(rule), row.n);
          if (rule.with) {
            add(mine, rule.with.table, row.also);
            add(counts, rule.with.table, row.also);
          }
          n += row.n;
        }
        if (n >= batchSize) again.push(rule);
      }
      const tenants = [...new Set([...perTenant.keys(), ...held.keys()])];
      const windows = await windowsOf(tx, tenants, rt.config.eventRetentionDays);
      for (const tenantId of tenants) {
        if (!windows.has(tenantId)) continue; // the tenant itself is being deleted
        const n = held.get(tenantId);
        const mine = perTenant.get(tenantId);
        await rt.audit.append(tx, {
          tenantId,
          requestId: null,
          actor: SWEEP_ACTOR,
          action: 'retention.sweep',
          metadata: {
            deleted: mine?.deleted ?? {},
            ...(mine && Object.keys(mine.redacted).length ? { redacted: mine.redacted } : {}),
            ...(n ? { held: { openHandoff: n } } : {}),
            windows: windows.get(tenantId)!,
          },
        });
      }
      return again;
    });
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0) {
    await rt.db.withPlatform(
      {
        requestId: null,
        actor: SWEEP_ACTOR,
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
