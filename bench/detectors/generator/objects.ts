/**
 * Stripe objects and event envelopes, built by cloning Stripe's published example objects
 * (`fixtures/stripe-objects.ts`) and overwriting ids, links, amounts, statuses and times. API shape of
 * 2025-03-31 and later: subscription periods on the items, an invoice's subscription under
 * `parent.subscription_details`.
 */
import { STRIPE_OBJECTS, type StripeObjectName } from '../fixtures/stripe-objects.js';
import type { Rng } from '../prng.js';
import type { Json } from './types.js';

export const API_VERSION = '2025-08-27.basil';

/**
 * Since API 2022-11-15 a charge no longer carries its `refunds` list unless expanded, and webhooks are
 * never expanded: `charge.refunded` brings only the cumulative `amount_refunded`. `chargeRefundList`
 * adds the list back, as accounts on older API versions receive it (`--charge-refund-list`).
 */
export const OBJECT_OPTIONS = { chargeRefundList: false };

const TEMPLATE_JSON = new Map<StripeObjectName, string>();
/** A fresh deep copy of Stripe's example object (parsing cached JSON is cheaper than structuredClone). */
function template(name: StripeObjectName): Json {
  let text = TEMPLATE_JSON.get(name);
  if (text === undefined) {
    text = JSON.stringify(STRIPE_OBJECTS[name]);
    TEMPLATE_JSON.set(name, text);
  }
  return JSON.parse(text) as Json;
}
const ITEM_TEMPLATE = JSON.stringify((STRIPE_OBJECTS.subscription.items as { data: Json[] }).data[0]);
const LINE_TEMPLATE = JSON.stringify((STRIPE_OBJECTS.invoice.lines as { data: Json[] }).data[0]);
const sec = (ms: number): number => Math.floor(ms / 1000);

/** Stripe-looking ids, unique per tenant (a counter inside), reproducible (seeded). */
export class Ids {
  private counter = 0;
  constructor(
    private readonly rng: Rng,
    private readonly tag: string,
  ) {}

  next(prefix: string): string {
    this.counter += 1;
    return `${prefix}_1${this.tag}${this.counter.toString(36).padStart(7, '0')}${this.rng.base62(13)}`;
  }
}

export interface PriceRef {
  id: string;
  product: string;
  nickname: string;
  unitAmount: number;
  currency: string;
  perSeat: boolean;
  tier: number;
}

export interface ItemState {
  id: string;
  price: PriceRef;
  quantity: number;
  createdMs: number;
}

export interface SubscriptionView {
  id: string;
  customer: string;
  currency: string;
  status: string;
  createdMs: number;
  periodStartMs: number;
  periodEndMs: number;
  cancelAtPeriodEnd: boolean;
  canceledAtMs: number | null;
  endedAtMs: number | null;
  items: ItemState[];
  latestInvoice: string | null;
  discountId: string | null;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  cancellationReason: string | null;
}

export function subscriptionItemObject(sub: SubscriptionView, item: ItemState): Json {
  const o = JSON.parse(ITEM_TEMPLATE) as Json;
  const priceTemplate = o.price as Json;
  const planTemplate = o.plan as Json;
  o.id = item.id;
  o.created = sec(item.createdMs);
  o.subscription = sub.id;
  o.quantity = item.quantity;
  o.current_period_start = sec(sub.periodStartMs);
  o.current_period_end = sec(sub.periodEndMs);
  o.discounts = [];
  o.metadata = {};
  o.billing_thresholds = null;
  o.price = {
    ...priceTemplate,
    id: item.price.id,
    product: item.price.product,
    nickname: item.price.nickname,
    currency: item.price.currency,
    unit_amount: item.price.unitAmount,
    unit_amount_decimal: String(item.price.unitAmount),
    livemode: true,
    created: sec(item.createdMs) - 86_400 * 400,
    recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'licensed', trial_period_days: null },
    transform_quantity: null,
    custom_unit_amount: null,
  };
  o.plan = {
    ...planTemplate,
    id: item.price.id,
    product: item.price.product,
    nickname: item.price.nickname,
    currency: item.price.currency,
    amount: item.price.unitAmount,
    amount_decimal: String(item.price.unitAmount),
    billing_scheme: 'per_unit',
    interval: 'month',
    interval_count: 1,
    livemode: true,
    metadata: {},
    created: sec(item.createdMs) - 86_400 * 400,
    tiers_mode: null,
    transform_usage: null,
  };
  return o;
}

