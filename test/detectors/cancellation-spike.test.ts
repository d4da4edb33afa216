import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, withHarness } from '../support/detector-harness.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'cancellation_spike';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

let seq = 0;
function subscription(id: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...fixture('subscription'), id, customer: `cus_${id}`, status: 'active', cancel_at_period_end: false, ...patch };
}
const deleted = (created: number, id = `sub_del_${++seq}`) =>
  stripeEvent('customer.subscription.deleted', subscription(id, { status: 'canceled', canceled_at: created, ended_at: created }), { created });
const turnedCanceled = (created: number, id = `sub_stc_${++seq}`) =>
  stripeEvent('customer.subscription.updated', subscription(id, { status: 'canceled', canceled_at: created }), { created, previousAttributes: { status: 'active' } });
const scheduled = (created: number, id = `sub_sch_${++seq}`) =>
  stripeEvent('customer.subscription.updated', subscription(id, { cancel_at_period_end: true, canceled_at: created }), {
    created,
    previousAttributes: { cancel_at_period_end: false },
  });
/** Not cancellations: a resumed subscription and a quantity change. */
const resumed = (created: number, id = `sub_res_${++seq}`) =>
  stripeEvent('customer.subscription.updated', subscription(id, { cancel_at_period_end: false }), { created, previousAttributes: { cancel_at_period_end: true } });
const pastDue = (created: number, id = `sub_pd_${++seq}`) =>
  stripeEvent('customer.subscription.updated', subscription(id, { status: 'past_due' }), { created, previousAttributes: { status: 'active' } });

