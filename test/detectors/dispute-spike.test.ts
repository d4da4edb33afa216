import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, settle, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'dispute_spike';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

let seq = 0;
const uid = (p: string) => `${p}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

function dispute(created: number, charge = uid('ch'), currency = 'usd', amount = 1000): Record<string, unknown> {
  const obj = { ...fixture('dispute'), id: uid('dp'), charge, amount, currency, created, status: 'needs_response' };
  return stripeEvent('charge.dispute.created', obj, { created });
}

function efw(created: number, charge = uid('ch')): Record<string, unknown> {
  const obj = { ...fixture('radar.early_fraud_warning'), id: uid('issfr'), charge, created };
  return stripeEvent('radar.early_fraud_warning.created', obj, { created });
}

function charge(created: number, amount = 2000, currency = 'usd'): Record<string, unknown> {
  const obj = { ...fixture('charge'), id: uid('ch'), amount, amount_captured: amount, captured: true, currency, customer: 'cus_D', status: 'succeeded', created };
  return stripeEvent('charge.succeeded', obj, { created });
}

/** `n` successful charges spread evenly over the `days` before `end`. */
const chargesOver = (n: number, end: number, days: number) => Array.from({ length: n }, (_, i) => charge(end - days * DAY + Math.floor(((i + 0.5) * days * DAY) / n)));

/** History reaching back past the 30-day rate window (an event that counts for nothing). */
const historyMarker = () => stripeEvent('customer.created', { ...fixture('customer'), id: uid('cus') }, { created: T0S - 31 * DAY });

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`dispute_spike: ${dialect}`, () => {
    it('count: 4 disputes in 24 h are quiet, the 5th fires, 10 are critical', async () => {
      await withHarness(dialect, async (h) => {
        const four = [20 * HOUR, 10 * HOUR, 2 * HOUR, 50 * MIN].map((ago) => dispute(T0S - ago));
        await deliverAll(h, four);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        const fifth = dispute(T0S - 30 * MIN);
        await deliverAll(h, [fifth]);
        await settle(h);
        let [i] = await mine(h);
        expect(i).toBeDefined();
        expect(i!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(i!.severity).toBe('warning');
        expect(i!.historical).toBe(false);
        expect(i!.figures).toMatchObject({ condition: 'count', cases: 5, disputes: 5, earlyFraudWarnings: 0, threshold: 5, windowHours: 24 });
        expect(new Set(i!.evidence.eventIds)).toEqual(new Set([...four, fifth].map((e) => e.id as string)));
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        expect((await h.flagged()).map((f) => f.eventId)).toContain(fifth.id);

        await deliverAll(h, [25, 20, 15, 10, 5].map((ago) => dispute(T0S - ago * MIN)));
        await settle(h);
        [i] = await mine(h);
        expect(i!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'escalate']);
      });
    });

    it('count window edge: 5 disputes within 23 h 59 min fire, spread over 24 h do not', async () => {
      await withHarness(dialect, async (h) => {
        const last = T0S - 10 * MIN - (T0S % 60); // minute-aligned
        await deliverAll(h, [24 * HOUR, 12 * HOUR, 6 * HOUR, HOUR, 0].map((ago) => dispute(last - ago)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // the first one left the window as the fifth arrived
      });
      await withHarness(dialect, async (h) => {
        const last = T0S - 10 * MIN - (T0S % 60);
        await deliverAll(h, [24 * HOUR - MIN, 12 * HOUR, 6 * HOUR, HOUR, 0].map((ago) => dispute(last - ago)));
        await settle(h);
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('early fraud warnings count, once per charge together with its dispute', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 50 * MIN;
        await deliverAll(h, [dispute(t), dispute(t + MIN), dispute(t + 2 * MIN), efw(t + 3 * MIN), efw(t + 4 * MIN)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ cases: 5, disputes: 3, earlyFraudWarnings: 2 });
      });
      await withHarness(dialect, async (h) => {
        const t = T0S - 50 * MIN;
        const shared = uid('ch');
        // A warning, then the dispute on the same charge: one case. 4 cases in all.
        await deliverAll(h, [efw(t, shared), dispute(t + MIN, shared), dispute(t + 2 * MIN), dispute(t + 3 * MIN), dispute(t + 4 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { includeEarlyFraudWarnings: false })).toBe(200);
        const t = T0S - 50 * MIN;
        await deliverAll(h, [dispute(t), dispute(t + MIN), dispute(t + 2 * MIN), efw(t + 3 * MIN), efw(t + 4 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('rate: 3 disputes on 400 charges (0.75 %) fire, 2 do not; 1 dispute on 3 charges never fires', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { countThreshold: 1000 })).toBe(200); // isolate the rate
        await deliverAll(h, [charge(T0S - 3 * DAY), charge(T0S - 2 * DAY), charge(T0S - DAY), dispute(T0S - 40 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 33 % of 3 charges: not enough volume
      });
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { countThreshold: 1000 })).toBe(200);
        await h.backfill(historyMarker());
        for (const e of chargesOver(400, T0S - 2 * HOUR, 29)) await h.backfill(e);
        await deliverAll(h, [dispute(T0S - 5 * DAY), dispute(T0S - 50 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 0.5 %

        await deliverAll(h, [dispute(T0S - 40 * MIN, uid('ch'), 'jpy', 50_000)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.historical).toBe(false);
        expect(i!.severity).toBe('warning');
        expect(i!.figures).toMatchObject({ condition: 'rate', cases: 3, successfulCharges: 400, ratePercent: '0.750', thresholdPercent: 0.75, windowDays: 30 });

        await deliverAll(h, [dispute(T0S - 30 * MIN), dispute(T0S - 20 * MIN), dispute(T0S - 10 * MIN)]);
        await settle(h);
        expect((await mine(h))[0]!.severity).toBe('critical'); // 1.5 %
      });
    });

    it('rate: needs history covering the 30 days (disputes trail their charges by weeks)', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { countThreshold: 1000 })).toBe(200);
        // 29 days of charges and nothing older: 3 disputes on 400 charges would read 0.75 %, but
        // disputes of charges made before the history began cannot be told apart.
        for (const e of chargesOver(400, T0S - 2 * HOUR, 29)) await h.backfill(e);
        await deliverAll(h, [dispute(T0S - 5 * DAY), dispute(T0S - 50 * MIN), dispute(T0S - 40 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        await h.backfill(historyMarker()); // the history now covers the window
        await deliverAll(h, [dispute(T0S - 30 * MIN)]);
        await settle(h);
        expect((await mine(h))[0]?.figures).toMatchObject({ condition: 'rate', cases: 4, successfulCharges: 400 });
      });
    });

    it('count: scales with the tenant — 5 in 24 h are ordinary at 2 a day, 8 are a spike', async () => {
      await withHarness(dialect, async (h) => {
        // 30 days of history with 2 disputes a day: expected 2.0 per 24 h, threshold ⌈2 + 4 × √2⌉ = 8.
        await h.backfill(historyMarker());
        for (let d = 31; d >= 2; d--) for (const at of [T0S - d * DAY, T0S - d * DAY + 12 * HOUR]) await h.backfill(dispute(at));
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [5, 4, 3, 2, 1].map((ago) => dispute(T0S - ago * HOUR)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [50, 40, 30].map((ago) => dispute(T0S - ago * MIN)));
        await settle(h);
        const [i] = await mine(h);
        expect(i?.figures).toMatchObject({ condition: 'count', cases: 8, threshold: 8, countThreshold: 5, expected: '2.00' });
        expect(i!.historical).toBe(false);
      });
    });

    it('rate: a late charge that lifts the window to the minimum volume fires (out of order)', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { countThreshold: 1000, rateMinCharges: 100 })).toBe(200);
        await h.backfill(historyMarker());
        for (const e of chargesOver(99, T0S - 2 * HOUR, 20)) await h.backfill(e);
        await deliverAll(h, [dispute(T0S - 30 * MIN), dispute(T0S - 40 * MIN), dispute(T0S - 50 * MIN)]); // newest first
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 99 charges: below the minimum

        await deliverAll(h, [charge(T0S - 3 * DAY)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ condition: 'rate', cases: 3, successfulCharges: 100 });
        expect(i!.historical).toBe(false);
      });
    });

    it('counts a dispute delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        const d = dispute(T0S - 50 * MIN);
        for (let i = 0; i < 10; i++) expect(await h.deliver(d)).toBe(200);
        await deliverAll(h, [dispute(T0S - 40 * MIN), dispute(T0S - 30 * MIN), dispute(T0S - 20 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('takes disputes in any arrival order and any currency (counts never mix money)', async () => {
      await withHarness(dialect, async (h) => {
        const events = [
          dispute(T0S - 10 * MIN, uid('ch'), 'usd', 1000),
          dispute(T0S - 20 * MIN, uid('ch'), 'jpy', 50_000),
          dispute(T0S - 5 * HOUR, uid('ch'), 'eur', 700),
          dispute(T0S - 12 * HOUR, uid('ch'), 'usd', 100),
          dispute(T0S - 23 * HOUR, uid('ch'), 'jpy', 3000),
        ];
        for (const e of events) {
          await deliverAll(h, [e]);
          await settle(h);
        }
        const list = await mine(h);
        expect(list).toHaveLength(1);
        expect(list[0]!.figures).toMatchObject({ cases: 5 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('opens backfilled history as historical, without notifying, and resolves it on the schedule', async () => {
      await withHarness(dialect, async (h) => {
        const base = T0S - 12 * DAY;
        for (const ago of [5, 4, 3, 2, 1]) await h.backfill(dispute(base - ago * HOUR));
        await settle(h);
        const [i] = await mine(h);
        expect(i!.historical).toBe(true);
        await h.tick();
        h.app.clock.set(T0 + 61 * 60_000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('validates its config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { ratePercent: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { countThreshold: 2.5 })).toBe(400);
        expect(await h.configure(DETECTOR, { unknown: 1 })).toBe(400);
        expect(await h.configure(DETECTOR, { countThreshold: 3 })).toBe(200);
        await deliverAll(h, [dispute(T0S - 30 * MIN), dispute(T0S - 20 * MIN), dispute(T0S - 10 * MIN)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('survives a restart mid-stream; re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const events = [50, 40, 30, 20, 10].map((ago) => dispute(T0S - ago * MIN));
        await deliverAll(h, events.slice(0, 3));
        await settle(h);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, events.slice(2));
        await settle(h);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        expect(before[0]!.figures).toMatchObject({ cases: 5 });
        await settle(h);
        await h.tick();
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.figures])).toEqual(before.map((i) => [i.id, i.status, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
