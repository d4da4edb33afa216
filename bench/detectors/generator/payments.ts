/**
 * Card payments and what follows them: attempts with declines and customer retries (one payment
 * intent, several charges), refunds (full and partial, as refund objects plus `charge.refunded`),
 * disputes and early fraud warnings, and the steady trickle of those about charges made before the
 * run started.
 */
import type { ChargeRecord, Customer, TenantWorld } from './world.js';
import { chargeObject, disputeObject, earlyFraudWarningObject, customerObject, paymentIntentObject, refundObject, type RefundSpec } from './objects.js';
import { amountIn, ENABLED_EVENTS } from './profiles.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './types.js';
import { hourOfDay } from './calendar.js';

const FAILURE_CODES = ['card_declined', 'card_declined', 'card_declined', 'insufficient_funds', 'insufficient_funds', 'expired_card', 'incorrect_cvc', 'do_not_honor'];
const PRODUCTS = ['Order', 'Add-on pack', 'Gift card', 'Credits top-up', 'Hardware kit', 'Extra storage', 'Workshop ticket'];

export interface AttemptOptions {
  customer: Customer | null;
  amount: number;
  currency: string;
  paymentIntent: string;
  description: string;
  /** Probability that this attempt is declined. */
  declineP: number;
  /** Further attempts the customer may make after a decline, and their decline probability. */
  retriesLeft: number;
  retryDeclineP: number;
  /** Probability that a declined customer tries again. */
  retryP: number;
  /** Card of the attempt (a retry sometimes uses another card). */
  paymentMethod?: string;
  onSuccess?: (charge: ChargeRecord, atMs: number) => void;
  onFailure?: (atMs: number, final: boolean) => void;
  /** Skip refunds, disputes and fraud warnings (injected traffic decides its own aftermath). */
  noAftermath?: boolean;
}

/** One charge attempt at `t` (and, after a decline, maybe a retry later). */
export function attemptPayment(w: TenantWorld, t: number, o: AttemptOptions): ChargeRecord | undefined {
  const declined = w.rng.chance(o.declineP);
  const chargeId = w.ids.next('ch');
  const pm = o.paymentMethod ?? o.customer?.paymentMethod ?? w.ids.next('pm');
  const last4 = o.customer?.last4 ?? String(w.rng.int(0, 9999)).padStart(4, '0');
  const country = o.customer?.country ?? 'US';
  const base = {
    id: chargeId,
    amount: o.amount,
    currency: o.currency,
    customer: o.customer?.id ?? null,
    paymentIntent: o.paymentIntent,
    createdMs: t,
    description: o.description,
    paymentMethod: pm,
    last4,
    country,
  };
  if (declined) {
    const code = w.rng.pick(FAILURE_CODES);
    w.emit('charge.failed', t, chargeObject({ ...base, succeeded: false, failureCode: code, balanceTransaction: null }));
    if (ENABLED_EVENTS.has('payment_intent.payment_failed')) w.emit(
      'payment_intent.payment_failed',
      t + 150,
      paymentIntentObject({ id: o.paymentIntent, amount: o.amount, currency: o.currency, customer: base.customer, createdMs: t, status: 'requires_payment_method', latestCharge: chargeId, paymentMethod: pm, description: o.description, declineCode: code }),
    );
    const retry = o.retriesLeft > 0 && w.rng.chance(o.retryP);
    o.onFailure?.(t, !retry);
    if (retry) {
      const next = t + w.rng.int(20, 180) * 1000;
      // Some customers switch to another card for the retry.
      const otherCard = w.rng.chance(0.4) ? w.ids.next('pm') : pm;
      w.schedule(next, () => void attemptPayment(w, next, { ...o, declineP: o.retryDeclineP, retriesLeft: o.retriesLeft - 1, paymentMethod: otherCard }));
    }
    return undefined;
  }
  const balanceTransaction = `txn_${chargeId.slice(3)}`;
  w.emit('charge.succeeded', t, chargeObject({ ...base, succeeded: true, balanceTransaction }));
  if (ENABLED_EVENTS.has('payment_intent.succeeded')) w.emit(
    'payment_intent.succeeded',
    t + 200,
    paymentIntentObject({ id: o.paymentIntent, amount: o.amount, currency: o.currency, customer: base.customer, createdMs: t, status: 'succeeded', latestCharge: chargeId, paymentMethod: pm, description: o.description }),
  );
  const record: ChargeRecord = { id: chargeId, customer: o.customer, amount: o.amount, currency: o.currency, paymentIntent: o.paymentIntent, createdMs: t, description: o.description, refunds: [] };
  w.rememberCharge(record);
  o.onSuccess?.(record, t);
  if (!o.noAftermath) aftermath(w, record);
  return record;
}