export function subscriptionObject(sub: SubscriptionView): Json {
  const o = template('subscription');
  o.id = sub.id;
  o.customer = sub.customer;
  o.currency = sub.currency;
  o.status = sub.status;
  o.created = sec(sub.createdMs);
  o.start_date = sec(sub.createdMs);
  o.billing_cycle_anchor = sec(sub.createdMs);
  o.billing_cycle_anchor_config = null;
  o.cancel_at_period_end = sub.cancelAtPeriodEnd;
  o.cancel_at = sub.cancelAtPeriodEnd ? sec(sub.periodEndMs) : null;
  o.canceled_at = sub.canceledAtMs === null ? null : sec(sub.canceledAtMs);
  o.ended_at = sub.endedAtMs === null ? null : sec(sub.endedAtMs);
  o.cancellation_details = { comment: null, feedback: null, reason: sub.cancellationReason };
  o.collection_method = sub.collectionMethod;
  o.days_until_due = sub.collectionMethod === 'send_invoice' ? 3 : null;
  o.trial_end = null;
  o.trial_start = null;
  o.latest_invoice = sub.latestInvoice;
  o.discounts = sub.discountId ? [sub.discountId] : [];
  o.livemode = true;
  o.next_pending_invoice_item_invoice = null;
  o.pending_invoice_item_interval = null;
  o.pending_update = null;
  o.pause_collection = null;
  o.transfer_data = null;
  o.billing_schedules = [];
  o.items = {
    object: 'list',
    data: sub.items.map((item) => subscriptionItemObject(sub, item)),
    has_more: false,
    total_count: sub.items.length,
    url: `/v1/subscription_items?subscription=${sub.id}`,
  };
  return o;
}

export interface ChargeSpec {
  id: string;
  amount: number;
  currency: string;
  customer: string | null;
  paymentIntent: string;
  createdMs: number;
  succeeded: boolean;
  failureCode?: string;
  description: string;
  balanceTransaction: string | null;
  paymentMethod: string;
  last4: string;
  country: string;
  refunds?: RefundSpec[];
  disputed?: boolean;
}

const DECLINES: Record<string, string> = {
  card_declined: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
  incorrect_cvc: "Your card's security code is incorrect.",
  do_not_honor: 'Your card was declined.',
  lost_card: 'Your card was declined.',
};

