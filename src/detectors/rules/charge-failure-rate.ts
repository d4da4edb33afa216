/**
 * charge_failure_rate — the tenant's card failures jump over a trailing hour.
 *
 * Fires when, over a trailing hour of EVENT time (Stripe `created`, one-minute buckets: the hour
 * ending with the minute of a charge attempt, i.e. that minute and the 59 before it):
 *   - failed ÷ attempted charges ≥ `thresholdPercent` (default 15 %), and
 *   - attempted charges ≥ `minAttempts` (default 20), and
 *   - the rise over the tenant's own baseline is significant: the lower Wilson score bound of the
 *     hour's failure rate (at `zScore`, default 3.5) exceeds the upper Wilson bound of the baseline
 *     rate (same z) by at least `marginPercent` (default 5) percentage points, and the hour's rate is
 *     ≥ `baselineMultiplier` (default 2) × the baseline rate;
 *   - and all of the above (the threshold, and the test against the baseline) also hold for PAYMENTS:
 *     the window's charges grouped by payment intent (a charge without one is its own payment), a
 *     payment failed when it has a declined charge and no successful one in the window. A declined
 *     customer retrying the same payment three times is one failed payment (one customer's retry
 *     loop is customer_failure_cluster's finding), and one who then pays is none. Read from the
 *     window's charge events only for a window that already passed on charges; skipped when the
 *     window holds more charge events than are read at once (5,000), where retries cannot matter.
 * The baseline is the pooled failed ÷ attempted of the same trailing hour (same hour of the week) in
 * each of the previous `baselineWeeks` (default 4) weeks, read from the buckets. When those hours hold
 * fewer than `minBaselineAttempts` (default 100) attempts (a quiet night, a tenant in its first weeks),
 * the tenant's pooled rate over the up to 7 days before the window (all hours) is the baseline, if it
 * has that many or at least more; a thinner baseline is still used (its upper bound is wide, so a
 * tenant's first hours cannot page on chance). Only a tenant with no charge attempt at all before the
 * window is judged by the absolute threshold alone (on charges and on payments).
 *
 * Why the bounds: at a normal 7 % decline rate, 3 of 20 or 7 of 20 failed charges happen by chance
 * many times a week on a busy tenant, and a declined customer's retries cluster failures further
 * (hence payments). Two non-overlapping bounds at z = 3.5 plus a 5-point margin keep chance (and a
 * thin baseline, whose upper bound is wide) from paging, while card testing (40–85 % declined, one
 * payment per attempt) clears them within minutes.
 * Counts come from the engine's buckets (`charge.attempt`, `charge.failed`), payments from the stored
 * events; both count each stored event once: a redelivered failure is never a second failure.
 *
 * Does not fire: below the threshold or at 19 attempts; when the tenant always fails this much at that
 * hour of the week (e.g. 20 % against a 12 % baseline); when the rise is within chance for the volume
 * (7 of 20 against a 7 % baseline); when the failures are a few customers retrying (9 declined
 * charges that are 5 payments of 20); on a partial hour that has too few attempts.
 *
 * Out-of-order arrival: a late event changes every trailing hour that contains it, so each batch
 * re-evaluates the hours ending at every attempted minute from the event's minute to 59 minutes after
 * it (per-minute bucket series, one read per metric and range), not only the hour ending at the event.
 *
 * Severity: `warning`; `critical` when the rate is ≥ 2 × `thresholdPercent` (30 % by default).
 * Subject: the tenant. Auto-resolves: `stillFiring` re-applies the rule to the trailing hour ending at
 * `ctx.now`; once that hour no longer meets it, the engine resolves the incident after its quiet period.
 * The threshold comparisons are done in integers (cross-multiplied), so 3 of 20 is exactly 15 %.
 */
import { Type } from '@sinclair/typebox';
import {
  HOUR_MS,
  WEEK_MS,
  type Detector,
  type DetectorContext,
  type DetectorEvent,
  type OpenIncident,
  type Severity,
  type Trigger,
} from '../detector.js';
import { BUCKET_MS, METRIC } from '../metrics.js';
import { wilsonInterval } from '../statistics.js';

export interface ChargeFailureRateConfig extends Record<string, unknown> {
  thresholdPercent: number;
  minAttempts: number;
  baselineMultiplier: number;
  baselineWeeks: number;
  minBaselineAttempts: number;
  zScore: number;
  marginPercent: number;
}

