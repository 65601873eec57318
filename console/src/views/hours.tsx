// Business hours: the tenant's time zone and weekly schedule. A handoff outside them tells the visitor
// when the team will answer and offers to leave an email.
import type { AdminMe, BusinessHours, OpeningInterval, Weekday } from '@parley/protocol';
import { WEEKDAYS as WEEK } from '@parley/protocol/constants';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad } from '../components.js';

const DAY_NAMES: Readonly<Record<Weekday, string>> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};
/** The protocol's weekdays, in order, with their names. */
export const DAYS: readonly (readonly [Weekday, string])[] = WEEK.map((d) => [d, DAY_NAMES[d]] as const);
type Day = Weekday;
type Range = OpeningInterval;

const WEEKDAYS: BusinessHours['schedule'] = {
  mon: [['09:00', '17:00']],
  tue: [['09:00', '17:00']],
  wed: [['09:00', '17:00']],
  thu: [['09:00', '17:00']],
  fri: [['09:00', '17:00']],
};
/** A day's end: a time field cannot say 24:00, so a range closing at 00:00 closes at midnight. */
const end = (to: string) => (to === '00:00' ? '24:00' : to);
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const zones = (): string[] => {
  const f = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  return f ? f('timeZone') : [];
};

/**
 * Problems a person can fix before saving, said per day: an empty or backwards range, or overlapping
 * ranges (the server validates the whole setting again with the protocol's schema).
 */
export function scheduleErrors(schedule: BusinessHours['schedule']): string[] {
  const out: string[] = [];
  for (const [day, name] of DAYS) {
    const ranges = [...(schedule[day] ?? [])].map(([a, b]): Range => [a, end(b)]).sort((a, b) => a[0].localeCompare(b[0]));
    ranges.forEach(([from, to], i) => {
      if (!from || !to || from >= end(to)) out.push(`${name}: a range must end after it starts.`);
      else if (i > 0 && from < ranges[i - 1]![1]) out.push(`${name}: ranges overlap.`);
    });
  }
  return out;
}

export function BusinessHoursView({ api, me }: { api: Api; me: AdminMe }) {
  const s = useLoad(() => api<{ settings: { businessHours?: BusinessHours | null } }>('GET', '/settings'), [api]);
  const [enabled, setEnabled] = useState(false);
  const [timeZone, setTimeZone] = useState(browserZone());
  const [schedule, setSchedule] = useState<BusinessHours['schedule']>(WEEKDAYS);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const canWrite = me.capabilities.includes('settings:write');
  useEffect(() => {
    const bh = s.data?.settings.businessHours;
    setEnabled(!!bh);
    if (bh) {
      setTimeZone(bh.timeZone);
      setSchedule(bh.schedule);
    }
  }, [s.data]);
  const errors = enabled ? scheduleErrors(schedule) : [];
  const setRanges = (day: Day, ranges: Range[]) => setSchedule((x) => ({ ...x, [day]: ranges }));
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    void action.run(async () => {
      await api('PATCH', '/settings', {
        businessHours: enabled
          ? { timeZone, schedule: Object.fromEntries(DAYS.map(([d]) => [d, (schedule[d] ?? []).map(([a, b]) => [a, end(b)])])) }
          : null,
      });
      setSaved(true);
    });
  };
  const list = zones();
  return (
    <form class="card hours" onSubmit={save}>
      <ProblemView problem={s.problem} />
      <label class="check">
        <input type="checkbox" checked={enabled} disabled={!canWrite} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Set business hours
        (without them, a handoff is always answered as soon as someone can)
      </label>
      <fieldset disabled={!enabled || !canWrite}>
        <legend>Weekly schedule</legend>
        <label for="hours-zone">Time zone</label>
        {list.length ? (
          <select id="hours-zone" value={timeZone} onChange={(e) => setTimeZone(e.currentTarget.value)}>
            {(list.includes(timeZone) ? list : [timeZone, ...list]).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        ) : (
          <input id="hours-zone" value={timeZone} onInput={(e) => setTimeZone(e.currentTarget.value)} />
        )}
        <table class="schedule">
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Open</th>
            </tr>
          </thead>
          <tbody>
            {DAYS.map(([day, name]) => {
              const ranges = schedule[day] ?? [];
              return (
                <tr key={day}>
                  <th scope="row">{name}</th>
                  <td>
                    {ranges.length ? null : <span class="muted">Closed </span>}
                    {ranges.map(([from, to], i) => (
                      <span class="range" key={i}>
                        <input
                          type="time"
                          aria-label={`${name}, range ${i + 1}, opens`}
                          value={from}
                          required
                          onInput={(e) =>
                            setRanges(
                              day,
                              ranges.map((r, j) => (j === i ? [e.currentTarget.value, r[1]] : r)),
                            )
                          }
                        />
                        <span aria-hidden="true">–</span>
                        <input
                          type="time"
                          aria-label={`${name}, range ${i + 1}, closes`}
                          value={to === '24:00' ? '00:00' : to}
                          required
                          onInput={(e) =>
                            setRanges(
                              day,
                              ranges.map((r, j) => (j === i ? [r[0], e.currentTarget.value] : r)),
                            )
                          }
                        />
                        <button
                          type="button"
                          class="secondary small"
                          aria-label={`Remove ${name} range ${i + 1}`}
                          onClick={() =>
                            setRanges(
                              day,
                              ranges.filter((_, j) => j !== i),
                            )
                          }
                        >
                          Remove
                        </button>
                      </span>
                    ))}
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`Add hours on ${name}`}
                      onClick={() => setRanges(day, [...ranges, ranges.length ? ['13:00', '17:00'] : ['09:00', '17:00']])}
                    >
                      Add hours
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>
      {errors.length ? (
        <ul class="field-error" role="alert">
          {errors.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      ) : null}
      {canWrite ? (
        <button type="submit" disabled={errors.length > 0} aria-disabled={action.busy}>
          Save business hours
        </button>
      ) : null}
      <span class="muted" aria-live="polite">
        {saved ? ' Saved.' : ''}
      </span>
      <ProblemView problem={action.problem} />
    </form>
  );
}
