// Refusals that anyone can cause (a page on a wrong origin, a token of another tenant) are audited
// without letting the caller grow the undeletable log: what is stored is bounded (normalised origin,
// short path, fixed markers), and repeats are counted, not appended. Per tenant × action × subject ×
// window there is one audit entry at the first refusal and, when the window closes with more than one,
// one summary entry carrying the count. Past a number of distinct subjects per window, the rest share
// one "other" subject. Counting is an upsert, so any number of instances agree on which refusal came
// first; the summary sweep takes rows with SKIP LOCKED and deletes them in the same transaction.
import { createHash } from 'node:crypto';
import type { ParleyDb } from '../db/index.js';
import type { Tx } from '../db/types.js';
import type { AuditLog } from './log.js';

const MAX_ORIGIN = 200;
const MAX_PATH = 64;
const UUID_SEGMENT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** A summary is written once a window has been closed this long (requests still in flight land first). */
const CLOSE_GRACE = "interval '1 minute'";
const SWEEP_BATCH = 500;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * An Origin header as the audit log keeps it: `scheme://host[:port]`, lowercased, punycode, default
 * port dropped; at most ~200 characters (longer hosts keep a prefix and a hash); anything else is the
 * marker `(unparsable)` and a short hash. `null` stays `null` (sandboxed pages send it).
 */
export function normaliseOrigin(raw: string | undefined | null): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  if (raw === 'null') return 'null';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `(unparsable) ${shortHash(raw)}`;
  }
  if (!url.host) return `(unparsable) ${shortHash(raw)}`;
  const origin = `${url.protocol}//${url.host}`;
  return origin.length <= MAX_ORIGIN ? origin : `${origin.slice(0, MAX_ORIGIN - 40)}… ${shortHash(origin)}`;
}

/** A request path as the audit log keeps it: ids replaced by `:id`, at most 64 characters. */
export function boundedPath(path: string): string {
  const p = path.replace(UUID_SEGMENT, ':id');
  return p.length <= MAX_PATH ? p : `${p.slice(0, MAX_PATH - 1)}…`;
}

export interface Refusal {
  tenantId: string;
  requestId: string | null;
  action: string;
  source?: string;
  /** What repeats are counted by, under the name it has in the entry, e.g. `{ field: 'origin', value }`; bounded. */
  subject: { field: string; value: string | null };
  /** Further bounded facts about the first refusal of the window (ids, reasons, a bounded path). */
  metadata?: Record<string, unknown>;
}

export interface RefusalLogOptions {
  /** Length of a counting window. */
  windowSeconds: number;
  /** Distinct subjects counted on their own per tenant × action × window; the rest share one. */
  maxSubjects: number;
}

const WINDOW_START = 'to_timestamp(floor(extract(epoch FROM now())::float8 / $4::int) * $4::int)';

export class RefusalLog {
  constructor(
    private readonly audit: AuditLog,
    readonly opts: RefusalLogOptions,
  ) {}

