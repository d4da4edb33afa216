/**
 * The subscription lifecycle as Stripe emits it (API ≥ 2025-03-31: periods on the items, the
 * invoice's subscription under `parent.subscription_details`):
 * - signup: `customer.subscription.created`, `invoice.created` → `invoice.finalized` → charge →
 *   `invoice.paid` + `invoice.payment_succeeded`; a declined first payment leaves it `incomplete`
 *   until the customer retries, or `incomplete_expired` after 23 h;
 * - renewal at the period end: `customer.subscription.updated` (the period moves, `previous_attributes`
 *   holds the previous items), `invoice.created`, about an hour later `invoice.finalized` and the
 *   automatic charge; a declined renewal turns the subscription `past_due` with smart retries after
 *   1, 3 and 5 days, then cancels it;
 * - upgrades (a dearer plan or more seats; half of them invoiced at once with proration lines),
 *   cancellations at the period end (some resumed later) and immediate cancellations.
 */
import type { Customer, Subscription, TenantWorld } from './world.js';
import { attemptPayment, roundAmount } from './payments.js';
import { addMonths } from './calendar.js';
import { customerObject, discountObject, invoiceObject, subscriptionObject, type InvoiceLineSpec, type InvoiceSpec, type ItemState } from './objects.js';
import { DAY_MS, HOUR_MS, type Json } from './types.js';

const sec = (ms: number) => Math.floor(ms / 1000);

export interface CreateOptions {
  /** A subscription that exists before the run (no events, first renewal queued). */
  existing?: { customer: Customer; periodEndMs: number; createdMs: number };
  customer?: Customer;
  planKey?: string;
  quantity?: number;
  /** Force the first payment's outcome (injections). */
  declineP?: number;
  couponPercent?: number;
}

function pickPlan(w: TenantWorld, planKey: string | undefined) {
  const plans = w.profile.plans;
  return planKey ? plans.find((p) => p.key === planKey)! : w.rng.weighted(plans, plans.map((p) => p.weight));
}

export function createSubscription(w: TenantWorld, t: number, o: CreateOptions = {}): Subscription {
  const p = w.profile;
  const existing = o.existing;
  let customer = existing?.customer ?? o.customer;
  if (!customer) {
    customer = w.newCustomer(t - 30_000);
    w.emit('customer.created', t - 30_000, customerObject({ id: customer.id, createdMs: t - 30_000, currency: customer.currency, country: customer.country, email: `${customer.id.slice(-10).toLowerCase()}@example.com`, name: 'Synthetic Customer' }));
  }
  const plan = pickPlan(w, o.planKey);
  const price = w.price(plan.key, customer.currency);
  const quantity = o.quantity ?? (plan.perSeat ? Math.max(1, Math.round(w.rng.logNormal(4, 0.7))) : 1);
  const percentOff = o.couponPercent ?? (w.rng.chance(p.couponShare) ? 20 : 0);
  const createdMs = existing?.createdMs ?? t;
  const periodEnd = existing?.periodEndMs ?? addMonths(t, 1);
  const sub: Subscription = {
    id: w.ids.next('sub'),
    customer: customer.id,
    customerRef: customer,
    currency: customer.currency,
    status: 'active',
    createdMs,
    periodStartMs: existing ? addMonths(periodEnd, -1) : t,
    periodEndMs: periodEnd,
    cancelAtPeriodEnd: false,
    canceledAtMs: null,
    endedAtMs: null,
    items: [{ id: w.ids.next('si'), price, quantity, createdMs }],
    latestInvoice: existing ? w.ids.next('in') : null,
    discountId: percentOff > 0 ? w.ids.next('di') : null,
    collectionMethod: 'charge_automatically',
    cancellationReason: null,
    renewalToken: 0,
    percentOff,
  };
  w.subscriptions.set(sub.id, sub);
  if (existing) {
    // Cancellations scheduled before the run, in proportion to the part of the period already past
    // (the same hazard as during the run: no ramp of period-end cancellations in the first month).
    const past = Math.max(0, w.startMs - sub.periodStartMs);
    if (w.rng.chance(SCHEDULED_SHARE * p.monthlyChurn * Math.min(1, past / (30.4 * DAY_MS)))) {
      sub.cancelAtPeriodEnd = true;
      sub.canceledAtMs = sub.periodStartMs + Math.floor(w.rng.uniform(0, past));
      sub.cancellationReason = 'cancellation_requested';
    }
    w.addActive(sub);
    w.queueRenewal(sub);
    return sub;
  }

  if (sub.discountId) {
    w.emit('customer.discount.created', t - 5_000, discountObject({ id: sub.discountId, customer: customer.id, subscription: sub.id, coupon: 'WELCOME20', startMs: t - 5_000 }));
  }
  const inv = invoiceFor(w, sub, t, 'subscription_create', sub.periodStartMs, sub.periodStartMs);
  sub.latestInvoice = inv.id;
  let announced = false;
  const announce = (status: string) => {
    if (announced) return;
    announced = true;
    sub.status = status;
    w.emit('customer.subscription.created', t, subscriptionObject(sub), undefined, `req_${sub.id.slice(4)}`);
    w.emit('invoice.created', t + 400, invoiceObject(inv));
    inv.status = 'open';
    inv.finalizedAtMs = t + 900;
    w.emit('invoice.finalized', t + 900, invoiceObject(inv));
  };
  attemptPayment(w, t + 1_500, {
    customer,
    amount: invoiceTotal(inv),
    currency: sub.currency,
    paymentIntent: w.ids.next('pi'),
    description: 'Subscription creation',
    declineP: o.declineP ?? p.declineRate,
    retriesLeft: 2,
    retryP: 0.6,
    retryDeclineP: 0.4,
    onSuccess: (_charge, at) => {
      const wasIncomplete = announced;
      announce('active');
      markPaid(w, inv, at);
      if (wasIncomplete) setStatus(w, sub, 'active', at + 1_500);
      w.addActive(sub);
      scheduleRenewal(w, sub);
    },
    onFailure: (at, final) => {
      announce('incomplete');
      inv.attemptCount += 1;
      w.emit('invoice.payment_failed', at + 1_000, invoiceObject(inv));
      if (final) {
        const expireAt = t + 23 * HOUR_MS;
        w.schedule(expireAt, () => {
          if (sub.status === 'incomplete') setStatus(w, sub, 'incomplete_expired', expireAt);
        });
      }
    },
  });
  return sub;
}

