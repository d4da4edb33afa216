/**
 * dispute_spike — disputes (and early fraud warnings) arriving faster than a business can absorb.
 *
 * Fires (subject: the tenant) when either holds, with windows of event time ending at the end of the
 * deciding event's one-minute bucket:
 * 1. Count: ≥ `countThreshold` (5) disputed cases over the trailing `countWindowHours` (24 h), AND
 *    more than the tenant's own dispute rate makes plausible: ≥ expected + `zScore` (4) × √expected
 *    (a Poisson guard), where expected is the tenant's average number of cases per window over the
 *    `rateWindowDays` (30) days before the window (the `dispute` + `efw` buckets; only the history
 *    the tenant has, and only once it has a day of it — before that the fixed count alone decides).
 *    The fixed count is the floor for small tenants; the guard makes the rule scale with size: a
 *    tenant with 1,000 charges a day and a healthy 0.15 % sees 1.5 cases a day, and 5 in a day then
 *    happens by chance about twice a month, while 8 does not.
 * 2. Rate: disputed cases ÷ successful charges over the trailing `rateWindowDays` (30 days)
 *    ≥ `ratePercent` (0.75 %), with at least `rateMinCharges` (100) successful charges and at least
 *    `rateMinDisputes` (3) cases in the window — so 1 dispute on 3 charges never fires — and only once
 *    the tenant's history (first stored event, webhook or backfill) covers the whole window: disputes
 *    arrive weeks after their charges, so in a young tenant's history they would be divided by the
 *    few charges stored so far (3 disputes on charges made before installation ÷ 214 charges of the
 *    first hours would read 1.4 %).
 *
 * A "case" is a `charge.dispute.created` or, when `includeEarlyFraudWarnings`, a
 * `radar.early_fraud_warning.created` (Visa TC40 / Mastercard SAFE reports usually precede a fraud
 * dispute). Cases are counted once per charge: an early fraud warning followed by the dispute on the
 * same charge is one case, not two. Each stored event reaches the detector once, so a redelivered
 * dispute never counts twice. If a window holds more case events than the detector reads at once
 * (`CASE_SCAN_LIMIT`), it falls back to the `dispute` + `efw` bucket counts (an upper bound) and says
 * so in the figures. Successful charges come from the `charge.succeeded` buckets.
 *
 * Arrival order is not event order: a case arriving late is also checked in the windows that end at
 * the later cases already stored (each case minute within the count window after it, and one point
 * per day within the rate window). A charge arriving late can only lower the rate, but it can lift
 * the window over `rateMinCharges`, so charge events re-check the rate the same way.
 *
 * Severity: `warning`; `critical` at 2 × the count threshold in force or 2 × `ratePercent`. `stillFiring`
 * re-checks both conditions with windows ending at `ctx.now`.
 */
import { Type } from '@sinclair/typebox';
import { DAY_MS, HOUR_MS, type Detector, type DetectorContext, type Severity, type Trigger } from '../detector.js';
import { KeptTriggers } from '../kept-triggers.js';
import { BUCKET_MS, METRIC } from '../metrics.js';

export interface DisputeSpikeConfig extends Record<string, unknown> {
  countThreshold: number;
  countWindowHours: number;
  ratePercent: number;
  rateWindowDays: number;
  rateMinCharges: number;
  rateMinDisputes: number;
  includeEarlyFraudWarnings: boolean;
  zScore: number;
}