export function chargeObject(c: ChargeSpec): Json {
  const o = template('charge');
  const refunds = c.refunds ?? [];
  const refunded = refunds.filter((r) => r.status === 'succeeded' || r.status === 'pending').reduce((a, r) => a + r.amount, 0);
  o.id = c.id;
  o.amount = c.amount;
  o.amount_captured = c.succeeded ? c.amount : 0;
  o.amount_refunded = refunded;
  o.refunded = refunded >= c.amount && c.amount > 0;
  o.captured = c.succeeded;
  o.paid = c.succeeded;
  o.status = c.succeeded ? 'succeeded' : 'failed';
  o.created = sec(c.createdMs);
  o.currency = c.currency;
  o.customer = c.customer;
  o.description = c.description;
  o.payment_intent = c.paymentIntent;
  o.payment_method = c.paymentMethod;
  o.balance_transaction = c.balanceTransaction;
  o.livemode = true;
  o.disputed = c.disputed === true;
  o.failure_code = c.succeeded ? null : (c.failureCode ?? 'card_declined');
  o.failure_message = c.succeeded ? null : (DECLINES[c.failureCode ?? 'card_declined'] ?? 'Your card was declined.');
  o.outcome = c.succeeded
    ? { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null, risk_level: 'normal', risk_score: 20, seller_message: 'Payment complete.', type: 'authorized' }
    : {
        advice_code: 'try_again_later',
        network_advice_code: null,
        network_decline_code: null,
        network_status: 'declined_by_network',
        reason: c.failureCode === 'insufficient_funds' ? 'insufficient_funds' : 'generic_decline',
        risk_level: 'normal',
        risk_score: 35,
        seller_message: 'The bank did not return any further details with this decline.',
        type: 'issuer_declined',
      };
  o.receipt_url = `https://pay.stripe.com/receipts/payment/${c.id.slice(3)}`;
  if (OBJECT_OPTIONS.chargeRefundList) {
    o.refunds = { object: 'list', data: refunds.map(refundObject), has_more: false, total_count: refunds.length, url: `/v1/charges/${c.id}/refunds` };
  } else delete o.refunds;
  o.source = null;
  o.transfer_data = null;
  o.billing_details = { ...(o.billing_details as Json), name: null, address: { city: null, country: c.country, line1: null, line2: null, postal_code: null, state: null } };
  const pmd = o.payment_method_details as Json;
  const card = pmd.card as Json;
  card.last4 = c.last4;
  card.country = c.country;
  card.amount_authorized = c.succeeded ? c.amount : null;
  card.checks = { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: c.failureCode === 'incorrect_cvc' ? 'fail' : 'pass' };
  card.wallet = null;
  return o;
}

export interface PaymentIntentSpec {
  id: string;
  amount: number;
  currency: string;
  customer: string | null;
  createdMs: number;
  status: 'succeeded' | 'requires_payment_method';
  latestCharge: string;
  paymentMethod: string;
  description: string;
  declineCode?: string;
}

export function paymentIntentObject(p: PaymentIntentSpec): Json {
  const o = template('payment_intent');
  o.id = p.id;
  o.amount = p.amount;
  o.amount_received = p.status === 'succeeded' ? p.amount : 0;
  o.currency = p.currency;
  o.customer = p.customer;
  o.created = sec(p.createdMs);
  o.status = p.status;
  o.latest_charge = p.latestCharge;
  o.payment_method = p.status === 'succeeded' ? p.paymentMethod : null;
  o.description = p.description;
  o.client_secret = `${p.id}_secret_${p.id.slice(-12)}`;
  o.livemode = true;
  o.canceled_at = null;
  o.next_action = null;
  o.processing = null;
  o.transfer_data = null;
  o.payment_method_configuration_details = null;
  o.last_payment_error =
    p.status === 'succeeded'
      ? null
      : { type: 'card_error', code: 'card_declined', decline_code: p.declineCode ?? 'generic_decline', message: 'Your card was declined.', charge: p.latestCharge };
  return o;
}

export interface RefundSpec {
  id: string;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string;
  createdMs: number;
  status: 'succeeded' | 'pending' | 'failed';
  reason: string | null;
}

export function refundObject(r: RefundSpec): Json {
  const o = template('refund');
  o.id = r.id;
  o.amount = r.amount;
  o.currency = r.currency;
  o.charge = r.charge;
  o.payment_intent = r.paymentIntent;
  o.created = sec(r.createdMs);
  o.status = r.status;
  o.reason = r.reason;
  o.balance_transaction = `txn_${r.id.slice(3)}`;
  return o;
}

export function disputeObject(d: { id: string; amount: number; currency: string; charge: string; paymentIntent: string; createdMs: number; reason: string }): Json {
  const o = template('dispute');
  o.id = d.id;
  o.amount = d.amount;
  o.currency = d.currency;
  o.charge = d.charge;
  o.payment_intent = d.paymentIntent;
  o.created = sec(d.createdMs);
  o.reason = d.reason;
  o.status = 'needs_response';
  o.livemode = true;
  o.is_charge_refundable = false;
  o.enhanced_eligibility_types = [];
  o.evidence_details = { ...(o.evidence_details as Json), due_by: sec(d.createdMs) + 8 * 86_400 };
  const pmd = o.payment_method_details as Json;
  (pmd.card as Json).case_type = 'chargeback';
  (pmd.card as Json).network_reason_code = d.reason === 'fraudulent' ? '10.4' : '13.1';
  return o;
}

