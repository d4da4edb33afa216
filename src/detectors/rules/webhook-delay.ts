/**
 * webhook_delay — Stripe delivering webhooks late: the p95 of (received − created) over 15 minutes
 * is above 10 minutes.
 *
 * p95 > T ⇔ more than 5 % of the deliveries are later than T. So the detector reads two bucket counts
 * per window: `delivery` (every webhook delivery; backfilled events are not deliveries and never
 * count) and `delivery.late:<T>` (deliveries whose delay exceeded T minutes). T is `thresholdMinutes`
 * (10) and must be one of `DELAY_THRESHOLDS_MINUTES` (the thresholds that have counters; the schema
 * refuses any other value). The percentile is `percentile` (95): fires when
 *   late × 100 > (100 − percentile) × deliveries   and   deliveries ≥ `minDeliveries` (20).
 * Exactly 5 % late (e.g. 1 of 20) is a p95 at or below T and does not fire.
 *
 * Windows and why they are not simply "the 15 minutes before now": buckets are keyed by the event's
 * Stripe `created` time, and a delivery that is T minutes late is only counted once it arrives. The
 * deliveries created in the last T minutes can never be late yet, and with a sustained delay D > T,
 * the ones created in the last D minutes have not arrived at all — a window ending at now would stay
 * empty and never fire. The detector (evaluated on the schedule at `ctx.now`, every tick) therefore
 * examines every `windowMinutes` (15) window of creation time, aligned to 5 minutes, that ends within
 * the trailing `lookbackMinutes` (60), counting the deliveries that have arrived by now. Counts can
 * only grow as late deliveries arrive, so a window that fires is a real finding; events still in
 * flight can only delay it. Each event is one delivery however often Stripe redelivers it (redeliveries
 * are deduplicated before aggregation), and arrival order cannot matter.
 *
 * Subject: the tenant. Severity: `warning`; `critical` when the same percentile is also above the
 * smallest listed threshold ≥ 2 × T (30 min for T = 10), if there is one. The trigger time is
 * `ctx.now` (the late deliveries are observed now). `stillFiring` re-evaluates at `ctx.now`, so the
 * incident auto-resolves once the late windows have left the lookback.
 */
import { Type } from '@sinclair/typebox';
import { MINUTE_MS, type Detector, type DetectorContext, type Severity, type Trigger } from '../detector.js';
import { BUCKET_MS, DELAY_THRESHOLDS_MINUTES, METRIC } from '../metrics.js';

export interface WebhookDelayConfig extends Record<string, unknown> {
  thresholdMinutes: (typeof DELAY_THRESHOLDS_MINUTES)[number];
  percentile: number;
  windowMinutes: number;
  lookbackMinutes: number;
  minDeliveries: number;
}

/** Windows are made of blocks of this many minutes (one bucket query per block). */
const BLOCK_MINUTES = 5;

type Ctx = DetectorContext<WebhookDelayConfig>;

interface WindowCount {
  start: number;
  end: number;
  deliveries: number;
  late: number;
  severeLate: number;
}

interface Finding extends WindowCount {
  severity: Severity;
}

function severeThreshold(t: number): number | undefined {
  return DELAY_THRESHOLDS_MINUTES.find((m) => m >= 2 * t);
}

