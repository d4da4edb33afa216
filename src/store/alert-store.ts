import type { NotificationRecord } from './detector-store.js';

/** Persistence for alert channels, the delivery outbox and digests; part of `Store` as `store.alerts`. */
export type AlertChannelType = 'slack' | 'discord' | 'email' | 'webhook' | 'pagerduty';

export interface AlertChannelRecord {
  id: string;
  tenantId: string;
  type: AlertChannelType;
  name: string;
  /** SecretBox ciphertext of the channel's target (see `alerts/channel-target.ts`). */
  configEnc: string;
  minSeverity: string;
  /** Detector names this channel wants; null for all. */
  detectors: string[] | null;
  sendResolved: boolean;
  sendDigests: boolean;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  failingSince: number | null;
  /** No attempt to this channel before this time (backoff after a failure, or a 429's Retry-After). */
  blockedUntil: number | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export type AlertChannelPatch = Partial<
  Pick<
    AlertChannelRecord,
    | 'name'
    | 'configEnc'
    | 'minSeverity'
    | 'detectors'
    | 'sendResolved'
    | 'sendDigests'
    | 'enabled'
    | 'disabledReason'
    | 'consecutiveFailures'
    | 'failingSince'
    | 'blockedUntil'
    | 'lastError'
  >
> & { updatedAt: number };

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'canceled';
export type DeliveryKind = 'incident' | 'digest';

export interface AlertDeliveryRecord {
  id: string;
  tenantId: string;
  channelId: string;
  /** What is delivered: `ntf:<notification id>` or `dig:<digest id>`; unique per channel. */
  sourceKey: string;
  kind: DeliveryKind;
  incidentId: string | null;
  /** JSON of the `AlertMessage` snapshot taken when the delivery was created. */
  message: string;
  status: DeliveryStatus;
  /** Attempts made (a claim that was released without sending does not count). */
  attempts: number;
  /** When pending: due time. When sending: the claim's lease end, after which another worker may take it. */
  nextAttemptAt: number;
  leaseToken: string | null;
  /** Retries stop after this time; the delivery is then `failed`. */
  expiresAt: number;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface DeliveryQuery {
  statuses?: DeliveryStatus[];
  channelId?: string;
  incidentId?: string;
  /** Continue after (createdAt, id), newest first. */
  before?: { createdAt: number; id: string };
  limit: number;
}

/** How a claimed delivery ends this round. `attempted: false` releases the claim without counting an attempt. */
export interface DeliveryCompletion {
  status: 'pending' | 'delivered' | 'failed' | 'canceled';
  attempted: boolean;
  /** Due time when `pending`. */
  nextAttemptAt?: number;
  /** Recorded when given; left as it was when undefined. */
  error?: string | null;
  statusCode?: number | null;
}

export interface ChannelFailure {
  error: string;
  /** False for throttling (429): the endpoint is alive, so it does not count toward "failing". */
  counts: boolean;
  blockedUntil: number;
  /** Consecutive counted failures at which the channel becomes failing. */
  failingAfter: number;
}

export type DigestFrequency = 'hourly' | 'daily' | 'weekly' | 'off';

export interface DigestSettingsRecord {
  tenantId: string;
  frequency: DigestFrequency;
  /** Local hour (0–23) of daily and weekly digests. */
  hour: number;
  /** ISO weekday (1 = Monday … 7 = Sunday) of weekly digests. */
  weekday: number;
  timeZone: string;
  skipEmpty: boolean;
  updatedAt: number;
}

export interface DigestRecord {
  id: string;
  tenantId: string;
  frequency: DigestFrequency;
  periodStart: number;
  periodEnd: number;
  outcome: 'sent' | 'empty';
  createdAt: number;
}

export interface EventTotal {
  type: string;
  currency: string | null;
  count: number;
  amount: number;
}

export interface AlertStore {
  insertChannel(channel: AlertChannelRecord): Promise<void>;
  getChannel(tenantId: string, id: string): Promise<AlertChannelRecord | undefined>;
  listChannels(tenantId: string): Promise<AlertChannelRecord[]>;
  updateChannel(tenantId: string, id: string, patch: AlertChannelPatch): Promise<AlertChannelRecord | undefined>;
  /** Deletes the channel and cancels its unfinished deliveries in one transaction; false when absent. */
  deleteChannel(tenantId: string, id: string, now: number): Promise<boolean>;
  /** Cancels the channel's pending and in-flight deliveries; returns how many. */
  cancelChannelDeliveries(tenantId: string, channelId: string, reason: string, now: number): Promise<number>;
  /** Resets the failure state; `recovered` when the channel was marked failing until now. */
  recordChannelSuccess(tenantId: string, id: string, now: number): Promise<{ recovered: boolean }>;
  /** Counts a failure; `becameFailing` is true for exactly one caller when the threshold is crossed. */
  recordChannelFailure(tenantId: string, id: string, failure: ChannelFailure, now: number): Promise<{ channel: AlertChannelRecord | undefined; becameFailing: boolean }>;

  /** Incident notifications not yet fanned out to deliveries, oldest first, across tenants. */
  listPendingNotifications(limit: number): Promise<NotificationRecord[]>;
  /**
   * Inserts the notification's deliveries (one per channel; existing ones are kept) and marks the
   * notification fanned out, in one transaction. Returns how many deliveries this call created.
   */
  fanOutNotification(tenantId: string, notificationId: string, deliveries: AlertDeliveryRecord[], now: number): Promise<number>;

  /**
   * Claims due deliveries across tenants: pending ones whose time has come and in-flight ones whose
   * lease ran out, skipping channels in backoff and deliveries with an older unfinished delivery of
   * the same incident on the same channel (so a resolve never overtakes its open). Each claim is a
   * compare-and-set, so two workers never hold the same delivery.
   */
  claimDeliveries(now: number, limit: number, leaseUntil: number, token: string): Promise<AlertDeliveryRecord[]>;
  /** Ends a claim; false when the claim was lost (the lease expired and another worker took it). */
  completeDelivery(tenantId: string, id: string, token: string, completion: DeliveryCompletion, now: number): Promise<boolean>;
  getDelivery(tenantId: string, id: string): Promise<AlertDeliveryRecord | undefined>;
  listDeliveries(tenantId: string, query: DeliveryQuery): Promise<AlertDeliveryRecord[]>;
  /** Makes a failed, canceled or waiting delivery due now with a fresh retry window; undefined when absent or not retryable. */
  requeueDelivery(tenantId: string, id: string, now: number, expiresAt: number): Promise<AlertDeliveryRecord | undefined>;

  getDigestSettings(tenantId: string): Promise<DigestSettingsRecord | undefined>;
  putDigestSettings(settings: DigestSettingsRecord): Promise<void>;
  /** Enabled channels that take digests, across tenants. */
  listDigestChannels(): Promise<AlertChannelRecord[]>;
  hasDigest(tenantId: string, frequency: DigestFrequency, periodStart: number): Promise<boolean>;
  /** Records the digest and its deliveries in one transaction; false when that period's digest exists. */
  recordDigest(digest: DigestRecord, deliveries: AlertDeliveryRecord[]): Promise<boolean>;
  /** Count and amount of the tenant's events per (type, currency) with Stripe `created` in [since, until) (seconds). */
  eventTotals(tenantId: string, types: string[], sinceSeconds: number, untilSeconds: number): Promise<EventTotal[]>;

  /** Deletes finished deliveries and digest records created before `beforeMs`. */
  prune(beforeMs: number): Promise<{ deliveries: number; digests: number }>;
}
