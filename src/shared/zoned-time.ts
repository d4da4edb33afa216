/**
 * Wall-clock time in an IANA zone, with the platform's Intl data (no time zone library): billing
 * periods (metering) and digest schedules (alerts) follow the tenant's wall clock, so "the 1st at
 * 00:00 Europe/Paris" or "09:00 daily" is a different UTC offset in winter and summer.
 */
export interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

export interface WallTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const DAY_MS = 86_400_000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
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

/** A zone Intl knows. The length bound keeps arbitrary input away from Intl (IANA names are ≤ 32 characters). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function wallTime(ms: number, timeZone: string): WallTime {
  if (timeZone === 'UTC') {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond: d.getUTCMilliseconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
    millisecond: ((ms % 1000) + 1000) % 1000,
  };
}

/** ISO weekday of a local date: 1 = Monday … 7 = Sunday (a date's weekday needs no zone). */
export function isoWeekday(date: LocalDate): number {
  return ((new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7) + 1;
}

/** The zone's offset from UTC at that instant, in ms (positive east of Greenwich). */
export function offsetAt(ms: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const w = wallTime(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond) - ms;
}

/**
 * The instant a wall time denotes in the zone, by the "compatible" rule (as JS Temporal and most
 * schedulers): a time skipped by a DST jump moves forward by the jump, a repeated time takes its
 * first occurrence. Billing periods use this.
 */
export function instantOf(w: WallTime, timeZone: string): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
  if (timeZone === 'UTC') return asUtc;
  // Offsets a day either side bracket any single transition near this wall time.
  const before = asUtc - offsetAt(asUtc - DAY_MS, timeZone);
  const after = asUtc - offsetAt(asUtc + DAY_MS, timeZone);
  const matches = (t: number) => {
    const x = wallTime(t, timeZone);
    return x.year === w.year && x.month === w.month && x.day === w.day && x.hour === w.hour && x.minute === w.minute && x.second === w.second;
  };
  const a = matches(before);
  const b = matches(after);
  if (a && b) return Math.min(before, after); // repeated wall time: the first occurrence
  if (a) return before;
  if (b) return after;
  return before; // skipped wall time: shifted forward by the jump (earlier offset applied)
}

/**
 * The UTC instant of a local date and hour, for digest schedules: two passes settle the offset across
 * a DST change. It agrees with `instantOf` except in an hour a DST change skips or repeats, where the
 * two can differ by the jump (e.g. 02:00 on Paris's fall-back day is the second occurrence here, the
 * first there; a skipped 02:00 lands after the gap in Paris, before it in New York). Digest periods
 * have always been computed this way; moving them to `instantOf` would be a behaviour change of its own.
 */
export function zonedTimeToUtc(date: LocalDate, hour: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour);
  const first = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(first, timeZone);
}

/** Calendar arithmetic on a local date (no time zone involved). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** "2026-11-20 09:00" in the zone. */
export function formatLocal(ms: number, timeZone: string): string {
  const p = wallTime(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}