  /** Counts a refusal inside the caller's transaction; appends an audit entry only for the first of its window. */
  async record(tx: Tx, r: Refusal): Promise<{ first: boolean; count: number }> {
    const { windowSeconds, maxSubjects } = this.opts;
    let subject = r.subject.value ?? '(none)';
    const bumped = await tx.query<{ count: string }>(
      `UPDATE audit_refusals SET count = count + 1, last_at = now()
        WHERE tenant_id = $1 AND action = $2 AND subject = $3 AND window_start = ${WINDOW_START} RETURNING count`,
      [r.tenantId, r.action, subject, windowSeconds],
    );
    if (bumped.rows[0]) return { first: false, count: Number(bumped.rows[0].count) };

    // A new subject in this window: serialise with the tenant's other new subjects (a transaction lock on
    // the tenant, not the log's head, which only the integrator takes), so the number of distinct subjects
    // stays within the limit on every instance.
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [REFUSAL_LOCK_CLASS, r.tenantId]);
    const other = `(other ${r.subject.field}s)`;
    const seen = await tx.query<{ n: number; mine: boolean }>(
      `SELECT (count(*) FILTER (WHERE subject <> $5))::int AS n, coalesce(bool_or(subject = $3), false) AS mine
         FROM audit_refusals WHERE tenant_id = $1 AND action = $2 AND window_start = ${WINDOW_START}`,
      [r.tenantId, r.action, subject, windowSeconds, other],
    );
    const overflow = !seen.rows[0]!.mine && seen.rows[0]!.n >= maxSubjects;
    if (overflow) subject = other;
    const metadata = { [r.subject.field]: overflow ? other : r.subject.value, ...(overflow ? {} : (r.metadata ?? {})) };
    const { rows } = await tx.query<{ count: string; window_start: Date; window_end: Date }>(
      `INSERT INTO audit_refusals (tenant_id, action, subject, window_start, window_end, count, metadata)
       VALUES ($1, $2, $3, ${WINDOW_START}, ${WINDOW_START} + make_interval(secs => $4::int), 1, $5)
       ON CONFLICT (tenant_id, action, window_start, subject) DO UPDATE SET count = audit_refusals.count + 1, last_at = now()
       RETURNING count, window_start, window_end`,
      [r.tenantId, r.action, subject, windowSeconds, JSON.stringify(metadata)],
    );
    const row = rows[0]!;
    const count = Number(row.count);
    if (count !== 1) return { first: false, count };
    await this.audit.append(tx, {
      tenantId: r.tenantId,
      requestId: r.requestId,
      actor: { type: 'visitor', id: null },
      action: r.action,
      source: r.source ?? 'widget-api',
      metadata: { ...metadata, count: 1, window: { start: row.window_start.toISOString(), end: row.window_end.toISOString() } },
    });
    return { first: true, count };
  }
}

/**
 * Closes refusal windows that ended: a summary entry (action `<action>.summary`, with the count) for each
 * subject refused more than once, then the counters are deleted. Safe on several instances at once.
 * Like the checkpoint sweep it runs as the platform role without a platform audit entry of its own (each
 * summary lands in the tenant's log), so sweeping does not itself grow a log. Returns the windows closed.
 */
/** The advisory lock class of refusal subjects (the key's first half; the tenant's hash is the second). */
const REFUSAL_LOCK_CLASS = 0x61756466; // "audf"

export async function refusalSummarySweep(db: ParleyDb, audit: AuditLog): Promise<number> {
  return db.withPlatform({ requestId: null, audit: false, reason: 'refusal windows: each summary lands in its tenant’s log' }, async (tx) => {
    const { rows } = await tx.query<{
      tenant_id: string;
      action: string;
      subject: string;
      window_start: Date;
      window_end: Date;
      count: string;
      metadata: Record<string, unknown>;
      first_at: Date;
      last_at: Date;
    }>(
      `SELECT tenant_id, action, subject, window_start, window_end, count, metadata, first_at, last_at FROM audit_refusals
        WHERE window_end <= now() - ${CLOSE_GRACE}
        ORDER BY tenant_id, window_start, action, subject LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
    );
    for (const r of rows) {
      if (Number(r.count) > 1) {
        await audit.append(tx, {
          tenantId: r.tenant_id,
          requestId: null,
          actor: { type: 'system', id: null },
          action: `${r.action}.summary`,
          source: 'widget-api',
          metadata: {
            ...r.metadata,
            count: Number(r.count),
            window: { start: r.window_start.toISOString(), end: r.window_end.toISOString() },
            lastAt: r.last_at.toISOString(),
          },
        });
      }
      await tx.query('DELETE FROM audit_refusals WHERE tenant_id = $1 AND action = $2 AND window_start = $3 AND subject = $4', [
        r.tenant_id,
        r.action,
        r.window_start,
        r.subject,
      ]);
    }
    return rows.length;
  });
}
