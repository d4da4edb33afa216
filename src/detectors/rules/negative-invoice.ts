/**
 * negative_invoice — a finalized invoice that takes money off the books instead of billing it.
 *
 * Looks at `invoice.finalized`, `invoice.paid` and `invoice.payment_succeeded` whose invoice is
 * `open` or `paid` (drafts, void and uncollectible invoices are not judged). Fires (subject: the
 * invoice) when:
 * 1. Negative total: `total` < 0 (credit lines exceeding the charges). Severity `warning`; `info`
 *    when `billing_reason` is `subscription_update`, the proration credit of a mid-period downgrade
 *    (plan_downgrade reports the downgrade itself).
 * 2. Unexpected 100 % discount on a paid plan: `subtotal` > 0, `total` == 0, and the invoice carries
 *    discounts (`total_discount_amounts` with an amount, `discounts`, or the legacy `discount`). A
 *    legitimately free price has `subtotal` 0 and never fires; an invoice with tax left to pay has
 *    `total` > 0 and never fires. Discounts whose coupon, promotion code or discount id is in
 *    `allowedCoupons` are expected (e.g. a "friends and family" coupon): the invoice fires only when
 *    at least one discount that took money off is not allow-listed. Invoice webhooks usually carry
 *    discount ids (`di_…`) only, so the coupon is resolved from the stored `customer.discount.*`
 *    events of that discount id (or from an expanded discount object: `coupon`, or `source.coupon`
 *    on newer API versions). Severity `warning`.
 *
 * One invoice is one subject: its `invoice.finalized` and `invoice.paid` merge into one incident.
 * Amounts stay in the invoice's own currency. A per-object finding: no `stillFiring`.
 */
import { Type } from '@sinclair/typebox';
import type { Detector, DetectorContext, DetectorEvent, Severity, Trigger } from '../detector.js';

export interface NegativeInvoiceConfig extends Record<string, unknown> {
  detectNegativeTotal: boolean;
  detectFullDiscount: boolean;
  /** Coupon ids (or promotion code / discount ids) that are expected to take 100 % off. */
  allowedCoupons: string[];
}

