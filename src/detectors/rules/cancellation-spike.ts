/**
 * cancellation_spike — subscriptions turning canceled far above the tenant's normal rate.
 *
 * What counts as a cancellation (the same rule as the `subscription.canceled` bucket metric):
 * `customer.subscription.deleted`; `customer.subscription.updated` whose `previous_attributes.status`
 * was not `canceled` and whose status now is; `customer.subscription.updated` whose
 * `previous_attributes.cancel_at_period_end` was false and is now true (a cancellation scheduled for
 * the period end). In the current window each subscription counts ONCE, so "scheduled, then deleted"
 * is one cancellation, not two.
 *
 * Fires (subject: the tenant) when, in a trailing window of 1 h or of 24 h of event time (Stripe
 * `created`), the number of canceled subscriptions reaches ALL of
 *   - the window's minimum count (`hourMinCount` 5, `dayMinCount` 15),
 *   - `multiplier` (3) × the expected count, and
 *   - expected + `zScore` (5) × spread — a guard against chance, so a tenant whose same hour normally
 *     sees 2 cancellations is not paged for 6 (that happens by chance about once a week). The spread
 *     is √(max(expected, s²) × (1 + 1/weeks)): Poisson noise or, when larger, the variance s² the
 *     same hours showed across the baseline weeks, widened because their average comes from a few
 *     weeks (with no baseline week, √expected).
 * Expected count: the average of the same window (same hours of the week) in each of the previous
 * `baselineWeeks` (4) weeks, from the `subscription.canceled` buckets, using only weeks the tenant has
 * history for (from its first stored event) — but never less than the tenant's average rate for a
 * window of that length over the (up to `baselineWeeks`) weeks of history before the window, all
 * hours, once it has a day of it (a minimum expected volume: an hour that happened to be empty in
 * two earlier weeks does not make the tenant's ordinary rate a spike). With neither, the expected
 * count is 0 and only the minimum count applies.
 *
 * Out-of-order arrival: Stripe does not order deliveries, so the windows examined are every window
 * that ENDS at a stored cancellation and CONTAINS a cancellation of this batch (for each batch event,
 * the windows (f − W, f] with f its own time or a later cancellation's time within W). Whichever
 * event of a spike arrives last therefore sees the whole spike. Overlapping firing windows are
 * reported once, by the fullest one. Windows use event time only, never arrival time; redeliveries
 * never reach the detector and a subscription counts once per window, so duplicates change nothing.
 *
 * Not a spike: cancellations at the tenant's usual rate (a busy hour of the week that is always busy),
 * a single subscription updated repeatedly, a resumed subscription (`cancel_at_period_end` true →
 * false), other subscription updates (plan, quantity, status → past_due).
 *
 * Severity: `warning`; `critical` when the count reaches 2 × the threshold.
 * `stillFiring` re-checks both windows ending at `ctx.now`, so the incident auto-resolves once the
 * windows have slid past the spike.
 */
import { Type } from '@sinclair/typebox';
import { DAY_MS, HOUR_MS, WEEK_MS, type Detector, type DetectorContext, type DetectorEvent, type OpenIncident, type Severity, type Trigger } from '../detector.js';
import { BUCKET_MS, METRIC } from '../metrics.js';
import { countSpread, mean } from '../statistics.js';
import { compareText } from '../../shared/compare-text.js';

export interface CancellationSpikeConfig extends Record<string, unknown> {
  multiplier: number;
  hourMinCount: number;
  dayMinCount: number;
  zScore: number;
  baselineWeeks: number;
}

const SUBSCRIPTION_TYPES = ['customer.subscription.deleted', 'customer.subscription.updated'];
const EVIDENCE_LIMIT = 50;
const PAGE = 5_000;
const MAX_EVENTS = 200_000;

type Ctx = DetectorContext<CancellationSpikeConfig>;

