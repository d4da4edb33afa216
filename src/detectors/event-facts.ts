import type { BucketDelta, RefundFactRecord, SubscriptionFactRecord } from '../store/detector-store.js';
import type { BillingEventRecord } from '../store/store.js';
import type { DetectorEvent } from './detector.js';
import { BUCKET_MS, DELAY_THRESHOLDS_MINUTES, METRIC } from './metrics.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const idOf = (v: unknown): string | null => (isObject(v) ? str(v.id) : str(v));

export function toDetectorEvent(record: BillingEventRecord): DetectorEvent {
  let object: Json = {};
  let previousAttributes: Json | undefined;
  try {
    const parsed = JSON.parse(record.payload) as Json;
    const data = isObject(parsed.data) ? parsed.data : {};
    if (isObject(data.object)) object = data.object;
    if (isObject(data.previous_attributes)) previousAttributes = data.previous_attributes;
  } catch {
    // Stored payloads were validated at intake; an unreadable one simply has no object.
  }
  return { ...record, object, previousAttributes };
}

export interface EventFacts {
  buckets: BucketDelta[];
  refunds: RefundFactRecord[];
  subscription: SubscriptionFactRecord | undefined;
}

const bucketOf = (ms: number) => Math.floor(ms / BUCKET_MS) * BUCKET_MS;

/**
 * What one stored event contributes to the aggregates. Pure: the same event always gives the same
 * facts, so the engine can recompute them after a crash. Refunds are facts keyed by refund id and
 * counted once by the store, never derived from the cumulative `amount_refunded`.
 */
export function factsOf(event: DetectorEvent): EventFacts {
  const buckets: BucketDelta[] = [];
  const at = event.created * 1000;
  const add = (metric: string, amount = 0, time = at) =>
    buckets.push({ tenantId: event.tenantId, metric, bucketStart: bucketOf(time), count: 1, amount });

  add(METRIC.event);
  if (event.source === 'webhook') {
    add(METRIC.delivery);
    const delayMs = event.receivedAt - at;
    for (const minutes of DELAY_THRESHOLDS_MINUTES) if (delayMs > minutes * 60_000) add(`${METRIC.deliveryLatePrefix}${minutes}`);
  }

  const o = event.object;
  const currency = str(o.currency)?.toLowerCase();
  const amount = int(o.amount);
  switch (event.type) {
    case 'charge.succeeded':
      add(METRIC.chargeAttempt);
      add(METRIC.chargeSucceeded);
      // An authorisation only (captured: false) is revenue when `charge.captured` arrives.
      if (o.captured !== false && currency && amount !== null) add(`${METRIC.chargeCapturedPrefix}${currency}`, amount);
      break;
    case 'charge.captured':
      if (currency && amount !== null) add(`${METRIC.chargeCapturedPrefix}${currency}`, int(o.amount_captured) ?? amount);
      break;
    case 'charge.failed':
      add(METRIC.chargeAttempt);
      add(METRIC.chargeFailed);
      break;
    case 'charge.dispute.created':
      add(METRIC.dispute);
      break;
    case 'radar.early_fraud_warning.created':
      add(METRIC.earlyFraudWarning);
      break;
    case 'customer.subscription.created':
      add(METRIC.subscriptionCreated);
      break;
    case 'customer.subscription.deleted':
      add(METRIC.subscriptionCanceled);
      break;
    case 'customer.subscription.updated': {
      const prev = event.previousAttributes ?? {};
      const turnedCanceled = 'status' in prev && prev.status !== 'canceled' && o.status === 'canceled';
      const scheduledCancel = prev.cancel_at_period_end === false && o.cancel_at_period_end === true;
      if (turnedCanceled || scheduledCancel) add(METRIC.subscriptionCanceled);
      break;
    }
  }

  return { buckets, refunds: refundsOf(event), subscription: subscriptionOf(event) };
}

function refundsOf(event: DetectorEvent): RefundFactRecord[] {
  const o = event.object;
  const objects: Json[] = [];
  if (o.object === 'refund') objects.push(o);
  else if (o.object === 'charge' && isObject(o.refunds) && Array.isArray(o.refunds.data)) {
    for (const r of o.refunds.data) if (isObject(r) && r.object === 'refund') objects.push({ charge: o.id, ...r });
  }
  const facts: RefundFactRecord[] = [];
  for (const r of objects) {
    const refundId = str(r.id);
    const chargeId = idOf(r.charge);
    const amount = int(r.amount);
    const currency = str(r.currency)?.toLowerCase();
    if (!refundId || !chargeId || amount === null || !currency) continue;
    facts.push({
      tenantId: event.tenantId,
      refundId,
      chargeId,
      amount,
      currency,
      status: str(r.status) ?? 'succeeded',
      created: int(r.created) ?? event.created,
      asOf: event.created * 1000,
    });
  }
  return facts;
}

function subscriptionOf(event: DetectorEvent): SubscriptionFactRecord | undefined {
  const o = event.object;
  if (o.object !== 'subscription' || !event.type.startsWith('customer.subscription.')) return undefined;
  const id = str(o.id);
  if (!id) return undefined;
  const items = isObject(o.items) && Array.isArray(o.items.data) ? o.items.data.filter(isObject) : [];
  let periodStart: number | null = null;
  let periodEnd: number | null = null;
  let recurring: number | null = 0;
  let quantity = 0;
  for (const item of items) {
    const start = int(item.current_period_start);
    const end = int(item.current_period_end);
    if (start !== null) periodStart = periodStart === null ? start : Math.min(periodStart, start);
    if (end !== null) periodEnd = periodEnd === null ? end : Math.max(periodEnd, end);
    const q = int(item.quantity) ?? 1;
    quantity += q;
    const price = isObject(item.price) ? item.price : undefined;
    const unit = price ? int(price.unit_amount) : null;
    recurring = recurring === null || unit === null ? null : recurring + unit * q;
  }
  // Before API 2025-03-31 the period was on the subscription itself.
  periodStart ??= int(o.current_period_start);
  periodEnd ??= int(o.current_period_end);
  return {
    tenantId: event.tenantId,
    subscriptionId: id,
    customer: idOf(o.customer),
    status: event.type === 'customer.subscription.deleted' ? 'canceled' : (str(o.status) ?? 'unknown'),
    currency: str(o.currency)?.toLowerCase() ?? null,
    currentPeriodStart: periodStart === null ? null : periodStart * 1000,
    currentPeriodEnd: periodEnd === null ? null : periodEnd * 1000,
    cancelAtPeriodEnd: o.cancel_at_period_end === true,
    recurringAmount: items.length === 0 ? null : recurring,
    quantity,
    asOf: event.created * 1000,
  };
}
