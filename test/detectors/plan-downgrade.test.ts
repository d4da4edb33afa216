import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type IncidentView, deliverAll, detectorViews, settle, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'plan_downgrade';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const DAY = 86_400;

let seq = 0;
const uid = (p: string) => `${p}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

interface ItemSpec {
  id?: string;
  priceId?: string;
  unit: number | null;
  quantity?: number;
  currency?: string;
  interval?: 'day' | 'week' | 'month' | 'year';
  intervalCount?: number;
  nickname?: string;
  metered?: boolean;
  periodStart?: number;
}

/** A subscription item as Stripe sends it (price, the legacy plan mirror, quantity, periods on the item). */
function item(spec: ItemSpec, subscription: string): Record<string, unknown> {
  const base = (fixture('subscription').items as { data: Record<string, unknown>[] }).data[0]!;
  const currency = spec.currency ?? 'usd';
  const interval = spec.interval ?? 'month';
  const intervalCount = spec.intervalCount ?? 1;
  const priceId = spec.priceId ?? `price_${spec.unit ?? 'tiered'}_${currency}_${interval}`;
  const usage = spec.metered ? 'metered' : 'licensed';
  const start = spec.periodStart ?? T0S - 10 * DAY;
  return {
    ...base,
    id: spec.id ?? uid('si'),
    subscription,
    quantity: spec.metered ? undefined : (spec.quantity ?? 1),
    current_period_start: start,
    current_period_end: start + 30 * DAY,
    price: {
      ...(base.price as Record<string, unknown>),
      id: priceId,
      currency,
      nickname: spec.nickname ?? null,
      billing_scheme: spec.unit === null ? 'tiered' : 'per_unit',
      tiers_mode: spec.unit === null ? 'graduated' : null,
      unit_amount: spec.unit,
      unit_amount_decimal: spec.unit === null ? null : String(spec.unit),
      transform_quantity: null,
      recurring: { interval, interval_count: intervalCount, meter: null, usage_type: usage, trial_period_days: null },
    },
    plan: {
      ...(base.plan as Record<string, unknown>),
      id: priceId,
      amount: spec.unit,
      amount_decimal: spec.unit === null ? null : String(spec.unit),
      billing_scheme: spec.unit === null ? 'tiered' : 'per_unit',
      currency,
      interval,
      interval_count: intervalCount,
      nickname: spec.nickname ?? null,
      transform_usage: null,
      usage_type: usage,
    },
  };
}

function subscription(id: string, items: ItemSpec[], currency = items[0]?.currency ?? 'usd'): Record<string, unknown> {
  return {
    ...fixture('subscription'),
    id,
    customer: 'cus_S',
    status: 'active',
    currency,
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    items: { object: 'list', has_more: false, url: `/v1/subscription_items?subscription=${id}`, data: items.map((s) => item(s, id)) },
  };
}

/** customer.subscription.updated with Stripe's previous_attributes: a changed `items` comes back whole. */
function changed(id: string, before: ItemSpec[], after: ItemSpec[], created: number, extraPrev: Record<string, unknown> = {}): Record<string, unknown> {
  const old = subscription(id, before);
  return stripeEvent('customer.subscription.updated', subscription(id, after), {
    created,
    previousAttributes: { items: { data: (old.items as { data: unknown[] }).data }, ...extraPrev },
  });
}

const { mine, myNotifications } = detectorViews(DETECTOR);
const bySubject = (list: IncidentView[]) => Object.fromEntries(list.map((i) => [i.subject.id, i]));

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`plan_downgrade: ${dialect}`, () => {
    it('fires when a price swap lowers the recurring amount (warning from a 50 % drop)', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const big = uid('sub');
        const small = uid('sub');
        const e1 = changed(big, [{ id: 'si_1', unit: 5000, nickname: 'Basic' }], [{ id: 'si_1', unit: 2000, nickname: 'Enterprise' }], t);
        const e2 = changed(small, [{ unit: 5000 }], [{ unit: 4000 }], t);
        await deliverAll(h, [e1, e2]);
        await settle(h);
        const list = bySubject(await mine(h));
        expect(Object.keys(list).sort()).toEqual([big, small].sort());
        expect(list[big]!.subject.type).toBe('subscription');
        expect(list[big]!.severity).toBe('warning');
        expect(list[big]!.historical).toBe(false);
        expect(list[big]!.figures).toMatchObject({
          reason: 'amount',
          currency: 'usd',
          previousRecurringAmount: '50.00 USD',
          newRecurringAmount: '20.00 USD',
          decreasePercent: '60.00',
          comparedPer: 'month',
          customer: 'cus_S',
        });
        expect(list[big]!.evidence.eventIds).toEqual([e1.id]);
        expect(list[small]!.severity).toBe('info');
        expect(list[small]!.figures).toMatchObject({ decreasePercent: '20.00' });
        expect((await myNotifications(h)).map((n) => n.severity).sort()).toEqual(['info', 'warning']);
      });
    });

    it('never fires for upgrades, renames, renewals or unrelated updates', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const s = () => uid('sub');
        await deliverAll(h, [
          changed(s(), [{ unit: 2000 }], [{ unit: 5000 }], t), // upgrade
          changed(s(), [{ unit: 1000, quantity: 10 }], [{ unit: 3000, quantity: 4 }], t), // fewer seats of a dearer plan: more revenue
          changed(s(), [{ unit: 5000, priceId: 'price_pro', nickname: 'Pro' }], [{ unit: 5000, priceId: 'price_pro_v2', nickname: 'Starter (renamed)' }], t), // rename
          changed(s(), [{ unit: 5000, periodStart: T0S - 40 * DAY }], [{ unit: 5000, periodStart: T0S - 10 * DAY }], t), // renewal
          stripeEvent('customer.subscription.updated', subscription(s(), [{ unit: 5000 }]), { created: t, previousAttributes: { status: 'trialing', metadata: {} } }),
          stripeEvent('customer.subscription.updated', subscription(s(), [{ unit: 5000 }]), { created: t }), // no previous_attributes at all
        ]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('fires for fewer seats: at one price, with tiered prices (quantity), and with an unchanged amount', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const seats = uid('sub');
        const tiered = uid('sub');
        const same = uid('sub');
        await deliverAll(h, [
          changed(seats, [{ id: 'si_s', unit: 1500, quantity: 10 }], [{ id: 'si_s', unit: 1500, quantity: 8 }], t),
          changed(tiered, [{ unit: null, quantity: 10 }], [{ unit: null, quantity: 8 }], t),
          changed(same, [{ unit: 5000, quantity: 2 }], [{ unit: 10_000, quantity: 1 }], t),
          changed(uid('sub'), [{ unit: null, quantity: 8 }], [{ unit: null, quantity: 10 }], t), // tiered, more seats
        ]);
        await settle(h);
        const list = bySubject(await mine(h));
        expect(Object.keys(list).sort()).toEqual([seats, tiered, same].sort());
        expect(list[seats]!.figures).toMatchObject({ reason: 'amount', previousQuantity: 10, newQuantity: 8, decreasePercent: '20.00' });
        expect(list[tiered]!.figures).toMatchObject({ reason: 'quantity', previousQuantity: 10, newQuantity: 8 });
        expect(list[tiered]!.severity).toBe('info');
        expect(list[same]!.figures).toMatchObject({ reason: 'quantity', previousQuantity: 2, newQuantity: 1 });
      });
    });

    it('honours minDecreasePercent at its edge, and warningDecreasePercent', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { minDecreasePercent: 20, warningDecreasePercent: 20 })).toBe(200);
        expect(await h.configure(DETECTOR, { minDecreasePercent: 101 })).toBe(400);
        expect(await h.configure(DETECTOR, { minDecreasePercent: 10, other: 1 })).toBe(400);
        const t = T0S - 20 * MIN;
        const exactly = uid('sub');
        const below = uid('sub');
        await deliverAll(h, [changed(exactly, [{ unit: 5000 }], [{ unit: 4000 }], t), changed(below, [{ unit: 5000 }], [{ unit: 4001 }], t)]);
        await settle(h);
        const list = await mine(h);
        expect(list.map((i) => i.subject.id)).toEqual([exactly]);
        expect(list[0]!.severity).toBe('warning');
      });
    });

    it('skips a currency change, compares across intervals per year, ignores metered items', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const yearlyCheaper = uid('sub');
        await deliverAll(h, [
          changed(uid('sub'), [{ unit: 5000, currency: 'usd' }], [{ unit: 2000, currency: 'eur' }], t), // not comparable
          changed(uid('sub'), [{ unit: 1000, interval: 'month' }], [{ unit: 12_000, interval: 'year' }], t), // same per year
          changed(uid('sub'), [{ unit: 1000, interval: 'month' }], [{ unit: 13_000, interval: 'year' }], t), // more per year
          changed(yearlyCheaper, [{ unit: 10_000, interval: 'month' }], [{ unit: 100_000, interval: 'year' }], t), // 120,000 → 100,000 a year
          changed(uid('sub'), [{ unit: 5000 }, { unit: 10, metered: true }], [{ unit: 5000 }, { unit: 5, metered: true, priceId: 'price_cheaper_meter' }], t),
        ]);
        await settle(h);
        const list = await mine(h);
        expect(list.map((i) => i.subject.id)).toEqual([yearlyCheaper]);
        expect(list[0]!.figures).toMatchObject({ comparedPer: 'year', previousRecurringAmount: '1200.00 USD', newRecurringAmount: '1000.00 USD', decreasePercent: '16.67' });
      });
    });

    it('reads the legacy previous_attributes shape (top-level plan with only its changed keys, and quantity)', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const planSwap = uid('sub');
        const quantityOnly = uid('sub');
        const now1 = subscription(planSwap, [{ unit: 2000, priceId: 'plan_basic' }]);
        now1.plan = (now1.items as { data: Record<string, unknown>[] }).data[0]!.plan;
        now1.quantity = 1;
        const now2 = subscription(quantityOnly, [{ unit: 1000, quantity: 3 }]);
        now2.plan = (now2.items as { data: Record<string, unknown>[] }).data[0]!.plan;
        now2.quantity = 3;
        await deliverAll(h, [
          stripeEvent('customer.subscription.updated', now1, { created: t, previousAttributes: { plan: { id: 'plan_pro', amount: 5000, amount_decimal: '5000', nickname: 'Pro' } } }),
          stripeEvent('customer.subscription.updated', now2, { created: t, previousAttributes: { quantity: 5 } }),
        ]);
        await settle(h);
        const list = bySubject(await mine(h));
        expect(Object.keys(list).sort()).toEqual([planSwap, quantityOnly].sort());
        expect(list[planSwap]!.figures).toMatchObject({ previousRecurringAmount: '50.00 USD', newRecurringAmount: '20.00 USD' });
        expect(list[quantityOnly]!.figures).toMatchObject({ previousQuantity: 5, newQuantity: 3, previousRecurringAmount: '50.00 USD', newRecurringAmount: '30.00 USD' });
      });
    });

    it('counts an update delivered 10 times once; downgrades arriving out of order merge into one incident', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const id = uid('sub');
        const first = changed(id, [{ unit: 8000 }], [{ unit: 5000 }], t + MIN);
        const second = changed(id, [{ unit: 5000 }], [{ unit: 3000 }], t + 2 * MIN);
        for (let i = 0; i < 10; i++) expect(await h.deliver(second)).toBe(200);
        await settle(h);
        await deliverAll(h, [first]);
        await settle(h);
        const list = await mine(h);
        expect(list).toHaveLength(1);
        expect([...list[0]!.evidence.eventIds].sort()).toEqual([first.id, second.id].sort());
        expect(list[0]!.figures).toMatchObject({ newRecurringAmount: '30.00 USD' }); // the latest change
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('keeps amounts in their currency (JPY has no minor unit)', async () => {
      await withHarness(dialect, async (h) => {
        const id = uid('sub');
        await deliverAll(h, [changed(id, [{ unit: 50_000, currency: 'jpy' }], [{ unit: 30_000, currency: 'jpy' }], T0S - 20 * MIN)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ currency: 'jpy', previousRecurringAmount: '50000 JPY', newRecurringAmount: '30000 JPY' });
      });
    });

    it('opens backfilled history as historical, without notifying', async () => {
      await withHarness(dialect, async (h) => {
        await h.backfill(changed(uid('sub'), [{ unit: 5000 }], [{ unit: 1000 }], T0S - 15 * DAY));
        await settle(h);
        const list = await mine(h);
        expect(list).toHaveLength(1);
        expect(list[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('survives a restart mid-stream; re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 20 * MIN;
        const id = uid('sub');
        const first = changed(id, [{ unit: 8000 }], [{ unit: 5000 }], t);
        const second = changed(id, [{ unit: 5000 }], [{ unit: 3000 }], t + MIN);
        await deliverAll(h, [first]);
        await settle(h);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, [first, second]);
        await settle(h);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        await settle(h);
        await h.tick();
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.evidence, i.figures])).toEqual(before.map((i) => [i.id, i.status, i.evidence, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
