/**
 * Event time: ISO 8601 with an explicit offset (`Z` or `±hh:mm`), or epoch milliseconds as a JSON
 * integer. Normalised to UTC epoch ms; sub-millisecond digits are dropped (keys derive from ms), so
 * two events in the same millisecond need a resourceId or an idempotencyKey to stay distinct.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Before 2000 is almost always seconds sent as milliseconds; refused with that hint. */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
export const MAX_EVENT_TIME = Date.UTC(9000, 0, 1);

export type TimeResult = number | { problem: string };

export function parseEventTime(value: unknown, what = 'ts'): TimeResult {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { problem: `${what} must be an integer of epoch milliseconds or an ISO 8601 string with an offset` };
    return inRange(value, what);
  }
  if (typeof value !== 'string') return { problem: `${what} must be an ISO 8601 string with an offset, or epoch milliseconds` };
  const ms = parseIsoWithOffset(value);
  if (ms === undefined) return { problem: `${what} must be ISO 8601 with an offset (e.g. 2025-01-16T14:30:00Z or …+01:00), or epoch milliseconds` };
  return inRange(ms, what);
}

export function parseIsoWithOffset(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function inRange(ms: number, what: string): TimeResult {
  if (ms < MIN_EVENT_TIME) return { problem: `${what} is before 2000-01-01 (epoch seconds sent as milliseconds?)` };
  if (ms >= MAX_EVENT_TIME) return { problem: `${what} is out of range` };
  return ms;
}