const configSchema = Type.Object(
  {
    thresholdPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    minAttempts: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    baselineMultiplier: Type.Number({ minimum: 1, maximum: 100 }),
    baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
    minBaselineAttempts: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    zScore: Type.Number({ minimum: 0, maximum: 10 }),
    marginPercent: Type.Number({ minimum: 0, maximum: 100 }),
  },
  { additionalProperties: false },
);

const defaults: ChargeFailureRateConfig = {
  thresholdPercent: 15,
  minAttempts: 20,
  baselineMultiplier: 2,
  baselineWeeks: 4,
  minBaselineAttempts: 100,
  zScore: 3.5,
  marginPercent: 5,
};

const WINDOW_MS = HOUR_MS;
const WINDOW_MINUTES = WINDOW_MS / BUCKET_MS;
const EVIDENCE_LIMIT = 100;
/** With too little same-hour history, the tenant's pooled rate over this many days before the window. */
const FALLBACK_DAYS = 7;
/** Charge events read at once to count a window's payments. */
const PAYMENT_SCAN_LIMIT = 5_000;

type Ctx = DetectorContext<ChargeFailureRateConfig>;

interface Counts {
  attempts: number;
  failed: number;
}

interface Baseline extends Counts {
  basis: 'same hour of previous weeks' | 'previous days, all hours';
}

interface Verdict {
  fires: boolean;
  severity: Severity;
  attempts: number;
  failed: number;
  /** undefined: no baseline history, the absolute threshold decided. */
  baseline: Baseline | undefined;
  /** Wilson bounds (fractions) behind the decision (the payments' when they were counted); undefined without a baseline. */
  observedLower: number | undefined;
  baselineUpper: number | undefined;
  /** The window's payments (undefined when there were too many events to read). */
  payments: Counts | undefined;
}

const floorBucket = (ms: number): number => Math.floor(ms / BUCKET_MS) * BUCKET_MS;

/** Integer-safe "a/b ≥ p %": a·100 ≥ p·b. */
function rateAtLeastPercent(failed: number, attempts: number, percent: number): boolean {
  return attempts > 0 && failed * 100 >= percent * attempts;
}

function percentText(failed: number, attempts: number): string {
  if (attempts <= 0) return 'n/a';
  return `${((failed * 100) / attempts).toFixed(2)}%`;
}

async function countsIn(ctx: Ctx, fromMs: number, toMs: number): Promise<Counts> {
  const [attempts, failed] = await Promise.all([
    ctx.data.sum(METRIC.chargeAttempt, fromMs, toMs),
    ctx.data.sum(METRIC.chargeFailed, fromMs, toMs),
  ]);
  return { attempts: attempts.count, failed: failed.count };
}

/** Per-minute attempts and failures over [fromMs, toMs): one series read per metric. */
async function minuteCounts(ctx: Ctx, fromMs: number, toMs: number, into: Map<number, Counts>): Promise<void> {
  const [attempts, failed] = await Promise.all([
    ctx.data.series(METRIC.chargeAttempt, fromMs, toMs),
    ctx.data.series(METRIC.chargeFailed, fromMs, toMs),
  ]);
  for (const b of attempts) into.set(b.bucketStart, { attempts: b.count, failed: 0 });
  for (const b of failed) {
    const c = into.get(b.bucketStart);
    if (c) c.failed = b.count;
    else into.set(b.bucketStart, { attempts: 0, failed: b.count });
  }
}

/**
 * The tenant's own failure rate for this window: the same hour of the previous `baselineWeeks` weeks,
 * pooled; when that is too thin, the pooled rate of the days before the window; undefined when the
 * tenant has no such history either.
 */