async function findings(ctx: Ctx): Promise<Finding[]> {
  const c = ctx.config;
  if (!(DELAY_THRESHOLDS_MINUTES as readonly number[]).includes(c.thresholdMinutes)) return [];
  const block = BLOCK_MINUTES * MINUTE_MS;
  const blocksPerWindow = Math.max(1, Math.round(c.windowMinutes / BLOCK_MINUTES));
  // The newest block ends at the end of now's minute rounded up to a block; the oldest window ends
  // `lookbackMinutes` before that.
  const lastEnd = Math.ceil((Math.floor(ctx.now / BUCKET_MS) * BUCKET_MS + BUCKET_MS) / block) * block;
  const windowsCount = Math.max(1, Math.round(c.lookbackMinutes / BLOCK_MINUTES));
  const blockCount = windowsCount + blocksPerWindow - 1;
  const lateMetric = `${METRIC.deliveryLatePrefix}${c.thresholdMinutes}`;
  const severe = severeThreshold(c.thresholdMinutes);
  const severeMetric = severe === undefined ? undefined : `${METRIC.deliveryLatePrefix}${severe}`;

  const blocks: { deliveries: number; late: number; severeLate: number }[] = [];
  for (let i = blockCount - 1; i >= 0; i--) {
    const to = lastEnd - i * block;
    // `delivery` and every `delivery.late:N` in one query.
    const sums = await ctx.data.sumByPrefix(METRIC.delivery, to - block, to);
    blocks.push({
      deliveries: sums.get(METRIC.delivery)?.count ?? 0,
      late: sums.get(lateMetric)?.count ?? 0,
      severeLate: severeMetric ? (sums.get(severeMetric)?.count ?? 0) : 0,
    });
  }

  const keep = 100 - c.percentile;
  const out: Finding[] = [];
  for (let w = 0; w + blocksPerWindow <= blocks.length; w++) {
    const slice = blocks.slice(w, w + blocksPerWindow);
    const deliveries = slice.reduce((a, b) => a + b.deliveries, 0);
    const late = slice.reduce((a, b) => a + b.late, 0);
    const severeLate = slice.reduce((a, b) => a + b.severeLate, 0);
    if (deliveries < c.minDeliveries || !(late * 100 > keep * deliveries)) continue;
    const end = lastEnd - (blocks.length - (w + blocksPerWindow)) * block;
    const severity: Severity = severeMetric !== undefined && severeLate * 100 > keep * deliveries ? 'critical' : 'warning';
    out.push({ start: end - blocksPerWindow * block, end, deliveries, late, severeLate, severity });
  }
  return out;
}

export const webhookDelay: Detector<WebhookDelayConfig> = {
  name: 'webhook_delay',
  description: 'Webhook delivery delay (received − created) p95 over 15 minutes above 10 minutes.',
  configSchema: Type.Object(
    {
      thresholdMinutes: Type.Union(DELAY_THRESHOLDS_MINUTES.map((m) => Type.Literal(m))),
      percentile: Type.Integer({ minimum: 50, maximum: 99 }),
      windowMinutes: Type.Integer({ minimum: BLOCK_MINUTES, maximum: 120, multipleOf: BLOCK_MINUTES }),
      lookbackMinutes: Type.Integer({ minimum: BLOCK_MINUTES, maximum: 360, multipleOf: BLOCK_MINUTES }),
      minDeliveries: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    },
    { additionalProperties: false },
  ),
  defaults: { thresholdMinutes: 10, percentile: 95, windowMinutes: 15, lookbackMinutes: 60, minDeliveries: 20 },
  eventTypes: [],

  async evaluateSchedule(ctx) {
    const found = await findings(ctx);
    if (found.length === 0) return [];
    // The worst window speaks for the incident: critical first, then the highest late share, then the most deliveries.
    const worst = found.reduce((a, b) => {
      if (a.severity !== b.severity) return a.severity === 'critical' ? a : b;
      const byShare = b.late * a.deliveries - a.late * b.deliveries;
      return byShare > 0 || (byShare === 0 && b.deliveries > a.deliveries) ? b : a;
    });
    const c = ctx.config;
    const trigger: Trigger = {
      subjectType: 'tenant',
      subjectId: ctx.tenantId,
      severity: worst.severity,
      summary:
        `${worst.late} of ${worst.deliveries} webhooks created between ${new Date(worst.start).toISOString()} and ` +
        `${new Date(worst.end).toISOString()} arrived more than ${c.thresholdMinutes} min late (p${c.percentile} above ${c.thresholdMinutes} min)`,
      figures: {
        deliveries: worst.deliveries,
        late: worst.late,
        latePercent: ((worst.late * 100) / worst.deliveries).toFixed(1),
        thresholdMinutes: c.thresholdMinutes,
        percentile: c.percentile,
        ...(severeThreshold(c.thresholdMinutes) !== undefined ? { severeThresholdMinutes: severeThreshold(c.thresholdMinutes)!, severeLate: worst.severeLate } : {}),
        windowStart: new Date(worst.start).toISOString(),
        windowEnd: new Date(worst.end).toISOString(),
      },
      eventIds: [],
      at: ctx.now,
    };
    return [trigger];
  },

  async stillFiring(ctx) {
    return (await findings(ctx)).length > 0;
  },
};
