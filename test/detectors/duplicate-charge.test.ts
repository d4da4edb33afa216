import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'duplicate_charge';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;

let seq = 0;
interface ChargeOpts {
  id?: string;
  customer?: string | null;
  amount?: number;
  currency?: string;
  paymentIntent?: string | null;
  invoice?: string;
  eventId?: string;
}

/** A successful charge; by default its own payment intent (a distinct payment). */
function charge(created: number, opts: ChargeOpts = {}): Record<string, unknown> {
  seq += 1;
  const id = opts.id ?? `ch_${created}_${seq}`;
  const object: Record<string, unknown> = {
    ...fixture('charge'),
    id,
    amount: opts.amount ?? 2000,
    amount_captured: opts.amount ?? 2000,
    currency: opts.currency ?? 'usd',
    customer: opts.customer === undefined ? 'cus_A' : opts.customer,
    payment_intent: opts.paymentIntent === undefined ? `pi_${created}_${seq}` : opts.paymentIntent,
    status: 'succeeded',
    paid: true,
    captured: true,
    created,
  };
  if (opts.invoice) object.invoice = opts.invoice;
  return stripeEvent('charge.succeeded', object, { created, ...(opts.eventId ? { id: opts.eventId } : {}) });
}

const chargeId = (e: Record<string, unknown>) => (e.data as { object: { id: string } }).object.id;

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`duplicate_charge: ${dialect}`, () => {
    it('fires for the same amount twice from different payment intents, naming both charges', async () => {
      await withHarness(dialect, async (h) => {
        const a = charge(T0S - 10 * MIN);
        const b = charge(T0S - 10 * MIN + 4 * MIN);
        await deliverAll(h, [a, b]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [incident] = incidents;
        expect(incident!.subject).toEqual({ type: 'customer', id: 'cus_A' });
        expect(incident!.severity).toBe('warning');
        expect(incident!.historical).toBe(false);
        expect(incident!.figures).toMatchObject({
          firstCharge: chargeId(a),
          secondCharge: chargeId(b),
          amountMinor: 2000,
          amount: '20.00 USD',
          currency: 'usd',
          secondsApart: 240,
          payments: 2,
        });
        expect(new Set(incident!.evidence.eventIds)).toEqual(new Set([a.id, b.id]));
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open' })]);
      });
    });

    it('fires at exactly 5 minutes apart, not at 5 minutes and 1 second', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [charge(T0S - 20 * MIN, { customer: 'cus_edge' }), charge(T0S - 15 * MIN, { customer: 'cus_edge' })]);
        await deliverAll(h, [charge(T0S - 20 * MIN, { customer: 'cus_far' }), charge(T0S - 15 * MIN + 1, { customer: 'cus_far' })]);
        await h.process();
        expect((await mine(h)).map((i) => i.subject.id)).toEqual(['cus_edge']);
      });
    });

    it('applies the tenant window and rejects invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { windowMinutes: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowMinutes: 61 })).toBe(400);
        expect(await h.configure(DETECTOR, { window: 5 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowMinutes: 10 })).toBe(200);
        await deliverAll(h, [charge(T0S - 20 * MIN), charge(T0S - 12 * MIN)]);
        await h.process();
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('never pairs charges of one payment: one payment intent, one charge id, one invoice', async () => {
      await withHarness(dialect, async (h) => {
        // Two succeeded charges on one payment intent.
        await deliverAll(h, [charge(T0S - 10 * MIN, { customer: 'cus_pi', paymentIntent: 'pi_same' }), charge(T0S - 9 * MIN, { customer: 'cus_pi', paymentIntent: 'pi_same' })]);
        // Two events about one charge (different event ids, same charge id).
        const first = charge(T0S - 10 * MIN, { customer: 'cus_ch' });
        const again = charge(T0S - 9 * MIN, { customer: 'cus_ch', id: chargeId(first), paymentIntent: null });
        await deliverAll(h, [first, again]);
        // Legacy charges without payment intents sharing one invoice.
        await deliverAll(h, [
          charge(T0S - 10 * MIN, { customer: 'cus_in', paymentIntent: null, invoice: 'in_1' }),
          charge(T0S - 9 * MIN, { customer: 'cus_in', paymentIntent: null, invoice: 'in_1' }),
        ]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('treats charges without payment intents as distinct when their ids differ and no invoice is shared', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [
          charge(T0S - 10 * MIN, { customer: 'cus_legacy', paymentIntent: null }),
          charge(T0S - 8 * MIN, { customer: 'cus_legacy', paymentIntent: null, invoice: 'in_2' }),
        ]);
        await h.process();
        expect((await mine(h)).map((i) => i.subject.id)).toEqual(['cus_legacy']);
      });
    });

    it('does not pair an invoice with its charge, nor invoice.created with invoice.paid', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 10 * MIN;
        const invoice = { ...fixture('invoice'), id: 'in_sub_1', customer: 'cus_inv', currency: 'usd', amount_due: 2000, amount_paid: 0, total: 2000, status: 'open', created: t };
        await deliverAll(h, [
          stripeEvent('invoice.created', invoice, { created: t }),
          stripeEvent('invoice.finalized', invoice, { created: t + 1 }),
          charge(t + 2, { customer: 'cus_inv', paymentIntent: 'pi_inv' }),
          stripeEvent('invoice.paid', { ...invoice, status: 'paid', amount_paid: 2000 }, { created: t + 3 }),
          stripeEvent('invoice.payment_succeeded', { ...invoice, status: 'paid', amount_paid: 2000 }, { created: t + 3 }),
        ]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('compares amounts only within one currency and one customer', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 10 * MIN;
        await deliverAll(h, [
          charge(t, { customer: 'cus_cur', amount: 2000, currency: 'usd' }),
          charge(t + 30, { customer: 'cus_cur', amount: 2000, currency: 'jpy' }),
          charge(t + 60, { customer: 'cus_cur', amount: 2000, currency: 'eur' }),
          charge(t + 90, { customer: 'cus_cur', amount: 2001, currency: 'usd' }),
          charge(t, { customer: 'cus_X', amount: 5000, currency: 'usd' }),
          charge(t + 10, { customer: 'cus_Y', amount: 5000, currency: 'usd' }),
          charge(t, { customer: null, amount: 7000 }),
          charge(t + 10, { customer: null, amount: 7000 }),
        ]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        // Same JPY amount twice does fire, formatted as a zero-decimal currency.
        await deliverAll(h, [charge(t + 120, { customer: 'cus_cur', amount: 2000, currency: 'jpy' })]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ currency: 'jpy', amount: '2,000 JPY', amountMinor: 2000 });
      });
    });

    it('counts a charge delivered 10 times as one charge', async () => {
      await withHarness(dialect, async (h) => {
        const a = charge(T0S - 10 * MIN);
        for (let i = 0; i < 10; i += 1) expect(await h.deliver(a)).toBe(200);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        const b = charge(T0S - 9 * MIN);
        for (let i = 0; i < 10; i += 1) expect(await h.deliver(b)).toBe(200);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ payments: 2 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('finds the pair when the later charge arrives first, in another batch', async () => {
      await withHarness(dialect, async (h) => {
        const a = charge(T0S - 10 * MIN);
        const b = charge(T0S - 7 * MIN);
        await deliverAll(h, [b]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [a]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ firstCharge: chargeId(a), secondCharge: chargeId(b) });
      });
    });

    it('is critical for three payments of the same amount in the window', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [charge(T0S - 10 * MIN), charge(T0S - 9 * MIN)]);
        await h.process();
        expect((await mine(h))[0]!.severity).toBe('warning');
        await deliverAll(h, [charge(T0S - 8 * MIN)]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect(incidents[0]!.figures).toMatchObject({ payments: 3 });
      });
    });

    it('opens backfilled duplicates as historical without notifying', async () => {
      await withHarness(dialect, async (h) => {
        await h.backfill(charge(T0S - 10 * 24 * 3600));
        await h.backfill(charge(T0S - 10 * 24 * 3600 + 60));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('survives a restart between the two charges, and re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const a = charge(T0S - 10 * MIN);
        const b = charge(T0S - 8 * MIN);
        await deliverAll(h, [a]);
        await h.process();
        await h.restart(new ManualClock(T0));
        await deliverAll(h, [a, b]);
        await h.process();
        const first = await mine(h);
        expect(first).toHaveLength(1);
        expect(first[0]!.figures).toMatchObject({ firstCharge: chargeId(a), secondCharge: chargeId(b) });
        await h.process();
        await h.tick();
        const second = await mine(h);
        expect(second.map((i) => [i.id, i.status, i.figures])).toEqual(first.map((i) => [i.id, i.status, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