async function baselineFor(ctx: Ctx, fromMs: number, toMs: number): Promise<Baseline | undefined> {
  const weeks = Array.from({ length: ctx.config.baselineWeeks }, (_, i) => (i + 1) * WEEK_MS);
  const parts = await Promise.all(weeks.map((shift) => countsIn(ctx, fromMs - shift, toMs - shift)));
  const pooled = parts.reduce((acc, c) => ({ attempts: acc.attempts + c.attempts, failed: acc.failed + c.failed }), { attempts: 0, failed: 0 });
  if (pooled.attempts >= ctx.config.minBaselineAttempts) return { ...pooled, basis: 'same hour of previous weeks' };
  const recent = await countsIn(ctx, fromMs - FALLBACK_DAYS * 24 * HOUR_MS, fromMs);
  if (recent.attempts >= ctx.config.minBaselineAttempts || recent.attempts > pooled.attempts) return { ...recent, basis: 'previous days, all hours' };
  // Thin, but history all the same: its wide upper bound keeps chance from paging.
  if (pooled.attempts > 0) return { ...pooled, basis: 'same hour of previous weeks' };
  return undefined;
}

/** The absolute part of the rule (threshold and volume), without the baseline. */
function meetsAbsolute(cfg: ChargeFailureRateConfig, c: Counts): boolean {
  return c.attempts >= cfg.minAttempts && rateAtLeastPercent(c.failed, c.attempts, cfg.thresholdPercent);
}

/**
 * Significantly above the baseline: the hour's lower Wilson bound clears the baseline's upper bound
 * by the margin, and the point rates differ by the multiplier (failed/attempts ≥ multiplier × bf/ba,
 * cross-multiplied: failed·ba ≥ multiplier·bf·attempts).
 */
function aboveBaseline(cfg: ChargeFailureRateConfig, c: Counts, baseline: Counts): { fires: boolean; lower: number; upper: number } {
  const lower = wilsonInterval(c.failed, c.attempts, cfg.zScore).lower;
  const upper = wilsonInterval(baseline.failed, baseline.attempts, cfg.zScore).upper;
  const multiple = c.failed * baseline.attempts >= cfg.baselineMultiplier * baseline.failed * c.attempts;
  return { fires: multiple && lower >= upper + cfg.marginPercent / 100, lower, upper };
}

/**
 * The window's payments: charges grouped by payment intent (a charge without one is its own payment).
 * A payment failed when it has a declined charge and no successful one in the window, so a customer
 * retrying a declined card is one failed payment, and one who then pays is none. Undefined when the
 * window holds more charge events than are read at once (at such volume retries cannot move the rate).
 */
async function paymentCounts(ctx: Ctx, fromMs: number, toMs: number): Promise<Counts | undefined> {
  // Keys only: a charge's stored refId is its payment intent, so no payload is read or parsed.
  const events = await ctx.data.eventKeys({
    types: ['charge.failed', 'charge.succeeded'],
    since: Math.floor(fromMs / 1000),
    until: Math.ceil(toMs / 1000),
    limit: PAYMENT_SCAN_LIMIT,
  });
  if (events.length >= PAYMENT_SCAN_LIMIT) return undefined;
  const payments = new Map<string, { failed: boolean; succeeded: boolean }>();
  for (const e of events) {
    const created = e.created * 1000;
    if (created < fromMs || created >= toMs) continue;
    const key = e.refId ?? e.objectId ?? e.eventId;
    const p = payments.get(key) ?? { failed: false, succeeded: false };
    if (e.type === 'charge.failed') p.failed = true;
    else p.succeeded = true;
    payments.set(key, p);
  }
  let failed = 0;
  for (const p of payments.values()) if (p.failed && !p.succeeded) failed += 1;
  return { attempts: payments.size, failed };
}

async function judge(ctx: Ctx, fromMs: number, toMs: number, counts: Counts): Promise<Verdict> {
  const cfg = ctx.config;
  const severity: Severity = rateAtLeastPercent(counts.failed, counts.attempts, 2 * cfg.thresholdPercent) ? 'critical' : 'warning';
  const none = { observedLower: undefined, baselineUpper: undefined, payments: undefined };
  if (!meetsAbsolute(cfg, counts)) return { fires: false, severity, ...counts, baseline: undefined, ...none };
  const baseline = await baselineFor(ctx, fromMs, toMs);
  let test = baseline ? aboveBaseline(cfg, counts, baseline) : undefined;
  if (test && !test.fires) return { fires: false, severity, ...counts, baseline, ...none, observedLower: test.lower, baselineUpper: test.upper };
  // The same rule for payments: one customer's retry loop is customer_failure_cluster's finding, not a tenant-wide spike.
  // The bucket counts already say when the window holds more charges than one read takes: skip the read.
  const payments = counts.attempts >= PAYMENT_SCAN_LIMIT ? undefined : await paymentCounts(ctx, fromMs, toMs);
  let fires = true;
  if (payments) {
    fires = rateAtLeastPercent(payments.failed, payments.attempts, cfg.thresholdPercent);
    if (fires && baseline) {
      test = aboveBaseline(cfg, payments, baseline);
      fires = test.fires;
    }
  }
  return { fires, severity, ...counts, baseline, observedLower: test?.lower, baselineUpper: test?.upper, payments };
}

