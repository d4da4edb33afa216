/**
 * silent_lapse — a subscription that still looks active but stopped paying, without anyone noticing.
 *
 * Evaluated on the schedule at `ctx.now` over the subscription facts (the latest known state of each
 * subscription, from its newest `customer.subscription.*` event). Fires, once per subscription
 * (subject: the subscription), for a subscription whose status is `active`, `past_due` or `unpaid`
 * (not `trialing`, `canceled`, `incomplete`, `incomplete_expired` or `paused` — nothing is owed, or it
 * is already known to have stopped), with a DUE DATE more than `graceDays` (3) days before now and no
 * paid invoice for the time after it. The due date is
 *   - for a `past_due` or `unpaid` subscription: its current period START — the renewal. At each
 *     renewal Stripe moves the period and creates the invoice whether or not it is ever paid; a
 *     renewal invoice that is sent and never paid leaves the subscription `past_due` with a period
 *     that has not ended (this is the lapse Stripe actually produces);
 *   - otherwise (or when that renewal was paid): its current period END, once it has passed — the
 *     renewal never happened at all, including subscriptions never seen paying.
 * (Periods come from the items, API ≥ 2025-03-31, or the legacy top-level fields.)
 * A paid invoice pays for the time after the due date when it is an `invoice.paid` /
 * `invoice.payment_succeeded` event of that subscription (the invoice's
 * `parent.subscription_details.subscription`, or the legacy `subscription`) whose invoice period end
 * (Stripe's look-back period) or a line's service period end reaches past the due date, or that was
 * paid (`status_transitions.paid_at`, else the event time) at or after it.
 *
 * Not a lapse: a subscription set to cancel at the period end (`cancel_at_period_end`; it ended by
 * design), a free one (recurring amount 0), an invoice for the period that just ended (paid before it
 * ended), `invoice.created`/`invoice.finalized` without payment, `invoice.created` followed by
 * `invoice.paid` of one invoice (that is one paid invoice, not two), and dunning in progress: while
 * Stripe keeps retrying the payment (an `invoice.payment_failed` of the subscription within the last
 * `graceDays`), the failure is loud, not silent — it fires `graceDays` after the last failed attempt
 * if the subscription is still owing then.
 *
 * One incident per subscription, never hourly repeats: every tick re-emits the same trigger, which the
 * engine merges into the open incident, and the incident stays open across later renewals of an
 * unpaid subscription. The trigger time is when the condition became true — due date + grace, or the
 * last failed attempt + grace, or (for a renewal lapse) the moment the `past_due` state was recorded,
 * whichever is latest — so a lapse found in backfilled or long-past history opens a `historical`
 * incident that does not page anyone, while a lapse that becomes due while Meterwatch runs pages once.
 * Severity: `warning`; `critical` once that moment is more than `graceDays` ago (escalates once).
 *
 * `stillFiring` is false once a paid invoice for the time after the incident's due date appears, or
 * the subscription is canceled (or otherwise leaves the statuses above), is set to cancel at period
 * end, or becomes free. A renewal of the period alone does not end it: the lapse is about payment.
 * At most `maxSubscriptions` of each kind (the longest-lapsed first) are examined per tick.
 */
import { Type } from '@sinclair/typebox';
import { DAY_MS, type Detector, type DetectorContext, type DetectorEvent, type Severity, type SubscriptionFact, type Trigger } from '../detector.js';

export interface SilentLapseConfig extends Record<string, unknown> {
  graceDays: number;
  maxSubscriptions: number;
}

const OWING_STATUSES = ['active', 'past_due', 'unpaid'];
/** Statuses Stripe sets when a renewal invoice was not paid by its due date. */
const OVERDUE_STATUSES = ['past_due', 'unpaid'];
const PAID_TYPES = ['invoice.paid', 'invoice.payment_succeeded'];
const FAILED_TYPES = ['invoice.payment_failed'];
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

async function paidInvoiceAfter(ctx: Ctx, subscriptionId: string, dueAt: number): Promise<DetectorEvent | undefined> {
  const events = await ctx.data.events({ refId: subscriptionId, types: PAID_TYPES, limit: INVOICE_SCAN_LIMIT });
  return events.find((e) => paysAfter(e, dueAt));
}

/** Stripe time (ms) of the newest failed payment attempt of the subscription at or after `since`. */
async function lastFailedAttempt(ctx: Ctx, subscriptionId: string, since: number): Promise<number | undefined> {
  const [newest] = await ctx.data.events({ refId: subscriptionId, types: FAILED_TYPES, since: Math.floor(since / 1000), limit: 1 });
  return newest && newest.created * 1000;
}

/** Still owed for: an owing status, not ending by design, not free. */
function owing(fact: SubscriptionFact): boolean {
  return OWING_STATUSES.includes(fact.status) && !fact.cancelAtPeriodEnd && fact.recurringAmount !== 0;
}

interface Lapse {
  fact: SubscriptionFact;
  kind: 'renewal unpaid' | 'no renewal';
  dueAt: number;
  /** When the condition became true (ms). */
  since: number;
  lastFailedAt: number | undefined;
}

