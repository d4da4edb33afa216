/** Injected invoice anomalies: a manual invoice with a negative total, and a paid plan discounted to zero. */
import { discountObject, invoiceObject, type InvoiceSpec } from '../generator/objects.js';
import { MINUTE_MS, HOUR_MS, DAY_MS } from '../generator/types.js';
import { activeWhere, ordinary, type InjectContext } from './context.js';

/** A manual invoice whose credit line (SLA compensation) exceeds its charges: total < 0. */
export function negativeInvoice(ctx: InjectContext, start: number): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'negative_invoice',
    label: 'manual invoice finalized with a negative total (credit > charges)',
    subjectType: 'invoice',
    startsAt: start,
    window: { from: start, to: start + 30 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const sub = ctx.rng.pick(activeWhere(w, ordinary));
    const currency = sub.currency;
    const k = currency === 'jpy' ? 1.5 : 1;
    const inv: InvoiceSpec = {
      id: w.ids.next('in'),
      number: w.nextInvoiceNumber(sub.customerRef),
      customer: sub.customer,
      currency,
      subscription: null,
      billingReason: 'manual',
      collectionMethod: 'charge_automatically',
      status: 'draft',
      createdMs: start,
      periodStartMs: start,
      periodEndMs: start,
      lines: [
        { id: w.ids.next('il'), amount: Math.round(4_900 * k), description: 'Consulting hours', periodStartMs: start, periodEndMs: start, quantity: 1, price: null, subscriptionItem: null, proration: false, discountAmount: 0 },
        { id: w.ids.next('il'), amount: -Math.round(12_000 * k), description: 'Credit: SLA breach compensation', periodStartMs: start, periodEndMs: start, quantity: 1, price: null, subscriptionItem: null, proration: false, discountAmount: 0 },
      ],
      discountId: null,
      finalizedAtMs: null,
      paidAtMs: null,
      attemptCount: 0,
    };
    inj.subjectId = inv.id;
    w.emit('invoice.created', start, invoiceObject(inv));
    const fin = start + 4 * MINUTE_MS;
    w.schedule(fin, () => {
      inv.status = 'open';
      inv.finalizedAtMs = fin;
      w.emit('invoice.finalized', fin, invoiceObject(inv));
      inv.status = 'paid';
      inv.paidAtMs = fin + 1_000;
      w.emit('invoice.paid', fin + 1_000, invoiceObject(inv));
    });
  });
}

/**
 * A 100 % coupon ("SUMMER100", meant for a test account) lands on a paying customer: the next
 * renewal invoice has subtotal > 0, total 0 and is marked paid without a charge.
 */
export function fullDiscount(ctx: InjectContext, setupAt: number): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'negative_invoice',
    label: 'unexpected 100% coupon on a paid plan (renewal invoice total 0)',
    subjectType: 'invoice',
    startsAt: setupAt,
    window: { from: setupAt, to: setupAt },
  });
  w.schedule(setupAt, () => {
    const sub = ctx.rng.pick(activeWhere(w, (s) => ordinary(s) && s.percentOff === 0 && s.periodEndMs > setupAt + 6 * HOUR_MS && s.periodEndMs < setupAt + DAY_MS));
    const discountId = w.ids.next('di');
    w.emit('customer.discount.created', setupAt, discountObject({ id: discountId, customer: sub.customer, subscription: sub.id, coupon: 'SUMMER100', startMs: setupAt }));
    inj.startsAt = sub.periodEndMs;
    inj.window = { from: sub.periodEndMs, to: sub.periodEndMs + 2 * HOUR_MS };
    sub.fullDiscountNext = {
      discountId,
      coupon: 'SUMMER100',
      onInvoice: (id) => {
        inj.subjectId = id;
      },
    };
  });
}