function trigger(ctx: Ctx, fromMs: number, toMs: number, v: Verdict, eventIds: string[]): Trigger {
  const cfg = ctx.config;
  const rate = percentText(v.failed, v.attempts);
  const baselineText = v.baseline ? percentText(v.baseline.failed, v.baseline.attempts) : 'none';
  return {
    subjectType: 'tenant',
    subjectId: ctx.tenantId,
    severity: v.severity,
    summary:
      `${v.failed} of ${v.attempts} charges failed (${rate}) in the hour ending ${new Date(toMs).toISOString()}` +
      (v.payments ? ` (${v.payments.failed} of ${v.payments.attempts} payments)` : '') +
      '; ' +
      (v.baseline
        ? `usual rate (${v.baseline.basis}) is ${baselineText}`
        : `no baseline for this hour of the week yet`) +
      (v.observedLower !== undefined && v.baselineUpper !== undefined
        ? ` (lower bound ${(v.observedLower * 100).toFixed(1)}% against an upper bound of ${(v.baselineUpper * 100).toFixed(1)}%)`
        : ''),
    figures: {
      attempts: v.attempts,
      failed: v.failed,
      failureRate: rate,
      thresholdPercent: cfg.thresholdPercent,
      minAttempts: cfg.minAttempts,
      baselineRate: baselineText,
      baselineAttempts: v.baseline?.attempts ?? 0,
      baselineFailed: v.baseline?.failed ?? 0,
      baselineMultiplier: cfg.baselineMultiplier,
      baselineBasis: v.baseline?.basis ?? 'none',
      ...(v.payments ? { payments: v.payments.attempts, failedPayments: v.payments.failed } : {}),
      ...(v.observedLower !== undefined ? { observedLowerBound: `${(v.observedLower * 100).toFixed(2)}%` } : {}),
      ...(v.baselineUpper !== undefined ? { baselineUpperBound: `${(v.baselineUpper * 100).toFixed(2)}%` } : {}),
      marginPercent: cfg.marginPercent,
      zScore: cfg.zScore,
      windowStart: new Date(fromMs).toISOString(),
      windowEnd: new Date(toMs).toISOString(),
    },
    eventIds,
    at: toMs,
  };
}

async function failedEventIds(ctx: Ctx, fromMs: number, toMs: number): Promise<string[]> {
  const events = await ctx.data.eventKeys({
    types: ['charge.failed'],
    since: Math.floor(fromMs / 1000),
    until: Math.ceil(toMs / 1000),
    limit: EVIDENCE_LIMIT,
  });
  return events.map((e) => e.eventId);
}

