/**
 * When to try again. Exponential from 30 s, doubling to a 1 h ceiling, with "equal jitter" (half
 * the delay fixed, half random) so a burst of failures does not retry in lockstep; attempts continue
 * for `RETRY_WINDOW_MS` (about a day: ~8 attempts in the first hour, then hourly), after which the
 * delivery is `failed` and can still be retried by hand.
 */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 60 * 60 * 1000;
/** A Retry-After beyond this is capped: the retry window bounds the wait anyway. */
export const MAX_RETRY_AFTER_MS = 6 * 60 * 60 * 1000;

/** Delay before attempt `failures + 1`, after `failures` (≥ 1) failed attempts. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 20);
  const full = Math.min(FIRST_RETRY_MS * 2 ** exponent, MAX_RETRY_MS);
  return Math.round(full / 2 + random() * (full / 2));
}

/** A Retry-After header (delay-seconds or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  let ms: number | undefined;
  if (/^\d{1,10}$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (!Number.isNaN(at) && /[a-z]/i.test(text)) ms = at - now;
  }
  if (ms === undefined) return undefined;
  return Math.min(Math.max(ms, 1000), MAX_RETRY_AFTER_MS);
}