interface Cancellation {
  /** Stripe `created`, seconds. */
  t: number;
  subscriptionId: string;
  eventId: string;
}

interface WindowSpec {
  label: '1h' | '24h';
  ms: number;
  minCount: (c: CancellationSpikeConfig) => number;
}

const WINDOWS: readonly WindowSpec[] = [
  { label: '1h', ms: HOUR_MS, minCount: (c) => c.hourMinCount },
  { label: '24h', ms: DAY_MS, minCount: (c) => c.dayMinCount },
];

/** The `subscription.canceled` rule of the bucket metrics, applied to one event. */
export function isCancellation(e: DetectorEvent): boolean {
  if (e.type === 'customer.subscription.deleted') return true;
  if (e.type !== 'customer.subscription.updated') return false;
  const prev = e.previousAttributes ?? {};
  const o = e.object;
  const turnedCanceled = 'status' in prev && prev.status !== 'canceled' && o.status === 'canceled';
  const scheduledCancel = prev.cancel_at_period_end === false && o.cancel_at_period_end === true;
  return turnedCanceled || scheduledCancel;
}

function toCancellation(e: DetectorEvent): Cancellation {
  return { t: e.created, subscriptionId: e.objectId ?? e.eventId, eventId: e.eventId };
}

/** Every subscription event with `created` in [since, until) seconds, paging newest-first. */
async function subscriptionEvents(ctx: Ctx, since: number, until: number): Promise<DetectorEvent[]> {
  const seen = new Map<string, DetectorEvent>();
  let upper = until;
  for (;;) {
    const page = await ctx.data.events({ types: SUBSCRIPTION_TYPES, since, until: upper, limit: PAGE });
    for (const e of page) seen.set(e.eventId, e);
    const oldest = page[page.length - 1];
    if (page.length < PAGE || !oldest || seen.size >= MAX_EVENTS) break;
    // Continue below the oldest second (re-reading that second; the map drops the repeats).
    if (oldest.created + 1 >= upper) break;
    upper = oldest.created + 1;
  }
  return [...seen.values()];
}

const sortCancellations = (list: Cancellation[]) =>
  list.sort((a, b) => a.t - b.t || compareText(a.eventId, b.eventId));

/**
 * Distinct subscriptions in (t_j − W, t_j] up to index j of the sorted list. For the last index of a
 * second this is the whole window ending at that second (callers use only those).
 */
function distinctCounts(sorted: Cancellation[], windowSeconds: number): number[] {
  const counts: number[] = [];
  const inWindow = new Map<string, number>();
  let lo = 0;
  for (let j = 0; j < sorted.length; j++) {
    const cur = sorted[j]!;
    inWindow.set(cur.subscriptionId, (inWindow.get(cur.subscriptionId) ?? 0) + 1);
    while (lo <= j && sorted[lo]!.t <= cur.t - windowSeconds) {
      const id = sorted[lo]!.subscriptionId;
      const n = (inWindow.get(id) ?? 0) - 1;
      if (n <= 0) inWindow.delete(id);
      else inWindow.set(id, n);
      lo++;
    }
    counts.push(inWindow.size);
  }
  return counts;
}

interface Expectation {
  expected: number;
  /** The same window in each baseline week with history (may be empty). */
  weekly: number[];
  basis: string;
}

