/**
 * revenue_drop — successful charge volume in a currency far below the same hours of previous weeks.
 *
 * Evaluated on the schedule at `ctx.now`, over COMPLETE hours only: the window is the trailing
 * `windowHours` (24) whole hours of event time ending at the start of the current hour (an hour counts
 * as complete `SETTLE_MINUTES` (5) after it ends, so webhooks delivered a few seconds late still land in
 * it). Each hour of the window is matched with the same hour of the week in each of the previous
 * `baselineWeeks` (4) weeks, and the window's volume is compared with the average of those weeks'
 * same-hour volumes. A partial hour or day is never compared with full ones: every window, current
 * and baseline, is made of whole hours, and the detector is silent until the tenant's history (first
 * stored event) reaches back to the start of the oldest baseline window.
 *
 * Volume is the `charge.captured:<currency>` bucket amount: integer minor units, per currency, never
 * summed across currencies (a JPY drop is judged against JPY only; USD is untouched by it). Fires for
 * a currency when the window's volume is below BOTH
 *   - `thresholdPercent` (50 %) of the baseline weeks' average — exact integer arithmetic:
 *     current × 100 × weeks < thresholdPercent × Σ baseline weeks; exactly at it does not fire; and
 *   - average − `zScore` (3) × the spread of those weeks' volumes (their sample standard deviation,
 *     widened by √(1 + 1/weeks) because the average itself comes from a few weeks) — a variance
 *     guard: a currency whose same hours swing between 40 % and 160 % of their average from week to
 *     week has not dropped when it shows 45 %.
 * Minimum expected volume: the currency must have averaged at least `minBaselineCharges` (100)
 * captured charges per window — a count, because a minimum amount means nothing across currencies —
 * since a sum of fewer heavy-tailed amounts halves by chance now and then (a few large orders less:
 * 39 % of the average on a 57-charge GBP segment in the quality benchmark), and the spread of four
 * weekly sums cannot show that reliably. A currency absent from the baseline cannot
 * drop; a currency present in the baseline but with no sales now is a 100 % drop.
 *
 * Fires once per dropping currency (subject: the tenant, one incident; figures carry the currency).
 * Severity: `warning`; `critical` below half the threshold (for the defaults: below 25 % of the
 * baseline). `stillFiring` re-evaluates at `ctx.now`: true while any currency is still below.
 * Duplicates and arrival order cannot matter: only event-time bucket sums are read.
 * The trigger time is `ctx.now` (the evaluation), not the window end, which lies up to 65 min earlier
 * and would fall outside the engine's live horizon.
 */
import { Type } from '@sinclair/typebox';
import { HOUR_MS, MINUTE_MS, WEEK_MS, type Detector, type DetectorContext, type Severity, type Trigger } from '../detector.js';
import { METRIC } from '../metrics.js';
import { formatMinor } from '../../pricing/format-money.js';
import { mean, sampleVariance } from '../statistics.js';
import { compareText } from '../../shared/compare-text.js';

export interface RevenueDropConfig extends Record<string, unknown> {
  thresholdPercent: number;
  windowHours: number;
  baselineWeeks: number;
  minBaselineCharges: number;
  zScore: number;
}

/** An hour is complete this long after it ends. */
export const SETTLE_MINUTES = 5;

type Ctx = DetectorContext<RevenueDropConfig>;

function money(minor: bigint, currency: string): string {
  try {
    return formatMinor(minor, currency);
  } catch {
    return `${minor} ${currency.toUpperCase()} (minor units)`;
  }
}

interface Finding {
  currency: string;
  current: bigint;
  currentCount: number;
  baselineTotal: bigint;
  baselineCount: number;
  weeks: number;
  /** The variance guard's limit (minor units): average − z × spread. */
  spreadLimit: number;
  severity: Severity;
}

interface Assessment {
  start: number;
  end: number;
  findings: Finding[];
}

