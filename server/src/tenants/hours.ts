// Business hours: whether the team is open at an instant, and when it next opens, in the schedule's
// time zone (daylight-saving changes included: local times are converted with the zone's offset at
// that very date).
import { WEEKDAYS, type BusinessHours, type Weekday } from '@parley/protocol';

export interface OpenState {
  open: boolean;
  /** The next opening after `now` when closed; null when open, or when the schedule never opens. */
  nextOpenAt: Date | null;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function local(at: Date, timeZone: string): LocalDate & { second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: parts.weekday!.slice(0, 3).toLowerCase() as Weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The zone's offset from UTC at `at`, in milliseconds. */
function offset(at: Date, timeZone: string): number {
  const l = local(at, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, Math.floor(l.minutes / 60), l.minutes % 60, l.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant of a local wall-clock time (a time skipped by a DST change resolves to just after it). */
function instant(year: number, month: number, day: number, minutes: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  const first = wall - offset(new Date(wall), timeZone);
  const second = wall - offset(new Date(first), timeZone);
  if (local(new Date(second), timeZone).minutes === minutes) return new Date(second);
  return new Date(Math.max(first, second));
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function openState(hours: BusinessHours, now: Date): OpenState {
  const today = local(now, hours.timeZone);
  const intervals = (d: Weekday) => (hours.schedule[d] ?? []).map(([a, b]) => [toMinutes(a), toMinutes(b)] as const);
  if (intervals(today.weekday).some(([a, b]) => a <= today.minutes && today.minutes < b)) return { open: true, nextOpenAt: null };
  // The next start within a week (and a day, for a start later today that a DST jump moved).
  const base = Date.UTC(today.year, today.month - 1, today.day);
  const dayIndex = WEEKDAYS.indexOf(today.weekday);
  for (let i = 0; i <= 7; i++) {
    const d = new Date(base + i * 86_400_000);
    const weekday = WEEKDAYS[(dayIndex + i) % 7]!;
    const starts = intervals(weekday)
      .map(([a]) => a)
      .sort((x, y) => x - y);
    for (const start of starts) {
      const at = instant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), start, hours.timeZone);
      if (at > now) return { open: false, nextOpenAt: at };
    }
  }
  return { open: false, nextOpenAt: null };
}
