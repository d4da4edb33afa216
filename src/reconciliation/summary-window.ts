const MINUTE_MS = 60_000;

/**
 * Stripe's event summaries take `start_time`/`end_time` aligned to whole minutes (documented on
 * GET /v1/billing/meters/:id/event_summaries). A billing period usually starts at an arbitrary
 * second, so the window is widened to the enclosing minutes; the sync places its meter events at
 * least a minute inside the period where the period allows it, so a neighbouring period's events
 * never fall into the widened edges.
 */
export function summaryWindow(periodStartMs: number, periodEndMs: number): { startTime: number; endTime: number } {
  const start = Math.floor(periodStartMs / MINUTE_MS) * 60;
  const end = Math.ceil(periodEndMs / MINUTE_MS) * 60;
  return { startTime: start, endTime: Math.max(end, start + 60) };
}
