/**
 * The aggregate metrics kept per tenant in one-minute buckets of Stripe `created` time.
 * `count` counts occurrences; `amount` sums integer minor units (per-currency metrics only).
 * Buckets are bounded state: tenants × metrics × minutes, pruned after the retention period.
 */
export const BUCKET_MS = 60_000;

export const METRIC = {
  /** Every stored event (webhook or backfill). */
  event: 'event',
  chargeAttempt: 'charge.attempt',
  chargeFailed: 'charge.failed',
  chargeSucceeded: 'charge.succeeded',
  /** Successful charge volume, per currency: `charge.captured:usd`. */
  chargeCapturedPrefix: 'charge.captured:',
  /** Refunds counted once per refund object, per currency: `refund:usd`. */
  refundPrefix: 'refund:',
  dispute: 'dispute',
  earlyFraudWarning: 'efw',
  subscriptionCreated: 'subscription.created',
  subscriptionCanceled: 'subscription.canceled',
  /** Webhook deliveries (source webhook) with a measured delay. */
  delivery: 'delivery',
  /** Deliveries whose delay (received − created) exceeded N minutes: `delivery.late:10`. */
  deliveryLatePrefix: 'delivery.late:',
} as const;

/** Delay thresholds (minutes) with their own counters; webhook_delay's threshold is one of these. */
export const DELAY_THRESHOLDS_MINUTES = [1, 2, 5, 10, 15, 30, 60] as const;

/** How long buckets are kept: the longest window (30 days) plus four weeks of baseline. */
export const BUCKET_RETENTION_MS = 60 * 24 * 60 * 60 * 1000;
