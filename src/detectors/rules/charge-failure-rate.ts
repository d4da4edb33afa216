/**
 * charge_failure_rate — the tenant's card failures jump over a trailing hour.
 *
 * Fires when, over a trailing hour of EVENT time (Stripe `created`, one-minute buckets: the hour
 * ending with the minute of a charge attempt, i.e. that minute and the 59 before it):
 *   - failed ÷ attempted charges ≥ `thresholdPercent` (default 15 %), and
 *   - attempted charges ≥ `minAttempts` (default 20), and
 *   - the rate is ≥ `baselineMultiplier` (default 2) × the tenant's own baseline for that hour of the
 *     week: the pooled failed ÷ attempted of the same trailing hour in each of the previous
 *     `baselineWeeks` (default 4) weeks, read from the buckets.
 *     With no baseline history (fewer than `minBaselineAttempts` attempts in those hours, e.g. a new
 *     tenant) the absolute threshold alone decides.
 * Counts come from the engine's buckets (`charge.attempt`, `charge.failed`), which count each stored
 * event once: a redelivered failure is never a second failure.
 *
 * Does not fire: below the threshold or at 19 attempts; when the tenant always fails this much at that
 * hour of the week (e.g. a 20 % rate against a 12 % baseline with multiplier 2); on a partial hour that
 * has too few attempts.
 *
 * Out-of-order arrival: a late event changes every trailing hour that contains it, so each batch
 * re-evaluates the hours ending at every attempted minute from the event's minute to 59 minutes after
 * it (per-minute bucket reads), not only the hour ending at the event.
 *
 * Severity: `warning`; `critical` when the rate is ≥ 2 × `thresholdPercent` (30 % by default).
 * Subject: the tenant. Auto-resolves: `stillFiring` re-applies the rule to the trailing hour ending at
 * `ctx.now`; once that hour no longer meets it, the engine resolves the incident after its quiet period.
 * All comparisons are done in integers (cross-multiplied), so 3 of 20 is exactly 15 %.
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

export interface ChargeFailureRateConfig extends Record<string, unknown> {
  thresholdPercent: number;
  minAttempts: number;
  baselineMultiplier: number;
  baselineWeeks: number;
  minBaselineAttempts: number;
}

const configSchema = Type.Object(
  {
    thresholdPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    minAttempts: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    baselineMultiplier: Type.Number({ minimum: 1, maximum: 100 }),
    baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
    minBaselineAttempts: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);

const defaults: ChargeFailureRateConfig = {
  thresholdPercent: 15,
  minAttempts: 20,
  baselineMultiplier: 2,
  baselineWeeks: 4,
  minBaselineAttempts: 20,
};

const WINDOW_MS = HOUR_MS;
const WINDOW_MINUTES = WINDOW_MS / BUCKET_MS;
const EVIDENCE_LIMIT = 100;
const READ_CHUNK = 20;

type Ctx = DetectorContext<ChargeFailureRateConfig>;

interface Counts {
  attempts: number;
  failed: number;
}

interface Verdict {
  fires: boolean;
  severity: Severity;
  attempts: number;
  failed: number;
  /** undefined: no baseline history, the absolute threshold decided. */
  baseline: Counts | undefined;
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

/** One bucket's attempts and failures in a single read (`charge.` prefix covers both metrics). */
async function minuteCounts(ctx: Ctx, minute: number): Promise<Counts> {
  const sums = await ctx.data.sumByPrefix('charge.', minute, minute + BUCKET_MS);
  return { attempts: sums.get(METRIC.chargeAttempt)?.count ?? 0, failed: sums.get(METRIC.chargeFailed)?.count ?? 0 };
}

/** Pooled counts of the same window in each of the previous `baselineWeeks` weeks; undefined when too thin. */
async function baselineFor(ctx: Ctx, fromMs: number, toMs: number): Promise<Counts | undefined> {
  const weeks = Array.from({ length: ctx.config.baselineWeeks }, (_, i) => (i + 1) * WEEK_MS);
  const parts = await Promise.all(weeks.map((shift) => countsIn(ctx, fromMs - shift, toMs - shift)));
  const pooled = parts.reduce((acc, c) => ({ attempts: acc.attempts + c.attempts, failed: acc.failed + c.failed }), { attempts: 0, failed: 0 });
  return pooled.attempts >= ctx.config.minBaselineAttempts ? pooled : undefined;
}

/** The absolute part of the rule (threshold and volume), without the baseline. */
function meetsAbsolute(cfg: ChargeFailureRateConfig, c: Counts): boolean {
  return c.attempts >= cfg.minAttempts && rateAtLeastPercent(c.failed, c.attempts, cfg.thresholdPercent);
}

/** failed/attempts ≥ multiplier × bf/ba, cross-multiplied: failed·ba ≥ multiplier·bf·attempts. */
function aboveBaseline(cfg: ChargeFailureRateConfig, c: Counts, baseline: Counts | undefined): boolean {
  if (!baseline) return true;
  return c.failed * baseline.attempts >= cfg.baselineMultiplier * baseline.failed * c.attempts;
}

async function judge(ctx: Ctx, fromMs: number, toMs: number, counts: Counts): Promise<Verdict> {
  const cfg = ctx.config;
  const severity: Severity = rateAtLeastPercent(counts.failed, counts.attempts, 2 * cfg.thresholdPercent) ? 'critical' : 'warning';
  if (!meetsAbsolute(cfg, counts)) return { fires: false, severity, ...counts, baseline: undefined };
  const baseline = await baselineFor(ctx, fromMs, toMs);
  return { fires: aboveBaseline(cfg, counts, baseline), severity, ...counts, baseline };
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
      `${v.failed} of ${v.attempts} charges failed (${rate}) in the hour ending ${new Date(toMs).toISOString()}; ` +
      (v.baseline
        ? `usual rate for this hour of the week is ${baselineText}`
        : `no baseline for this hour of the week yet`),
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
      windowStart: new Date(fromMs).toISOString(),
      windowEnd: new Date(toMs).toISOString(),
    },
    eventIds,
    at: toMs,
  };
}

async function failedEventIds(ctx: Ctx, fromMs: number, toMs: number): Promise<string[]> {
  const events = await ctx.data.events({
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

  // Per-minute counts for every minute any candidate window covers (each read once).
  const perMinute = new Map<number, Counts>();
  const needed = new Set<number>();
  for (const end of windowEnds) for (let i = 0; i < WINDOW_MINUTES; i += 1) needed.add(end - i * BUCKET_MS);
  const minutes = [...needed].sort((a, b) => a - b);
  for (let i = 0; i < minutes.length; i += READ_CHUNK) {
    const chunk = minutes.slice(i, i + READ_CHUNK);
    const counts = await Promise.all(chunk.map((minute) => minuteCounts(ctx, minute)));
    chunk.forEach((minute, j) => perMinute.set(minute, counts[j]!));
  }

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
    // The batch's own events in the window come first: they decide whether the incident is live
    // (a fresh webhook) or historical (backfill, old events); then the stored failures as evidence.
    const fromBatch = events
      .filter((e) => e.created * 1000 >= f.fromMs && e.created * 1000 < f.toMs)
      .sort((a, b) => Number(b.type === 'charge.failed') - Number(a.type === 'charge.failed') || b.created - a.created)
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