export function earlyFraudWarningObject(w: { id: string; charge: string; paymentIntent: string; createdMs: number }): Json {
  const o = template('radar.early_fraud_warning');
  o.id = w.id;
  o.charge = w.charge;
  o.payment_intent = w.paymentIntent;
  o.created = sec(w.createdMs);
  o.fraud_type = 'made_with_stolen_card';
  o.livemode = true;
  return o;
}

export function customerObject(c: { id: string; createdMs: number; currency: string | null; country: string; email: string; name: string }): Json {
  const o = template('customer');
  o.id = c.id;
  o.created = sec(c.createdMs);
  o.currency = c.currency;
  o.email = c.email;
  o.name = c.name;
  o.discount = null;
  o.livemode = true;
  o.invoice_prefix = c.id.slice(-8).toUpperCase();
  o.address = { city: null, country: c.country, line1: null, line2: null, postal_code: null, state: null };
  return o;
}

export interface InvoiceLineSpec {
  id: string;
  amount: number;
  description: string;
  periodStartMs: number;
  periodEndMs: number;
  quantity: number;
  price: PriceRef | null;
  subscriptionItem: string | null;
  proration: boolean;
  discountAmount: number;
}

export interface InvoiceSpec {
  id: string;
  number: string;
  customer: string;
  currency: string;
  subscription: string | null;
  billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'manual';
  collectionMethod: 'charge_automatically' | 'send_invoice';
  status: 'draft' | 'open' | 'paid' | 'uncollectible';
  createdMs: number;
  periodStartMs: number;
  periodEndMs: number;
  lines: InvoiceLineSpec[];
  discountId: string | null;
  finalizedAtMs: number | null;
  paidAtMs: number | null;
  attemptCount: number;
}

