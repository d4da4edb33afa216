import type { FeedPosition } from './store.js';

/** Persistence for the detector engine and incidents; part of `Store` as `store.detectors`. */
export interface BucketDelta {
  tenantId: string;
  metric: string;
  bucketStart: number;
  count: number;
  amount: number;
}

export interface RefundFactRecord {
  tenantId: string;
  refundId: string;
  chargeId: string;
  amount: number;
  currency: string;
  status: string;
  /** The refund's own Stripe `created`, epoch seconds. */
  created: number;
  /** Stripe `created` of the event this state comes from, epoch milliseconds. */
  asOf: number;
}

export interface SubscriptionFactRecord {
  tenantId: string;
  subscriptionId: string;
  customer: string | null;
  status: string;
  currency: string | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  recurringAmount: number | null;
  quantity: number;
  asOf: number;
}

/** The lookup keys of one stored event (see `event_keys` in migrations 0002 and 0009). */
export interface EventKeyRecord {
  tenantId: string;
  seq: number;
  eventId: string;
  type: string;
  /** Stripe `created`, epoch seconds. */
  created: number;
  customer: string | null;
  objectId: string | null;
  refId: string | null;
  amount: number | null;
  currency: string | null;
}

/** A read of `event_keys` alone (never the stored payloads), newest first by (created, seq). */
export interface EventKeyQuery {
  types: string[];
  /** One customer, or any of several (one read for a batch's customers). */
  customers?: string[];
  refId?: string;
  objectId?: string;
  amount?: number;
  /** Any of these amounts (a batch's worth). */
  amounts?: number[];
  currency?: string;
  /** Stripe `created` bounds, epoch seconds, [since, until). */
  since?: number;
  until?: number;
  limit: number;
}

export interface ActiveSuppression {
  detector: string;
  subjectType: string;
  subjectId: string;
  until: number;
}

export interface AggregationBatch {
  consumer: string;
  from: FeedPosition;
  to: FeedPosition;
  keys: EventKeyRecord[];
  buckets: BucketDelta[];
  refunds: RefundFactRecord[];
  subscriptions: SubscriptionFactRecord[];
}

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved' | 'false_positive';

export interface IncidentRecord {
  id: string;
  tenantId: string;
  detector: string;
  subjectType: string;
  subjectId: string;
  status: IncidentStatus;
  severity: string;
  historical: boolean;
  summary: string;
  figures: Record<string, string | number>;
  evidence: string[];
  firstTriggeredAt: number;
  lastTriggeredAt: number;
  openedAt: number;
  updatedAt: number;
  clearSince: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolutionActor: string | null;
  resolutionReason: string | null;
  /** `detector|subjectType|subjectId` while open or acknowledged; null once closed. */
  activeKey: string | null;
}

export type IncidentPatch = Partial<
  Pick<
    IncidentRecord,
    | 'status'
    | 'severity'
    | 'historical'
    | 'summary'
    | 'figures'
    | 'evidence'
    | 'lastTriggeredAt'
    | 'updatedAt'
    | 'clearSince'
    | 'acknowledgedAt'
    | 'acknowledgedBy'
    | 'resolvedAt'
    | 'resolutionActor'
    | 'resolutionReason'
    | 'activeKey'
  >
>;

export interface IncidentQuery {
  statuses?: IncidentStatus[];
  detector?: string;
  severity?: string;
  subjectId?: string;
  /** Bounds on first_triggered_at (event time, ms), [since, until). */
  since?: number;
  until?: number;
  /** Continue after (firstTriggeredAt, id), newest first. */
  before?: { firstTriggeredAt: number; id: string };
  limit: number;
}

export interface NotificationRecord {
  id: string;
  tenantId: string;
  incidentId: string;
  detector: string;
  kind: 'open' | 'escalate' | 'resolve';
  severity: string;
  dedupeKey: string;
  createdAt: number;
}

export interface DetectorSettingRecord {
  tenantId: string;
  detector: string;
  enabled: boolean;
  /** The tenant's overrides only; defaults are merged at read time. */
  config: Record<string, unknown>;
  updatedAt: number;
}

