/**
 * new_subscription_drop — far fewer new subscriptions than the same hours of previous weeks.
 *
 * Evaluated on the schedule at `ctx.now`, over COMPLETE hours only: the window is the trailing
 * `windowHours` (24) whole hours of event time (Stripe `created`) ending at the start of the current
 * hour — an hour counts as complete `SETTLE_MINUTES` (5) after it ends, so webhooks delivered a few
 * seconds late still land in it. A partial hour or day is never compared with full ones.
 *
 * Fires (subject: the tenant) when the window's `subscription.created` count (one per
 * `customer.subscription.created` event) is below BOTH
 *   - `thresholdPercent` (50 %) of the baseline, and
 *   - baseline − `zScore` (3) × spread, where the spread is √(max(baseline, s²) × (1 + 1/weeks)):
 *     Poisson noise or, when larger, the variance s² the same hours actually showed across the
 *     baseline weeks (sign-ups swing from week to week more than Poisson), widened because the
 *     baseline is an average of only a few weeks. So a tenant that averages 12 new subscriptions a day
 *     is not paged for a day with 5, and one whose same weekday saw 18, 26, 27 and 30 is not paged for
 *     10 — both happen by chance;
 * where the baseline is the average count of the same window (same weekday and hours) in each of the
 * previous `baselineWeeks` (4) weeks, from the bucket metrics.
 *
 * Needs history, silent without it: nothing fires until the tenant's first stored event is at least
 * `baselineWeeks` weeks before the window starts (webhooks or backfill), and the baseline averages at
 * least `minBaseline` (10) new subscriptions per window — a tenant with 2 sign-ups a day cannot show a
 * meaningful 50 % drop. Exactly at the threshold (e.g. 20 against a baseline of 40) does not fire.
 *
 * Severity: `warning`; `critical` when the count is below half the firing limit (for the defaults
 * and a large baseline: below 25 % of it). `stillFiring` re-evaluates the latest complete window at
 * `ctx.now`, so the incident auto-resolves once new subscriptions recover (or the window moves on).
 * Duplicates and arrival order cannot matter: only event-time bucket counts are read.
 * The trigger time is `ctx.now` (the evaluation), not the window end, which lies up to 65 min earlier
 * and would fall outside the engine's live horizon.
 */
import { Type } from '@sinclair/typebox';
import { HOUR_MS, MINUTE_MS, WEEK_MS, type Detector, type DetectorContext, type Severity, type Trigger } from '../detector.js';
import { METRIC } from '../metrics.js';
import { countSpread } from '../statistics.js';

export interface NewSubscriptionDropConfig extends Record<string, unknown> {
  thresholdPercent: number;
  windowHours: number;
  baselineWeeks: number;
  minBaseline: number;
  zScore: number;
}

/** An hour is complete this long after it ends. */
export const SETTLE_MINUTES = 5;

type Ctx = DetectorContext<NewSubscriptionDropConfig>;

interface Assessment {
  start: number;
  end: number;
  count: number;
  baseline: number;
  weekly: number[];
  limit: number;
  firing: boolean;
  severity: Severity;
}

async function assess(ctx: Ctx): Promise<Assessment | undefined> {
  const c = ctx.config;
  const end = Math.floor((ctx.now - SETTLE_MINUTES * MINUTE_MS) / HOUR_MS) * HOUR_MS;
  const start = end - c.windowHours * HOUR_MS;
  const first = await ctx.data.firstEventAt();
  if (first === undefined || first > start - c.baselineWeeks * WEEK_MS) return undefined;

  const weekly: number[] = [];
  for (let k = 1; k <= c.baselineWeeks; k++) {
    weekly.push((await ctx.data.sum(METRIC.subscriptionCreated, start - k * WEEK_MS, end - k * WEEK_MS)).count);
  }
  const baseline = weekly.reduce((a, b) => a + b, 0) / weekly.length;
  if (baseline < c.minBaseline) return undefined;

  const count = (await ctx.data.sum(METRIC.subscriptionCreated, start, end)).count;
  const limit = Math.min((baseline * c.thresholdPercent) / 100, baseline - c.zScore * countSpread(weekly, baseline));
  const firing = count < limit;
  const severity: Severity = count < limit / 2 ? 'critical' : 'warning';
  return { start, end, count, baseline, weekly, limit, firing, severity };
}

export const newSubscriptionDrop: Detector<NewSubscriptionDropConfig> = {
  name: 'new_subscription_drop',
  description: 'New subscriptions over the last complete 24 h below 50% of the same weekday-hours of the previous 4 weeks.',
  configSchema: Type.Object(
    {
      thresholdPercent: Type.Integer({ minimum: 1, maximum: 99 }),
      windowHours: Type.Integer({ minimum: 1, maximum: 168 }),
      baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
      minBaseline: Type.Number({ minimum: 1, maximum: 1_000_000 }),
      zScore: Type.Number({ minimum: 0, maximum: 20 }),
    },
    { additionalProperties: false },
  ),
  defaults: { thresholdPercent: 50, windowHours: 24, baselineWeeks: 4, minBaseline: 10, zScore: 3 },
  eventTypes: [],

  async evaluateSchedule(ctx) {
    const a = await assess(ctx);
    if (!a?.firing) return [];
    const trigger: Trigger = {
      subjectType: 'tenant',
      subjectId: ctx.tenantId,
      severity: a.severity,
      summary:
        `${a.count} new subscriptions in the ${ctx.config.windowHours} h to ${new Date(a.end).toISOString()} ` +
        `against ${a.baseline.toFixed(1)} on average in the same hours of the previous ${a.weekly.length} weeks`,
      figures: {
        created: a.count,
        baselineAverage: a.baseline.toFixed(2),
        baselineWeeks: a.weekly.join(','),
        limit: a.limit.toFixed(2),
        thresholdPercent: ctx.config.thresholdPercent,
        ratePercent: ((a.count * 100) / a.baseline).toFixed(1),
        windowStart: new Date(a.start).toISOString(),
        windowEnd: new Date(a.end).toISOString(),
      },
      eventIds: [],
      at: ctx.now,
    };
    return [trigger];
  },

  async stillFiring(ctx) {
    return (await assess(ctx))?.firing ?? false;
  },
};