async function evaluateEvents(ctx: Ctx, events: DetectorEvent[]): Promise<Trigger[]> {
  const cfg = ctx.config;
  const eventMinutes = [...new Set(events.map((e) => floorBucket(e.created * 1000)))].sort((a, b) => a - b);

  // Minutes whose trailing hour may have changed: [m, m + 59] for each event minute m. A cheap range
  // check first: if the two hours around m cannot hold a firing window, skip reading minute by minute.
  const windowEnds = new Set<number>();
  for (const m of eventMinutes) {
    const around = await countsIn(ctx, m - (WINDOW_MINUTES - 1) * BUCKET_MS, m + WINDOW_MINUTES * BUCKET_MS);
    if (around.attempts < cfg.minAttempts) continue;
    if (!rateAtLeastPercent(around.failed, cfg.minAttempts, cfg.thresholdPercent)) continue;
    for (let i = 0; i < WINDOW_MINUTES; i += 1) windowEnds.add(m + i * BUCKET_MS);
  }
  if (windowEnds.size === 0) return [];

  // Per-minute counts for every minute any candidate window covers: the windows' minutes form a few
  // contiguous ranges, each read as one series per metric.
  const perMinute = new Map<number, Counts>();
  const ends = [...windowEnds].sort((a, b) => a - b);
  let rangeFrom = ends[0]! - (WINDOW_MINUTES - 1) * BUCKET_MS;
  let rangeTo = ends[0]! + BUCKET_MS;
  for (const end of ends.slice(1)) {
    const from = end - (WINDOW_MINUTES - 1) * BUCKET_MS;
    if (from <= rangeTo) rangeTo = Math.max(rangeTo, end + BUCKET_MS);
    else {
      await minuteCounts(ctx, rangeFrom, rangeTo, perMinute);
      rangeFrom = from;
      rangeTo = end + BUCKET_MS;
    }
  }
  await minuteCounts(ctx, rangeFrom, rangeTo, perMinute);

  // Windows end at a minute with an attempt (the hour trailing a charge, in event time).
  const firing: { fromMs: number; toMs: number; verdict: Verdict }[] = [];
  for (const end of [...windowEnds].sort((a, b) => a - b)) {
    if ((perMinute.get(end)?.attempts ?? 0) === 0) continue;
    const counts: Counts = { attempts: 0, failed: 0 };
    for (let i = 0; i < WINDOW_MINUTES; i += 1) {
      const c = perMinute.get(end - i * BUCKET_MS);
      if (c) {
        counts.attempts += c.attempts;
        counts.failed += c.failed;
      }
    }
    if (!meetsAbsolute(cfg, counts)) continue;
    const fromMs = end + BUCKET_MS - WINDOW_MS;
    const toMs = end + BUCKET_MS;
    const verdict = await judge(ctx, fromMs, toMs, counts);
    if (verdict.fires) firing.push({ fromMs, toMs, verdict });
  }
  if (firing.length === 0) return [];

  // One trigger per run of firing windows would lose the live end of a run that began in backfilled
  // history, so each run reports its first window (opening), its first critical one (escalation) and
  // its last one (latest evidence); the engine merges them into one incident.
  const chosen = new Set<number>();
  let runStart = 0;
  for (let i = 0; i < firing.length; i += 1) {
    const cur = firing[i]!;
    const next = firing[i + 1];
    if (i === runStart) chosen.add(i);
    if (next === undefined || next.toMs - cur.toMs > WINDOW_MS) {
      const critical = firing.slice(runStart, i + 1).findIndex((f) => f.verdict.severity === 'critical');
      if (critical >= 0) chosen.add(runStart + critical);
      chosen.add(i);
      runStart = i + 1;
    }
  }
  const triggers: Trigger[] = [];
  for (const i of [...chosen].sort((a, b) => a - b)) {
    const f = firing[i]!;
    // Evidence is the window's failed charges: a successful charge is not a sign of the anomaly and
    // is never flagged as one. The batch's own failures come first (they decide whether the incident
    // is live, a fresh webhook, or historical: backfill, old events), then the stored ones.
    const fromBatch = events
      .filter((e) => e.type === 'charge.failed' && e.created * 1000 >= f.fromMs && e.created * 1000 < f.toMs)
      .sort((a, b) => b.created - a.created)
      .slice(0, EVIDENCE_LIMIT)
      .map((e) => e.eventId);
    const ids = [...new Set([...fromBatch, ...(await failedEventIds(ctx, f.fromMs, f.toMs))])];
    triggers.push(trigger(ctx, f.fromMs, f.toMs, f.verdict, ids));
  }
  return triggers;
}

async function stillFiring(ctx: Ctx, _incident: OpenIncident): Promise<boolean> {
  const toMs = floorBucket(ctx.now) + BUCKET_MS;
  const fromMs = toMs - WINDOW_MS;
  const counts = await countsIn(ctx, fromMs, toMs);
  if (!meetsAbsolute(ctx.config, counts)) return false;
  return (await judge(ctx, fromMs, toMs, counts)).fires;
}

export const chargeFailureRate: Detector<ChargeFailureRateConfig> = {
  name: 'charge_failure_rate',
  description:
    'Failed ÷ attempted charges over a trailing hour (event time) at or above the threshold with enough attempts, and well above the tenant’s own rate for that hour of the week.',
  configSchema,
  defaults,
  eventTypes: ['charge.failed', 'charge.succeeded'],
  evaluateEvents,
  stillFiring,
};
