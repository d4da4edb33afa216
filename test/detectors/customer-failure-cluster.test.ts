import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'customer_failure_cluster';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;

let seq = 0;
function failed(created: number, customer: string | null, patch: Record<string, unknown> = {}, eventId?: string): Record<string, unknown> {
  seq += 1;
  const charge = {
    ...fixture('charge'),
    id: `ch_fail_${created}_${seq}`,
    amount: 2000,
    currency: 'usd',
    customer,
    status: 'failed',
    paid: false,
    captured: false,
    failure_code: 'card_declined',
    created,
    ...patch,
  };
  return stripeEvent('charge.failed', charge, { created, ...(eventId ? { id: eventId } : {}) });
}

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`customer_failure_cluster: ${dialect}`, () => {
    it('fires for 5 distinct failures of one customer within exactly 10 minutes', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        const events = [0, 2, 4, 6, 10].map((m) => failed(start + m * MIN, 'cus_A'));
        await deliverAll(h, events);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'customer', id: 'cus_A' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ customer: 'cus_A', failures: 5, minFailures: 5, windowMinutes: 10 });
        expect(new Set(incidents[0]!.evidence.eventIds)).toEqual(new Set(events.map((e) => e.id as string)));
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        const flagged = (await h.flagged()).map((f) => f.eventId);
        for (const e of events) expect(flagged).toContain(e.id);
      });
    });

    it('stays quiet at the edges: 4 failures, or 5 spread over 10 min 1 s', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        await deliverAll(h, [0, 1, 2, 3].map((m) => failed(start + m * MIN, 'cus_A')));
        await deliverAll(h, [0, 2 * MIN, 4 * MIN, 6 * MIN, 10 * MIN + 1].map((s) => failed(start + s, 'cus_B')));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('counts one failed charge delivered 10 times once, and two events of one charge once', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        const events = [0, 1, 2, 3].map((m) => failed(start + m * MIN, 'cus_A'));
        for (let i = 0; i < 10; i += 1) expect(await h.deliver(events[0]!)).toBe(200);
        await deliverAll(h, events.slice(1));
        // A different event about the same charge as events[1] is not a fifth failure.
        const sameCharge = failed(start + 4 * MIN, 'cus_A', { id: (events[1]!.data as { object: { id: string } }).object.id });
        await deliverAll(h, [sameCharge]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        // A genuinely new charge is.
        await deliverAll(h, [failed(start + 5 * MIN, 'cus_A')]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ failures: 5 });
      });
    });

    it('completes a cluster from failures that arrive out of order, across batches', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 30 * MIN;
        const events = [0, 3, 5, 7, 9].map((m) => failed(start + m * MIN, 'cus_A'));
        for (const i of [4, 2, 0, 3]) {
          await deliverAll(h, [events[i]!]);
          await h.process();
        }
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [events[1]!]); // the missing one, in the middle of the window
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ failures: 5 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('judges each customer alone and ignores failures without a customer; amounts and currencies do not matter', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        await deliverAll(h, [0, 1, 2].map((m) => failed(start + m * MIN, 'cus_A')));
        await deliverAll(h, [3, 4].map((m) => failed(start + m * MIN, 'cus_B')));
        await deliverAll(h, [0, 1, 2, 3, 4, 5].map((m) => failed(start + m * MIN, null)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [
          failed(start + 5 * MIN, 'cus_B', { currency: 'jpy', amount: 50_000 }),
          failed(start + 6 * MIN, 'cus_B', { currency: 'eur', amount: 1 }),
          failed(start + 7 * MIN, 'cus_B', { currency: 'usd', amount: 999_999 }),
        ]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents.map((i) => i.subject.id)).toEqual(['cus_B']);
      });
    });

    it('escalates to critical at 10 failures in the window', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        await deliverAll(h, [0, 1, 2, 3, 4].map((m) => failed(start + m * MIN, 'cus_A')));
        await h.process();
        expect((await mine(h))[0]!.severity).toBe('warning');
        await deliverAll(h, [5, 6, 7, 8, 9].map((m) => failed(start + m * MIN, 'cus_A')));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect(incidents[0]!.figures).toMatchObject({ failures: 10 });
        expect((await myNotifications(h)).map((n) => n.kind).sort()).toEqual(['escalate', 'open']);
      });
    });

    it('opens backfilled history as historical without notifying', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 5 * 24 * 3600;
        for (const m of [0, 1, 2, 3, 4]) await h.backfill(failed(start + m * MIN, 'cus_A'));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('resolves once the burst is over (window ending at now below the threshold)', async () => {
      await withHarness(
        dialect,
        async (h) => {
          h.app.clock.set(T0);
          const start = T0S - 6 * MIN;
          await deliverAll(h, [0, 1, 2, 3, 4].map((m) => failed(start + m * MIN, 'cus_A')));
          await h.process();
          await h.tick();
          expect((await mine(h))[0]!.status).toBe('open');
          h.app.clock.set(T0 + 30 * 60_000);
          await h.tick();
          expect((await mine(h))[0]!.status).toBe('resolved');
          expect((await myNotifications(h)).map((n) => n.kind).sort()).toEqual(['open', 'resolve']);
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });

    it('applies tenant config and rejects invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { minFailures: 1 })).toBe(400);
        expect(await h.configure(DETECTOR, { windowMinutes: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { other: 1 })).toBe(400);
        expect(await h.configure(DETECTOR, { minFailures: 3, windowMinutes: 2 })).toBe(200);
        const start = T0S - 20 * MIN;
        await deliverAll(h, [0, 60, 120].map((s) => failed(start + s, 'cus_A')));
        await deliverAll(h, [0, 60, 121].map((s) => failed(start + 10 * MIN + s, 'cus_B')));
        await h.process();
        expect((await mine(h)).map((i) => i.subject.id)).toEqual(['cus_A']);
      });
    });

    it('survives a restart mid-stream, and re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 20 * MIN;
        const events = [0, 1, 2, 3, 4].map((m) => failed(start + m * MIN, 'cus_A'));
        await deliverAll(h, events.slice(0, 3));
        await h.process();
        await h.restart(new ManualClock(T0));
        await deliverAll(h, [events[0]!, events[3]!, events[4]!]); // events[0]: a redelivery from before the restart
        await h.process();
        const first = await mine(h);
        expect(first).toHaveLength(1);
        expect(first[0]!.figures).toMatchObject({ failures: 5 });
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
