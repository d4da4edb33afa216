/**
 * webhook_silence — no events for a tenant for longer than its own history makes plausible.
 *
 * Evaluated on the schedule at `ctx.now`. The silence is the stretch from the tenant's newest stored
 * event (`lastEventAt`, Stripe `created`; webhook or backfill) to now. Its usual quiet gap comes from
 * the SAME hours of the week in the previous `baselineWeeks` (4) weeks, counted in ACTIVE MINUTES —
 * one-minute `event` buckets holding at least one event — not in events: Stripe events come in clumps
 * (a renewal is six events within the hour, a signup seven within seconds), so an event count
 * overstates how often something happens. A week's usual gap is the stretch ÷ its active minutes in
 * the stretch; the usual gap is the LONGEST of the weeks' (the quietest week), so one busy week does
 * not make an ordinary quiet evening look like an outage. Weeks before the tenant's first stored event
 * are not used; with no such week the detector is silent (no history, nothing is plausible or
 * implausible).
 *
 * Fires (subject: the tenant) when the silence is longer than
 *   max(`minGapMinutes` (60, at least 1 h), `multiplier` (15) × the usual gap),
 * i.e. once EVERY baseline week had at least `multiplier` separate active minutes in the same stretch
 * and now there is none. A stretch that is quiet in any week (nights, weekends of a B2B tenant) has a
 * long usual gap and does not fire. Exactly at the threshold does not fire ("longer than").
 *
 * Severity: `warning`; `critical` when the silence reaches 2 × the threshold.
 * The trigger time is `ctx.now` (the condition holds now). `stillFiring` is false as soon as an event
 * newer than the one the silence started from is stored — whatever its type — so the incident
 * resolves on the next event; otherwise it stays firing. Duplicates and arrival order cannot matter:
 * only the newest event time and event-time buckets are read.
 */
import { Type } from '@sinclair/typebox';
import { MINUTE_MS, WEEK_MS, type Detector, type DetectorContext, type Severity, type Trigger } from '../detector.js';
import { BUCKET_MS, METRIC } from '../metrics.js';

export interface WebhookSilenceConfig extends Record<string, unknown> {
  multiplier: number;
  minGapMinutes: number;
  baselineWeeks: number;
}

type Ctx = DetectorContext<WebhookSilenceConfig>;

interface Assessment {
  lastEventAt: number;
  gap: number;
  /** Active minutes of the quietest baseline week in the same stretch. */
  activeMinutes: number;
  perWeek: number[];
  usualGap: number;
  threshold: number;
  firing: boolean;
  severity: Severity;
}

async function assess(ctx: Ctx): Promise<Assessment | undefined> {
  const c = ctx.config;
  const last = await ctx.data.lastEventAt();
  if (last === undefined) return undefined;
  const gap = ctx.now - last;
  const minGap = c.minGapMinutes * MINUTE_MS;
  if (gap <= minGap) return undefined;
  const first = await ctx.data.firstEventAt();
  if (first === undefined) return undefined;

  // The silent stretch in whole minutes: from the end of the last event's minute to the end of now's.
  const from = Math.floor(last / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
  const to = Math.max(from + BUCKET_MS, Math.floor(ctx.now / BUCKET_MS) * BUCKET_MS + BUCKET_MS);
  const firstBucket = Math.floor(first / BUCKET_MS) * BUCKET_MS;
  const perWeek: number[] = [];
  for (let k = 1; k <= c.baselineWeeks; k++) {
    if (from - k * WEEK_MS < firstBucket) break;
    perWeek.push((await ctx.data.series(METRIC.event, from - k * WEEK_MS, to - k * WEEK_MS)).length);
  }
  if (perWeek.length === 0) return undefined;
  const activeMinutes = Math.min(...perWeek);
  const usualGap = activeMinutes > 0 ? (to - from) / activeMinutes : Infinity;
  const threshold = Math.max(minGap, c.multiplier * usualGap);
  const firing = gap > threshold;
  const severity: Severity = gap >= 2 * threshold ? 'critical' : 'warning';
  return { lastEventAt: last, gap, activeMinutes, perWeek, usualGap, threshold, firing, severity };
}

const minutes = (ms: number) => (Number.isFinite(ms) ? (ms / MINUTE_MS).toFixed(1) : 'none');

export const webhookSilence: Detector<WebhookSilenceConfig> = {
  name: 'webhook_silence',
  description: 'No events for longer than many times the usual gap between active minutes in those hours of the week (minimum 1 h).',
  configSchema: Type.Object(
    {
      multiplier: Type.Number({ minimum: 1, maximum: 100 }),
      minGapMinutes: Type.Integer({ minimum: 60, maximum: 14 * 24 * 60 }),
      baselineWeeks: Type.Integer({ minimum: 1, maximum: 8 }),
    },
    { additionalProperties: false },
  ),
  defaults: { multiplier: 15, minGapMinutes: 60, baselineWeeks: 4 },
  eventTypes: [],

  async evaluateSchedule(ctx) {
    const a = await assess(ctx);
    if (!a?.firing) return [];
    const trigger: Trigger = {
      subjectType: 'tenant',
      subjectId: ctx.tenantId,
      severity: a.severity,
      summary:
        `No Stripe events for ${minutes(a.gap)} min since ${new Date(a.lastEventAt).toISOString()}; ` +
        `every one of the previous ${a.perWeek.length} week(s) had events in at least ${a.activeMinutes} separate minutes of the same hours (usual gap ${minutes(a.usualGap)} min)`,
      figures: {
        lastEventAt: a.lastEventAt,
        lastEvent: new Date(a.lastEventAt).toISOString(),
        silenceMinutes: minutes(a.gap),
        activeMinutesPerWeek: a.perWeek.join(','),
        usualGapMinutes: minutes(a.usualGap),
        thresholdMinutes: minutes(a.threshold),
        baselineWeeks: a.perWeek.length,
      },
      eventIds: [],
      at: ctx.now,
    };
    return [trigger];
  },

  async stillFiring(ctx, incident) {
    const last = await ctx.data.lastEventAt();
    const since = incident.figures.lastEventAt;
    if (typeof since === 'number') return last === undefined || last <= since;
    return (await assess(ctx))?.firing ?? false;
  },
};