export function invoiceObject(inv: InvoiceSpec): Json {
  const o = template('invoice');
  const subtotal = inv.lines.reduce((a, l) => a + l.amount, 0);
  const discount = inv.lines.reduce((a, l) => a + l.discountAmount, 0);
  const total = subtotal - discount;
  const paid = inv.status === 'paid';
  o.id = inv.id;
  o.number = inv.status === 'draft' ? null : inv.number;
  o.customer = inv.customer;
  o.currency = inv.currency;
  o.created = sec(inv.createdMs);
  o.effective_at = inv.finalizedAtMs === null ? null : sec(inv.finalizedAtMs);
  o.status = inv.status;
  o.billing_reason = inv.billingReason;
  o.collection_method = inv.collectionMethod;
  o.auto_advance = inv.status === 'draft' || inv.status === 'open';
  o.automatically_finalizes_at = inv.status === 'draft' ? sec(inv.createdMs) + 3600 : null;
  o.due_date = inv.collectionMethod === 'send_invoice' ? sec(inv.createdMs) + 3 * 86_400 : null;
  o.period_start = sec(inv.periodStartMs);
  o.period_end = sec(inv.periodEndMs);
  o.subtotal = subtotal;
  o.subtotal_excluding_tax = subtotal;
  o.total = total;
  o.total_excluding_tax = total;
  o.amount_due = Math.max(0, total);
  o.amount_paid = paid ? Math.max(0, total) : 0;
  o.amount_remaining = paid ? 0 : Math.max(0, total);
  o.amount_overpaid = 0;
  o.starting_balance = 0;
  o.ending_balance = inv.status === 'draft' ? null : Math.min(0, total);
  o.attempted = inv.attemptCount > 0;
  o.attempt_count = inv.attemptCount;
  o.livemode = true;
  o.account_name = 'Synthetic merchant';
  o.hosted_invoice_url = inv.status === 'draft' ? null : `https://invoice.stripe.com/i/${inv.id}`;
  o.invoice_pdf = inv.status === 'draft' ? null : `https://pay.stripe.com/invoice/${inv.id}/pdf`;
  o.next_payment_attempt = inv.status === 'open' && inv.collectionMethod === 'charge_automatically' ? sec(inv.createdMs) + 3600 : null;
  o.webhooks_delivered_at = inv.status === 'draft' ? null : sec(inv.createdMs);
  o.last_finalization_error = null;
  o.from_invoice = null;
  o.shipping_cost = null;
  o.subscription = null;
  o.discounts = inv.discountId ? [inv.discountId] : [];
  o.total_discount_amounts = inv.discountId && discount > 0 ? [{ amount: discount, discount: inv.discountId }] : [];
  o.status_transitions = {
    finalized_at: inv.finalizedAtMs === null ? null : sec(inv.finalizedAtMs),
    marked_uncollectible_at: null,
    paid_at: inv.paidAtMs === null ? null : sec(inv.paidAtMs),
    voided_at: null,
  };
  o.parent = inv.subscription
    ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: inv.subscription } }
    : null;
  o.lines = {
    object: 'list',
    has_more: false,
    total_count: inv.lines.length,
    url: `/v1/invoices/${inv.id}/lines`,
    data: inv.lines.map((l) => {
      const line = JSON.parse(LINE_TEMPLATE) as Json;
      line.id = l.id;
      line.invoice = inv.id;
      line.amount = l.amount;
      line.subtotal = l.amount;
      line.currency = inv.currency;
      line.description = l.description;
      line.livemode = true;
      line.quantity = l.quantity;
      line.period = { start: sec(l.periodStartMs), end: sec(l.periodEndMs) };
      line.discountable = true;
      line.discounts = inv.discountId && l.discountAmount > 0 ? [inv.discountId] : [];
      line.discount_amounts = inv.discountId && l.discountAmount > 0 ? [{ amount: l.discountAmount, discount: inv.discountId }] : [];
      line.subscription = inv.subscription;
      line.taxes = [];
      line.pricing = l.price
        ? { type: 'price_details', price_details: { price: l.price.id, product: l.price.product }, unit_amount_decimal: String(l.price.unitAmount) }
        : { type: 'price_details', price_details: null, unit_amount_decimal: String(l.amount) };
      line.parent = l.subscriptionItem
        ? {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: l.proration,
              proration_details: { credited_items: null },
              subscription: inv.subscription,
              subscription_item: l.subscriptionItem,
            },
          }
        : {
            type: 'invoice_item_details',
            subscription_item_details: null,
            invoice_item_details: { invoice_item: `ii_${l.id.slice(3)}`, proration: false, proration_details: { credited_items: null }, subscription: null },
          };
      return line;
    }),
  };
  return o;
}

/** A discount object (coupon `percent_off`), as in `customer.discount.created`. */
export function discountObject(d: { id: string; customer: string; subscription: string | null; coupon: string; startMs: number }): Json {
  const o = template('discount');
  o.id = d.id;
  o.customer = d.customer;
  o.subscription = d.subscription;
  o.start = sec(d.startMs);
  o.end = null;
  o.source = { coupon: d.coupon, type: 'coupon' };
  return o;
}

/** The event envelope Stripe POSTs. */
export function eventEnvelope(e: { id: string; type: string; createdMs: number; object: Json; previousAttributes?: Json; requestId: string | null }): Json {
  const data: Json = { object: e.object };
  if (e.previousAttributes) data.previous_attributes = e.previousAttributes;
  return {
    id: e.id,
    object: 'event',
    api_version: API_VERSION,
    created: sec(e.createdMs),
    data,
    livemode: true,
    pending_webhooks: 1,
    request: { id: e.requestId, idempotency_key: e.requestId ? `idem-${e.requestId.slice(4)}` : null },
    type: e.type,
  };
}