async function assess(ctx: Ctx): Promise<Assessment | undefined> {
  const c = ctx.config;
  const end = Math.floor((ctx.now - SETTLE_MINUTES * MINUTE_MS) / HOUR_MS) * HOUR_MS;
  const start = end - c.windowHours * HOUR_MS;
  const first = await ctx.data.firstEventAt();
  if (first === undefined || first > start - c.baselineWeeks * WEEK_MS) return undefined;

  const totals = new Map<string, { amount: bigint; count: number; weekly: number[] }>();
  for (let k = 1; k <= c.baselineWeeks; k++) {
    // One query per week covers all hours of the window: the same hours of that week, summed.
    const week = await ctx.data.sumByPrefix(METRIC.chargeCapturedPrefix, start - k * WEEK_MS, end - k * WEEK_MS);
    for (const [metric, s] of week) {
      const currency = metric.slice(METRIC.chargeCapturedPrefix.length);
      const t = totals.get(currency) ?? { amount: 0n, count: 0, weekly: [] };
      t.amount += BigInt(s.amount);
      t.count += s.count;
      t.weekly[k - 1] = s.amount;
      totals.set(currency, t);
    }
  }
  const current = await ctx.data.sumByPrefix(METRIC.chargeCapturedPrefix, start, end);
  const weeks = BigInt(c.baselineWeeks);
  const pct = BigInt(c.thresholdPercent);
  const findings: Finding[] = [];
  for (const [currency, base] of [...totals].sort(([a], [b]) => compareText(a, b))) {
    if (base.amount <= 0n || base.count < c.minBaselineCharges * c.baselineWeeks) continue;
    const now = current.get(`${METRIC.chargeCapturedPrefix}${currency}`);
    const amount = BigInt(now?.amount ?? 0);
    // amount < p % × (Σ / weeks)  ⇔  amount × 100 × weeks < p × Σ
    if (!(amount * 100n * weeks < pct * base.amount)) continue;
    // Variance guard, in floating point: the spread is an estimate anyway (weeks without sales are 0).
    const weekly = Array.from({ length: c.baselineWeeks }, (_, i) => base.weekly[i] ?? 0);
    const spreadLimit = mean(weekly) - c.zScore * Math.sqrt(sampleVariance(weekly) * (1 + 1 / weekly.length));
    if (!(Number(amount) < spreadLimit)) continue;
    const severity: Severity = amount * 200n * weeks < pct * base.amount ? 'critical' : 'warning';
    findings.push({ currency, current: amount, currentCount: now?.count ?? 0, baselineTotal: base.amount, baselineCount: base.count, weeks: c.baselineWeeks, spreadLimit, severity });
  }
  return { start, end, findings };
}

export const revenueDrop: Detector<RevenueDropConfig> = {
  name: 'revenue_drop',
  description: 'Captured charge volume per currency over the last complete hours far below the same hours of previous weeks.',
  configSchema: Type.Object(
    {
      thresholdPercent: Type.Integer({ minimum: 1, maximum: 99 }),
      windowHours: Type.Integer({ minimum: 1, maximum: 168 }),
      baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
      minBaselineCharges: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      zScore: Type.Number({ minimum: 0, maximum: 20 }),
    },
    { additionalProperties: false },
  ),
  defaults: { thresholdPercent: 50, windowHours: 24, baselineWeeks: 4, minBaselineCharges: 100, zScore: 3 },
  eventTypes: [],

  async evaluateSchedule(ctx) {
    const a = await assess(ctx);
    if (!a) return [];
    return a.findings.map((f): Trigger => {
      const average = f.baselineTotal / BigInt(f.weeks);
      const ratePercent = f.baselineTotal > 0n ? Number((f.current * 1000n * BigInt(f.weeks)) / f.baselineTotal) / 10 : 0;
      return {
        subjectType: 'tenant',
        subjectId: ctx.tenantId,
        severity: f.severity,
        summary:
          `${f.currency.toUpperCase()} revenue ${money(f.current, f.currency)} in the ${ctx.config.windowHours} h to ` +
          `${new Date(a.end).toISOString()}, ${ratePercent}% of the ${money(average, f.currency)} average of the same hours ` +
          `in the previous ${f.weeks} weeks`,
        figures: {
          currency: f.currency,
          capturedAmount: Number(f.current),
          capturedCount: f.currentCount,
          captured: money(f.current, f.currency),
          baselineAverageAmount: Number(average),
          baselineAverage: money(average, f.currency),
          baselineCharges: f.baselineCount,
          spreadLimitAmount: Math.max(0, Math.floor(f.spreadLimit)),
          ratePercent: ratePercent.toFixed(1),
          thresholdPercent: ctx.config.thresholdPercent,
          windowStart: new Date(a.start).toISOString(),
          windowEnd: new Date(a.end).toISOString(),
        },
        eventIds: [],
        at: ctx.now,
      };
    });
  },

  async stillFiring(ctx) {
    const a = await assess(ctx);
    return a !== undefined && a.findings.length > 0;
  },
};
