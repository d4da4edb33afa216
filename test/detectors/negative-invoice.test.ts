import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type IncidentView, deliverAll, detectorViews, settle, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'negative_invoice';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const DAY = 86_400;

let seq = 0;
const uid = (p: string) => `${p}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

interface InvoiceSpec {
  id?: string;
  status?: string;
  subtotal: number;
  total: number;
  currency?: string;
  billingReason?: string;
  discounts?: unknown[];
  totalDiscountAmounts?: { amount: number; discount: unknown }[];
}

function invoiceObject(spec: InvoiceSpec, created: number): Record<string, unknown> {
  const status = spec.status ?? 'paid';
  return {
    ...fixture('invoice'),
    id: spec.id ?? uid('in'),
    status,
    currency: spec.currency ?? 'usd',
    subtotal: spec.subtotal,
    subtotal_excluding_tax: spec.subtotal,
    total: spec.total,
    total_excluding_tax: spec.total,
    amount_due: Math.max(spec.total, 0),
    amount_paid: status === 'paid' ? Math.max(spec.total, 0) : 0,
    amount_remaining: status === 'paid' ? 0 : Math.max(spec.total, 0),
    billing_reason: spec.billingReason ?? 'subscription_cycle',
    customer: 'cus_I',
    discounts: spec.discounts ?? [],
    total_discount_amounts: spec.totalDiscountAmounts ?? [],
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: 'sub_I' } },
    created,
  };
}

const invoiceEvent = (type: string, spec: InvoiceSpec, created: number) => stripeEvent(type, invoiceObject(spec, created), { created });

/** A `customer.discount.created` event: how Stripe tells which coupon a `di_…` id applies. */
function discountCreated(discountId: string, coupon: string, created: number, legacy = false): Record<string, unknown> {
  const couponObject = { ...fixture('coupon'), id: coupon, percent_off: 100, amount_off: null };
  const discount = legacy
    ? { ...fixture('discount'), id: discountId, coupon: couponObject, source: undefined }
    : { ...fixture('discount'), id: discountId, source: { type: 'coupon', coupon } };
  return stripeEvent('customer.discount.created', discount, { created });
}

const { mine, myNotifications } = detectorViews(DETECTOR);
const bySubject = (list: IncidentView[]) => Object.fromEntries(list.map((i) => [i.subject.id, i]));

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`negative_invoice: ${dialect}`, () => {
    it('fires for a finalized invoice with a negative total; its invoice.paid merges into the same incident', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const id = uid('in');
        const finalized = invoiceEvent('invoice.finalized', { id, status: 'open', subtotal: -1500, total: -1500, billingReason: 'manual' }, t);
        const paid = invoiceEvent('invoice.paid', { id, status: 'paid', subtotal: -1500, total: -1500, billingReason: 'manual' }, t + MIN);
        await deliverAll(h, [finalized, paid]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [i] = incidents;
        expect(i!.subject).toEqual({ type: 'invoice', id });
        expect(i!.severity).toBe('warning');
        expect(i!.historical).toBe(false);
        expect(i!.figures).toMatchObject({ condition: 'negative_total', currency: 'usd', total: -1500, billingReason: 'manual', subscription: 'sub_I' });
        expect(i!.summary).toContain('-15.00 USD');
        expect(new Set(i!.evidence.eventIds)).toEqual(new Set([finalized.id, paid.id]));
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        expect((await h.flagged()).map((f) => f.eventId)).toContain(finalized.id);
      });
    });

    it('stays quiet at the edges: a total of 0 without discounts, a free price, drafts, void invoices, unwatched types', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        await deliverAll(h, [
          invoiceEvent('invoice.paid', { subtotal: 0, total: 0 }, t), // a legitimately free price
          invoiceEvent('invoice.paid', { subtotal: 1000, total: 0 }, t), // zero without any discount: not this rule
          invoiceEvent('invoice.finalized', { status: 'draft', subtotal: -100, total: -100 }, t),
          invoiceEvent('invoice.paid', { status: 'void', subtotal: -100, total: -100 }, t),
          invoiceEvent('invoice.created', { status: 'draft', subtotal: -100, total: -100 }, t),
          invoiceEvent('invoice.updated', { status: 'open', subtotal: -100, total: -100 }, t),
          invoiceEvent('invoice.paid', { subtotal: 2000, total: 1000, totalDiscountAmounts: [{ amount: 1000, discount: 'di_half' }], discounts: ['di_half'] }, t),
          invoiceEvent('invoice.paid', { subtotal: 2000, total: 160, totalDiscountAmounts: [{ amount: 2000, discount: 'di_tax' }], discounts: ['di_tax'] }, t), // 100 % off, tax left
        ]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        const edge = uid('in');
        await deliverAll(h, [invoiceEvent('invoice.payment_succeeded', { id: edge, subtotal: 500, total: -1 }, t)]);
        await settle(h);
        expect((await mine(h)).map((i) => i.subject.id)).toEqual([edge]);
      });
    });

    it('fires for an unexpected 100 % discount on a paid plan, and not for an allow-listed coupon', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const unexpected = uid('in');
        const viaDiscountEvent = uid('in');
        const viaExpanded = uid('in');
        await deliverAll(h, [
          discountCreated('di_leak', 'LEAK100', t - DAY),
          discountCreated('di_ff', 'FRIENDS', t - DAY),
          invoiceEvent('invoice.paid', { id: unexpected, subtotal: 4900, total: 0, totalDiscountAmounts: [{ amount: 4900, discount: 'di_leak' }], discounts: ['di_leak'] }, t),
          invoiceEvent('invoice.paid', { id: viaDiscountEvent, subtotal: 4900, total: 0, totalDiscountAmounts: [{ amount: 4900, discount: 'di_ff' }], discounts: ['di_ff'] }, t),
          invoiceEvent(
            'invoice.paid',
            {
              id: viaExpanded,
              subtotal: 9900,
              total: 0,
              totalDiscountAmounts: [{ amount: 9900, discount: { ...fixture('discount'), id: 'di_vip', source: { type: 'coupon', coupon: { id: 'VIP' } } } }],
              discounts: ['di_vip'],
            },
            t,
          ),
        ]);
        await settle(h);
        const before = bySubject(await mine(h));
        expect(Object.keys(before).sort()).toEqual([unexpected, viaDiscountEvent, viaExpanded].sort());
        expect(before[unexpected]!.figures).toMatchObject({ condition: 'full_discount', subtotal: 4900, total: 0, discountTotal: 4900 });
        expect(before[unexpected]!.figures.discounts).toContain('LEAK100');
        expect(before[unexpected]!.severity).toBe('warning');

        // The same invoices again, after the tenant allow-lists FRIENDS and VIP.
        expect(await h.configure(DETECTOR, { allowedCoupons: ['FRIENDS', 'VIP'] })).toBe(200);
        const ff2 = uid('in');
        const vip2 = uid('in');
        const leak2 = uid('in');
        await deliverAll(h, [
          invoiceEvent('invoice.paid', { id: ff2, subtotal: 4900, total: 0, totalDiscountAmounts: [{ amount: 4900, discount: 'di_ff' }], discounts: ['di_ff'] }, t + MIN),
          invoiceEvent(
            'invoice.paid',
            { id: vip2, subtotal: 9900, total: 0, totalDiscountAmounts: [{ amount: 9900, discount: { id: 'di_vip', coupon: { id: 'VIP' } } }] },
            t + MIN,
          ),
          invoiceEvent('invoice.paid', { id: leak2, subtotal: 4900, total: 0, totalDiscountAmounts: [{ amount: 4900, discount: 'di_leak' }], discounts: ['di_leak'] }, t + MIN),
        ]);
        await settle(h);
        const after = bySubject(await mine(h));
        expect(after[ff2]).toBeUndefined();
        expect(after[vip2]).toBeUndefined();
        expect(after[leak2]).toBeDefined();
      });
    });

    it('reports the proration credit of a downgrade as info', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        await deliverAll(h, [invoiceEvent('invoice.finalized', { status: 'open', subtotal: -2500, total: -2500, billingReason: 'subscription_update' }, t)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.severity).toBe('info');
      });
    });

    it('counts an invoice.paid delivered 10 times once, and takes invoice.paid before invoice.finalized (out of order)', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const id = uid('in');
        const paid = invoiceEvent('invoice.paid', { id, status: 'paid', subtotal: -700, total: -700 }, t + MIN);
        for (let i = 0; i < 10; i++) expect(await h.deliver(paid)).toBe(200);
        await settle(h);
        await deliverAll(h, [invoiceEvent('invoice.finalized', { id, status: 'open', subtotal: -700, total: -700 }, t)]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.evidence.eventIds.filter((e) => e === paid.id)).toHaveLength(1);
        expect(incidents[0]!.evidence.eventIds).toHaveLength(2);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('keeps each invoice in its own currency', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const jpy = uid('in');
        const usd = uid('in');
        await deliverAll(h, [
          invoiceEvent('invoice.paid', { id: jpy, currency: 'jpy', subtotal: -50_000, total: -50_000 }, t),
          invoiceEvent('invoice.paid', { id: usd, currency: 'usd', subtotal: -1000, total: -1000 }, t),
        ]);
        await settle(h);
        const list = bySubject(await mine(h));
        expect(list[jpy]!.figures).toMatchObject({ currency: 'jpy', total: -50_000 });
        expect(list[jpy]!.summary).toContain('-50000 JPY');
        expect(list[usd]!.figures).toMatchObject({ currency: 'usd', total: -1000 });
        expect(list[usd]!.summary).toContain('-10.00 USD');
      });
    });

    it('opens backfilled history as historical, without notifying', async () => {
      await withHarness(dialect, async (h) => {
        await h.backfill(invoiceEvent('invoice.paid', { subtotal: -300, total: -300 }, T0S - 20 * DAY));
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('validates its config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { allowedCoupons: 'FREE' })).toBe(400);
        expect(await h.configure(DETECTOR, { allowedCoupons: [''] })).toBe(400);
        expect(await h.configure(DETECTOR, { other: true })).toBe(400);
        expect(await h.configure(DETECTOR, { detectFullDiscount: false })).toBe(200);
        const t = T0S - 20 * MIN;
        await deliverAll(h, [invoiceEvent('invoice.paid', { subtotal: 4900, total: 0, totalDiscountAmounts: [{ amount: 4900, discount: 'di_x' }] }, t)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('survives a restart mid-stream; re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const id = uid('in');
        const finalized = invoiceEvent('invoice.finalized', { id, status: 'open', subtotal: -900, total: -900 }, t);
        const paid = invoiceEvent('invoice.paid', { id, status: 'paid', subtotal: -900, total: -900 }, t + MIN);
        await deliverAll(h, [finalized]);
        await settle(h);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, [finalized, paid]);
        await settle(h);
        const first = await mine(h);
        expect(first).toHaveLength(1);
        expect(new Set(first[0]!.evidence.eventIds)).toEqual(new Set([finalized.id, paid.id]));
        await settle(h);
        await h.tick();
        const second = await mine(h);
        expect(second.map((i) => [i.id, i.status, i.evidence])).toEqual(first.map((i) => [i.id, i.status, i.evidence]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