function invoiceTotal(inv: InvoiceSpec): number {
  return inv.lines.reduce((a, l) => a + l.amount - l.discountAmount, 0);
}

/** An invoice for the subscription's items over its current period. */
function invoiceFor(w: TenantWorld, sub: Subscription, t: number, reason: InvoiceSpec['billingReason'], periodStartMs: number, periodEndMs: number): InvoiceSpec {
  const lines: InvoiceLineSpec[] = sub.items.map((item) => {
    const amount = item.price.unitAmount * item.quantity;
    return {
      id: w.ids.next('il'),
      amount,
      description: `${item.quantity} × ${item.price.nickname} (at ${item.price.unitAmount} ${item.price.currency.toUpperCase()} / month)`,
      periodStartMs: sub.periodStartMs,
      periodEndMs: sub.periodEndMs,
      quantity: item.quantity,
      price: item.price,
      subscriptionItem: item.id,
      proration: false,
      discountAmount: sub.percentOff > 0 ? roundAmount(sub.currency, (amount * sub.percentOff) / 100) : 0,
    };
  });
  return {
    id: w.ids.next('in'),
    number: w.nextInvoiceNumber(sub.customerRef),
    customer: sub.customer,
    currency: sub.currency,
    subscription: sub.id,
    billingReason: reason,
    collectionMethod: sub.collectionMethod,
    status: 'draft',
    createdMs: t,
    periodStartMs,
    periodEndMs,
    lines,
    discountId: sub.discountId,
    finalizedAtMs: null,
    paidAtMs: null,
    attemptCount: 0,
  };
}

function markPaid(w: TenantWorld, inv: InvoiceSpec, at: number): void {
  inv.status = 'paid';
  inv.paidAtMs = at + 1_000;
  inv.attemptCount += 1;
  w.emit('invoice.paid', at + 1_000, invoiceObject(inv));
  w.emit('invoice.payment_succeeded', at + 1_100, invoiceObject(inv));
}

export function setStatus(w: TenantWorld, sub: Subscription, status: string, at: number): void {
  const prev = sub.status;
  sub.status = status;
  w.emit('customer.subscription.updated', at, subscriptionObject(sub), { status: prev });
}

export function scheduleRenewal(w: TenantWorld, sub: Subscription): void {
  sub.renewalToken += 1;
  const token = sub.renewalToken;
  const at = sub.periodEndMs;
  w.schedule(at, () => renew(w, sub, token, at));
}

function itemsList(sub: Subscription): Json {
  return subscriptionObject(sub).items as Json;
}

