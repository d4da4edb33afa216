import type { Clock } from '../shared/clock.js';
import type { MeteringStore } from '../store/metering-store.js';
import { invalidMeteringInput } from './metering-errors.js';
import type { PeriodResolver } from './period-resolver.js';
import { formatMicro } from './quantity.js';
import { parseTimeInput } from './time-input.js';
import { toCounterView, toEventView, type CounterView, type EventView } from './usage-views.js';

export interface EventFilters {
  metric?: string | undefined;
  customerRef?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface HistoryQuery {
  customerRef: string;
  metric: string;
  from: string;
  to: string;
  bucket: 'hour' | 'day';
}

export interface HistoryBucket {
  start: string;
  end: string;
  /** On-time events (what the period's counter holds before adjustments). */
  sum: string;
  count: number;
  /** Events that arrived after their period's lateness window (pending or decided adjustments). */
  lateSum: string;
  lateCount: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MAX_BUCKETS = 10_000;
/** Filtered listings read at most this many ledger rows per call (the cursor continues). */
const SCAN_LIMIT = 50_000;

/** Read side of metering: the ledger listing, current usage, history. */
export class UsageQuery {
  constructor(
    private readonly store: MeteringStore,
    private readonly periods: PeriodResolver,
    private readonly clock: Clock,
  ) {}

  async listEvents(tenantId: string, filters: EventFilters): Promise<{ data: EventView[]; nextCursor: string | null }> {
    const problems: string[] = [];
    const limit = filters.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) problems.push('limit must be 1 to 1000');
    const since = parseTimeInput('since', filters.since, problems);
    const until = parseTimeInput('until', filters.until, problems);
    let before: { ts: number; key: string } | undefined;
    if (filters.cursor !== undefined) {
      const m = /^(\d{1,16}):([\x20-\x7E]{1,255})$/.exec(Buffer.from(filters.cursor, 'base64url').toString('utf8'));
      if (m) before = { ts: Number(m[1]), key: m[2]! };
      else problems.push('cursor is not valid');
    }
    if (problems.length > 0) throw invalidMeteringInput(problems);
    const page = await this.store.listEvents(tenantId, {
      ...(filters.metric !== undefined ? { metric: filters.metric } : {}),
      ...(filters.customerRef !== undefined ? { customerRef: filters.customerRef } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
      scanLimit: SCAN_LIMIT,
    });
    const events = page.events.slice(0, limit);
    const last = events[events.length - 1];
    let next: { ts: number; key: string } | null = null;
    if (page.events.length > limit && last) next = { ts: last.ts, key: last.idempotencyKey };
    else if (page.scannedTo) next = page.scannedTo;
    return { data: events.map(toEventView), nextCursor: next ? Buffer.from(`${next.ts}:${next.key}`).toString('base64url') : null };
  }

  /** The counters of the customer's billing period containing `at` (default: now, by the server clock). */
  async current(tenantId: string, customerRef: string, metric?: string, at?: string): Promise<{ customerRef: string; period: { start: string; end: string; source: string }; metrics: CounterView[] }> {
    const problems: string[] = [];
    const instant = parseTimeInput('at', at, problems) ?? this.clock.now();
    if (problems.length > 0) throw invalidMeteringInput(problems);
    await this.periods.load(tenantId, [customerRef]);
    const period = this.periods.periodOf(tenantId, customerRef, instant);
    const counters = await this.store.getCounters(tenantId, { customerRef, periodStart: period.start, ...(metric !== undefined ? { metric } : {}) });
    return {
      customerRef,
      period: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString(), source: period.source },
      metrics: counters.map(toCounterView),
    };
  }

  /** Exact sums per hour or UTC day, from the hourly rollups written with the ledger. */
  async history(tenantId: string, query: HistoryQuery): Promise<{ customerRef: string; metric: string; bucket: string; from: string; to: string; buckets: HistoryBucket[] }> {
    const problems: string[] = [];
    const fromRaw = parseTimeInput('from', query.from, problems);
    const toRaw = parseTimeInput('to', query.to, problems);
    if (problems.length > 0 || fromRaw === undefined || toRaw === undefined) throw invalidMeteringInput(problems);
    const size = query.bucket === 'hour' ? HOUR_MS : DAY_MS;
    const from = Math.floor(fromRaw / size) * size;
    const to = Math.ceil(toRaw / size) * size;
    if (to <= from) throw invalidMeteringInput(['to must be after from']);
    if ((to - from) / size > MAX_BUCKETS) throw invalidMeteringInput([`at most ${MAX_BUCKETS} buckets per request; narrow from/to or use bucket=day`]);
    const rollups = await this.store.listRollups(tenantId, { customerRef: query.customerRef, metric: query.metric, fromHour: from, toHour: to });
    const sums = new Map<number, { sum: bigint; count: number; lateSum: bigint; lateCount: number }>();
    for (const r of rollups) {
      const start = Math.floor(r.hourStart / size) * size;
      const b = sums.get(start) ?? { sum: 0n, count: 0, lateSum: 0n, lateCount: 0 };
      b.sum += r.sumMicro;
      b.count += r.eventCount;
      b.lateSum += r.lateSumMicro;
      b.lateCount += r.lateCount;
      sums.set(start, b);
    }
    const buckets: HistoryBucket[] = [];
    for (let start = from; start < to; start += size) {
      const b = sums.get(start);
      buckets.push({
        start: new Date(start).toISOString(),
        end: new Date(start + size).toISOString(),
        sum: formatMicro(b?.sum ?? 0n),
        count: b?.count ?? 0,
        lateSum: formatMicro(b?.lateSum ?? 0n),
        lateCount: b?.lateCount ?? 0,
      });
    }
    return { customerRef: query.customerRef, metric: query.metric, bucket: query.bucket, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets };
  }
}