/** A customer-initiated purchase: guest, new or returning customer; declines and retries. */
export function oneOffPurchase(w: TenantWorld, t: number): void {
  const p = w.profile;
  const r = w.rng.next();
  let customer: Customer | null = null;
  let currency: string;
  if (r < 0.15) {
    currency = w.pickCurrency();
  } else if (r < 0.45 || w.customers.length === 0) {
    customer = w.newCustomer(t - 2000);
    currency = customer.currency;
    w.emit('customer.created', t - 2000, customerObject({ id: customer.id, createdMs: t - 2000, currency: null, country: customer.country, email: `${customer.id.slice(-10).toLowerCase()}@example.com`, name: 'Synthetic Customer' }));
  } else {
    customer = w.rng.pick(w.customers);
    currency = customer.currency;
  }
  const usd = Math.min(60_000, Math.max(300, w.rng.logNormal(p.oneOffMedianUsdCents, p.oneOffSigma)));
  attemptPayment(w, t, {
    customer,
    amount: amountIn(usd, currency),
    currency,
    paymentIntent: w.ids.next('pi'),
    description: w.rng.pick(PRODUCTS),
    declineP: p.declineRate,
    retriesLeft: 2,
    retryDeclineP: 0.45,
    retryP: 0.55,
  });
}

/** Refunds, disputes and early fraud warnings that may follow a successful charge. */
export function aftermath(w: TenantWorld, c: ChargeRecord): void {
  const p = w.profile;
  if (w.rng.chance(p.refundRate)) {
    const first = businessTime(w, c.createdMs + refundDelay(w));
    const partial = w.rng.chance(p.partialRefundShare);
    const amount = partial ? roundAmount(c.currency, c.amount * w.rng.uniform(0.15, 0.6)) : c.amount;
    w.schedule(first, () => {
      refund(w, c, amount, first, partial ? 'requested_by_customer' : w.rng.pick(['requested_by_customer', 'requested_by_customer', 'duplicate', null]));
      // Some partially refunded orders get a second partial refund later, never beyond the charge.
      if (partial && w.rng.chance(0.25)) {
        const second = businessTime(w, first + refundDelay(w));
        const remaining = c.amount - c.refunds.reduce((a, x) => a + x.amount, 0);
        const more = Math.min(remaining, roundAmount(c.currency, c.amount * w.rng.uniform(0.1, 0.35)));
        if (more > 0) w.schedule(second, () => refund(w, c, more, second, 'requested_by_customer'));
      }
    });
  }
  if (w.rng.chance(p.efwRate)) {
    const at = c.createdMs + w.rng.uniform(1, 12) * DAY_MS;
    w.schedule(at, () => earlyFraudWarning(w, c, at));
    if (w.rng.chance(0.5)) {
      const later = at + w.rng.uniform(5, 20) * DAY_MS;
      w.schedule(later, () => dispute(w, c, later, 'fraudulent'));
    }
  }
  if (w.rng.chance(p.disputeRate)) {
    const at = c.createdMs + w.rng.uniform(7, 40) * DAY_MS;
    w.schedule(at, () => dispute(w, c, at, w.rng.pick(['fraudulent', 'product_not_received', 'subscription_canceled', 'unrecognized'])));
  }
}

/** A refund object and the updated charge (`refund.created` + `charge.refunded`). */
export function refund(w: TenantWorld, c: ChargeRecord, amount: number, t: number, reason: string | null): RefundSpec {
  const r: RefundSpec = { id: w.ids.next('re'), amount, currency: c.currency, charge: c.id, paymentIntent: c.paymentIntent, createdMs: t, status: 'succeeded', reason };
  c.refunds.push(r);
  w.emit('refund.created', t, refundObject(r));
  w.emit('charge.refunded', t + 300, chargeSnapshot(c));
  return r;
}

