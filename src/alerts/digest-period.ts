import type { DigestFrequency } from '../store/alert-store.js';
import { addDays, formatLocal, isoWeekday, wallTime, zonedTimeToUtc } from '../shared/zoned-time.js';

export interface DigestSchedule {
  frequency: Exclude<DigestFrequency, 'off'>;
  /** Local hour of daily and weekly digests. */
  hour: number;
  /** ISO weekday of weekly digests (1 = Monday). */
  weekday: number;
  timeZone: string;
}

export interface DigestPeriod {
  frequency: DigestSchedule['frequency'];
  /** [start, end), epoch ms. */
  start: number;
  end: number;
  timeZone: string;
  label: string;
}

const HOUR_MS = 3_600_000;

/**
 * The latest complete period that ends at or before `at`: the last full local hour; the last
 * 24 h ending at `hour` local time; the last week ending on `weekday` at `hour`. Periods follow the
 * wall clock, so around a DST change a "day" is 23 or 25 hours long, as the tenant expects.
 */
export function latestPeriod(schedule: DigestSchedule, at: number): DigestPeriod {
  const tz = schedule.timeZone;
  const p = wallTime(at, tz);
  let start: number;
  let end: number;
  if (schedule.frequency === 'hourly') {
    end = at - ((p.minute * 60 + p.second) * 1000 + (((at % 1000) + 1000) % 1000));
    start = end - HOUR_MS;
  } else {
    const back = schedule.frequency === 'weekly' ? (isoWeekday(p) - schedule.weekday + 7) % 7 : 0;
    const step = schedule.frequency === 'weekly' ? 7 : 1;
    let day = addDays(p, -back);
    end = zonedTimeToUtc(day, schedule.hour, tz);
    if (end > at) {
      day = addDays(day, -step);
      end = zonedTimeToUtc(day, schedule.hour, tz);
    }
    start = zonedTimeToUtc(addDays(day, -step), schedule.hour, tz);
  }
  return { frequency: schedule.frequency, start, end, timeZone: tz, label: `${formatLocal(start, tz)} – ${formatLocal(end, tz)} (${tz})` };
}
