import { Decimal } from './decimal.js';
import { MAX_QUANTITY_DECIMALS } from './parse-quantity.js';

/**
 * How a metric's end-of-period usage is estimated:
 * - `daily_rate`: usage so far + the trailing daily rate × the time left (needs history);
 * - `linear`: usage so far × period length / elapsed time (the average rate since the period began);
 * - `current_value`: max and last are levels, not flows: the current value is the projection.
 */
export type ProjectionMethod = 'daily_rate' | 'linear' | 'current_value';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Fewer full days than this in the period and a "recent rate" is mostly noise: fall back to linear. */
export const MIN_RATE_HISTORY_DAYS = 3;
/** The trailing window the daily rate is measured on, at most. */
export const RATE_WINDOW_DAYS = 7;

/** [startMs, endMs): whole days of whole UTC hours (hourly rollups are the history), ending at the last full hour. */
export interface RateWindow {
  startMs: number;
  endMs: number;
  days: number;
}

/**
 * The trailing window for the daily rate, or null when the period so far holds fewer than
 * MIN_RATE_HISTORY_DAYS full days. Hours are counted from the first whole hour of the period: an hour
 * straddling the period start also holds the previous period's events.
 */
export function rateWindow(periodStartMs: number, asOfMs: number): RateWindow | null {
  const historyStart = Math.ceil(periodStartMs / HOUR_MS) * HOUR_MS;
  const endMs = Math.floor(asOfMs / HOUR_MS) * HOUR_MS;
  const fullDays = Math.floor((endMs - historyStart) / DAY_MS);
  if (fullDays < MIN_RATE_HISTORY_DAYS) return null;
  const days = Math.min(RATE_WINDOW_DAYS, fullDays);
  return { startMs: endMs - days * DAY_MS, endMs, days };
}

/** Usage per day over the window, rounded half-up to the 6 decimals quantities carry. */
export function dailyRate(windowSum: Decimal, window: RateWindow): Decimal {
  return windowSum.div(Decimal.fromInteger(window.days), MAX_QUANTITY_DECIMALS, 'half-up').normalize();
}

/** soFar + windowSum × (periodEnd − asOf) / window length, half-up to 6 decimals. */
export function projectByRate(soFar: Decimal, windowSum: Decimal, window: RateWindow, periodEndMs: number, asOfMs: number): Decimal {
  if (asOfMs >= periodEndMs) return soFar;
  const rest = windowSum.mul(Decimal.fromInteger(periodEndMs - asOfMs)).div(Decimal.fromInteger(window.endMs - window.startMs), MAX_QUANTITY_DECIMALS, 'half-up');
  return soFar.add(rest).normalize();
}

/**
 * Linear end-of-period projection: soFar × period length / elapsed, half-up to 6 decimals. Before
 * any time has elapsed there is no rate, and at or after the end the usage is final: both return
 * soFar unchanged.
 */
export function projectLinear(soFar: Decimal, periodStartMs: number, periodEndMs: number, asOfMs: number): Decimal {
  if (asOfMs <= periodStartMs || asOfMs >= periodEndMs) return soFar;
  return soFar
    .mul(Decimal.fromInteger(periodEndMs - periodStartMs))
    .div(Decimal.fromInteger(asOfMs - periodStartMs), MAX_QUANTITY_DECIMALS, 'half-up')
    .normalize();
}