/** A mix of the three kinds of cancellation, one subscription each, at the given times. */
const cancellations = (times: number[]) => times.map((t, i) => [deleted, turnedCanceled, scheduled][i % 3]!(t));

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`cancellation_spike: ${dialect}`, () => {
    it('fires for 5 subscriptions canceled within an hour (deleted, status → canceled, cancel_at_period_end set)', async () => {
      await withHarness(dialect, async (h) => {
        const events = cancellations([-50, -40, -30, -20, -10].map((m) => T0S + m * MIN));
        await deliverAll(h, events);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [incident] = incidents;
        expect(incident!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incident!.severity).toBe('warning');
        expect(incident!.historical).toBe(false);
        expect(incident!.figures).toMatchObject({ window: '1h', canceled: 5, threshold: 5 });
        expect(new Set(incident!.evidence.eventIds)).toEqual(new Set(events.map((e) => e.id as string)));
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        const flagged = (await h.flagged()).map((f) => f.eventId);
        for (const e of events) expect(flagged).toContain(e.id);
      });
    });

    it('stays quiet at the edges: 4 in an hour, 5 over 1 h 1 s, non-cancelling updates, one subscription scheduled then deleted', async () => {
      await withHarness(dialect, async (h) => {
        // 4 cancellations in an hour, plus updates that are not cancellations.
        await deliverAll(h, cancellations([-58, -57, -56, -55].map((m) => T0S - 3 * HOUR + m * MIN)));
        await deliverAll(h, [resumed(T0S - 3 * HOUR - 54 * MIN), pastDue(T0S - 3 * HOUR - 53 * MIN), resumed(T0S - 3 * HOUR - 52 * MIN)]);
        // 5 cancellations spread over one hour and one second.
        const spread = T0S - 8 * HOUR;
        await deliverAll(h, cancellations([0, 15 * MIN, 30 * MIN, 45 * MIN, HOUR + 1].map((s) => spread + s)));
        // 4 subscriptions, one of them scheduled to cancel and then deleted: 5 events, 4 cancellations.
        const twice = T0S - 40 * MIN;
        await deliverAll(h, [scheduled(twice, 'sub_twice'), deleted(twice + 5 * MIN, 'sub_twice'), ...cancellations([twice + 6 * MIN, twice + 7 * MIN, twice + 8 * MIN])]);
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('counts a cancellation delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        const dup = deleted(T0S - 30 * MIN);
        for (let i = 0; i < 10; i++) expect(await h.deliver(dup)).toBe(200);
        await deliverAll(h, cancellations([-29, -28, -27].map((m) => T0S + m * MIN)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, cancellations([T0S - 26 * MIN]));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ canceled: 5 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('finds a spike whose events arrive out of order, the earliest last, in separate batches', async () => {
      await withHarness(dialect, async (h) => {
        const events = cancellations([-55, -45, -35, -25, -15].map((m) => T0S + m * MIN));
        for (const e of [...events].reverse()) {
          await deliverAll(h, [e]);
          await h.process();
        }
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ window: '1h', canceled: 5 });
        expect(incidents[0]!.historical).toBe(false);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('fires on the 24 h window for 15 cancellations spread over a day, not for 14', async () => {
      await withHarness(dialect, async (h) => {
        // 14 cancellations, one every 80 min: never 5 in an hour, 14 in 24 h.
        const start = T0S - 20 * HOUR;
        await deliverAll(h, cancellations(Array.from({ length: 14 }, (_, i) => start + i * 80 * MIN)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, cancellations([T0S - 2 * MIN]));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ window: '24h', canceled: 15, threshold: 15 });
        expect(incidents[0]!.historical).toBe(false);
      });
    });

    it('judges against the same hour of the previous 4 weeks: 15 is normal for it, 16 is a spike', async () => {
      await withHarness(dialect, async (h) => {
        // History (backfilled): 4 cancellations early in the same hour of each of the previous 4 weeks
        // (early, so that every window holding today's cancellations holds them too).
        await h.backfill(chargeSucceeded(T0S - 4 * WEEK - 2 * DAY));
        for (let k = 1; k <= 4; k++) {
          for (const e of cancellations([-59, -58, -57, -56].map((m) => T0S - k * WEEK + m * MIN))) await h.backfill(e);
        }
        await h.process();
        expect((await mine(h)).map((i) => i.figures)).toEqual([]); // 4 per hour never reached the minimum
        // expected 4: threshold = max(5, 3 × 4, ⌈4 + 5 × √(4 × (1 + 1/4))⌉) = 16.
        await deliverAll(h, cancellations(Array.from({ length: 15 }, (_, i) => T0S - 54 * MIN + i * 2 * MIN)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, cancellations([T0S - 10 * MIN]));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ canceled: 16, threshold: 16, expected: '4.00', sameHoursWeekly: '4,4,4,4' }) // the 1 h and 24 h windows agree here;
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
      });
    });

    it('allows for the spread of the previous weeks and the tenant’s usual daily rate: 15 in a day is ordinary there, 10 in an hour is not', async () => {
      await withHarness(dialect, async (h) => {
        // Two weeks of history: 6 cancellations a day, one every 4 hours; the same 24 h saw 6 a week ago
        // and 2 two weeks ago. Same-hours average 4 (threshold 15 before), but the tenant's daily
        // average is 5.4 and the two weeks differ: threshold max(15, ⌈3 × 5.4⌉, ⌈5.4 + 5 × √(8 × 1.5)⌉) = 23.
        await h.backfill(chargeSucceeded(T0S - 16 * DAY));
        const history: number[] = [];
        for (let d = 15; d >= 2; d--) {
          const dayStart = T0S - d * DAY;
          const n = d === 8 ? 6 : d === 15 ? 2 : 6;
          for (let i = 0; i < n; i++) history.push(dayStart + 30 * MIN + i * Math.floor(DAY / n));
        }
        for (const e of cancellations(history)) await h.backfill(e);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        // 15 today, one every 90 minutes: the 24 h window holds 15, no hour more than one.
        await deliverAll(h, cancellations(Array.from({ length: 15 }, (_, i) => T0S - 23 * HOUR + i * 90 * MIN)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        // 10 within an hour is a spike.
        await deliverAll(h, cancellations(Array.from({ length: 10 }, (_, i) => T0S - 50 * MIN + i * 4 * MIN)));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(Number(incidents[0]!.figures.canceled)).toBeGreaterThanOrEqual(10);
      });
    });

    it('escalates to critical at 2 × the threshold', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, cancellations([-50, -48, -46, -44, -42].map((m) => T0S + m * MIN)));
        await h.process();
        await deliverAll(h, cancellations([-40, -38, -36, -34, -32].map((m) => T0S + m * MIN)));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect(incidents[0]!.figures).toMatchObject({ canceled: 10, threshold: 5 });
        expect((await myNotifications(h)).map((n) => [n.kind, n.severity])).toEqual([
          ['open', 'warning'],
          ['escalate', 'critical'],
        ]);
      });
    });

    it('opens backfilled or long-past spikes as historical without notifying', async () => {
      await withHarness(dialect, async (h) => {
        // A backfilled spike three days ago.
        for (const e of cancellations([0, 5, 10, 15, 20].map((m) => T0S - 3 * DAY + m * MIN))) await h.backfill(e);
        await h.process();
        let incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        // Webhooks whose Stripe time is hours old (a replay) add to it, still historical.
        await deliverAll(h, cancellations([0, 5, 10, 15, 20].map((m) => T0S - 3 * DAY + 30 * MIN + m * MIN)));
        await h.process();
        incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('applies tenant config and refuses invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { hourMinCount: 3 })).toBe(200);
        expect(await h.configure(DETECTOR, { hourMinCount: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { multiplier: 1000 })).toBe(400);
        expect(await h.configure(DETECTOR, { unknownKey: 1 })).toBe(400);
        await deliverAll(h, cancellations([-30, -20, -10].map((m) => T0S + m * MIN)));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ canceled: 3, threshold: 3 });
      });
    });

    it('auto-resolves once the windows have moved past the spike', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, cancellations([-30, -25, -20, -15, -10].map((m) => T0S + m * MIN)));
        await h.process();
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('open');
        h.app.clock.set(T0 + 2 * HOUR * 1000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('open'); // clear, waiting for the quiet period
        h.app.clock.set(T0 + 3 * HOUR * 1000 + 60_000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
      });
    });

    it('survives a restart mid-stream and re-running changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const events = cancellations([-50, -40, -30, -20, -10].map((m) => T0S + m * MIN));
        await deliverAll(h, events.slice(0, 3));
        await h.process();
        await h.restart(new ManualClock(T0));
        // A redelivery of an event from before the restart, then the rest.
        await deliverAll(h, [events[0]!, events[3]!, events[4]!]);
        await h.process();
        const first = await mine(h);
        expect(first).toHaveLength(1);
        expect(first[0]!.figures).toMatchObject({ canceled: 5 });
        expect(await myNotifications(h)).toHaveLength(1);
        await h.process();
        await h.tick();
        const second = await mine(h);
        expect(second.map((i) => [i.id, i.status, i.figures])).toEqual(first.map((i) => [i.id, i.status, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