function renew(w: TenantWorld, sub: Subscription, token: number, t: number): void {
  if (token !== sub.renewalToken) return;
  if (sub.status !== 'active' && sub.status !== 'past_due') return;
  if (sub.cancelAtPeriodEnd) {
    cancelNow(w, sub, t, sub.cancellationReason ?? 'cancellation_requested');
    return;
  }
  if (sub.hold === 'stale') return;

  const previousItems = itemsList(sub);
  const previousInvoice = sub.latestInvoice;
  const oldStart = sub.periodStartMs;
  const oldEnd = sub.periodEndMs;
  sub.periodStartMs = oldEnd;
  sub.periodEndMs = addMonths(oldEnd, 1);
  const inv = invoiceFor(w, sub, t, 'subscription_cycle', oldStart, oldEnd);
  if (sub.fullDiscountNext) {
    inv.discountId = sub.fullDiscountNext.discountId;
    for (const line of inv.lines) line.discountAmount = line.amount;
    sub.fullDiscountNext.onInvoice?.(inv.id);
    sub.fullDiscountNext = undefined;
  }
  sub.latestInvoice = inv.id;
  w.emit('customer.subscription.updated', t, subscriptionObject(sub), { items: previousItems, latest_invoice: previousInvoice });
  w.emit('invoice.created', t + w.rng.int(0, 20_000), invoiceObject(inv));
  scheduleRenewal(w, sub);

  const finalizeAt = t + HOUR_MS + w.rng.int(0, 300_000);
  w.schedule(finalizeAt, () => {
    if (sub.status === 'canceled') return;
    inv.status = 'open';
    inv.finalizedAtMs = finalizeAt;
    w.emit('invoice.finalized', finalizeAt, invoiceObject(inv));
    if (sub.hold === 'unpaid') {
      // Sent to the customer, never paid; Stripe marks the subscription past_due after the due date.
      const dueAt = finalizeAt + 3 * DAY_MS;
      w.schedule(dueAt, () => {
        if (sub.status === 'active') setStatus(w, sub, 'past_due', dueAt);
      });
      return;
    }
    const total = invoiceTotal(inv);
    if (total <= 0) {
      markPaid(w, inv, finalizeAt + 500);
      return;
    }
    chargeRenewal(w, sub, inv, finalizeAt + 2_000, 0);
  });
}

const SMART_RETRY_DAYS = [1, 3, 5];

function chargeRenewal(w: TenantWorld, sub: Subscription, inv: InvoiceSpec, t: number, retry: number): void {
  attemptPayment(w, t, {
    customer: sub.customerRef,
    amount: invoiceTotal(inv),
    currency: sub.currency,
    paymentIntent: w.ids.next('pi'),
    description: 'Subscription update',
    declineP: retry === 0 ? w.profile.renewalDeclineRate : 0.45,
    retriesLeft: 0,
    retryP: 0,
    retryDeclineP: 0,
    onSuccess: (_charge, at) => {
      markPaid(w, inv, at);
      if (sub.status === 'past_due') setStatus(w, sub, 'active', at + 1_500);
    },
    onFailure: (at) => {
      inv.attemptCount += 1;
      w.emit('invoice.payment_failed', at + 1_000, invoiceObject(inv));
      if (sub.status === 'active') setStatus(w, sub, 'past_due', at + 1_500);
      const days = SMART_RETRY_DAYS[retry];
      if (days === undefined) {
        if (sub.status === 'past_due') cancelNow(w, sub, at + 3_000, 'payment_failed');
        return;
      }
      const next = t + (days - (SMART_RETRY_DAYS[retry - 1] ?? 0)) * DAY_MS + w.rng.int(-3, 3) * HOUR_MS;
      w.schedule(next, () => {
        if (sub.status === 'past_due' && sub.latestInvoice === inv.id) chargeRenewal(w, sub, inv, next, retry + 1);
      });
    },
  });
}

export function cancelNow(w: TenantWorld, sub: Subscription, t: number, reason: string): void {
  sub.status = 'canceled';
  sub.canceledAtMs ??= t;
  sub.endedAtMs = t;
  sub.cancellationReason = reason;
  w.emit('customer.subscription.deleted', t, subscriptionObject(sub));
  w.removeActive(sub);
}

export function scheduleCancel(w: TenantWorld, sub: Subscription, t: number): void {
  const prev = { cancel_at_period_end: false, cancel_at: null, canceled_at: null, cancellation_details: { comment: null, feedback: null, reason: null } };
  sub.cancelAtPeriodEnd = true;
  sub.canceledAtMs = t;
  sub.cancellationReason = 'cancellation_requested';
  w.emit('customer.subscription.updated', t, subscriptionObject(sub), prev);
}

