// Reports: how the assistant and the team did over a date range. Tiles for the headline figures, a daily
// chart drawn here as SVG (with the same figures as a table), handoff reasons, ratings, and the questions
// the assistant could not answer grouped by shared words, each with a way to the knowledge page.
import type { AdminMe, DurationStats, ReportDay, ReportResponse, UnansweredCluster } from '@parley/protocol';
import { useId, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, useLoad, When } from '../components.js';

/** What each handoff reason means, in the words of the people reading the report. */
export const REASONS: Record<string, string> = {
  low_confidence: 'The assistant was not sure',
  visitor_request: 'The visitor asked for a person',
  sensitive_topic: 'A sensitive topic',
  budget: 'The AI budget was used up',
  provider_error: 'The AI provider failed',
  identity_required: 'The visitor had to sign in',
};

/** A day as YYYY-MM-DD in this browser's calendar. */
const isoDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const daysAgo = (n: number, now = new Date()) => isoDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - n));
const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h": two units at most. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  const i = units.findIndex(([size]) => s >= size);
  const [big, bigName] = units[i]!;
  const [small, smallName] = units[i + 1]!;
  const rest = Math.floor((s % big) / small);
  return rest ? `${Math.floor(s / big)} ${bigName} ${rest} ${smallName}` : `${Math.floor(s / big)} ${bigName}`;
}

const percent = (n: number, of: number) => (of ? `${Math.round((n / of) * 100)}%` : '—');

function Tile({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div class="tile">
      <dt>{label}</dt>
      <dd>
        <span class="tile-value" dir="auto">
          {value}
        </span>
        {note ? (
          <span class="muted tile-note" dir="auto">
            {note}
          </span>
        ) : null}
      </dd>
    </div>
  );
}

const times = (d: DurationStats) => (d.count ? `p90 ${duration(d.p90Seconds)} · ${d.count} handoff${d.count === 1 ? '' : 's'}` : 'none in range');