/** Expected cancellations in the window [end − W, end) (ms, minute-aligned). */
async function expectation(ctx: Ctx, windowMs: number, end: number, firstEventAt: number | undefined): Promise<Expectation> {
  const start = end - windowMs;
  if (firstEventAt === undefined) return { expected: 0, weekly: [], basis: 'no history' };
  const firstBucket = Math.floor(firstEventAt / BUCKET_MS) * BUCKET_MS;
  const weekly: number[] = [];
  for (let k = 1; k <= ctx.config.baselineWeeks; k++) {
    const from = start - k * WEEK_MS;
    if (from < firstBucket) break;
    weekly.push((await ctx.data.sum(METRIC.subscriptionCanceled, from, end - k * WEEK_MS)).count);
  }
  // The tenant's average rate over the history before the window, all hours: the floor.
  const from = Math.max(firstBucket, start - ctx.config.baselineWeeks * WEEK_MS);
  let average: number | undefined;
  if (start - from >= DAY_MS) average = ((await ctx.data.sum(METRIC.subscriptionCanceled, from, start)).count * windowMs) / (start - from);
  const averageBasis = `average rate over ${Math.round((start - from) / HOUR_MS)} h of history`;
  if (weekly.length > 0) {
    const sameHours = mean(weekly);
    if (average !== undefined && average > sameHours) return { expected: average, weekly, basis: `${averageBasis} (same hours of ${weekly.length} previous week(s): ${sameHours.toFixed(2)})` };
    return { expected: sameHours, weekly, basis: `same hours of ${weekly.length} previous week(s)` };
  }
  if (average === undefined) return { expected: 0, weekly, basis: 'under a day of history' };
  return { expected: average, weekly, basis: averageBasis };
}

function thresholdOf(c: CancellationSpikeConfig, minCount: number, exp: Expectation): number {
  const spread = exp.weekly.length > 0 ? countSpread(exp.weekly, exp.expected) : Math.sqrt(exp.expected);
  return Math.max(minCount, Math.ceil(c.multiplier * exp.expected - 1e-9), Math.ceil(exp.expected + c.zScore * spread - 1e-9));
}

interface Finding {
  window: WindowSpec;
  /** Window end, exclusive, minute-aligned (ms). */
  end: number;
  /** Event time (ms) of the cancellation ending the window. */
  at: number;
  count: number;
  expected: Expectation;
  threshold: number;
  eventIds: string[];
}

function triggerOf(ctx: Ctx, f: Finding): Trigger {
  const severity: Severity = f.count >= 2 * f.threshold ? 'critical' : 'warning';
  return {
    subjectType: 'tenant',
    subjectId: ctx.tenantId,
    severity,
    summary:
      `${f.count} subscriptions canceled within ${f.window.label === '1h' ? '1 hour' : '24 hours'} ` +
      `(expected ${f.expected.expected.toFixed(1)}, threshold ${f.threshold})`,
    figures: {
      window: f.window.label,
      canceled: f.count,
      expected: f.expected.expected.toFixed(2),
      baseline: f.expected.basis,
      sameHoursWeekly: f.expected.weekly.join(','),
      threshold: f.threshold,
      multiplier: ctx.config.multiplier,
      minCount: f.window.minCount(ctx.config),
      windowStart: new Date(f.end - f.window.ms).toISOString(),
      windowEnd: new Date(f.end).toISOString(),
    },
    eventIds: f.eventIds,
    at: f.at,
  };
}

