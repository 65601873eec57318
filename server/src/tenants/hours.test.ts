// Business hours in the schedule's own time zone, across daylight-saving changes.
import type { BusinessHours } from '@parley/protocol';
import { describe, expect, test } from 'vitest';
import { openState } from './hours.js';

const berlin: BusinessHours = {
  timeZone: 'Europe/Berlin',
  schedule: {
    mon: [['09:00', '17:00']],
    tue: [['09:00', '17:00']],
    fri: [
      ['09:00', '12:00'],
      ['13:00', '17:00'],
    ],
  },
};
const at = (iso: string) => openState(berlin, new Date(iso));

describe('openState', () => {
  test('open inside an interval, its start included and its end excluded', () => {
    expect(at('2026-11-30T08:00:00Z')).toEqual({ open: true, nextOpenAt: null }); // Mon 09:00 CET
    expect(at('2026-11-30T15:59:00Z').open).toBe(true);
    expect(at('2026-11-30T16:00:00Z').open).toBe(false); // Mon 17:00 CET
  });

  test('closed: the next opening, later today, over a lunch break, or after the weekend', () => {
    expect(at('2026-11-30T07:59:00Z').nextOpenAt?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(at('2026-12-04T11:30:00Z').nextOpenAt?.toISOString()).toBe('2026-12-04T12:00:00.000Z'); // Fri 12:30 CET
    expect(at('2026-12-04T16:30:00Z').nextOpenAt?.toISOString()).toBe('2026-12-07T08:00:00.000Z'); // to Monday
  });

  test('daylight-saving changes move the UTC instant, not the local time', () => {
    // Berlin moves to summer time on Sunday 29 March 2026: Monday 09:00 is then 07:00 UTC.
    expect(at('2026-03-29T00:30:00Z').nextOpenAt?.toISOString()).toBe('2026-03-30T07:00:00.000Z');
    // And back on Sunday 25 October 2026: Monday 09:00 is 08:00 UTC again.
    expect(at('2026-10-24T20:00:00Z').nextOpenAt?.toISOString()).toBe('2026-10-26T08:00:00.000Z');
    // A local time the clocks skip (02:30 on 8 March 2026 in New York) opens just after the jump.
    const ny: BusinessHours = { timeZone: 'America/New_York', schedule: { sun: [['02:30', '05:00']] } };
    expect(openState(ny, new Date('2026-03-07T12:00:00Z')).nextOpenAt?.toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });

  test('a schedule that never opens has no next opening', () => {
    expect(openState({ timeZone: 'UTC', schedule: {} }, new Date())).toEqual({ open: false, nextOpenAt: null });
  });
});