/** Stacked bars per day: answered by the assistant, handed off, and the rest (no reply yet). */
export function DailyChart({ days }: { days: ReportDay[] }) {
  const id = useId();
  const max = Math.max(1, ...days.map((d) => d.conversations));
  const step = 10;
  const h = 100;
  const y = (n: number) => (n / max) * h;
  const total = days.reduce((n, d) => n + d.conversations, 0);
  return (
    <figure class="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>Conversations per day</figcaption>
      <div class="chart-plot" dir="ltr">
        <div class="chart-y muted" aria-hidden="true">
          <span>{max}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${days.length * step} ${h}`}
          preserveAspectRatio="none"
          role="img"
          aria-labelledby={`${id}-caption`}
          aria-describedby={`${id}-summary`}
        >
          <line class="chart-grid" x1="0" x2={days.length * step} y1="0.5" y2="0.5" vector-effect="non-scaling-stroke" />
          {days.map((d, i) => {
            const other = d.conversations - d.answered - d.handedOff;
            const parts: [string, number][] = [
              ['answered', d.answered],
              ['handed-off', d.handedOff],
              ['other', Math.max(0, other)],
            ];
            let top = h;
            return (
              <g key={d.date}>
                <title>{`${d.date}: ${d.conversations} conversations, ${d.answered} answered, ${d.handedOff} handed off`}</title>
                {parts.map(([cls, n]) => {
                  if (!n) return null;
                  top -= y(n);
                  return <rect key={cls} class={cls} x={i * step + 1} width={step - 2} y={top} height={y(n)} />;
                })}
              </g>
            );
          })}
        </svg>
      </div>
      <div class="chart-x muted" dir="ltr" aria-hidden="true">
        <span>{days[0]?.date}</span>
        {days.length > 1 ? <span>{days[days.length - 1]!.date}</span> : null}
      </div>
      <p class="sr-only" id={`${id}-summary`}>
        {`${total} conversations over ${days.length} days, at most ${max} in a day. The table below has every day.`}
      </p>
      <ul class="legend">
        <li>
          <span class="swatch answered" aria-hidden="true" /> Answered by the assistant
        </li>
        <li>
          <span class="swatch handed-off" aria-hidden="true" /> Handed off
        </li>
        {days.some((d) => d.conversations > d.answered + d.handedOff) ? (
          <li>
            <span class="swatch other" aria-hidden="true" /> Other (no reply yet)
          </li>
        ) : null}
      </ul>
      <details>
        <summary>Show the figures as a table</summary>
        <ScrollingTable label="Figures by day">
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Conversations</th>
              <th scope="col">Answered</th>
              <th scope="col">Handed off</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <th scope="row">
                  <time dateTime={d.date} dir="ltr">
                    {d.date}
                  </time>
                </th>
                <td>{d.conversations}</td>
                <td>{d.answered}</td>
                <td>{d.handedOff}</td>
              </tr>
            ))}
          </tbody>
        </ScrollingTable>
      </details>
    </figure>
  );
}

/** Labelled counts with a bar each; the bar only repeats the number beside it. */
function Bars({ rows, label }: { rows: { key: string; label: string; count: number }[]; label: string }) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <table class="bars">
      <caption class="sr-only">{label}</caption>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.label}</th>
            <td class="bar-cell">
              <span class="bar" aria-hidden="true" style={{ inlineSize: `${(r.count / max) * 100}%` }} />
            </td>
            <td class="count">{r.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Cluster({ c, canAdd }: { c: UnansweredCluster; canAdd: boolean }) {
  const topic = c.terms.length ? c.terms.join(' · ') : 'Without a topic';
  return (
    <li class="cluster">
      <div class="row">
        <strong>{topic}</strong>
        <span class="badge" dir="auto">
          {c.count} question{c.count === 1 ? '' : 's'}
        </span>
        <span class="muted">
          last <When iso={c.lastAskedAt} />
        </span>
        {canAdd && c.terms.length ? (
          <a href="#knowledge" class="add-knowledge" aria-label={`Add knowledge about ${topic}`}>
            Add knowledge
          </a>
        ) : null}
      </div>
      <ul class="examples">
        {c.examples.map((e) => (
          <li key={`${e.conversationId}-${e.askedAt}`}>
            <q>{e.text}</q>
          </li>
        ))}
      </ul>
    </li>
  );
}

export function Report({ r, canAdd }: { r: ReportResponse; canAdd: boolean }) {
  const c = r.conversations;
  return (
    <>
      <dl class="tiles">
        <Tile label="Conversations" value={String(c.total)} />
        <Tile label="Answered by the assistant" value={String(c.answered)} note={percent(c.answered, c.total)} />
        <Tile label="Handed off" value={String(c.handedOff)} note={percent(c.handedOff, c.total)} />
        <Tile label="First response (median)" value={duration(r.firstResponse.medianSeconds)} note={times(r.firstResponse)} />
        <Tile label="Resolution (median)" value={duration(r.resolution.medianSeconds)} note={times(r.resolution)} />
        <Tile
          label="Satisfaction"
          value={r.csat.average === null ? '—' : `${r.csat.average.toFixed(2)} / 5`}
          note={`${r.csat.count} rating${r.csat.count === 1 ? '' : 's'}`}
        />
      </dl>
      <DailyChart days={r.daily} />
      <div class="report-columns">
        <section aria-labelledby="report-reasons">
          <h2 id="report-reasons">Why conversations were handed off</h2>
          {r.handoffs.byReason.length ? (
            <Bars
              label="Handoffs by reason"
              rows={r.handoffs.byReason.map((x) => ({ key: x.reason, label: REASONS[x.reason] ?? x.reason, count: x.count }))}
            />
          ) : (
            <p class="muted">No handoffs in this range.</p>
          )}
        </section>
        <section aria-labelledby="report-csat">
          <h2 id="report-csat">Ratings</h2>
          <Bars
            label="Ratings by score"
            rows={[...r.csat.distribution].reverse().map((x) => ({ key: String(x.score), label: `${x.score} ★`, count: x.count }))}
          />
        </section>
      </div>
      <section aria-labelledby="report-unanswered">
        <h2 id="report-unanswered">Questions the assistant could not answer</h2>
        {r.unanswered.clusters.length ? (
          <>
            <p class="muted">
              {r.unanswered.total} question{r.unanswered.total === 1 ? '' : 's'}, grouped by the words they share. Questions are shown redacted, as
              stored.
            </p>
            <ol class="clusters">
              {r.unanswered.clusters.map((x) => (
                <Cluster key={x.terms.join(' ') + x.lastAskedAt} c={x} canAdd={canAdd} />
              ))}
            </ol>
          </>
        ) : (
          <p class="muted">None in this range.</p>
        )}
      </section>
    </>
  );
}

export function ReportsView({ api, me }: { api: Api; me: AdminMe }) {
  const [from, setFrom] = useState(() => daysAgo(29));
  const [to, setTo] = useState(() => daysAgo(0));
  const [range, setRange] = useState({ from, to });
  const timeZone = browserTimeZone();
  const report = useLoad(
    () => api<ReportResponse>('GET', `/reports?${new URLSearchParams({ from: range.from, to: range.to, timeZone })}`),
    [range.from, range.to],
  );
  const show = (e: Event) => {
    e.preventDefault();
    setRange({ from, to });
  };
  const last = (n: number) => {
    const next = { from: daysAgo(n - 1), to: daysAgo(0) };
    setFrom(next.from);
    setTo(next.to);
    setRange(next);
  };
  return (
    <>
      <form class="card report-range" onSubmit={show} aria-label="Date range">
        <div class="row">
          <span>
            <label for="report-from">From</label>
            <input id="report-from" type="date" value={from} max={to} required onInput={(e) => setFrom(e.currentTarget.value)} />
          </span>
          <span>
            <label for="report-to">To</label>
            <input id="report-to" type="date" value={to} min={from} required onInput={(e) => setTo(e.currentTarget.value)} />
          </span>
          <button type="submit">Show</button>
        </div>
        <div class="row">
          {[7, 30, 90].map((n) => (
            <button key={n} type="button" class="secondary small" onClick={() => last(n)}>
              Last {n} days
            </button>
          ))}
          <span class="muted">Days in {timeZone}</span>
        </div>
      </form>
      <ProblemView problem={report.problem} />
      {!report.data && !report.problem ? <p class="muted">Loading…</p> : null}
      {report.data ? <Report r={report.data} canAdd={me.capabilities.includes('knowledge:write')} /> : null}
    </>
  );
}