export const cancellationSpike: Detector<CancellationSpikeConfig> = {
  name: 'cancellation_spike',
  description: 'Subscriptions turning canceled over 1 h or 24 h far above the same hours of previous weeks.',
  configSchema: Type.Object(
    {
      multiplier: Type.Number({ minimum: 1.5, maximum: 100 }),
      hourMinCount: Type.Integer({ minimum: 2, maximum: 1_000_000 }),
      dayMinCount: Type.Integer({ minimum: 2, maximum: 1_000_000 }),
      zScore: Type.Number({ minimum: 0, maximum: 20 }),
      baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
    },
    { additionalProperties: false },
  ),
  defaults: { multiplier: 3, hourMinCount: 5, dayMinCount: 15, zScore: 5, baselineWeeks: 4 },
  eventTypes: SUBSCRIPTION_TYPES,

  async evaluateEvents(ctx, events) {
    const batch = sortCancellations(events.filter(isCancellation).map(toCancellation));
    if (batch.length === 0) return [];
    const batchIds = new Set(batch.map((c) => c.eventId));
    const firstEventAt = await ctx.data.firstEventAt();
    const expectations = new Map<string, Expectation>();
    const triggers: Trigger[] = [];

    for (const spec of WINDOWS) {
      const w = spec.ms / 1000;
      const minCount = spec.minCount(ctx.config);
      // Merge the ranges [t − W, t + W] of the batch's cancellations, read each once.
      const ranges: [number, number][] = [];
      for (const c of batch) {
        const last = ranges[ranges.length - 1];
        if (last && c.t - w <= last[1]) last[1] = Math.max(last[1], c.t + w);
        else ranges.push([c.t - w, c.t + w]);
      }
      const findings: Finding[] = [];
      for (const [since, until] of ranges) {
        const stored = sortCancellations((await subscriptionEvents(ctx, since, until + 1)).filter(isCancellation).map(toCancellation));
        if (stored.length < minCount) continue;
        const counts = distinctCounts(stored, w);
        // Windows ending at stored[j] that contain a batch event: t_e ∈ (stored[j].t − W, stored[j].t].
        let b = 0;
        for (let j = 0; j < stored.length; j++) {
          const end = stored[j]!;
          const count = counts[j]!;
          if (count < minCount) continue;
          // the last window ending in the same second covers the others of that second
          if (j + 1 < stored.length && stored[j + 1]!.t === end.t) continue;
          while (b < batch.length && batch[b]!.t <= end.t - w) b++;
          if (b >= batch.length || batch[b]!.t > end.t) continue;
          const windowEnd = Math.floor((end.t * 1000) / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
          const key = `${spec.label}|${windowEnd}`;
          let exp = expectations.get(key);
          if (!exp) {
            exp = await expectation(ctx, spec.ms, windowEnd, firstEventAt);
            expectations.set(key, exp);
          }
          const threshold = thresholdOf(ctx.config, minCount, exp);
          if (count < threshold) continue;
          // Evidence: the batch's own cancellations in the window first (they decide whether the
          // incident is live or historical), then the window's most recent others.
          const inWindow = stored.filter((c) => c.t > end.t - w && c.t <= end.t).map((c) => c.eventId);
          const own = inWindow.filter((id) => batchIds.has(id));
          const eventIds = [...new Set([...own, ...inWindow.reverse()])].slice(0, EVIDENCE_LIMIT);
          findings.push({ window: spec, end: windowEnd, at: end.t * 1000, count, expected: exp, threshold, eventIds });
        }
      }
      // Overlapping firing windows are one spike: report its fullest window (earliest on ties).
      let group: Finding | undefined;
      let groupEnd = -Infinity;
      for (const f of findings) {
        if (group && f.end - spec.ms < groupEnd) {
          if (f.count > group.count) group = f;
          groupEnd = Math.max(groupEnd, f.end);
          continue;
        }
        if (group) triggers.push(triggerOf(ctx, group));
        group = f;
        groupEnd = f.end;
      }
      if (group) triggers.push(triggerOf(ctx, group));
    }
    return triggers;
  },

  async stillFiring(ctx: Ctx, _incident: OpenIncident) {
    const nowSeconds = Math.floor(ctx.now / 1000);
    const end = Math.floor(ctx.now / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
    const stored = (await subscriptionEvents(ctx, nowSeconds - DAY_MS / 1000, nowSeconds + 1)).filter(isCancellation).map(toCancellation);
    const firstEventAt = await ctx.data.firstEventAt();
    for (const spec of WINDOWS) {
      const from = nowSeconds - spec.ms / 1000;
      const count = new Set(stored.filter((c) => c.t > from).map((c) => c.subscriptionId)).size;
      const minCount = spec.minCount(ctx.config);
      if (count < minCount) continue;
      const exp = await expectation(ctx, spec.ms, end, firstEventAt);
      if (count >= thresholdOf(ctx.config, minCount, exp)) return true;
    }
    return false;
  },
};