export function dispute(w: TenantWorld, c: ChargeRecord, t: number, reason: string): void {
  w.emit('charge.dispute.created', t, disputeObject({ id: w.ids.next('dp'), amount: c.amount, currency: c.currency, charge: c.id, paymentIntent: c.paymentIntent, createdMs: t, reason }));
}

export function earlyFraudWarning(w: TenantWorld, c: ChargeRecord, t: number): void {
  w.emit('radar.early_fraud_warning.created', t, earlyFraudWarningObject({ id: w.ids.next('issfr'), charge: c.id, paymentIntent: c.paymentIntent, createdMs: t }));
}

/** The charge as Stripe shows it now (refunds listed, `amount_refunded` cumulative). */
export function chargeSnapshot(c: ChargeRecord): Record<string, unknown> {
  return chargeObject({
    id: c.id,
    amount: c.amount,
    currency: c.currency,
    customer: c.customer?.id ?? null,
    paymentIntent: c.paymentIntent,
    createdMs: c.createdMs,
    succeeded: true,
    description: c.description,
    balanceTransaction: `txn_${c.id.slice(3)}`,
    paymentMethod: c.customer?.paymentMethod ?? 'pm_card',
    last4: c.customer?.last4 ?? '4242',
    country: c.customer?.country ?? 'US',
    refunds: c.refunds,
  });
}

/** A charge made before the run (not in Meterwatch's store): for background refunds and disputes. */
function pastCharge(w: TenantWorld, t: number, minDays: number, maxDays: number): ChargeRecord {
  const customer = w.customers.length > 0 && w.rng.chance(0.85) ? w.rng.pick(w.customers) : null;
  const currency = customer?.currency ?? w.pickCurrency();
  const usd = Math.min(60_000, Math.max(300, w.rng.logNormal(w.profile.oneOffMedianUsdCents, w.profile.oneOffSigma)));
  return {
    id: w.ids.next('ch'),
    customer,
    amount: amountIn(usd, currency),
    currency,
    paymentIntent: w.ids.next('pi'),
    createdMs: t - w.rng.uniform(minDays, maxDays) * DAY_MS,
    description: w.rng.pick(PRODUCTS),
    refunds: [],
  };
}

export function backgroundRefund(w: TenantWorld, t: number): void {
  const at = businessTime(w, t);
  w.schedule(at, () => {
    const c = pastCharge(w, at, 0.5, 6);
    const partial = w.rng.chance(w.profile.partialRefundShare);
    refund(w, c, partial ? roundAmount(c.currency, c.amount * w.rng.uniform(0.15, 0.6)) : c.amount, at, 'requested_by_customer');
  });
}

export function backgroundCase(w: TenantWorld, t: number, kind: 'dispute' | 'efw'): void {
  const c = kind === 'dispute' ? pastCharge(w, t, 7, 40) : pastCharge(w, t, 1, 12);
  if (kind === 'dispute') dispute(w, c, t, w.rng.pick(['fraudulent', 'product_not_received', 'unrecognized']));
  else earlyFraudWarning(w, c, t);
}

/**
 * Support teams refund during their working hours: a time outside them moves to a random moment of
 * the next working stretch (the overnight queue is worked through the day, not all at 9:00).
 */
export function businessTime(w: TenantWorld, t: number): number {
  const hourly = w.profile.hourly;
  const avg = hourly.reduce((a, b) => a + b, 0) / hourly.length;
  const working = (ms: number) => hourly[hourOfDay(ms)]! >= 0.9 * avg;
  if (working(t)) return t;
  let start = Math.floor(t / HOUR_MS) * HOUR_MS;
  for (let i = 0; i < 24 && !working(start); i++) start += HOUR_MS;
  let hours = 0;
  while (hours < 24 && working(start + hours * HOUR_MS)) hours += 1;
  return start + Math.floor(w.rng.uniform(0, Math.max(1, hours) * HOUR_MS));
}

function refundDelay(w: TenantWorld): number {
  return Math.min(20 * DAY_MS, Math.max(10 * MINUTE_MS, w.rng.logNormal(20 * HOUR_MS, 1.0)));
}

export function roundAmount(currency: string, amount: number): number {
  if (currency === 'jpy') return Math.max(10, Math.round(amount / 10) * 10);
  return Math.max(50, Math.round(amount));
}
