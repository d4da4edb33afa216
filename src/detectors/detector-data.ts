import type { BillingEventQuery, Store } from '../store/store.js';
import type { SubscriptionFactRecord } from '../store/detector-store.js';
import type { BucketSum, DetectorData, DetectorEvent, EventKey, EventQuery, RefundFact, SubscriptionFact } from './detector.js';
import { toDetectorEvent } from './event-facts.js';
import { BUCKET_MS } from './metrics.js';

/**
 * DetectorData for one tenant. With `asOfMs` it sees the store as it was at that event time
 * (the backtest replays history this way); without, it sees everything stored.
 */
export class TenantDetectorData implements DetectorData {
  constructor(
    private readonly store: Store,
    private readonly tenantId: string,
    private readonly asOfMs?: number,
  ) {}

  private cap(toMs: number): number {
    return this.asOfMs === undefined ? toMs : Math.min(toMs, Math.floor(this.asOfMs / BUCKET_MS) * BUCKET_MS + BUCKET_MS);
  }

  sum(metric: string, fromMs: number, toMs: number): Promise<BucketSum> {
    return this.store.detectors.sumBuckets(this.tenantId, metric, fromMs, this.cap(toMs));
  }

  sumByPrefix(prefix: string, fromMs: number, toMs: number): Promise<Map<string, BucketSum>> {
    return this.store.detectors.sumBucketsByPrefix(this.tenantId, prefix, fromMs, this.cap(toMs));
  }

  series(metric: string, fromMs: number, toMs: number): Promise<{ bucketStart: number; count: number; amount: number }[]> {
    return this.store.detectors.bucketSeries(this.tenantId, metric, fromMs, this.cap(toMs));
  }

  async events(query: EventQuery): Promise<DetectorEvent[]> {
    const rows = await this.store.listBillingEvents(this.tenantId, this.storeQuery(query));
    return rows.map(toDetectorEvent);
  }

  async eventKeys(query: EventQuery & { types: string[]; customers?: string[]; amounts?: number[] }): Promise<EventKey[]> {
    const q = this.storeQuery(query);
    const customers = query.customers ?? (query.customer !== undefined ? [query.customer] : undefined);
    const rows = await this.store.detectors.listEventKeys(this.tenantId, {
      types: query.types,
      ...(customers !== undefined ? { customers } : {}),
      ...(q.refId !== undefined ? { refId: q.refId } : {}),
      ...(q.objectId !== undefined ? { objectId: q.objectId } : {}),
      ...(q.amount !== undefined ? { amount: q.amount } : {}),
      ...(query.amounts !== undefined ? { amounts: query.amounts } : {}),
      ...(q.currency !== undefined ? { currency: q.currency } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      limit: q.limit,
    });
    return rows.map(({ tenantId: _tenant, ...key }) => key);
  }

  private storeQuery(query: EventQuery): BillingEventQuery {
    const asOfSeconds = this.asOfMs === undefined ? undefined : Math.floor(this.asOfMs / 1000) + 1;
    const until = query.until === undefined ? asOfSeconds : asOfSeconds === undefined ? query.until : Math.min(query.until, asOfSeconds);
    return {
      ...(query.types ? { types: query.types } : {}),
      ...(query.customer !== undefined ? { customer: query.customer } : {}),
      ...(query.refId !== undefined ? { refId: query.refId } : {}),
      ...(query.objectId !== undefined ? { objectId: query.objectId } : {}),
      ...(query.amount !== undefined ? { amount: query.amount } : {}),
      ...(query.currency !== undefined ? { currency: query.currency } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(until !== undefined ? { until } : {}),
      limit: Math.min(Math.max(query.limit, 1), 10_000),
      indexedOnly: true,
    };
  }

  async refundsForCharge(chargeId: string): Promise<RefundFact[]> {
    const rows = await this.store.detectors.refundsForCharge(this.tenantId, chargeId);
    return rows
      .filter((r) => this.asOfMs === undefined || r.created * 1000 <= this.asOfMs)
      .map(({ refundId, chargeId: charge, amount, currency, status, created }) => ({ refundId, chargeId: charge, amount, currency, status, created }));
  }

  async refundsForCharges(chargeIds: string[]): Promise<Map<string, RefundFact[]>> {
    const byCharge = new Map<string, RefundFact[]>(chargeIds.map((id) => [id, []]));
    if (chargeIds.length === 0) return byCharge;
    for (const r of await this.store.detectors.refundsForCharges(this.tenantId, chargeIds)) {
      if (this.asOfMs !== undefined && r.created * 1000 > this.asOfMs) continue;
      byCharge.get(r.chargeId)?.push({ refundId: r.refundId, chargeId: r.chargeId, amount: r.amount, currency: r.currency, status: r.status, created: r.created });
    }
    return byCharge;
  }

  async subscription(subscriptionId: string): Promise<SubscriptionFact | undefined> {
    const row = await this.store.detectors.getSubscriptionFact(this.tenantId, subscriptionId);
    return row && toFact(row);
  }

  async subscriptions(query: { status?: string[]; customer?: string; customers?: string[]; periodEndBefore?: number; limit: number }): Promise<SubscriptionFact[]> {
    const rows = await this.store.detectors.listSubscriptionFacts(this.tenantId, {
      ...(query.status ? { statuses: query.status } : {}),
      ...(query.customer !== undefined ? { customer: query.customer } : {}),
      ...(query.customers !== undefined ? { customers: query.customers } : {}),
      ...(query.periodEndBefore !== undefined ? { periodEndBefore: query.periodEndBefore } : {}),
      limit: Math.min(Math.max(query.limit, 1), 10_000),
    });
    return rows.map(toFact);
  }

  async firstEventAt(): Promise<number | undefined> {
    const range = await this.store.detectors.eventTimeRange(this.tenantId);
    return range && range.first * 1000;
  }

  async lastEventAt(): Promise<number | undefined> {
    if (this.asOfMs !== undefined) {
      const [latest] = await this.events({ limit: 1 });
      return latest && latest.created * 1000;
    }
    const range = await this.store.detectors.eventTimeRange(this.tenantId);
    return range && range.last * 1000;
  }
}

function toFact(r: SubscriptionFactRecord): SubscriptionFact {
  const { tenantId: _tenant, ...fact } = r;
  return fact;
}
