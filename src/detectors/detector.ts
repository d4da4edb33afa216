import type { TObject } from '@sinclair/typebox';
import type { BillingEventRecord } from '../store/store.js';
import type { EventKeyRecord } from '../store/detector-store.js';

/**
 * The contract every detector implements (one file per detector in `rules/`). A detector is pure
 * decision logic: it reads tenant-scoped aggregates and events through `DetectorData` and returns
 * triggers. It never writes; the engine turns triggers into incidents, evidence and notifications,
 * which makes re-evaluation after a crash or a replay harmless.
 */
export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, critical: 3 };

/**
 * `alert_channel` is the subject of the alerts' own `alert_channel_failing` incident; `usage_mapping`
 * of the sync's `usage_push_failing` (a mapping id, `:shadow` for its test-mode pushes).
 */
export type SubjectType = 'tenant' | 'customer' | 'charge' | 'subscription' | 'invoice' | 'alert_channel' | 'usage_mapping';

/** A stored billing event with its Stripe object parsed. */
export interface DetectorEvent extends BillingEventRecord {
  object: Record<string, unknown>;
  previousAttributes: Record<string, unknown> | undefined;
}

export interface Trigger {
  subjectType: SubjectType;
  subjectId: string;
  severity: Severity;
  /** One line a human understands, without secrets; amounts formatted with their currency. */
  summary: string;
  /** The figures behind the decision (counts, rates as strings, thresholds, currency). */
  figures: Record<string, string | number>;
  /** Stripe event ids that are evidence; they get flagged with an anomaly score. */
  eventIds: string[];
  /** Event time (ms) the condition holds at: Stripe `created` of the deciding event, or the window end. */
  at: number;
}

export interface BucketSum {
  count: number;
  /** Integer minor units; only meaningful for per-currency metrics. */
  amount: number;
}

export interface EventQuery {
  types?: string[];
  customer?: string;
  /** The related object: refund/dispute/early fraud warning → charge, invoice → subscription, charge → payment intent. */
  refId?: string;
  objectId?: string;
  /** Exact amount in minor units and currency (both stored key fields of the event). */
  amount?: number;
  currency?: string;
  /** Stripe `created` bounds, epoch seconds, [since, until). */
  since?: number;
  until?: number;
  limit: number;
}

/** The indexed keys of a stored event, read without its payload (`DetectorData.eventKeys`). */
export type EventKey = Omit<EventKeyRecord, 'tenantId'>;

export interface RefundFact {
  refundId: string;
  chargeId: string;
  amount: number;
  currency: string;
  status: string;
  /** The refund's Stripe `created`, epoch seconds. */
  created: number;
}

/** The latest known state of a subscription (the event with the greatest `created` wins). */
export interface SubscriptionFact {
  subscriptionId: string;
  customer: string | null;
  status: string;
  currency: string | null;
  /** Current period from the subscription items (API ≥ 2025-03-31) or the legacy top-level fields, ms. */
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  /** Σ price.unit_amount × quantity over the items, minor units of `currency`; null when unknown. */
  recurringAmount: number | null;
  /** Σ item quantities. */
  quantity: number;
  /** Stripe `created` (ms) of the event this state comes from. */
  asOf: number;
}

/**
 * Read access for one tenant. Time arguments are epoch milliseconds of event time, ranges [from, to).
 * Aggregates live in one-minute buckets (`BUCKET_MS`); metric names are listed in `metrics.ts`.
 */
export interface DetectorData {
  sum(metric: string, fromMs: number, toMs: number): Promise<BucketSum>;
  /** Every metric starting with `prefix`, keyed by the full metric name (`charge.captured:` → `charge.captured:usd`, …). */
  sumByPrefix(prefix: string, fromMs: number, toMs: number): Promise<Map<string, BucketSum>>;
  /** The non-empty one-minute buckets of one metric in [from, to), oldest first (one read for a whole range). */
  series(metric: string, fromMs: number, toMs: number): Promise<{ bucketStart: number; count: number; amount: number }[]>;
  events(query: EventQuery): Promise<DetectorEvent[]>;
  /**
   * The same events as their stored keys only (no payload read, no JSON parse): for counting and
   * grouping by key fields. `customers` (and `amounts`) read several customers (amounts) at once, a
   * batch's worth, in which case `limit` applies to all of them together.
   */
  eventKeys(query: EventQuery & { types: string[]; customers?: string[]; amounts?: number[] }): Promise<EventKey[]>;
  refundsForCharge(chargeId: string): Promise<RefundFact[]>;
  /** `refundsForCharge` for several charges in one read; every asked charge has an entry. */
  refundsForCharges(chargeIds: string[]): Promise<Map<string, RefundFact[]>>;
  subscription(subscriptionId: string): Promise<SubscriptionFact | undefined>;
  /** Subscriptions by state; `periodEndBefore` (ms) finds periods that ended. Ordered by period end. */
  subscriptions(query: { status?: string[]; customer?: string; customers?: string[]; periodEndBefore?: number; limit: number }): Promise<SubscriptionFact[]>;
  /** Stripe `created` (ms) of the tenant's oldest stored event, to know how much history exists. */
  firstEventAt(): Promise<number | undefined>;
  /** Stripe `created` (ms) of the newest stored event, for absence detectors. */
  lastEventAt(): Promise<number | undefined>;
}

export interface DetectorContext<C> {
  tenantId: string;
  config: C;
  /** Wall-clock now (ms) from the injected clock; windows use event time, `now` only for absence. */
  now: number;
  data: DetectorData;
}

export interface OpenIncident {
  id: string;
  subjectType: SubjectType;
  subjectId: string;
  severity: Severity;
  figures: Record<string, string | number>;
  /** Event time (ms) of the last trigger. */
  lastTriggeredAt: number;
}

export interface Detector<C extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** TypeBox object schema of the full config (`additionalProperties: false`); validates PUT /v1/detectors/{name}. */
  readonly configSchema: TObject;
  readonly defaults: C;
  /** Event types this detector reacts to; evaluateEvents sees only these. */
  readonly eventTypes: readonly string[];
  /** Called with each batch of newly stored events of `eventTypes` for one tenant (any arrival order). */
  evaluateEvents?(ctx: DetectorContext<C>, events: DetectorEvent[]): Promise<Trigger[]>;
  /** Called on the schedule (absence detectors; hourly comparisons). Must be idempotent. */
  evaluateSchedule?(ctx: DetectorContext<C>): Promise<Trigger[]>;
  /**
   * Whether an open incident's condition still holds at `ctx.now`. When it returns false for the
   * quiet period, the engine auto-resolves the incident. Omit to let incidents resolve only by hand
   * (per-object findings such as a refund above its charge).
   */
  stillFiring?(ctx: DetectorContext<C>, incident: OpenIncident): Promise<boolean>;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
