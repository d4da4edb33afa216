import { PricingError } from './pricing-error.js';

const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME_PART = /^\d{4}-\d{2}-\d{2}[Tt ](\d{2}):(\d{2})(?::(\d{2}))?/;

/**
 * Epoch milliseconds of an ISO date ("2024-01-01", read as UTC midnight) or a date-time with an
 * offset. Date.parse alone would accept impossible dates such as 2023-02-30 (rolling into March), so
 * the calendar fields are checked as written.
 */
export function parseInstant(text: string, field: string): number {
  const millis = Date.parse(text);
  const date = DATE_PART.exec(text);
  const time = TIME_PART.exec(text);
  const valid =
    Number.isFinite(millis) &&
    date !== null &&
    isCalendarDate(Number(date[1]), Number(date[2]), Number(date[3])) &&
    (time === null || (Number(time[1]) < 24 && Number(time[2]) < 60 && Number(time[3] ?? 0) < 60));
  if (!valid) throw new PricingError('INVALID_PERIOD', `${JSON.stringify(text)} is not a valid ISO 8601 date`, field);
  return millis;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= daysInMonth;
}

/** The billing period [start, end) in epoch milliseconds; end must come after start. */
export function parsePeriod(periodStart: string, periodEnd: string): { startMs: number; endMs: number } {
  const startMs = parseInstant(periodStart, 'periodStart');
  const endMs = parseInstant(periodEnd, 'periodEnd');
  if (endMs <= startMs) throw new PricingError('INVALID_PERIOD', 'periodEnd must be after periodStart', 'periodEnd');
  return { startMs, endMs };
}
