import { createHash } from 'node:crypto';
import type { Account, MeterEventRecord } from '../account.js';
import { invalidRequest } from '../errors.js';
import { LIST_PARAMS, paginate } from '../list.js';
import { addDecimal } from '../meter-value.js';
import type { Router } from '../router.js';
import type { MeterEventSummaryObject, MeterObject } from '../wire-types.js';
import { getCustomer } from './customers.js';
import { getMeter } from './meters.js';

export type GroupingWindow = 'hour' | 'day';
const WINDOW_SECONDS: Record<GroupingWindow, number> = { hour: 3600, day: 86_400 };

export interface SummaryQuery {
  customer: string;
  /** Seconds, inclusive. */
  startTime: number;
  /** Seconds, exclusive. */
  endTime: number;
  valueGroupingWindow?: GroupingWindow;
}

/**
 * Stripe's alignment rules: start and end "must be aligned with minute boundaries"; with hourly
 * grouping "start and end times must align with hour boundaries", with daily "with UTC day boundaries".
 */
export function checkSummaryRange(q: SummaryQuery): void {
  const unit = q.valueGroupingWindow ? WINDOW_SECONDS[q.valueGroupingWindow] : 60;
  const what = q.valueGroupingWindow === 'day' ? 'UTC day' : q.valueGroupingWindow === 'hour' ? 'hour' : 'minute';
  for (const [param, t] of [['start_time', q.startTime], ['end_time', q.endTime]] as const) {
    if (t % unit !== 0)
      throw invalidRequest(`${param} must be aligned with ${what} boundaries${q.valueGroupingWindow ? ` when value_grouping_window is ${q.valueGroupingWindow}` : ''}.`, { param });
  }
  if (q.endTime <= q.startTime) throw invalidRequest('end_time must be after start_time.', { param: 'end_time' });
}

/** The summaries the endpoint returns, oldest window first (the endpoint lists them newest first). */
export function computeSummaries(account: Account, meter: MeterObject, q: SummaryQuery): MeterEventSummaryObject[] {
  const events = effectiveEvents(account, meter, q.customer).filter((e) => e.timestamp >= q.startTime && e.timestamp < q.endTime);
  const summary = (start: number, end: number, inWindow: MeterEventRecord[]): MeterEventSummaryObject => ({
    id: summaryId(meter.id, q.customer, start, end),
    object: 'billing.meter_event_summary',
    aggregated_value: aggregate(meter, inWindow),
    end_time: end,
    livemode: account.livemode,
    meter: meter.id,
    start_time: start,
  });
  if (!q.valueGroupingWindow) return [summary(q.startTime, q.endTime, events)];
  const size = WINDOW_SECONDS[q.valueGroupingWindow];
  const out: MeterEventSummaryObject[] = [];
  for (let start = q.startTime; start < q.endTime; start += size) {
    const inWindow = events.filter((e) => e.timestamp >= start && e.timestamp < start + size);
    // Only windows that saw usage are listed.
    if (inWindow.length > 0) out.push(summary(start, start + size, inWindow));
  }
  return out;
}

/**
 * The events that count: not cancelled, and for a pre-aggregated meter (`event_time_window`) only the
 * latest event per window ("a newer event sent within the same hourly or daily window overwrites the
 * previous one").
 */
function effectiveEvents(account: Account, meter: MeterObject, customer: string): MeterEventRecord[] {
  const events = account.meterEvents.filter((e) => e.meter === meter.id && e.customer === customer && !e.cancelled);
  if (meter.event_time_window === null) return events;
  const size = WINDOW_SECONDS[meter.event_time_window];
  const latest = new Map<number, MeterEventRecord>();
  for (const e of events) {
    const bucket = Math.floor(e.timestamp / size);
    const current = latest.get(bucket);
    if (current === undefined || e.timestamp >= current.timestamp) latest.set(bucket, e);
  }
  return [...latest.values()];
}

function aggregate(meter: MeterObject, events: MeterEventRecord[]): number {
  switch (meter.default_aggregation.formula) {
    case 'count':
      return events.length;
    case 'last': {
      let last: MeterEventRecord | undefined;
      // Later timestamp wins; on a tie, the later arrival (events are kept in arrival order).
      for (const e of events) if (last === undefined || e.timestamp >= last.timestamp) last = e;
      return last ? Number(last.value ?? 0) : 0;
    }
    case 'sum':
      return Number(events.reduce((acc, e) => addDecimal(acc, e.value ?? '0'), '0'));
  }
}

/** Stable per (meter, customer, window), so cursors stay valid between calls. */
function summaryId(meter: string, customer: string, start: number, end: number): string {
  const digest = createHash('sha256').update(`${meter}|${customer}|${start}|${end}`).digest('base64url').replace(/[-_]/g, '');
  return `mtrusg_${digest.slice(0, 40)}`;
}

export function registerEventSummaryRoutes(router: Router): void {
  router.add('GET', '/v1/billing/meters/:id/event_summaries', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'customer', 'start_time', 'end_time', 'value_grouping_window']);
    const meter = getMeter(ctx.account, ctx.pathParams.id ?? '');
    const customer = p.requiredString('customer');
    getCustomer(ctx.account, customer, 'customer');
    const q: SummaryQuery = {
      customer,
      startTime: p.requiredInteger('start_time'),
      endTime: p.requiredInteger('end_time'),
      ...(p.has('value_grouping_window') ? { valueGroupingWindow: p.enumOf('value_grouping_window', ['hour', 'day'] as const) } : {}),
    };
    checkSummaryRange(q);
    const summaries = computeSummaries(ctx.account, meter, q).reverse();
    return { body: paginate(summaries, p, `/v1/billing/meters/${meter.id}/event_summaries`, (s) => s.id, 'billing.meter_event_summary') };
  });
}
