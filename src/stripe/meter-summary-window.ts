const MINUTE_MS = 60_000;

/**
 * Stripe's event summaries take `start_time`/`end_time` aligned to whole minutes (documented on
 * GET /v1/billing/meters/:id/event_summaries), while a billing period usually starts at an arbitrary
 * second. The window is the whole minutes inside the period, [ceil(start), floor(end)), and the sync
 * places its meter events inside that same window (src/sync/push-plan.ts), so a neighbouring
 * period's events, which sit in the minute the two periods share, are never counted here.
 */
export function summaryWindow(periodStartMs: number, periodEndMs: number): { startTime: number; endTime: number } {
  const start = Math.ceil(periodStartMs / MINUTE_MS) * 60;
  const end = Math.floor(periodEndMs / MINUTE_MS) * 60;
  // A period shorter than a couple of minutes has no whole minute of its own: take the enclosing ones.
  if (end <= start) return { startTime: Math.floor(periodStartMs / MINUTE_MS) * 60, endTime: Math.ceil(periodEndMs / MINUTE_MS) * 60 };
  return { startTime: start, endTime: end };
}

/** The first and last second (epoch seconds) an event may carry so that `summaryWindow` counts it for its period. */
export function pushableSeconds(periodStartMs: number, periodEndMs: number): { first: number; last: number } {
  const w = summaryWindow(periodStartMs, periodEndMs);
  return { first: w.startTime, last: w.endTime - 1 };
}
