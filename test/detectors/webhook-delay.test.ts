import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type DetectorHarness, detectorViews, withHarness } from '../support/detector-harness.js';
import { chargeSucceeded } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'webhook_delay';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;

/** Deliver `event` (Stripe time `created`) `delaySeconds` after it was created. */
async function deliverLate(h: DetectorHarness, event: Record<string, unknown>, delaySeconds: number) {
  h.app.clock.set(((event.created as number) + delaySeconds) * 1000);
  expect(await h.deliver(event)).toBe(200);
}
/** `total` events created every 30 s from `base` − 30 min (inside one 15-minute window), the first `late` of them delivered `lateDelay` s late, the rest after 5 s. */
function batch(base: number, total: number) {
  return Array.from({ length: total }, (_, i) => chargeSucceeded(base - 30 * MIN + i * 30));
}
async function scenario(h: DetectorHarness, base: number, total: number, late: number, lateDelay: number) {
  const events = batch(base, total);
  for (const [i, e] of events.entries()) await deliverLate(h, e, i < late ? lateDelay : 5);
  return events;
}
async function tickAt(h: DetectorHarness, seconds: number) {
  h.app.clock.set(seconds * 1000);
  await h.process();
  await h.tick();
}

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`webhook_delay: ${dialect}`, () => {
    it('fires when 2 of 20 deliveries in 15 minutes were over 10 minutes late (p95 > 10 min)', async () => {
      await withHarness(dialect, async (h) => {
        await scenario(h, T0S, 20, 2, 11 * MIN);
        await tickAt(h, T0S);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ deliveries: 20, late: 2, thresholdMinutes: 10, percentile: 95, severeThresholdMinutes: 30, severeLate: 0 });
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
      });
    });

    it('stays quiet at the edges: exactly 5 % late, 19 deliveries, a delay of exactly 10 minutes', async () => {
      await withHarness(dialect, async (h) => {
        // Each case 3 hours apart, beyond the others' lookback.
        await scenario(h, T0S, 20, 1, 11 * MIN); // 1 of 20 late: p95 is on time
        await tickAt(h, T0S);
        await scenario(h, T0S + 3 * HOUR, 19, 2, 11 * MIN); // under the 20-delivery minimum
        await tickAt(h, T0S + 3 * HOUR);
        await scenario(h, T0S + 6 * HOUR, 20, 2, 10 * MIN); // 10:00 is not later than 10 min
        await tickAt(h, T0S + 6 * HOUR);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('escalates to critical when the p95 is also over 30 minutes; a sustained delay is found as deliveries arrive', async () => {
      await withHarness(dialect, async (h) => {
        // Stripe holds everything created from T0 − 45 min and delivers it all at T0 (31–45 min late).
        const held = Array.from({ length: 30 }, (_, i) => chargeSucceeded(T0S - 45 * MIN + i * 28));
        await tickAt(h, T0S - MIN);
        expect(await mine(h)).toHaveLength(0); // nothing arrived, nothing measured
        h.app.clock.set(T0);
        for (const e of held) expect(await h.deliver(e)).toBe(200);
        await tickAt(h, T0S);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect(incidents[0]!.figures).toMatchObject({ deliveries: 30, late: 30, severeLate: 30 });
      });
    });

    it('does not count backfilled events as deliveries', async () => {
      await withHarness(dialect, async (h) => {
        const events = batch(T0S, 20);
        for (const e of events.slice(2)) await h.backfill(e); // 18 backfilled, long after they were created
        for (const e of events.slice(0, 2)) await deliverLate(h, e, 11 * MIN);
        await tickAt(h, T0S);
        expect(await mine(h)).toHaveLength(0); // 2 deliveries: under the minimum
      });
    });

    it('counts a late event delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        const events = await scenario(h, T0S, 20, 1, 11 * MIN);
        for (let i = 1; i < 10; i++) await deliverLate(h, events[0]!, 11 * MIN + i * 30);
        await tickAt(h, T0S);
        expect(await mine(h)).toHaveLength(0);
        await deliverLate(h, chargeSucceeded(T0S - 29 * MIN), 12 * MIN); // a second, distinct late delivery
        await tickAt(h, T0S);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ deliveries: 21, late: 2 });
      });
    });

    it('judges by event time: late deliveries count for the window they were created in, whenever they arrive', async () => {
      await withHarness(dialect, async (h) => {
        const events = batch(T0S, 20);
        for (const e of events.slice(2).reverse()) await deliverLate(h, e, 5);
        await tickAt(h, T0S - 15 * MIN);
        expect(await mine(h)).toHaveLength(0);
        for (const e of events.slice(0, 2)) await deliverLate(h, e, 20 * MIN);
        await tickAt(h, T0S - 5 * MIN);
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('validates the threshold against the delay counters and applies tenant config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { thresholdMinutes: 7 })).toBe(400);
        expect(await h.configure(DETECTOR, { percentile: 100 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowMinutes: 7 })).toBe(400);
        expect(await h.configure(DETECTOR, { p95: 10 })).toBe(400);
        expect(await h.configure(DETECTOR, { thresholdMinutes: 15 })).toBe(200);
        await scenario(h, T0S, 20, 2, 11 * MIN);
        await tickAt(h, T0S);
        expect(await mine(h)).toHaveLength(0); // 11 min is under 15
        await scenario(h, T0S + 3 * HOUR, 20, 2, 16 * MIN);
        await tickAt(h, T0S + 3 * HOUR);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ thresholdMinutes: 15, late: 2, severeThresholdMinutes: 30 });
      });
    });

    it('auto-resolves once the late windows have left the lookback', async () => {
      await withHarness(dialect, async (h) => {
        await scenario(h, T0S, 20, 2, 11 * MIN);
        await tickAt(h, T0S);
        expect((await mine(h))[0]!.status).toBe('open');
        await tickAt(h, T0S + 2 * HOUR);
        await tickAt(h, T0S + 3 * HOUR + MIN);
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
      });
    });

    it('survives a restart: one incident, one notification', async () => {
      await withHarness(dialect, async (h) => {
        await scenario(h, T0S, 20, 2, 11 * MIN);
        await tickAt(h, T0S);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        await h.restart(new ManualClock(T0 + 6 * 60_000)); // past the old replica's lease
        await h.process();
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.severity])).toEqual(before.map((i) => [i.id, 'open', 'warning']));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
