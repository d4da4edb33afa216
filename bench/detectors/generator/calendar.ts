/** Simulated calendar: everything is UTC; the run starts on a Monday at midnight. */
import { DAY_MS, HOUR_MS } from './types.js';

/** Monday 2026-01-05 00:00:00 UTC. */
export const SIM_START_MS = Date.UTC(2026, 0, 5, 0, 0, 0);

export const hourOfDay = (ms: number): number => new Date(ms).getUTCHours();
/** 0 = Monday … 6 = Sunday. */
export const dayOfWeek = (ms: number): number => (new Date(ms).getUTCDay() + 6) % 7;
/** Whole days since the simulation start. */
export const simDay = (ms: number): number => Math.floor((ms - SIM_START_MS) / DAY_MS);
/** A time `day` days and `hours` hours after the start. */
export const at = (day: number, hours = 0): number => SIM_START_MS + day * DAY_MS + hours * HOUR_MS;

/** Stripe-like monthly period arithmetic: the same day of month, clamped to the month's last day. */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const day = d.getUTCDate();
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(day, last), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
/** "d12 14:05" — a compact position in the run for tables. */
export function simTime(ms: number): string {
  const d = simDay(ms);
  const rest = ms - SIM_START_MS - d * DAY_MS;
  const h = Math.floor(rest / HOUR_MS);
  const m = Math.floor((rest % HOUR_MS) / 60_000);
  return `d${d} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
