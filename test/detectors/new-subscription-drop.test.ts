import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type DetectorHarness, deliverAll, detectorViews, withHarnessAt } from '../support/detector-harness.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'new_subscription_drop';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Evaluation time: 10 minutes into the hour after T0, so the window is the 24 complete hours ending at T0. */
const NOW = T0 + 10 * 60_000;

let seq = 0;
function created(at: number, id = `sub_new_${++seq}`): Record<string, unknown> {
  const sub = { ...fixture('subscription'), id, customer: `cus_${id}`, status: 'active', created: at, cancel_at_period_end: false };
  return stripeEvent('customer.subscription.created', sub, { created: at });
}
/** n event times spread evenly over [start, start + 24 h). */
const spread = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + Math.floor(((i + 0.5) * DAY) / n));

/** Backfilled history: a first event `weeksOfHistory` weeks (+ 2 days) back, and `perWeek[k-1]` sign-ups in the window k weeks back. */
async function history(h: DetectorHarness, perWeek: number[], weeksOfHistory = 4) {
  await h.backfill(chargeSucceeded(T0S - weeksOfHistory * WEEK - 2 * DAY));
  for (let k = 1; k <= perWeek.length; k++) {
    for (const t of spread(T0S - DAY - k * WEEK, perWeek[k - 1]!)) await h.backfill(created(t));
  }
}

const { mine, myNotifications } = detectorViews(DETECTOR);
const withHarness = withHarnessAt(NOW);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`new_subscription_drop: ${dialect}`, () => {
    it('fires for 18 new subscriptions against a 40 average of the same weekday-hours (backfilled baseline)', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [36, 40, 44, 40]);
        await deliverAll(h, spread(T0S - DAY, 18).map((t) => created(t)));
        await h.process();
        expect(await mine(h)).toHaveLength(0); // a schedule detector: nothing until the tick
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({
          created: 18,
          baselineAverage: '40.00',
          baselineWeeks: '36,40,44,40',
          limit: '18.79', // min(50 % of 40, 40 − 3 × √(40 × (1 + 1/4)))
          windowStart: new Date(T0 - DAY * 1000).toISOString(),
          windowEnd: new Date(T0).toISOString(),
        });
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
      });
    });

    it('allows for the week-to-week spread: 10 against 18, 26, 27 and 30 is chance, 5 is a drop', async () => {
      await withHarness(dialect, async (h) => {
        // Average 25.25; the weeks vary more than Poisson (s² = 26.25): limit 25.25 − 3 × √(26.25 × 1.25) = 8.07.
        await history(h, [18, 26, 27, 30]);
        await deliverAll(h, spread(T0S - DAY, 10).map((t) => created(t)));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        await history(h, [18, 26, 27, 30]);
        await deliverAll(h, spread(T0S - DAY, 5).map((t) => created(t)));
        await h.process();
        await h.tick();
        expect((await mine(h))[0]?.figures).toMatchObject({ created: 5, limit: '8.07' });
      });
    });

    it('does not fire at exactly 50 % (20 of 40), nor for an ordinary day', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 20).map((t) => created(t)));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, spread(T0S - DAY, 20).map((t) => created(t))); // 40: an ordinary day
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('escalates to critical below half the limit (9 of 40)', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 9).map((t) => created(t)));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
      });
    });

    it('is silent without 4 weeks of history, or with a baseline under the minimum', async () => {
      await withHarness(dialect, async (h) => {
        // Only 3 weeks (+ 2 days) of history: the oldest baseline window is not covered.
        await history(h, [40, 40, 40], 3);
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        // Four weeks, but 8 a day on average: a 50 % drop of 8 means nothing.
        await history(h, [8, 8, 8, 8]);
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('compares complete hours only: sign-ups in the current partial hour do not count', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 18).map((t) => created(t)));
        // 30 sign-ups in the first 9 minutes of the current hour.
        await deliverAll(h, Array.from({ length: 30 }, (_, i) => created(T0S + 10 + i * 15)));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ created: 18 });
      });
    });

    it('counts a sign-up delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        const events = spread(T0S - DAY, 18).map((t) => created(t));
        await deliverAll(h, events);
        for (let i = 0; i < 9; i++) expect(await h.deliver(events[0]!)).toBe(200);
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ created: 18 });
      });
    });

    it('uses event time: late, out-of-order sign-ups for the window clear the incident', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        const events = spread(T0S - DAY, 40).map((t) => created(t));
        const shuffled = [...events].sort((a, b) => ((a.id as string) < (b.id as string) ? 1 : -1));
        await deliverAll(h, shuffled.slice(0, 15));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(1);
        // The rest of the day's sign-ups arrive late and in any order.
        await deliverAll(h, shuffled.slice(15));
        await h.process();
        await h.tick(); // clear from now on
        h.app.clock.set(NOW + 61 * 60_000);
        await h.tick();
        const incidents = await mine(h);
        expect(incidents[0]!.status).toBe('resolved');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
      });
    });

    it('a drop inside backfilled history opens nothing now; the baseline follows the weekday', async () => {
      await withHarness(dialect, async (h) => {
        // Two weeks ago the same window had a drop (10); the weeks around it were normal. Today is normal.
        await history(h, [40, 10, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 30).map((t) => created(t)));
        // A busy other weekday (yesterday's window) does not inflate today's baseline.
        for (let k = 1; k <= 4; k++) for (const t of spread(T0S - 2 * DAY - k * WEEK, 100)) await h.backfill(created(t));
        await h.process();
        await h.tick();
        expect(await mine(h)).toHaveLength(0);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('applies tenant config and refuses invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { thresholdPercent: 100 })).toBe(400);
        expect(await h.configure(DETECTOR, { baselineWeeks: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { nope: true })).toBe(400);
        expect(await h.configure(DETECTOR, { thresholdPercent: 70, zScore: 0 })).toBe(200);
        await history(h, [40, 40, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 27).map((t) => created(t)));
        await h.process();
        await h.tick();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ created: 27, thresholdPercent: 70 });
      });
    });

    it('survives a restart: re-running the schedule keeps one incident and one notification', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, [40, 40, 40, 40]);
        await deliverAll(h, spread(T0S - DAY, 10).map((t) => created(t)));
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
