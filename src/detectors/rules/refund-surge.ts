/**
 * refund_surge — refunds running far above normal for the tenant.
 *
 * Two conditions; either fires (subject: the tenant; figures carry the currency):
 * 1. Ratio, per currency: over the trailing `ratioWindowHours` (24 h) of event time,
 *    refunded amount ÷ captured amount ≥ `ratioPercent` (10 %), from the `refund:<cur>` and
 *    `charge.captured:<cur>` buckets (refunds counted once per refund object, never from the cumulative
 *    `amount_refunded`). The refunds of a day belong to earlier days' charges and amounts are heavy
 *    tailed, so on a small segment one refunded annual order moves the ratio by several points. Hence:
 *    - minimum volume: at least `minCapturedCount` (50) captured charges AND at least `minRefundCount`
 *      (5) refunds in that currency and window — counts, because a minimum amount means nothing
 *      across currencies;
 *    - the ratio must hold WITHOUT the window's largest refund (one big refund is not a surge; read
 *      from the refund objects of the window's refund events, deduplicated by refund id; skipped if
 *      the window holds more refund events than the detector reads at once);
 *    - the window's captured amount must be at least `minCapturedSharePercent` (50 %) of the
 *      currency's average captured amount per window over the previous `burstBaselineDays` (7) days
 *      the tenant has history for (with under a day of it, no such check): when sales collapse,
 *      ordinary refunds of earlier sales make any ratio high — that is revenue_drop's finding.
 *    Currencies are never mixed: a 50,000 JPY refund is compared only with JPY captures; USD figures
 *    are untouched by it.
 * 2. Burst ("the refund storm at 2 AM"): the number of refunds (all currencies — a count, not money)
 *    in the trailing `burstWindowMinutes` (15 min) is ≥ `burstMinCount` (5) AND ≥ `burstMultiplier`
 *    (5×) the average count per 15-minute slot over the previous `burstBaselineDays` (7 days) AND
 *    ≥ `burstPeakMultiplier` (2×) the busiest 15 minutes of those days. The average and the peak are
 *    taken over the history the tenant actually has (from its first stored event), so a young
 *    tenant's baseline is not diluted by days it did not exist. The peak guard is there because
 *    refunds are not spread over the day: a support team refunding in office hours runs at several
 *    times the all-day average, and 5 refunds in its busiest quarter hour are ordinary; a storm is
 *    well above anything the tenant did in the past week.
 *
 * Windows end at the end of the one-minute bucket of the deciding event (its Stripe `created`), never
 * at arrival time. Evaluation points are the minutes of the refunds in the batch — for a charge event
 * that lists the charge's refunds (API versions before 2022-11-15 send `charge.refunded` with the
 * cumulative list), only the event's own time and its NEWEST refund: the older refunds came with their
 * own events and were judged then, so a second partial refund never re-judges (and re-opens) a window
 * that ended days earlier at the first one — and, because arrival
 * order is not event order, the windows that a late event joins: the stored refunds within the burst
 * window after a late refund, and (one point per hour at most) the refunds within the ratio window
 * after a late refund or a late charge — a late charge can lift a currency over the minimum volume. Redeliveries never reach the
 * detector and buckets count each refund object once, so duplicates change nothing.
 *
 * Severity: `warning`; `critical` when the ratio reaches 2 × `ratioPercent`, or the burst count reaches
 * 2 × its threshold. `stillFiring` re-checks both conditions with the windows ending at `ctx.now`, so
 * the incident auto-resolves once the surge has passed.
 */
import { Type } from '@sinclair/typebox';
import { HOUR_MS, MINUTE_MS, type BucketSum, type Detector, type DetectorContext, type DetectorEvent, type Severity, type Trigger } from '../detector.js';
import { KeptTriggers } from '../kept-triggers.js';
import { BUCKET_MS, METRIC } from '../metrics.js';

export interface RefundSurgeConfig extends Record<string, unknown> {
  ratioPercent: number;
  ratioWindowHours: number;
  minCapturedCount: number;
  minRefundCount: number;
  burstWindowMinutes: number;
  burstBaselineDays: number;
  burstMultiplier: number;
  burstMinCount: number;
  burstPeakMultiplier: number;
  minCapturedSharePercent: number;
}