function resume(w: TenantWorld, sub: Subscription, t: number): void {
  if (!sub.cancelAtPeriodEnd || sub.status !== 'active' || t >= sub.periodEndMs) return;
  const prev = {
    cancel_at_period_end: true,
    cancel_at: sec(sub.periodEndMs),
    canceled_at: sub.canceledAtMs === null ? null : sec(sub.canceledAtMs),
    cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' },
  };
  sub.cancelAtPeriodEnd = false;
  sub.canceledAtMs = null;
  sub.cancellationReason = null;
  w.emit('customer.subscription.updated', t, subscriptionObject(sub), prev);
}

const eligible = (s: Subscription) => s.status === 'active' && !s.cancelAtPeriodEnd && s.hold === undefined && s.fullDiscountNext === undefined;

/** Share of voluntary cancellations that wait for the period end (the rest cancel at once). */
const SCHEDULED_SHARE = 0.78;

export function cancelSomeSubscription(w: TenantWorld, t: number): void {
  const sub = w.pickActive(eligible);
  if (!sub) return;
  if (!w.rng.chance(SCHEDULED_SHARE)) {
    cancelNow(w, sub, t, 'cancellation_requested');
    return;
  }
  scheduleCancel(w, sub, t);
  if (w.rng.chance(0.1)) {
    const at = t + w.rng.uniform(0.5, 10) * DAY_MS;
    w.schedule(at, () => resume(w, sub, at));
  }
}

/**
 * Replaces the subscription's items (upgrade or downgrade) with `customer.subscription.updated`
 * carrying the previous items; with `prorate`, an immediate invoice with proration lines.
 */
export function changeItems(w: TenantWorld, sub: Subscription, t: number, items: ItemState[], prorate: boolean): void {
  const previousItems = itemsList(sub);
  const oldAmount = sub.items.reduce((a, i) => a + i.price.unitAmount * i.quantity, 0);
  sub.items = items;
  w.emit('customer.subscription.updated', t, subscriptionObject(sub), { items: previousItems });
  if (!prorate) return;
  const newAmount = items.reduce((a, i) => a + i.price.unitAmount * i.quantity, 0);
  const fraction = Math.max(0, Math.min(1, (sub.periodEndMs - t) / (sub.periodEndMs - sub.periodStartMs)));
  const item = items[0]!;
  const lines: InvoiceLineSpec[] = [
    { id: w.ids.next('il'), amount: -roundAmount(sub.currency, oldAmount * fraction), description: 'Unused time on previous plan', periodStartMs: t, periodEndMs: sub.periodEndMs, quantity: 1, price: null, subscriptionItem: item.id, proration: true, discountAmount: 0 },
    { id: w.ids.next('il'), amount: roundAmount(sub.currency, newAmount * fraction), description: `Remaining time on ${item.quantity} × ${item.price.nickname}`, periodStartMs: t, periodEndMs: sub.periodEndMs, quantity: item.quantity, price: item.price, subscriptionItem: item.id, proration: true, discountAmount: 0 },
  ];
  const inv: InvoiceSpec = {
    id: w.ids.next('in'),
    number: w.nextInvoiceNumber(sub.customerRef),
    customer: sub.customer,
    currency: sub.currency,
    subscription: sub.id,
    billingReason: 'subscription_update',
    collectionMethod: sub.collectionMethod,
    status: 'draft',
    createdMs: t + 500,
    periodStartMs: t,
    periodEndMs: t,
    lines,
    discountId: null,
    finalizedAtMs: null,
    paidAtMs: null,
    attemptCount: 0,
  };
  const total = invoiceTotal(inv);
  if (total <= 0) return; // only upgrades are invoiced at once here
  w.emit('invoice.created', t + 500, invoiceObject(inv));
  inv.status = 'open';
  inv.finalizedAtMs = t + 1_000;
  w.emit('invoice.finalized', t + 1_000, invoiceObject(inv));
  attemptPayment(w, t + 2_000, {
    customer: sub.customerRef,
    amount: total,
    currency: sub.currency,
    paymentIntent: w.ids.next('pi'),
    description: 'Subscription update',
    declineP: 0,
    retriesLeft: 0,
    retryP: 0,
    retryDeclineP: 0,
    onSuccess: (_c, at) => markPaid(w, inv, at),
    noAftermath: true,
  });
}

export function upgradeSomeSubscription(w: TenantWorld, t: number): void {
  const sub = w.pickActive(eligible);
  if (!sub) return;
  const item = sub.items[0]!;
  const plans = w.profile.plans;
  let next: ItemState;
  if (item.price.perSeat) {
    next = { ...item, quantity: item.quantity + w.rng.int(1, 3) };
  } else {
    const higher = plans[item.price.tier + 1];
    if (!higher || higher.perSeat) return;
    next = { ...item, price: w.price(higher.key, sub.currency) };
  }
  changeItems(w, sub, t, [next], w.rng.chance(0.5));
}
