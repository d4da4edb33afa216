/**
 * silent_lapse — a subscription that still looks active but stopped paying, without anyone noticing.
 *
 * Evaluated on the schedule at `ctx.now` over the subscription facts (the latest known state of each
 * subscription, from its newest `customer.subscription.*` event). Fires, once per subscription
 * (subject: the subscription), for a subscription whose
 *   - status is `active`, `past_due` or `unpaid` (not `trialing`, `canceled`, `incomplete`,
 *     `incomplete_expired` or `paused` — nothing is owed, or it is already known to have stopped),
 *   - current period (from its items, API ≥ 2025-03-31, or the legacy top-level fields) ended more than
 *     `graceDays` (3) days before now, and
 *   - has no paid invoice for the period that follows: no `invoice.paid` / `invoice.payment_succeeded`
 *     event of that subscription (the invoice's `parent.subscription_details.subscription`, or the
 *     legacy `subscription`) whose invoice period end (Stripe's look-back period) or a line's service
 *     period end reaches past the period end, or that was paid (`status_transitions.paid_at`, else the
 *     event time) at or after the period end. A subscription never seen paying has none and fires.
 * Not a lapse: a subscription set to cancel at the period end (`cancel_at_period_end`; it ended by
 * design), a free one (recurring amount 0), an invoice for the period that just ended (paid before it
 * ended), `invoice.created`/`invoice.finalized` without payment, and `invoice.created` followed by
 * `invoice.paid` of one invoice (that is one paid invoice, not two).
 *
 * One incident per subscription, never hourly repeats: every tick re-emits the same trigger, which the
 * engine merges into the open incident. The trigger time is when the condition became true —
 * period end + grace — so a lapse found in backfilled or long-past history opens a `historical`
 * incident that does not page anyone, while a lapse that becomes due while Meterwatch runs pages once.
 * Severity: `warning`; `critical` once the period ended more than 2 × `graceDays` ago (escalates once,
 * trigger time period end + 2 × grace).
 *
 * `stillFiring` is false once a paid invoice covering it appears, the subscription is canceled (or
 * otherwise leaves the statuses above), is set to cancel at period end, or its period is renewed.
 * At most `maxSubscriptions` (the longest-lapsed first) are examined per tick.
 */
import { Type } from '@sinclair/typebox';
import { DAY_MS, type Detector, type DetectorContext, type DetectorEvent, type Severity, type SubscriptionFact, type Trigger } from '../detector.js';

export interface SilentLapseConfig extends Record<string, unknown> {
  graceDays: number;
  maxSubscriptions: number;
}

const OWING_STATUSES = ['active', 'past_due', 'unpaid'];
const PAID_TYPES = ['invoice.paid', 'invoice.payment_succeeded'];
const INVOICE_SCAN_LIMIT = 500;

type Ctx = DetectorContext<SilentLapseConfig>;
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

/** Whether this paid-invoice event pays for the time after `periodEnd` (ms). */
export function paysAfter(event: DetectorEvent, periodEnd: number): boolean {
  const o = event.object;
  if (o.object !== undefined && o.object !== 'invoice') return false;
  const invoicePeriodEnd = int(o.period_end);
  if (invoicePeriodEnd !== null && invoicePeriodEnd * 1000 >= periodEnd) return true;
  const lines = isObject(o.lines) && Array.isArray(o.lines.data) ? o.lines.data.filter(isObject) : [];
  for (const line of lines) {
    const end = isObject(line.period) ? int(line.period.end) : null;
    if (end !== null && end * 1000 > periodEnd) return true;
  }
  const transitions = isObject(o.status_transitions) ? o.status_transitions : {};
  const paidAt = int(transitions.paid_at) ?? event.created;
  return paidAt * 1000 >= periodEnd;
}

async function paidInvoiceAfter(ctx: Ctx, subscriptionId: string, periodEnd: number): Promise<DetectorEvent | undefined> {
  const events = await ctx.data.events({ refId: subscriptionId, types: PAID_TYPES, limit: INVOICE_SCAN_LIMIT });
  return events.find((e) => paysAfter(e, periodEnd));
}

function candidate(fact: SubscriptionFact, now: number, graceMs: number): fact is SubscriptionFact & { currentPeriodEnd: number } {
  return (
    OWING_STATUSES.includes(fact.status) &&
    !fact.cancelAtPeriodEnd &&
    fact.recurringAmount !== 0 &&
    fact.currentPeriodEnd !== null &&
    fact.currentPeriodEnd < now - graceMs
  );
}

function triggerOf(ctx: Ctx, fact: SubscriptionFact & { currentPeriodEnd: number }): Trigger {
  const graceMs = ctx.config.graceDays * DAY_MS;
  const end = fact.currentPeriodEnd;
  const critical = end < ctx.now - 2 * graceMs;
  const severity: Severity = critical ? 'critical' : 'warning';
  const days = Math.floor((ctx.now - end) / DAY_MS);
  return {
    subjectType: 'subscription',
    subjectId: fact.subscriptionId,
    severity,
    summary:
      `Subscription ${fact.subscriptionId}${fact.customer ? ` of ${fact.customer}` : ''} is ${fact.status} but its period ` +
      `ended ${new Date(end).toISOString()} (${days} days ago) with no paid invoice since`,
    figures: {
      subscription: fact.subscriptionId,
      ...(fact.customer ? { customer: fact.customer } : {}),
      status: fact.status,
      periodEnd: new Date(end).toISOString(),
      periodEndMs: end,
      daysSincePeriodEnd: days,
      graceDays: ctx.config.graceDays,
      ...(fact.currency ? { currency: fact.currency } : {}),
      ...(fact.recurringAmount !== null ? { recurringAmount: fact.recurringAmount } : {}),
    },
    eventIds: [],
    at: end + (critical ? 2 : 1) * graceMs,
  };
}

export const silentLapse: Detector<SilentLapseConfig> = {
  name: 'silent_lapse',
  description: 'An active subscription whose period ended more than 3 days ago with no paid invoice since.',
  configSchema: Type.Object(
    {
      graceDays: Type.Integer({ minimum: 1, maximum: 90 }),
      maxSubscriptions: Type.Integer({ minimum: 1, maximum: 10_000 }),
    },
    { additionalProperties: false },
  ),
  defaults: { graceDays: 3, maxSubscriptions: 2_000 },
  eventTypes: [],

  async evaluateSchedule(ctx) {
    const graceMs = ctx.config.graceDays * DAY_MS;
    const facts = await ctx.data.subscriptions({ status: OWING_STATUSES, periodEndBefore: ctx.now - graceMs, limit: ctx.config.maxSubscriptions });
    const triggers: Trigger[] = [];
    for (const fact of facts) {
      if (!candidate(fact, ctx.now, graceMs)) continue;
      if (await paidInvoiceAfter(ctx, fact.subscriptionId, fact.currentPeriodEnd)) continue;
      triggers.push(triggerOf(ctx, fact));
    }
    return triggers;
  },

  async stillFiring(ctx, incident) {
    const graceMs = ctx.config.graceDays * DAY_MS;
    const fact = await ctx.data.subscription(incident.subjectId);
    if (!fact || !candidate(fact, ctx.now, graceMs)) return false;
    return (await paidInvoiceAfter(ctx, fact.subscriptionId, fact.currentPeriodEnd)) === undefined;
  },
};
