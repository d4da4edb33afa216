import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'currency_mismatch';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const DAY = 24 * 3600;

let seq = 0;

/** A subscription (API ≥ 2025-03-31: the period lives on the items) in `currency`. */
function subscription(id: string, customer: string, currency: string, created: number, status = 'active'): Record<string, unknown> {
  const base = fixture('subscription');
  const items = base.items as { data: Record<string, unknown>[] };
  const item: Record<string, unknown> = { ...items.data[0]!, current_period_start: created, current_period_end: created + 30 * DAY };
  item.price = { ...(item.price as Record<string, unknown>), currency, unit_amount: 1500 };
  return {
    ...base,
    id,
    customer,
    currency,
    status,
    created,
    start_date: created,
    billing_cycle_anchor: created,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    cancel_at_period_end: false,
    items: { ...items, data: [item] },
  };
}

const subCreated = (sub: Record<string, unknown>, created = sub.created as number) => stripeEvent('customer.subscription.created', sub, { created });

function charge(created: number, customer: string | null, currency: string, amount = 2000): Record<string, unknown> {
  seq += 1;
  const object = {
    ...fixture('charge'),
    id: `ch_${created}_${seq}`,
    amount,
    currency,
    customer,
    payment_intent: `pi_${created}_${seq}`,
    status: 'succeeded',
    paid: true,
    captured: true,
    created,
  };
  return stripeEvent('charge.succeeded', object, { created });
}

const chargeId = (e: Record<string, unknown>) => (e.data as { object: { id: string } }).object.id;

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`currency_mismatch: ${dialect}`, () => {
    it('fires for a EUR charge of a customer subscribed in USD, on the charge', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [subCreated(subscription('sub_1', 'cus_A', 'usd', T0S - 30 * DAY), T0S - 30 * MIN)]);
        const eur = charge(T0S - 10 * MIN, 'cus_A', 'eur', 4990);
        await deliverAll(h, [eur, charge(T0S - 9 * MIN, 'cus_A', 'usd', 1500)]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [incident] = incidents;
        expect(incident!.subject).toEqual({ type: 'charge', id: chargeId(eur) });
        expect(incident!.severity).toBe('warning');
        expect(incident!.historical).toBe(false);
        expect(incident!.figures).toMatchObject({ customer: 'cus_A', chargeCurrency: 'eur', subscriptionCurrencies: 'usd', subscriptions: 'sub_1', amount: '49.90 EUR' });
        expect(incident!.evidence.eventIds).toEqual([eur.id]);
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open' })]);
        expect((await h.flagged()).map((f) => f.eventId)).toEqual([eur.id]);
      });
    });

    it('with subscriptions in several currencies fires only when the charge matches none', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [
          subCreated(subscription('sub_usd', 'cus_M', 'usd', T0S - 40 * DAY)),
          subCreated(subscription('sub_eur', 'cus_M', 'eur', T0S - 20 * DAY)),
        ]);
        const usd = charge(T0S - 12 * MIN, 'cus_M', 'usd');
        const eur = charge(T0S - 11 * MIN, 'cus_M', 'eur');
        const jpy = charge(T0S - 10 * MIN, 'cus_M', 'jpy', 50_000);
        await deliverAll(h, [usd, eur, jpy]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents.map((i) => i.subject.id)).toEqual([chargeId(jpy)]);
        expect(incidents[0]!.figures).toMatchObject({ subscriptionCurrencies: 'eur,usd', amount: '50,000 JPY', amountMinor: 50_000 });
      });
    });

    it('stays quiet without a live subscription, for canceled ones, and for charges without a customer', async () => {
      await withHarness(dialect, async (h) => {
        const canceled = subscription('sub_c', 'cus_C', 'usd', T0S - 60 * DAY, 'canceled');
        await deliverAll(h, [
          subCreated(subscription('sub_c', 'cus_C', 'usd', T0S - 60 * DAY), T0S - 60 * DAY),
          stripeEvent('customer.subscription.deleted', canceled, { created: T0S - 2 * DAY }),
        ]);
        await deliverAll(h, [charge(T0S - 10 * MIN, 'cus_C', 'eur'), charge(T0S - 10 * MIN, 'cus_none', 'eur'), charge(T0S - 10 * MIN, null, 'eur')]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('does not compare a charge with a subscription created after it (history replayed at once)', async () => {
      await withHarness(dialect, async (h) => {
        await h.backfill(charge(T0S - 20 * DAY, 'cus_L', 'eur'));
        await h.backfill(subCreated(subscription('sub_L', 'cus_L', 'usd', T0S - 10 * DAY)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('judges a charge that arrived before its subscription when the subscription arrives', async () => {
      await withHarness(dialect, async (h) => {
        const sub = subscription('sub_O', 'cus_O', 'usd', T0S - 20 * MIN);
        const eur = charge(T0S - 15 * MIN, 'cus_O', 'eur');
        await deliverAll(h, [eur]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [subCreated(sub)]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents.map((i) => i.subject.id)).toEqual([chargeId(eur)]);
        expect(incidents[0]!.historical).toBe(false);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('keeps a re-check revealed by backfilled history historical, even for a recent charge', async () => {
      await withHarness(dialect, async (h) => {
        const eur = charge(T0S - 15 * MIN, 'cus_P', 'eur');
        await h.backfill(eur);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await h.backfill(subCreated(subscription('sub_P', 'cus_P', 'usd', T0S - 20 * MIN)));
        await h.process();
        const incidents = await mine(h);
        expect(incidents.map((i) => [i.subject.id, i.historical])).toEqual([[chargeId(eur), true]]);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('counts a charge delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [subCreated(subscription('sub_D', 'cus_D', 'usd', T0S - 5 * DAY))]);
        await h.process();
        const eur = charge(T0S - 10 * MIN, 'cus_D', 'eur');
        for (let i = 0; i < 10; i += 1) expect(await h.deliver(eur)).toBe(200);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.evidence.eventIds).toEqual([eur.id]);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('opens backfilled mismatches as historical without notifying', async () => {
      await withHarness(dialect, async (h) => {
        await h.backfill(subCreated(subscription('sub_B', 'cus_B', 'usd', T0S - 40 * DAY)));
        await h.backfill(charge(T0S - 30 * DAY, 'cus_B', 'gbp'));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('rejects invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { recheckDays: -1 })).toBe(400);
        expect(await h.configure(DETECTOR, { currencies: ['usd'] })).toBe(400);
        expect(await h.configure(DETECTOR, { recheckDays: 1 })).toBe(200);
      });
    });

    it('survives a restart mid-stream, and re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const sub = subCreated(subscription('sub_R', 'cus_R', 'usd', T0S - 3 * DAY));
        await deliverAll(h, [sub]);
        await h.process();
        await h.restart(new ManualClock(T0));
        const eur = charge(T0S - 5 * MIN, 'cus_R', 'eur');
        await deliverAll(h, [sub, eur]);
        await h.process();
        const first = await mine(h);
        expect(first.map((i) => i.subject.id)).toEqual([chargeId(eur)]);
        await h.process();
        await h.tick();
        const second = await mine(h);
        expect(second.map((i) => [i.id, i.status, i.figures])).toEqual(first.map((i) => [i.id, i.status, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
