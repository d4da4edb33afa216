import { daysInMonth } from './event-time.js';
import { instantOf, wallTime, type WallTime } from '../shared/zoned-time.js';

/**
 * Billing periods. A period is [start, end) in UTC ms; the rule that produces a customer's periods:
 *
 * - `subscription`: the Stripe subscription's known current period. Other times step by the same
 *   interval, whole months like Stripe (the anchor day is clamped to short months: Jan 31 →
 *   Feb 28/29 → Mar 31), or whole days / a fixed length for day and week intervals.
 * - `anchor`: monthly from the customer's billing anchor, read in its time zone (default UTC),
 *   clamped the same way.
 * - `calendar`: the calendar month in the customer's time zone (UTC unless set).
 */
export type PeriodSource = 'subscription' | 'anchor' | 'calendar';

export type PeriodRule =
  | { kind: 'calendar'; timeZone: string }
  | { kind: 'anchor'; anchor: number; timeZone: string }
  | { kind: 'subscription'; start: number; end: number; subscriptionId: string };

export interface Period {
  start: number;
  end: number;
  source: PeriodSource;
}

/** Month stepping: boundaries at (day, time of day) of every `months`-th month from a base month. */
interface MonthlySchedule {
  kind: 'monthly';
  timeZone: string;
  baseYear: number;
  baseMonth: number;
  day: number;
  time: Pick<WallTime, 'hour' | 'minute' | 'second' | 'millisecond'>;
  months: number;
}

/** Fixed-length stepping from a known boundary (day and week intervals, odd lengths). */
interface FixedSchedule {
  kind: 'fixed';
  origin: number;
  length: number;
}

type Schedule = MonthlySchedule | FixedSchedule;

const MAX_STEPS = 4;

export function periodContaining(rule: PeriodRule, ts: number): Period {
  const source: PeriodSource = rule.kind;
  const schedule = scheduleOf(rule);
  if (schedule.kind === 'fixed') {
    const k = Math.floor((ts - schedule.origin) / schedule.length);
    const start = schedule.origin + k * schedule.length;
    return { start, end: start + schedule.length, source };
  }
  const w = wallTime(ts, schedule.timeZone);
  const monthsFromBase = (w.year - schedule.baseYear) * 12 + (w.month - schedule.baseMonth);
  let k = Math.floor(monthsFromBase / schedule.months);
  // The estimate is off by at most one step either way (the day/time inside the month decides).
  for (let i = 0; i < MAX_STEPS && boundary(schedule, k) > ts; i++) k -= 1;
  for (let i = 0; i < MAX_STEPS && boundary(schedule, k + 1) <= ts; i++) k += 1;
  return { start: boundary(schedule, k), end: boundary(schedule, k + 1), source };
}

function scheduleOf(rule: PeriodRule): Schedule {
  switch (rule.kind) {
    case 'calendar': {
      const w = wallTime(0, 'UTC');
      return { kind: 'monthly', timeZone: rule.timeZone, baseYear: w.year, baseMonth: w.month, day: 1, time: { hour: 0, minute: 0, second: 0, millisecond: 0 }, months: 1 };
    }
    case 'anchor': {
      const w = wallTime(rule.anchor, rule.timeZone);
      return { kind: 'monthly', timeZone: rule.timeZone, baseYear: w.year, baseMonth: w.month, day: w.day, time: w, months: 1 };
    }
    case 'subscription':
      return subscriptionSchedule(rule.start, rule.end);
  }
}

/**
 * Recovers the interval from one known period. A clamped start (Feb 28 for an anchor on the 31st)
 * shows its real anchor day in the end (Mar 31), hence the larger of the two days.
 */
function subscriptionSchedule(start: number, end: number): Schedule {
  const length = end - start;
  if (length <= 0) return { kind: 'fixed', origin: start, length: 30 * 86_400_000 };
  const s = wallTime(start, 'UTC');
  const e = wallTime(end, 'UTC');
  const months = (e.year - s.year) * 12 + (e.month - s.month);
  if (months >= 1 && length >= 27 * 86_400_000) {
    const schedule: MonthlySchedule = {
      kind: 'monthly',
      timeZone: 'UTC',
      baseYear: s.year,
      baseMonth: s.month,
      day: Math.max(s.day, e.day),
      time: s,
      months,
    };
    if (boundary(schedule, 0) === start && boundary(schedule, 1) === end) return schedule;
    const sameDay: MonthlySchedule = { ...schedule, day: s.day };
    if (boundary(sameDay, 0) === start && boundary(sameDay, 1) === end) return sameDay;
  }
  return { kind: 'fixed', origin: start, length };
}

function boundary(schedule: MonthlySchedule, step: number): number {
  const index = schedule.baseYear * 12 + (schedule.baseMonth - 1) + step * schedule.months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const day = Math.min(schedule.day, daysInMonth(year, month));
  return instantOf({ year, month, day, ...pickTime(schedule.time) }, schedule.timeZone);
}

function pickTime(t: Pick<WallTime, 'hour' | 'minute' | 'second' | 'millisecond'>) {
  return { hour: t.hour, minute: t.minute, second: t.second, millisecond: t.millisecond };
}