const EVENT_TYPES = ['invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded'] as const;
const JUDGED_STATUSES = new Set(['open', 'paid']);
const DISCOUNT_EVENT_TYPES = ['customer.discount.created', 'customer.discount.updated', 'customer.discount.deleted'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const idOf = (v: unknown): string | null => (isObject(v) ? str(v.id) : str(v));
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The ids a discount can be allow-listed by: its own id, its coupon, its promotion code. */
interface DiscountRef {
  discountId: string | null;
  ids: Set<string>;
  amount: number;
}

function couponOf(discount: Json): string | null {
  const legacy = idOf(discount.coupon);
  if (legacy) return legacy;
  return isObject(discount.source) ? idOf(discount.source.coupon) : null;
}

function refFrom(discount: unknown, amount: number): DiscountRef | undefined {
  if (isObject(discount)) {
    const ids = new Set<string>();
    const id = str(discount.id);
    const coupon = couponOf(discount);
    const promo = idOf(discount.promotion_code);
    for (const x of [id, coupon, promo]) if (x) ids.add(x);
    return { discountId: id, ids, amount };
  }
  const id = str(discount);
  return id ? { discountId: id, ids: new Set([id]), amount } : undefined;
}

/** Every discount that applies to the invoice, with the amount it took off when Stripe says so. */
function discountsOf(invoice: Json): { refs: DiscountRef[]; discountTotal: number } {
  const byKey = new Map<string, DiscountRef>();
  let discountTotal = 0;
  const add = (d: unknown, amount: number) => {
    const ref = refFrom(d, amount);
    if (!ref) return;
    const key = ref.discountId ?? [...ref.ids].join('|');
    const prev = byKey.get(key);
    if (prev) {
      prev.amount += amount;
      for (const x of ref.ids) prev.ids.add(x);
    } else byKey.set(key, ref);
  };
  for (const tda of arr(invoice.total_discount_amounts)) {
    if (!isObject(tda)) continue;
    const amount = int(tda.amount) ?? 0;
    discountTotal += amount;
    add(tda.discount, amount);
  }
  for (const d of arr(invoice.discounts)) add(d, 0);
  if (isObject(invoice.discount)) add(invoice.discount, 0); // legacy single discount
  if (isObject(invoice.lines)) {
    for (const line of arr(invoice.lines.data)) {
      if (!isObject(line)) continue;
      for (const da of arr(line.discount_amounts)) if (isObject(da)) add(da.discount, 0);
    }
  }
  return { refs: [...byKey.values()], discountTotal };
}

async function resolveCoupons(ctx: DetectorContext<NegativeInvoiceConfig>, ref: DiscountRef): Promise<void> {
  if (!ref.discountId || ref.ids.size > 1) return; // already expanded
  const events = await ctx.data.events({ objectId: ref.discountId, types: DISCOUNT_EVENT_TYPES, limit: 10 });
  for (const e of events) {
    const resolved = refFrom(e.object, 0);
    if (resolved) for (const x of resolved.ids) ref.ids.add(x);
  }
}

function subscriptionOf(invoice: Json): string | null {
  const parent = invoice.parent;
  if (isObject(parent) && isObject(parent.subscription_details)) {
    const s = idOf(parent.subscription_details.subscription);
    if (s) return s;
  }
  return idOf(invoice.subscription);
}

async function judge(ctx: DetectorContext<NegativeInvoiceConfig>, e: DetectorEvent): Promise<Trigger | undefined> {
  const inv = e.object;
  if (inv.object !== 'invoice') return undefined;
  const invoiceId = str(inv.id);
  const status = str(inv.status);
  if (!invoiceId || !status || !JUDGED_STATUSES.has(status)) return undefined;
  const total = int(inv.total);
  const subtotal = int(inv.subtotal);
  if (total === null) return undefined;
  const currency = (str(inv.currency) ?? e.currency ?? '').toLowerCase();
  const billingReason = str(inv.billing_reason) ?? 'unknown';
  const base: Record<string, string | number> = {
    currency,
    total,
    subtotal: subtotal ?? 'unknown',
    status,
    billingReason,
  };
  const subscription = subscriptionOf(inv);
  if (subscription) base.subscription = subscription;

  if (ctx.config.detectNegativeTotal && total < 0) {
    const severity: Severity = billingReason === 'subscription_update' ? 'info' : 'warning';
    return {
      subjectType: 'invoice',
      subjectId: invoiceId,
      severity,
      summary: `Invoice ${invoiceId} was finalized with a negative total of ${formatMoney(total, currency)} (${billingReason})`,
      figures: { condition: 'negative_total', ...base },
      eventIds: [e.eventId],
      at: e.created * 1000,
    };
  }

  if (ctx.config.detectFullDiscount && subtotal !== null && subtotal > 0 && total === 0) {
    const { refs, discountTotal } = discountsOf(inv);
    if (refs.length === 0 && discountTotal <= 0) return undefined; // zero total without any discount: not this rule
    // Only the discounts that took money off matter when Stripe says how much each took.
    const effective = refs.some((r) => r.amount > 0) ? refs.filter((r) => r.amount > 0) : refs;
    const allowed = new Set(ctx.config.allowedCoupons);
    for (const r of effective) if (![...r.ids].some((x) => allowed.has(x))) await resolveCoupons(ctx, r);
    const unexpected = effective.filter((r) => ![...r.ids].some((x) => allowed.has(x)));
    if (unexpected.length === 0) return undefined;
    const described = unexpected.map((r) => [...r.ids].sort().join('/')).join(', ');
    return {
      subjectType: 'invoice',
      subjectId: invoiceId,
      severity: 'warning',
      summary: `Invoice ${invoiceId} for ${formatMoney(subtotal, currency)} was discounted to zero by ${described}, which is not an allowed 100 % coupon`,
      figures: { condition: 'full_discount', ...base, discountTotal, discounts: described },
      eventIds: [e.eventId],
      at: e.created * 1000,
    };
  }
  return undefined;
}

export const negativeInvoice: Detector<NegativeInvoiceConfig> = {
  name: 'negative_invoice',
  description: 'A finalized invoice with a negative total, or a paid plan discounted to zero by a coupon that is not allow-listed.',
  configSchema: Type.Object(
    {
      detectNegativeTotal: Type.Boolean(),
      detectFullDiscount: Type.Boolean(),
      allowedCoupons: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000, uniqueItems: true }),
    },
    { additionalProperties: false },
  ),
  defaults: { detectNegativeTotal: true, detectFullDiscount: true, allowedCoupons: [] },
  eventTypes: EVENT_TYPES,

  async evaluateEvents(ctx, events) {
    const triggers: Trigger[] = [];
    for (const e of [...events].sort((a, b) => a.created - b.created || a.seq - b.seq)) {
      const t = await judge(ctx, e);
      if (t) triggers.push(t);
    }
    return triggers;
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
