import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type DetectorHarness, deliverAll, detectorViews, withHarnessAt } from '../support/detector-harness.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'revenue_drop';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Evaluation time: 10 minutes into the hour after T0, so the window is the 24 complete hours ending at T0. */
const NOW = T0 + 10 * 60_000;

let seq = 0;
const charge = (created: number, amount: number, currency = 'usd') =>
  chargeSucceeded(created, { id: `ch_rev_${++seq}`, amount, currency, customer: `cus_${seq % 7}` });
/** n event times spread evenly over [start, start + 24 h). */
const spread = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + Math.floor(((i + 0.5) * DAY) / n));

/**
 * Backfilled history: a first event 4 weeks (+ 2 days) back, then `n` charges of `amount` (or of
 * `amount[k-1]` k weeks back) in the window of each previous week.
 */
async function history(h: DetectorHarness, n: number, amount: number | number[], currency = 'usd', weeks = 4, firstEvent = true) {
  if (firstEvent) await h.backfill(stripeEvent('customer.created', { ...fixture('customer'), id: 'cus_first' }, { created: T0S - 4 * WEEK - 2 * DAY }));
  for (let k = 1; k <= weeks; k++) {
    const each = typeof amount === 'number' ? amount : amount[k - 1]!;
    for (const t of spread(T0S - DAY - k * WEEK, n)) await h.backfill(charge(t, each, currency));
  }
}