const REFUND_EVENT_TYPES = ['refund.created', 'refund.updated', 'charge.refund.updated', 'charge.refunded'] as const;
const CHARGE_EVENT_TYPES = ['charge.succeeded', 'charge.captured'] as const;
const EVIDENCE_LIMIT = 50;
const LATE_SCAN_LIMIT = 500;
/** Refund events read at once to find a window's largest refund. */
const LARGEST_SCAN_LIMIT = 5_000;
/** Refund statuses that move money back (as the store counts them). */
const COUNTED_STATUSES = new Set(['succeeded', 'pending', 'requires_action']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
type Ctx = DetectorContext<RefundSurgeConfig>;

/**
 * `sumByPrefix` per currency. The engine keys its map by the full metric name (`refund:usd`); the
 * contract's wording ("one entry per currency") also allows bare currencies, so both are accepted.
 */
async function perCurrency(ctx: Ctx, prefix: string, from: number, to: number): Promise<Map<string, BucketSum>> {
  const out = new Map<string, BucketSum>();
  for (const [key, sum] of await ctx.data.sumByPrefix(prefix, from, to)) {
    const currency = (key.startsWith(prefix) ? key.slice(prefix.length) : key).toLowerCase();
    const prev = out.get(currency);
    out.set(currency, prev ? { count: prev.count + sum.count, amount: prev.amount + sum.amount } : sum);
  }
  return out;
}

/** End (exclusive) of the one-minute bucket holding `ms`: windows include the deciding event. */
const bucketEnd = (ms: number): number => Math.floor(ms / BUCKET_MS) * BUCKET_MS + BUCKET_MS;


interface RatioFinding {
  currency: string;
  refunded: number;
  refundCount: number;
  largestRefund: number | undefined;
  captured: number;
  capturedCount: number;
  usualCaptured: number | undefined;
  ratePercent: number;
  severity: Severity;
}

/** The refund objects an event carries (a refund, or a charge's refunds list), by id. */
function refundObjects(e: DetectorEvent): Json[] {
  const o = e.object;
  if (o.object === 'refund') return [o];
  if (o.object === 'charge' && isObject(o.refunds) && Array.isArray(o.refunds.data)) return o.refunds.data.filter((r): r is Json => isObject(r) && r.object === 'refund');
  return [];
}

/**
 * The largest counted refund in `currency` created in [from, to), from the window's refund events
 * (each refund object once, its newest state); undefined when there are too many events to read.
 */
async function largestRefund(ctx: Ctx, currency: string, from: number, to: number): Promise<number | undefined> {
  const events = await ctx.data.events({ types: [...REFUND_EVENT_TYPES], since: Math.floor(from / 1000), until: Math.ceil(to / 1000) + 1, limit: LARGEST_SCAN_LIMIT });
  if (events.length >= LARGEST_SCAN_LIMIT) return undefined;
  const newest = new Map<string, { asOf: number; amount: number; counted: boolean }>();
  for (const e of events) {
    for (const r of refundObjects(e)) {
      const id = str(r.id);
      const amount = int(r.amount);
      const created = int(r.created) ?? e.created;
      if (!id || amount === null || str(r.currency)?.toLowerCase() !== currency) continue;
      if (created * 1000 < from || created * 1000 >= to) continue;
      const prev = newest.get(id);
      if (prev && prev.asOf > e.created) continue;
      newest.set(id, { asOf: e.created, amount, counted: COUNTED_STATUSES.has(str(r.status) ?? 'succeeded') });
    }
  }
  let max = 0;
  for (const r of newest.values()) if (r.counted) max = Math.max(max, r.amount);
  return max;
}

/** The currency's average captured amount per window over the days before `from` (history only); undefined under a day. */
async function usualCapturedPerWindow(ctx: Ctx, currency: string, from: number, firstEventAt: number | undefined): Promise<number | undefined> {
  const c = ctx.config;
  if (firstEventAt === undefined) return undefined;
  const baseFrom = Math.max(Math.floor(firstEventAt / BUCKET_MS) * BUCKET_MS, from - c.burstBaselineDays * 24 * HOUR_MS);
  if (from - baseFrom < 24 * HOUR_MS) return undefined;
  const base = await ctx.data.sum(`${METRIC.chargeCapturedPrefix}${currency}`, baseFrom, from);
  return (base.amount * c.ratioWindowHours * HOUR_MS) / (from - baseFrom);
}

async function ratioFindings(ctx: Ctx, end: number, firstEventAt: number | undefined): Promise<RatioFinding[]> {
  const c = ctx.config;
  const from = end - c.ratioWindowHours * HOUR_MS;
  const refunds = await perCurrency(ctx, METRIC.refundPrefix, from, end);
  if (refunds.size === 0) return [];
  const captured = await perCurrency(ctx, METRIC.chargeCapturedPrefix, from, end);
  const out: RatioFinding[] = [];
  for (const [currency, r] of [...refunds].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const cap = captured.get(currency);
    if (!cap || cap.amount <= 0 || r.amount <= 0) continue;
    if (cap.count < c.minCapturedCount || r.count < c.minRefundCount) continue;
    // refunded / captured ≥ p %  ⇔  refunded × 100 ≥ p × captured (same currency, integer minor units)
    if (r.amount * 100 < c.ratioPercent * cap.amount) continue;
    const largest = await largestRefund(ctx, currency, from, end);
    if (largest !== undefined && (r.amount - largest) * 100 < c.ratioPercent * cap.amount) continue;
    const usual = await usualCapturedPerWindow(ctx, currency, from, firstEventAt);
    if (usual !== undefined && cap.amount * 100 < c.minCapturedSharePercent * usual) continue;
    const severity: Severity = r.amount * 100 >= 2 * c.ratioPercent * cap.amount ? 'critical' : 'warning';
    out.push({
      currency,
      refunded: r.amount,
      refundCount: r.count,
      largestRefund: largest,
      captured: cap.amount,
      capturedCount: cap.count,
      usualCaptured: usual,
      ratePercent: (r.amount * 100) / cap.amount,
      severity,
    });
  }
  return out;
}

interface BurstFinding {
  count: number;
  byCurrency: Map<string, number>;
  baselineAverage: number;
  baselinePeak: number;
  threshold: number;
  severity: Severity;
}

/** The most refunds (all currencies) in any window of `windowMs` within [from, to), from per-minute buckets. */
async function busiestWindow(ctx: Ctx, from: number, to: number, windowMs: number): Promise<number> {
  const perMinute = new Map<number, number>();
  for (const [metric, sum] of await ctx.data.sumByPrefix(METRIC.refundPrefix, from, to)) {
    if (sum.count === 0) continue;
    for (const b of await ctx.data.series(metric, from, to)) perMinute.set(b.bucketStart, (perMinute.get(b.bucketStart) ?? 0) + b.count);
  }
  const minutes = [...perMinute.keys()].sort((a, b) => a - b);
  let peak = 0;
  let inWindow = 0;
  let lo = 0;
  for (const m of minutes) {
    inWindow += perMinute.get(m)!;
    while (minutes[lo]! <= m - windowMs) inWindow -= perMinute.get(minutes[lo++]!)!;
    peak = Math.max(peak, inWindow);
  }
  return peak;
}

async function burstFinding(ctx: Ctx, end: number, firstEventAt: number | undefined): Promise<BurstFinding | undefined> {
  const c = ctx.config;
  const windowMs = c.burstWindowMinutes * MINUTE_MS;
  const start = end - windowMs;
  const current = await perCurrency(ctx, METRIC.refundPrefix, start, end);
  let count = 0;
  const byCurrency = new Map<string, number>();
  for (const [cur, s] of current) {
    count += s.count;
    if (s.count > 0) byCurrency.set(cur, s.count);
  }
  if (count < c.burstMinCount) return undefined;

  // Baseline: the previous N days, but only the part the tenant has history for.
  let baseFrom = start - c.burstBaselineDays * 24 * HOUR_MS;
  if (firstEventAt !== undefined) baseFrom = Math.max(baseFrom, Math.floor(firstEventAt / BUCKET_MS) * BUCKET_MS);
  let baselineAverage = 0;
  if (baseFrom < start) {
    const base = await perCurrency(ctx, METRIC.refundPrefix, baseFrom, start);
    let baseCount = 0;
    for (const s of base.values()) baseCount += s.count;
    const slots = Math.max(1, (start - baseFrom) / windowMs);
    baselineAverage = baseCount / slots;
  }
  let threshold = Math.max(c.burstMinCount, baselineAverage * c.burstMultiplier);
  if (count < threshold) return undefined;
  const baselinePeak = baseFrom < start ? await busiestWindow(ctx, baseFrom, start, windowMs) : 0;
  threshold = Math.max(threshold, baselinePeak * c.burstPeakMultiplier);
  if (count < threshold) return undefined;
  const severity: Severity = count >= 2 * threshold ? 'critical' : 'warning';
  return { count, byCurrency, baselineAverage, baselinePeak, threshold, severity };
}

async function evidence(ctx: Ctx, from: number, end: number, currency?: string): Promise<string[]> {
  const events = await ctx.data.events({
    types: [...REFUND_EVENT_TYPES],
    since: Math.floor(from / 1000),
    until: Math.ceil(end / 1000),
    limit: EVIDENCE_LIMIT * 4,
  });
  return events
    .filter((e) => !currency || e.currency === currency)
    .sort((a, b) => a.created - b.created || a.seq - b.seq)
    .slice(-EVIDENCE_LIMIT)
    .map((e) => e.eventId);
}

const fmtRate = (n: number): string => (Math.round(n * 100) / 100).toFixed(2);

async function ratioTrigger(ctx: Ctx, end: number, f: RatioFinding, deciding: string[]): Promise<Trigger> {
  const c = ctx.config;
  return {
    subjectType: 'tenant',
    subjectId: ctx.tenantId,
    severity: f.severity,
    summary:
      `Refunds are ${fmtRate(f.ratePercent)}% of captured ${f.currency.toUpperCase()} volume over ${c.ratioWindowHours} h ` +
      `(${formatMoney(f.refunded, f.currency)} refunded of ${formatMoney(f.captured, f.currency)} captured; threshold ${c.ratioPercent}%)`,
    figures: {
      condition: 'ratio',
      currency: f.currency,
      refundedAmount: f.refunded,
      refundCount: f.refundCount,
      capturedAmount: f.captured,
      capturedCount: f.capturedCount,
      ...(f.largestRefund !== undefined ? { largestRefundAmount: f.largestRefund } : {}),
      ...(f.usualCaptured !== undefined ? { usualCapturedAmount: Math.round(f.usualCaptured) } : {}),
      refundRatePercent: fmtRate(f.ratePercent),
      thresholdPercent: c.ratioPercent,
      windowHours: c.ratioWindowHours,
    },
    eventIds: [...new Set([...deciding, ...(await evidence(ctx, end - c.ratioWindowHours * HOUR_MS, end, f.currency))])],
    at: end,
  };
}

async function burstTrigger(ctx: Ctx, end: number, f: BurstFinding, deciding: string[]): Promise<Trigger> {
  const c = ctx.config;
  const figures: Record<string, string | number> = {
    condition: 'burst',
    refundCount: f.count,
    windowMinutes: c.burstWindowMinutes,
    baselineAveragePerWindow: fmtRate(f.baselineAverage),
    baselinePeakPerWindow: f.baselinePeak,
    threshold: fmtRate(f.threshold),
    multiplier: c.burstMultiplier,
    minCount: c.burstMinCount,
  };
  for (const [cur, n] of [...f.byCurrency].sort(([a], [b]) => (a < b ? -1 : 1))) figures[`refundCount:${cur}`] = n;
  return {
    subjectType: 'tenant',
    subjectId: ctx.tenantId,
    severity: f.severity,
    summary:
      `${f.count} refunds in ${c.burstWindowMinutes} minutes, against a usual ${fmtRate(f.baselineAverage)} per ${c.burstWindowMinutes} minutes ` +
      `and at most ${f.baselinePeak} in the busiest ${c.burstWindowMinutes} minutes of the previous days (threshold ${fmtRate(f.threshold)})`,
    figures,
    eventIds: [...new Set([...deciding, ...(await evidence(ctx, end - c.burstWindowMinutes * MINUTE_MS, end))])],
    at: end,
  };
}

/**
 * Evaluation times (ms) of a refund event: its own time and the Stripe `created` of the refund it
 * announces. A charge's refunds list is cumulative (every earlier refund again), so only its newest
 * refund is new: the others were judged when their own events came.
 */
function refundTimes(e: DetectorEvent): number[] {
  const times = [e.created * 1000];
  let newest: number | null = null;
  for (const r of refundObjects(e)) {
    const t = int(r.created);
    if (t !== null && (newest === null || t > newest)) newest = t;
  }
  if (newest !== null && newest * 1000 !== times[0]) times.push(newest * 1000);
  return times;
}

export const refundSurge: Detector<RefundSurgeConfig> = {
  name: 'refund_surge',
  description: 'Refunded ÷ captured per currency over 24 h above a threshold (minimum volume), or a burst of refunds far above baseline.',
  configSchema: Type.Object(
    {
      ratioPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
      ratioWindowHours: Type.Integer({ minimum: 1, maximum: 168 }),
      minCapturedCount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      minRefundCount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      burstWindowMinutes: Type.Integer({ minimum: 1, maximum: 240 }),
      burstBaselineDays: Type.Integer({ minimum: 1, maximum: 28 }),
      burstMultiplier: Type.Number({ minimum: 1, maximum: 1000 }),
      burstMinCount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      burstPeakMultiplier: Type.Number({ minimum: 0, maximum: 100 }),
      minCapturedSharePercent: Type.Number({ minimum: 0, maximum: 100 }),
    },
    { additionalProperties: false },
  ),
  defaults: {
    ratioPercent: 10,
    ratioWindowHours: 24,
    minCapturedCount: 50,
    minRefundCount: 5,
    burstWindowMinutes: 15,
    burstBaselineDays: 7,
    burstMultiplier: 5,
    burstMinCount: 5,
    burstPeakMultiplier: 2,
    minCapturedSharePercent: 50,
  },
  eventTypes: [...new Set<string>([...REFUND_EVENT_TYPES, ...CHARGE_EVENT_TYPES])],

  async evaluateEvents(ctx, events) {
    const c = ctx.config;
    // Window end → the batch events that put a refund there (they decide live vs historical).
    const fullPoints = new Map<number, Set<string>>(); // ratio + burst
    const followPoints = new Set<number>(); // ratio + burst, at later refunds a late refund joins
    const ratioPoints = new Set<number>(); // ratio only (a late charge cannot make a burst)
    let refundFrom = Infinity;
    let refundTo = -Infinity;
    let scanFrom = Infinity;
    let scanTo = -Infinity;
    for (const e of events) {
      const isRefund = (REFUND_EVENT_TYPES as readonly string[]).includes(e.type);
      const isCharge = (CHARGE_EVENT_TYPES as readonly string[]).includes(e.type);
      if (isRefund) {
        for (const t of refundTimes(e)) {
          const end = bucketEnd(t);
          const ids = fullPoints.get(end);
          if (ids) ids.add(e.eventId);
          else fullPoints.set(end, new Set([e.eventId]));
          refundFrom = Math.min(refundFrom, t);
          refundTo = Math.max(refundTo, t);
        }
      }
      if (isRefund || isCharge) {
        scanFrom = Math.min(scanFrom, e.created * 1000);
        scanTo = Math.max(scanTo, e.created * 1000);
      }
    }
    // Arrival order is not event order: a refund that arrives late also belongs to the burst windows
    // ending at the refunds already stored just after it, so those are checked again.
    if (refundFrom <= refundTo) {
      const later = await ctx.data.events({
        types: [...REFUND_EVENT_TYPES],
        since: Math.floor(refundFrom / 1000),
        until: Math.ceil((refundTo + c.burstWindowMinutes * MINUTE_MS) / 1000),
        limit: LATE_SCAN_LIMIT,
      });
      for (const e of later) for (const t of refundTimes(e)) if (!fullPoints.has(bucketEnd(t))) followPoints.add(bucketEnd(t));
    }
    if (scanFrom <= scanTo) {
      // The ratio windows that follow late charges or refunds: one check per hour, at its last refund.
      const later = await ctx.data.events({
        types: [...REFUND_EVENT_TYPES],
        since: Math.floor(scanFrom / 1000),
        until: Math.ceil((scanTo + c.ratioWindowHours * HOUR_MS) / 1000),
        limit: LATE_SCAN_LIMIT,
      });
      const perHour = new Map<number, number>();
      for (const e of later) {
        const end = bucketEnd(e.created * 1000);
        const hour = Math.floor(end / HOUR_MS);
        perHour.set(hour, Math.max(perHour.get(hour) ?? 0, end));
      }
      for (const end of perHour.values()) if (!fullPoints.has(end) && !followPoints.has(end)) ratioPoints.add(end);
    }
    if (fullPoints.size === 0 && followPoints.size === 0 && ratioPoints.size === 0) return [];

    const firstEventAt = await ctx.data.firstEventAt();
    const kept = new KeptTriggers();
    const points = [...new Set([...fullPoints.keys(), ...followPoints, ...ratioPoints])].sort((a, b) => a - b);
    for (const end of points) {
      const deciding = [...(fullPoints.get(end) ?? [])];
      for (const f of await ratioFindings(ctx, end, firstEventAt)) kept.offer(`ratio:${f.currency}`, await ratioTrigger(ctx, end, f, deciding));
      if (fullPoints.has(end) || followPoints.has(end)) {
        const b = await burstFinding(ctx, end, firstEventAt);
        if (b) kept.offer('burst', await burstTrigger(ctx, end, b, deciding));
      }
    }
    return kept.triggers();
  },

  async stillFiring(ctx) {
    const firstEventAt = await ctx.data.firstEventAt();
    if ((await ratioFindings(ctx, ctx.now, firstEventAt)).length > 0) return true;
    return (await burstFinding(ctx, ctx.now, firstEventAt)) !== undefined;
  },
};

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Integer minor units → "12.34 USD" without floating point. */
function formatMoney(minor: number, currency: string): string {
  const c = currency.toLowerCase();
  const digits = ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (digits === 0) return `${sign}${abs} ${c.toUpperCase()}`;
  const s = String(abs).padStart(digits + 1, '0');
  return `${sign}${s.slice(0, -digits)}.${s.slice(-digits)} ${c.toUpperCase()}`;
}
