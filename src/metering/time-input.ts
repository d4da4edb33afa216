import { parseIsoWithOffset } from './event-time.js';

/**
 * Times in query strings and request bodies (not event times): ISO 8601 with an offset, a UTC date
 * (YYYY-MM-DD), or epoch milliseconds. Problems are collected so every bad field is reported at once.
 */
export function parseTimeInput(name: string, raw: string | number | undefined | null, problems: string[]): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 0) return raw;
  } else if (/^\d{1,15}$/.test(raw)) return Number(raw);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const ms = parseIsoWithOffset(`${raw}T00:00:00Z`);
    if (ms !== undefined) return ms;
  } else {
    const ms = parseIsoWithOffset(raw);
    if (ms !== undefined) return ms;
  }
  problems.push(`${name} must be ISO 8601 with an offset, a date (YYYY-MM-DD, UTC) or epoch milliseconds`);
  return undefined;
}
