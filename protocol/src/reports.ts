// Reports (`GET /v1/admin/reports`): how the assistant and the team did over a date range. Aggregates of
// redacted data only: counts, times, ratings, and the visitor questions the assistant could not answer
// (already redacted when stored), grouped by the terms they share.
import { z } from 'zod';
import { REPORT_MAX_DAYS } from './constants.js';
import { text } from './text.js';

/** The longest range one report covers, in days (a year, leap day included). */

const isoDate = text()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a real calendar date')
  // PostgreSQL has no year 0, and nothing Parley stores is older than 1970.
  .refine((s) => s >= '1970-01-01', 'must not be before 1970-01-01');

const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const dayNumber = (s: string) => Date.parse(`${s}T00:00:00Z`) / 86_400_000;

export const ReportQuery = z
  .strictObject({
    /** First day of the range, inclusive, in `timeZone`. */
    from: isoDate,
    /** Last day of the range, inclusive, in `timeZone`. */
    to: isoDate,
    /** An IANA time zone for day boundaries and the daily series; UTC when absent. */
    timeZone: text().min(1).max(64).refine(validTimeZone, 'must be an IANA time zone such as Europe/Oslo').default('UTC'),
  })
  .superRefine((q, ctx) => {
    const days = dayNumber(q.to) - dayNumber(q.from) + 1;
    if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (days > REPORT_MAX_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${REPORT_MAX_DAYS} days after from` });
  });
export type ReportQuery = z.infer<typeof ReportQuery>;

/** Median and 90th percentile (linear interpolation) of a duration, over `count` handoffs; null with none. */
export const DurationStatsSchema = z.object({
  count: z.number().int(),
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
});
export type DurationStats = z.infer<typeof DurationStatsSchema>;

/** One group of unanswered questions: the (redacted) questions that share `terms`. */
export const UnansweredClusterSchema = z.object({
  /** The shared words, most shared first, as visitors wrote them (lower case). */
  terms: z.array(z.string()),
  /** How many questions are in the group. */
  count: z.number().int(),
  lastAskedAt: z.string(),
  /** Up to three of the questions, newest first, redacted as stored. */
  examples: z.array(z.object({ conversationId: z.string(), text: z.string(), askedAt: z.string() })),
});
export type UnansweredCluster = z.infer<typeof UnansweredClusterSchema>;

export const ReportDaySchema = z.object({
  /** YYYY-MM-DD in the report's time zone. */
  date: z.string(),
  conversations: z.number().int(),
  answered: z.number().int(),
  handedOff: z.number().int(),
});
export type ReportDay = z.infer<typeof ReportDaySchema>;

export const ReportResponse = z.object({
  range: z.object({ from: z.string(), to: z.string(), timeZone: z.string(), days: z.number().int() }),
  /**
   * Conversations started in the range in which the visitor wrote: `answered` the assistant replied to
   * and never handed off; `handedOff` reached a person (at least one handoff).
   */
  conversations: z.object({ total: z.number().int(), answered: z.number().int(), handedOff: z.number().int() }),
  /** Handoffs requested in the range, by reason (reasons with none are left out), most first. */
  handoffs: z.object({ total: z.number().int(), byReason: z.array(z.object({ reason: z.string(), count: z.number().int() })) }),
  /** From a handoff to the first reply of a person, for handoffs requested in the range. */
  firstResponse: DurationStatsSchema,
  /** From a handoff to its resolution, for handoffs requested in the range. */
  resolution: DurationStatsSchema,
  /** Ratings given in the range: the average (two decimals) and how many of each score 1–5. */
  csat: z.object({
    count: z.number().int(),
    average: z.number().nullable(),
    distribution: z.array(z.object({ score: z.number().int(), count: z.number().int() })),
  }),
  /** Questions handed off for low confidence in the range: `total`, and the largest groups (at most 20). */
  unanswered: z.object({ total: z.number().int(), clusters: z.array(UnansweredClusterSchema) }),
  /** One entry per day of the range, days without conversations included. */
  daily: z.array(ReportDaySchema),
});
export type ReportResponse = z.infer<typeof ReportResponse>;
