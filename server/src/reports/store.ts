// SQL of reports. Every query runs in the tenant's transaction (row security scopes it to the tenant)
// over one half-open range [lo, hi) of instants: the first and the day after the last day of the report,
// at midnight in its time zone. Days are read in that zone too.
import type { Tx } from '../db/types.js';

export interface Range {
  from: string;
  to: string;
  timeZone: string;
}

const LO = `(($1::date)::timestamp AT TIME ZONE $3)`;
const HI = `((($2::date) + 1)::timestamp AT TIME ZONE $3)`;
const args = (r: Range) => [r.from, r.to, r.timeZone];

/**
 * Whether PostgreSQL knows the zone (the request's check is the JavaScript runtime's list). Tried in a
 * savepoint: scanning pg_timezone_names reads the whole zone database, tens of milliseconds.
 */
export async function knownTimeZone(tx: Tx, timeZone: string): Promise<boolean> {
  await tx.query('SAVEPOINT report_time_zone');
  try {
    await tx.query('SELECT now() AT TIME ZONE $1', [timeZone]);
    await tx.query('RELEASE SAVEPOINT report_time_zone');
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== '22023') throw err;
    await tx.query('ROLLBACK TO SAVEPOINT report_time_zone');
    return false;
  }
}

export interface DayRow {
  day: string;
  conversations: number;
  answered: number;
  handed_off: number;
}

/**
 * Conversations started in the range in which the visitor wrote, per day: answered (the assistant replied,
 * no handoff ever) and handed off (any handoff). Index probes per conversation (messages by conversation
 * and seq, handoffs by conversation), so the plan stays linear in the range's conversations whatever the
 * planner's estimates.
 */
export async function conversationsByDay(tx: Tx, r: Range): Promise<DayRow[]> {
  const { rows } = await tx.query<DayRow>(
    `SELECT day, count(*)::int AS conversations,
            (count(*) FILTER (WHERE replied AND NOT handed_off))::int AS answered,
            (count(*) FILTER (WHERE handed_off))::int AS handed_off
       FROM (SELECT to_char(c.created_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day,
                    EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.role = 'assistant') AS replied,
                    EXISTS (SELECT 1 FROM handoffs h WHERE h.tenant_id = c.tenant_id AND h.conversation_id = c.id) AS handed_off
               FROM conversations c
              WHERE c.created_at >= ${LO} AND c.created_at < ${HI}
                AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.role = 'visitor')) x
      GROUP BY day ORDER BY day`,
    args(r),
  );
  return rows;
}

/** Handoffs requested in the range, by reason, most first. */
export async function handoffsByReason(tx: Tx, r: Range): Promise<{ reason: string; count: number }[]> {
  const { rows } = await tx.query<{ reason: string; count: number }>(
    `SELECT reason, count(*)::int AS count FROM handoffs WHERE created_at >= ${LO} AND created_at < ${HI}
      GROUP BY reason ORDER BY count DESC, reason`,
    args(r),
  );
  return rows;
}

export interface DurationRow {
  count: number;
  median: number | null;
  p90: number | null;
}

/** Median and 90th percentile, in seconds, from request to first reply and to resolution, for handoffs requested in the range. */
export async function handoffDurations(tx: Tx, r: Range): Promise<{ firstResponse: DurationRow; resolution: DurationRow }> {
  const { rows } = await tx.query<{
    fr_count: number;
    fr_median: number | null;
    fr_p90: number | null;
    rs_count: number;
    rs_median: number | null;
    rs_p90: number | null;
  }>(
    `WITH d AS (
       SELECT extract(epoch FROM first_response_at - created_at)::float8 AS fr, extract(epoch FROM resolved_at - created_at)::float8 AS rs
         FROM handoffs WHERE created_at >= ${LO} AND created_at < ${HI})
     SELECT count(fr)::int AS fr_count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY fr) AS fr_median, percentile_cont(0.9) WITHIN GROUP (ORDER BY fr) AS fr_p90,
            count(rs)::int AS rs_count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY rs) AS rs_median, percentile_cont(0.9) WITHIN GROUP (ORDER BY rs) AS rs_p90
       FROM d`,
    args(r),
  );
  const x = rows[0]!;
  return {
    firstResponse: { count: x.fr_count, median: x.fr_median, p90: x.fr_p90 },
    resolution: { count: x.rs_count, median: x.rs_median, p90: x.rs_p90 },
  };
}

/** Ratings given in the range (one per resolution of a handoff): how many of each score. */
export async function csatScores(tx: Tx, r: Range): Promise<{ score: number; count: number }[]> {
  const { rows } = await tx.query<{ score: number; count: number }>(
    `SELECT score::int AS score, count(*)::int AS count FROM csat_responses
      WHERE created_at >= ${LO} AND created_at < ${HI} GROUP BY score ORDER BY score`,
    args(r),
  );
  return rows;
}

export interface QuestionRow {
  conversation_id: string;
  text: string;
  asked_at: Date;
}

/**
 * The visitor's question behind each low-confidence handoff in the range (the last visitor message before
 * the handoff), newest first, at most `limit`.
 */
export async function unansweredQuestions(tx: Tx, r: Range, limit: number): Promise<QuestionRow[]> {
  const { rows } = await tx.query<QuestionRow>(
    `SELECT h.conversation_id, q.text, q.created_at AS asked_at
       FROM handoffs h
       CROSS JOIN LATERAL (SELECT text, created_at FROM messages m
                            WHERE m.conversation_id = h.conversation_id AND m.role = 'visitor' AND m.created_at <= h.created_at
                            ORDER BY m.seq DESC LIMIT 1) q
      WHERE h.reason = 'low_confidence' AND h.created_at >= ${LO} AND h.created_at < ${HI}
      ORDER BY h.created_at DESC LIMIT $4`,
    [...args(r), limit],
  );
  return rows;
}