/**
 * The lapse of one subscription at `ctx.now`, if any. `dueAt` pins the due date of an open incident:
 * it then lasts until that time is paid for, whatever Stripe retries meanwhile.
 */
async function lapseOf(ctx: Ctx, fact: SubscriptionFact, dueAt?: number): Promise<Lapse | undefined> {
  if (!owing(fact)) return undefined;
  const graceMs = ctx.config.graceDays * DAY_MS;
  const dues: { kind: Lapse['kind']; at: number }[] = [];
  if (dueAt !== undefined) dues.push({ kind: fact.currentPeriodStart === dueAt ? 'renewal unpaid' : 'no renewal', at: dueAt });
  else {
    if (OVERDUE_STATUSES.includes(fact.status) && fact.currentPeriodStart !== null) dues.push({ kind: 'renewal unpaid', at: fact.currentPeriodStart });
    if (fact.currentPeriodEnd !== null) dues.push({ kind: 'no renewal', at: fact.currentPeriodEnd });
  }
  for (const due of dues) {
    if (!(due.at < ctx.now - graceMs)) continue;
    if (await paidInvoiceAfter(ctx, fact.subscriptionId, due.at)) continue;
    const lastFailedAt = await lastFailedAttempt(ctx, fact.subscriptionId, due.at);
    // Stripe is still collecting: its retries (and their emails) are not a silent lapse.
    if (dueAt === undefined && lastFailedAt !== undefined && !(lastFailedAt < ctx.now - graceMs)) return undefined;
    const since = Math.max(due.at + graceMs, lastFailedAt === undefined ? -Infinity : lastFailedAt + graceMs, due.kind === 'renewal unpaid' ? fact.asOf : -Infinity);
    return { fact, kind: due.kind, dueAt: due.at, since: Math.min(since, ctx.now), lastFailedAt };
  }
  return undefined;
}

function triggerOf(ctx: Ctx, lapse: Lapse): Trigger {
  const { fact, dueAt } = lapse;
  const graceMs = ctx.config.graceDays * DAY_MS;
  const critical = lapse.since < ctx.now - graceMs;
  const severity: Severity = critical ? 'critical' : 'warning';
  const days = Math.floor((ctx.now - dueAt) / DAY_MS);
  const what =
    lapse.kind === 'renewal unpaid'
      ? `its renewal on ${new Date(dueAt).toISOString()} (${days} days ago) is unpaid`
      : `its period ended ${new Date(dueAt).toISOString()} (${days} days ago) with no paid invoice since`;
  return {
    subjectType: 'subscription',
    subjectId: fact.subscriptionId,
    severity,
    summary: `Subscription ${fact.subscriptionId}${fact.customer ? ` of ${fact.customer}` : ''} is ${fact.status} but ${what}`,
    figures: {
      subscription: fact.subscriptionId,
      ...(fact.customer ? { customer: fact.customer } : {}),
      status: fact.status,
      lapse: lapse.kind,
      dueAt: new Date(dueAt).toISOString(),
      dueAtMs: dueAt,
      ...(fact.currentPeriodStart !== null ? { periodStart: new Date(fact.currentPeriodStart).toISOString() } : {}),
      ...(fact.currentPeriodEnd !== null ? { periodEnd: new Date(fact.currentPeriodEnd).toISOString(), periodEndMs: fact.currentPeriodEnd } : {}),
      daysSinceDue: days,
      ...(lapse.kind === 'no renewal' ? { daysSincePeriodEnd: days } : {}),
      graceDays: ctx.config.graceDays,
      ...(lapse.lastFailedAt !== undefined ? { lastFailedAttempt: new Date(lapse.lastFailedAt).toISOString() } : {}),
      ...(fact.currency ? { currency: fact.currency } : {}),
      ...(fact.recurringAmount !== null ? { recurringAmount: fact.recurringAmount } : {}),
    },
    eventIds: [],
    at: critical ? lapse.since + graceMs : lapse.since,
  };
}

export const silentLapse: Detector<SilentLapseConfig> = {
  name: 'silent_lapse',
  description: 'A subscription with an unpaid renewal (past_due) or a period that ended, more than 3 days ago, with no paid invoice since.',
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
    const limit = ctx.config.maxSubscriptions;
    const ended = await ctx.data.subscriptions({ status: OWING_STATUSES, periodEndBefore: ctx.now - graceMs, limit });
    const overdue = await ctx.data.subscriptions({ status: OVERDUE_STATUSES, limit });
    const facts = new Map([...overdue, ...ended].map((f) => [f.subscriptionId, f]));
    const triggers: Trigger[] = [];
    for (const fact of facts.values()) {
      const lapse = await lapseOf(ctx, fact);
      if (lapse) triggers.push(triggerOf(ctx, lapse));
    }
    return triggers;
  },

  async stillFiring(ctx, incident) {
    const fact = await ctx.data.subscription(incident.subjectId);
    if (!fact) return false;
    const pinned = incident.figures.dueAtMs ?? incident.figures.periodEndMs;
    return (await lapseOf(ctx, fact, typeof pinned === 'number' ? pinned : undefined)) !== undefined;
  },
};
