// Reports: the figures of a date range, read in one tenant transaction. Not audited: a report holds counts,
// times, ratings and the visitor questions as stored (redacted), the same class of data as the handoff
// list, which is not audited either; the audit log records transcript reads, reveals and every change.
import type { ReportDay, ReportQuery, ReportResponse } from '@parley/protocol';
import type { Db, TxContext } from '../db/index.js';
import { DomainError } from '../errors.js';
import { clusterQuestions } from './clusters.js';
import {
  conversationsByDay,
  csatScores,
  handoffDurations,
  handoffsByReason,
  knownTimeZone,
  unansweredQuestions,
  type DurationRow,
  type Range,
} from './store.js';

/** How many of the newest unanswered questions are grouped: enough for the top groups, bounded work. */
const QUESTIONS_SCANNED = 1000;
const SCORES = [1, 2, 3, 4, 5];

const round = (x: number | null, places: number) => (x === null ? null : Math.round(x * 10 ** places) / 10 ** places);
const duration = (d: DurationRow) => ({ count: d.count, medianSeconds: round(d.median, 1), p90Seconds: round(d.p90, 1) });

/** Every day from `from` to `to` inclusive, as YYYY-MM-DD. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end; t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export async function buildReport(db: Db, ctx: TxContext & { tenantId: string }, q: ReportQuery): Promise<ReportResponse> {
  const range: Range = { from: q.from, to: q.to, timeZone: q.timeZone };
  return db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if (!(await knownTimeZone(tx, q.timeZone)))
      throw new DomainError('invalid_input', 'The time zone is not known here.', {
        errors: [{ path: '/timeZone', message: 'is not a known time zone', code: 'unknown_time_zone' }],
      });
    const perDay = new Map((await conversationsByDay(tx, range)).map((d) => [d.day, d]));
    const reasons = await handoffsByReason(tx, range);
    const durations = await handoffDurations(tx, range);
    const scores = new Map((await csatScores(tx, range)).map((s) => [s.score, s.count]));
    const questions = await unansweredQuestions(tx, range, QUESTIONS_SCANNED);

    const daily: ReportDay[] = daysOf(q.from, q.to).map((date) => {
      const d = perDay.get(date);
      return { date, conversations: d?.conversations ?? 0, answered: d?.answered ?? 0, handedOff: d?.handed_off ?? 0 };
    });
    const sum = (k: 'conversations' | 'answered' | 'handedOff') => daily.reduce((n, d) => n + d[k], 0);
    const distribution = SCORES.map((score) => ({ score, count: scores.get(score) ?? 0 }));
    const rated = distribution.reduce((n, s) => n + s.count, 0);
    return {
      range: { from: q.from, to: q.to, timeZone: q.timeZone, days: daily.length },
      conversations: { total: sum('conversations'), answered: sum('answered'), handedOff: sum('handedOff') },
      handoffs: { total: reasons.reduce((n, r) => n + r.count, 0), byReason: reasons },
      firstResponse: duration(durations.firstResponse),
      resolution: duration(durations.resolution),
      csat: { count: rated, average: rated ? round(distribution.reduce((n, s) => n + s.score * s.count, 0) / rated, 2) : null, distribution },
      unanswered: {
        total: reasons.find((r) => r.reason === 'low_confidence')?.count ?? 0,
        clusters: clusterQuestions(questions.map((x) => ({ conversationId: x.conversation_id, text: x.text, askedAt: x.asked_at }))),
      },
      daily,
    };
  });
}