const { mine, myNotifications } = detectorViews(DETECTOR);
const withHarness = withHarnessAt(NOW);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`revenue_drop: ${dialect}`, () => {
    it('fires when the last 24 complete hours captured just under 50 % of the same hours of previous weeks', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800); // 80,000 USD cents per window on average
        const times = spread(T0S - DAY, 20);
        await deliverAll(h, [...times.slice(1).map((t) => charge(t, 2000)), charge(times[0]!, 1999)]); // 39,999
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({
          currency: 'usd',
          capturedAmount: 39_999,
          capturedCount: 20,
          baselineAverageAmount: 80_000,
          captured: '399.99 USD',
          baselineAverage: '800.00 USD',
          thresholdPercent: 50,
          windowStart: new Date(T0 - DAY * 1000).toISOString(),
          windowEnd: new Date(T0).toISOString(),
        });
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
      });
    });

    it('allows for the week-to-week spread: 45 % is chance where the same hours swing widely, a drop where they are steady', async () => {
      await withHarness(dialect, async (h) => {
        // Average 80,000 but the weeks were 32,000, 128,000, 80,000 and 80,000.
        await history(h, 100, [320, 1280, 800, 800]);
        await deliverAll(h, spread(T0S - DAY, 20).map((t) => charge(t, 1800))); // 36,000
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        // Average 80,000 from 70,000, 90,000, 75,000 and 85,000: limit 80,000 − 3 × 9,129 × √1.25 = 49,381.
        await history(h, 100, [700, 900, 750, 850]);
        await deliverAll(h, spread(T0S - DAY, 20).map((t) => charge(t, 1800)));
        await h.process();
        await h.tick();
        expect((await mine(h))[0]?.figures).toMatchObject({ capturedAmount: 36_000, baselineAverageAmount: 80_000, spreadLimitAmount: 49_381 });
      });
    });

    it('does not fire at exactly 50 % (40,000 of 80,000)', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        await deliverAll(h, spread(T0S - DAY, 20).map((t) => charge(t, 2000)));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('judges each currency on its own: a JPY surge does not hide a USD drop; a new currency cannot drop', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800, 'usd');
        await history(h, 100, 2000, 'jpy', 4, false);
        // Today: USD at 25 %, JPY ten times its normal volume, EUR never seen before.
        await deliverAll(h, spread(T0S - DAY, 10).map((t) => charge(t, 2000, 'usd')));
        await deliverAll(h, spread(T0S - DAY, 40).map((t) => charge(t, 50_000, 'jpy')));
        await deliverAll(h, spread(T0S - DAY, 3).map((t) => charge(t, 100, 'eur')));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ currency: 'usd', capturedAmount: 20_000, baselineAverageAmount: 80_000 });
        expect(incidents[0]!.severity).toBe('warning'); // exactly 25 %: not below half the threshold
      });
    });

    it('reports a JPY drop in JPY, critical below 25 %', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800, 'usd');
        await history(h, 100, 2000, 'jpy', 4, false);
        await deliverAll(h, spread(T0S - DAY, 40).map((t) => charge(t, 2000, 'usd')));
        await deliverAll(h, spread(T0S - DAY, 9).map((t) => charge(t, 5000, 'jpy'))); // 45,000 of 200,000
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect(incidents[0]!.figures).toMatchObject({ currency: 'jpy', capturedAmount: 45_000, captured: '45,000 JPY', baselineAverage: '200,000 JPY' });
      });
    });

    it('never compares a partial hour: charges in the current hour do not count, and history must cover every baseline hour', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        await deliverAll(h, spread(T0S - DAY, 10).map((t) => charge(t, 2000)));
        // 100 charges in the first minutes of the current, incomplete hour.
        await deliverAll(h, Array.from({ length: 100 }, (_, i) => charge(T0S + 5 + i * 5, 2000)));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ capturedAmount: 20_000 });
      });
      await withHarness(dialect, async (h) => {
        // History starts inside the oldest baseline window: that week is partial, so no comparison.
        await history(h, 100, 800, 'usd', 4, false);
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('needs a minimum baseline count of charges', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 99, 100_000); // large amounts, but under 100 charges per window
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('counts a charge delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        const events = spread(T0S - DAY, 19).map((t) => charge(t, 2000)); // 38,000
        await deliverAll(h, events);
        for (let i = 0; i < 9; i++) expect(await h.deliver(events[3]!)).toBe(200); // would be 56,000 if counted
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ capturedAmount: 38_000, capturedCount: 19 });
      });
    });

    it('uses event time: late charges for the window, in any order, clear the incident', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        const events = spread(T0S - DAY, 40).map((t) => charge(t, 2000));
        await deliverAll(h, events.filter((_, i) => i % 3 === 0)); // 14 of 40
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(1);
        await deliverAll(h, events.filter((_, i) => i % 3 !== 0).reverse());
        await h.process();
        await h.tick();
        h.app.clock.set(NOW + 61 * 60_000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
      });
    });

    it('a drop inside backfilled history opens nothing now', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        // Two weeks ago, the day after the baseline window, revenue was near zero (backfilled).
        for (const t of spread(T0S - 2 * WEEK, 2)) await h.backfill(charge(t, 2000));
        await deliverAll(h, spread(T0S - DAY, 40).map((t) => charge(t, 2000)));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('applies tenant config and refuses invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { thresholdPercent: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowHours: 0.5 })).toBe(400);
        expect(await h.configure(DETECTOR, { minBaselineAmount: 5 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowHours: 6, thresholdPercent: 80, minBaselineCharges: 5 })).toBe(200);
        await history(h, 40, 2000); // 10 charges per 6 h window
        // Last 6 complete hours: 7 of the 10 usual charges (70 % < 80 %).
        await deliverAll(h, Array.from({ length: 7 }, (_, i) => charge(T0S - 6 * HOUR + i * 50 * MIN + 60, 2000)));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ capturedAmount: 14_000, baselineAverageAmount: 20_000, thresholdPercent: 80 });
      });
    });

    it('survives a restart: re-running the schedule keeps one incident and one notification', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 100, 800);
        await deliverAll(h, spread(T0S - DAY, 15).map((t) => charge(t, 2000)));
        await h.process();
        await h.tick();
        const before = await mine(h);
        expect(before).toHaveLength(1);
        await h.restart(new ManualClock(NOW + 6 * 60_000)); // past the old replica's schedule lease (5 min)
        await h.process();
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.severity])).toEqual(before.map((i) => [i.id, i.status, i.severity]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