export interface DetectorStore {
  /**
   * Applies one feed batch's aggregates and moves the consumer cursor from `from` to `to`, in one
   * transaction. The cursor move is a compare-and-set: if another process already moved it, nothing
   * is written and false is returned, so two replicas can never count a batch twice.
   */
  applyAggregation(batch: AggregationBatch, now: number): Promise<boolean>;
  sumBuckets(tenantId: string, metric: string, fromMs: number, toMs: number): Promise<{ count: number; amount: number }>;
  sumBucketsByPrefix(tenantId: string, prefix: string, fromMs: number, toMs: number): Promise<Map<string, { count: number; amount: number }>>;
  /** The non-empty one-minute buckets of one metric in [fromMs, toMs), oldest first. */
  bucketSeries(tenantId: string, metric: string, fromMs: number, toMs: number): Promise<{ bucketStart: number; count: number; amount: number }[]>;
  pruneBuckets(beforeMs: number): Promise<number>;
  refundsForCharge(tenantId: string, chargeId: string): Promise<RefundFactRecord[]>;
  /** The refund facts of several charges in one read, ordered by (charge, created, refund id). */
  refundsForCharges(tenantId: string, chargeIds: string[]): Promise<RefundFactRecord[]>;
  /** Indexed event keys without touching `billing_events` (see `EventKeyQuery`). */
  listEventKeys(tenantId: string, query: EventKeyQuery): Promise<EventKeyRecord[]>;
  /** Source and Stripe time of stored events by id, for the live/historical decision. */
  eventOrigins(tenantId: string, eventIds: string[]): Promise<{ eventId: string; source: string; created: number }[]>;
  getSubscriptionFact(tenantId: string, subscriptionId: string): Promise<SubscriptionFactRecord | undefined>;
  /** `customers` reads the subscriptions of several customers at once (the limit then applies to all of them together). */
  listSubscriptionFacts(tenantId: string, query: { statuses?: string[]; customer?: string; customers?: string[]; periodEndBefore?: number; limit: number }): Promise<SubscriptionFactRecord[]>;
  /** Stripe `created` (epoch seconds) of the tenant's oldest and newest stored events. */
  eventTimeRange(tenantId: string): Promise<{ first: number; last: number } | undefined>;

  /** False when an active incident with the same key exists. */
  insertIncident(incident: IncidentRecord): Promise<boolean>;
  getIncident(tenantId: string, id: string): Promise<IncidentRecord | undefined>;
  getActiveIncident(tenantId: string, activeKey: string): Promise<IncidentRecord | undefined>;
  /** The active incidents with any of these keys (one read for a batch's triggers). */
  getActiveIncidents(tenantId: string, activeKeys: string[]): Promise<IncidentRecord[]>;
  updateIncident(tenantId: string, id: string, patch: IncidentPatch): Promise<IncidentRecord | undefined>;
  /** Several incidents patched in one transaction; per update, whether the incident was found. */
  updateIncidents(tenantId: string, updates: { id: string; patch: IncidentPatch }[]): Promise<boolean[]>;
  listIncidents(tenantId: string, query: IncidentQuery): Promise<IncidentRecord[]>;
  listActiveIncidents(tenantId: string): Promise<IncidentRecord[]>;

  /** False when the dedupe key was already recorded (the notification exists). */
  insertNotification(notification: NotificationRecord): Promise<boolean>;
  listNotifications(tenantId: string, query: { limit: number }): Promise<NotificationRecord[]>;

  listDetectorSettings(tenantId: string): Promise<DetectorSettingRecord[]>;
  putDetectorSetting(setting: DetectorSettingRecord): Promise<void>;
  getSuppressionUntil(tenantId: string, detector: string, subjectType: string, subjectId: string): Promise<number | undefined>;
  putSuppression(tenantId: string, detector: string, subjectType: string, subjectId: string, until: number): Promise<void>;
  /** The tenant's suppressions still in force at `now`. */
  listActiveSuppressions(tenantId: string, now: number): Promise<ActiveSuppression[]>;
  /** Marks events as evidence, keeping the highest score seen (rows already at that score or above are not rewritten). */
  flagEvents(tenantId: string, eventIds: string[], score: number): Promise<void>;

  /** Take or renew a named lease; true when `holder` holds it until now + ttl. */
  tryAcquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives a lease up (on shutdown), so another replica need not wait for it to expire. */
  releaseLease(name: string, holder: string): Promise<void>;
}