const DISPUTE = 'charge.dispute.created';
const EFW = 'radar.early_fraud_warning.created';
const CHARGE_EVENT_TYPES = ['charge.succeeded'] as const;
const CASE_SCAN_LIMIT = 5000;
const EVIDENCE_LIMIT = 50;
const LATE_SCAN_LIMIT = 1000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const idOf = (v: unknown): string | null => (isObject(v) ? str(v.id) : str(v));
const bucketEnd = (ms: number): number => Math.floor(ms / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
const fmtRate = (n: number): string => (Math.round(n * 1000) / 1000).toFixed(3);

type Ctx = DetectorContext<DisputeSpikeConfig>;

interface Cases {
  count: number;
  disputes: number;
  warnings: number;
  approximate: boolean;
  eventIds: string[];
}

function caseTypes(ctx: Ctx): string[] {
  return ctx.config.includeEarlyFraudWarnings ? [DISPUTE, EFW] : [DISPUTE];
}

/** Distinct disputed charges in [from, to): disputes and early fraud warnings on one charge are one case. */
async function countCases(ctx: Ctx, from: number, to: number): Promise<Cases> {
  const events = await ctx.data.events({ types: caseTypes(ctx), since: Math.floor(from / 1000), until: Math.ceil(to / 1000), limit: CASE_SCAN_LIMIT });
  if (events.length >= CASE_SCAN_LIMIT) {
    const d = await ctx.data.sum(METRIC.dispute, from, to);
    const w = ctx.config.includeEarlyFraudWarnings ? await ctx.data.sum(METRIC.earlyFraudWarning, from, to) : { count: 0, amount: 0 };
    return { count: d.count + w.count, disputes: d.count, warnings: w.count, approximate: true, eventIds: [] };
  }
  events.sort((a, b) => a.created - b.created || a.seq - b.seq);
  const keys = new Set<string>();
  let disputes = 0;
  let warnings = 0;
  for (const e of events) {
    if (e.type === DISPUTE) disputes += 1;
    else warnings += 1;
    keys.add(idOf(e.object.charge) ?? `${e.type}:${e.objectId ?? e.eventId}`);
  }
  return { count: keys.size, disputes, warnings, approximate: false, eventIds: events.slice(-EVIDENCE_LIMIT).map((e) => e.eventId) };
}

interface Finding {
  condition: 'count' | 'rate';
  severity: Severity;
  summary: string;
  figures: Record<string, string | number>;
  eventIds: string[];
}

/** The tenant's average cases per count window over the rate window before `start`; 0 under a day of history. */
async function expectedCases(ctx: Ctx, start: number, firstEventAt: number | undefined): Promise<{ expected: number; days: number }> {
  const c = ctx.config;
  if (firstEventAt === undefined) return { expected: 0, days: 0 };
  const from = Math.max(Math.floor(firstEventAt / BUCKET_MS) * BUCKET_MS, start - c.rateWindowDays * DAY_MS);
  if (start - from < DAY_MS) return { expected: 0, days: 0 };
  let n = (await ctx.data.sum(METRIC.dispute, from, start)).count;
  if (c.includeEarlyFraudWarnings) n += (await ctx.data.sum(METRIC.earlyFraudWarning, from, start)).count;
  return { expected: (n * c.countWindowHours * HOUR_MS) / (start - from), days: (start - from) / DAY_MS };
}

async function countFinding(ctx: Ctx, end: number, firstEventAt: number | undefined): Promise<Finding | undefined> {
  const c = ctx.config;
  const start = end - c.countWindowHours * HOUR_MS;
  const cases = await countCases(ctx, start, end);
  if (cases.count < c.countThreshold) return undefined;
  const { expected, days } = await expectedCases(ctx, start, firstEventAt);
  const threshold = Math.max(c.countThreshold, Math.ceil(expected + c.zScore * Math.sqrt(expected) - 1e-9));
  if (cases.count < threshold) return undefined;
  return {
    condition: 'count',
    severity: cases.count >= 2 * threshold ? 'critical' : 'warning',
    summary:
      `${cases.count} disputed charges in ${c.countWindowHours} h (${cases.disputes} disputes, ${cases.warnings} early fraud warnings; ` +
      `threshold ${threshold}, usually ${expected.toFixed(1)})`,
    figures: {
      condition: 'count',
      cases: cases.count,
      disputes: cases.disputes,
      earlyFraudWarnings: cases.warnings,
      threshold,
      countThreshold: c.countThreshold,
      expected: expected.toFixed(2),
      baselineDays: Math.round(days * 10) / 10,
      windowHours: c.countWindowHours,
      approximate: cases.approximate ? 'yes' : 'no',
    },
    eventIds: cases.eventIds,
  };
}

async function rateFinding(ctx: Ctx, end: number, firstEventAt: number | undefined): Promise<Finding | undefined> {
  const c = ctx.config;
  const from = end - c.rateWindowDays * DAY_MS;
  // Disputes trail their charges by weeks: a window the history does not cover would divide old disputes by few charges.
  if (firstEventAt === undefined || firstEventAt > from) return undefined;
  const charges = (await ctx.data.sum(METRIC.chargeSucceeded, from, end)).count;
  if (charges < c.rateMinCharges) return undefined;
  const cases = await countCases(ctx, from, end);
  if (cases.count < c.rateMinDisputes) return undefined;
  // cases / charges ≥ p %  ⇔  cases × 100 ≥ p × charges
  if (cases.count * 100 < c.ratePercent * charges) return undefined;
  const rate = (cases.count * 100) / charges;
  return {
    condition: 'rate',
    severity: cases.count * 100 >= 2 * c.ratePercent * charges ? 'critical' : 'warning',
    summary: `Dispute rate ${fmtRate(rate)}% over ${c.rateWindowDays} days (${cases.count} disputed of ${charges} successful charges; threshold ${c.ratePercent}%)`,
    figures: {
      condition: 'rate',
      cases: cases.count,
      disputes: cases.disputes,
      earlyFraudWarnings: cases.warnings,
      successfulCharges: charges,
      ratePercent: fmtRate(rate),
      thresholdPercent: c.ratePercent,
      windowDays: c.rateWindowDays,
      approximate: cases.approximate ? 'yes' : 'no',
    },
    eventIds: cases.eventIds,
  };
}

export const disputeSpike: Detector<DisputeSpikeConfig> = {
  name: 'dispute_spike',
  description: 'Disputes (with early fraud warnings) over 24 h above a count and the tenant’s usual rate, or a 30-day dispute rate above a share of successful charges.',
  configSchema: Type.Object(
    {
      countThreshold: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      countWindowHours: Type.Integer({ minimum: 1, maximum: 168 }),
      ratePercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
      rateWindowDays: Type.Integer({ minimum: 1, maximum: 45 }),
      rateMinCharges: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
      rateMinDisputes: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      includeEarlyFraudWarnings: Type.Boolean(),
      zScore: Type.Number({ minimum: 0, maximum: 20 }),
    },
    { additionalProperties: false },
  ),
  defaults: {
    countThreshold: 5,
    countWindowHours: 24,
    ratePercent: 0.75,
    rateWindowDays: 30,
    rateMinCharges: 100,
    rateMinDisputes: 3,
    includeEarlyFraudWarnings: true,
    zScore: 4,
  },
  eventTypes: [DISPUTE, EFW, ...CHARGE_EVENT_TYPES],

  async evaluateEvents(ctx, events) {
    const c = ctx.config;
    const types = caseTypes(ctx);
    // Window end → the batch events that put a case there (they decide live vs historical).
    const fullPoints = new Map<number, Set<string>>();
    const countPoints = new Set<number>(); // count + rate, at later cases a late case joins
    const ratePoints = new Set<number>(); // rate only
    let caseFrom = Infinity;
    let caseTo = -Infinity;
    let scanFrom = Infinity;
    let scanTo = -Infinity;
    for (const e of events) {
      const t = e.created * 1000;
      if (types.includes(e.type)) {
        const end = bucketEnd(t);
        const ids = fullPoints.get(end);
        if (ids) ids.add(e.eventId);
        else fullPoints.set(end, new Set([e.eventId]));
        caseFrom = Math.min(caseFrom, t);
        caseTo = Math.max(caseTo, t);
      }
      if (types.includes(e.type) || (CHARGE_EVENT_TYPES as readonly string[]).includes(e.type)) {
        scanFrom = Math.min(scanFrom, t);
        scanTo = Math.max(scanTo, t);
      }
    }
    // Arrival order is not event order: a case that arrives late also belongs to the windows that
    // end at the later cases already stored, so those windows are checked again (every case minute
    // within the count window after it; one point per day for the rate window).
    if (caseFrom <= caseTo) {
      const later = await ctx.data.events({
        types,
        since: Math.floor(caseFrom / 1000),
        until: Math.ceil((caseTo + c.countWindowHours * HOUR_MS) / 1000),
        limit: LATE_SCAN_LIMIT,
      });
      for (const e of later) {
        const end = bucketEnd(e.created * 1000);
        if (!fullPoints.has(end)) countPoints.add(end);
      }
    }
    // A charge (or case) arriving late can lift the rate window over its minimum volume.
    if (scanFrom <= scanTo) {
      const later = await ctx.data.events({
        types,
        since: Math.floor(scanFrom / 1000),
        until: Math.ceil((scanTo + c.rateWindowDays * DAY_MS) / 1000),
        limit: LATE_SCAN_LIMIT,
      });
      const perDay = new Map<number, number>();
      for (const e of later) {
        const end = bucketEnd(e.created * 1000);
        const day = Math.floor(end / DAY_MS);
        perDay.set(day, Math.max(perDay.get(day) ?? 0, end));
      }
      for (const end of perDay.values()) if (!fullPoints.has(end) && !countPoints.has(end)) ratePoints.add(end);
    }

    const firstEventAt = await ctx.data.firstEventAt();
    const kept = new KeptTriggers();
    for (const end of [...new Set([...fullPoints.keys(), ...countPoints, ...ratePoints])].sort((a, b) => a - b)) {
      const deciding = [...(fullPoints.get(end) ?? [])];
      const findings: Finding[] = [];
      if (fullPoints.has(end) || countPoints.has(end)) {
        const f = await countFinding(ctx, end, firstEventAt);
        if (f) findings.push(f);
      }
      const r = await rateFinding(ctx, end, firstEventAt);
      if (r) findings.push(r);
      for (const f of findings) {
        kept.offer(f.condition, {
          subjectType: 'tenant',
          subjectId: ctx.tenantId,
          severity: f.severity,
          summary: f.summary,
          figures: f.figures,
          eventIds: [...new Set([...deciding, ...f.eventIds])],
          at: end,
        });
      }
    }
    return kept.triggers();
  },

  async stillFiring(ctx) {
    const firstEventAt = await ctx.data.firstEventAt();
    if (await countFinding(ctx, ctx.now, firstEventAt)) return true;
    return (await rateFinding(ctx, ctx.now, firstEventAt)) !== undefined;
  },
};
