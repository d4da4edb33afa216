import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, settle, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'refund_surge';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

let seq = 0;
const uid = (p: string) => `${p}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

function charge(created: number, amount: number, currency = 'usd'): Record<string, unknown> {
  const obj = { ...fixture('charge'), id: uid('ch'), amount, amount_captured: amount, captured: true, currency, customer: 'cus_V', status: 'succeeded', created };
  return stripeEvent('charge.succeeded', obj, { created });
}

/** `n` successful charges, one every `stepS` seconds from `start`. */
const charges = (n: number, start: number, stepS: number, amount: number, currency = 'usd') =>
  Array.from({ length: n }, (_, i) => charge(start + i * stepS, amount, currency));

function refund(created: number, amount: number, currency = 'usd'): Record<string, unknown> {
  const obj = { ...fixture('refund'), id: uid('re'), charge: uid('ch'), amount, currency, created, status: 'succeeded' };
  return stripeEvent('refund.created', obj, { created });
}

/**
 * A `charge.refunded` as API versions before 2022-11-15 send it: the charge with its cumulative
 * refunds list (every earlier refund again) and `amount_refunded`. Pass `previous` to refund the same
 * charge again.
 */
function legacyRefunded(created: number, amount: number, previous?: { charge: Record<string, unknown>; refunds: Record<string, unknown>[] }) {
  const charge = previous?.charge ?? { ...fixture('charge'), id: uid('ch'), amount: 10_000, amount_captured: 10_000, captured: true, currency: 'usd', customer: 'cus_V', status: 'succeeded', created: created - DAY };
  const refunds = [...(previous?.refunds ?? []), { ...fixture('refund'), id: uid('re'), charge: charge.id, amount, currency: 'usd', created, status: 'succeeded' }];
  const amountRefunded = refunds.reduce((a, r) => a + (r.amount as number), 0);
  const object = { ...charge, refunded: amountRefunded >= (charge.amount as number), amount_refunded: amountRefunded, refunds: { object: 'list', data: refunds, has_more: false, total_count: refunds.length, url: `/v1/charges/${String(charge.id)}/refunds` } };
  return { charge, refunds, event: stripeEvent('charge.refunded', object, { created }) };
}

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`refund_surge: ${dialect}`, () => {
    it('ratio: quiet just under 10 % without the largest refund, fires at exactly 10 %, critical at 20 %', async () => {
      await withHarness(dialect, async (h) => {
        // 50 charges of 10.00 USD over the last day: 500.00 captured.
        await deliverAll(h, charges(50, T0S - 20 * HOUR, 20 * MIN, 1000));
        // 59.99 refunded (12 %), but 49.99 (9.998 %) without the largest refund.
        const below = [...[50, 45, 40, 35, 30].map((m) => refund(T0S - m * MIN, 1000)), refund(T0S - 25 * MIN, 999)];
        await deliverAll(h, below);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        const tip = refund(T0S - 20 * MIN, 1);
        await deliverAll(h, [tip]);
        await settle(h);
        const [i] = await mine(h);
        expect(i).toBeDefined();
        expect(i!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(i!.severity).toBe('warning');
        expect(i!.historical).toBe(false);
        expect(i!.figures).toMatchObject({
          condition: 'ratio',
          currency: 'usd',
          refundedAmount: 6000,
          refundCount: 7,
          largestRefundAmount: 1000,
          capturedAmount: 50_000,
          capturedCount: 50,
          refundRatePercent: '12.00',
        });
        expect(i!.summary).toContain('60.00 USD');
        expect(i!.evidence.eventIds).toContain(tip.id);
        for (const r of below) expect(i!.evidence.eventIds).toContain(r.id);
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);

        // 110.00 (22 %), 60.00 (12 %) without the largest: critical.
        await deliverAll(h, [refund(T0S - 10 * MIN, 5000)]);
        await settle(h);
        expect((await mine(h))[0]!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'escalate']);
      });
    });

    it('ratio needs volume: 49 captured charges, or 4 refunds, never fire', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, charges(49, T0S - 20 * HOUR, 20 * MIN, 1000));
        await deliverAll(h, [50, 45, 40, 35, 30].map((m) => refund(T0S - m * MIN, 3000)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 30 % of 49 charges

        await deliverAll(h, charges(1, T0S - 10 * HOUR, 0, 1000)); // the 50th charge arrives: now it counts
        await settle(h);
        expect(await mine(h)).toHaveLength(1);
      });
      await withHarness(dialect, async (h) => {
        await deliverAll(h, charges(60, T0S - 20 * HOUR, 20 * MIN, 1000));
        await deliverAll(h, [50, 40, 30, 20].map((m) => refund(T0S - m * MIN, 10_000)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 4 refunds of 100.00 (67 %): below the minimum count
      });
    });

    it('one large refund is not a surge (a refunded annual order on a small segment)', async () => {
      await withHarness(dialect, async (h) => {
        // 600.00 captured; five ordinary 1.00 refunds and one 80.00 refund: 14.2 % with it, 0.8 % without.
        await deliverAll(h, charges(60, T0S - 20 * HOUR, 20 * MIN, 1000));
        await deliverAll(h, [...[50, 45, 40, 35, 30].map((m) => refund(T0S - m * MIN, 100)), refund(T0S - 20 * MIN, 8000)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        // Several larger refunds are a surge: 5 × 12.00 more makes 145.00, 65.00 (10.8 %) without the largest.
        await deliverAll(h, [15, 12, 9, 6, 3].map((m) => refund(T0S - m * MIN, 1200)));
        await settle(h);
        expect((await mine(h))[0]?.figures).toMatchObject({ condition: 'ratio', refundCount: 11, largestRefundAmount: 8000 });
      });
    });

    it('collapsed sales do not make ordinary refunds a surge (captured under half the usual volume)', async () => {
      await withHarness(dialect, async (h) => {
        // Two days of history up to the window: 120 charges of 10.00 a day (about 1,200.00 per 24 h).
        for (const e of charges(235, T0S - 3 * DAY, 12 * MIN, 1000)) await h.backfill(e);
        // Today: 55 charges (550.00, 46 % of usual) and 90.00 of refunds (16 %; 13.6 % without the largest).
        await deliverAll(h, charges(55, T0S - 22 * HOUR, 20 * MIN, 1000));
        await deliverAll(h, [50, 45, 40, 35, 30, 25].map((m) => refund(T0S - m * MIN, 1500)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        // Sales back to over half the usual volume (65 charges, 650.00): the same refunds are a surge.
        await deliverAll(h, charges(10, T0S - 21 * HOUR, 20 * MIN, 1000));
        await settle(h);
        const [i] = await mine(h);
        expect(i?.figures).toMatchObject({ condition: 'ratio', capturedCount: 65 });
        expect(Number(i!.figures.usualCapturedAmount)).toBeGreaterThan(110_000);
        expect(Number(i!.figures.usualCapturedAmount)).toBeLessThan(130_000);
      });
    });

    it('never compares a 50,000 JPY refund with USD amounts', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, charges(50, T0S - 20 * HOUR, 20 * MIN, 10_000, 'usd')); // 5,000.00 USD
        await deliverAll(h, charges(50, T0S - 20 * HOUR + 60, 20 * MIN, 100_000, 'jpy')); // 5,000,000 JPY
        // 90,000 JPY refunded: 1.8 % of JPY volume (but 18 % if read against USD minor units).
        // (spread out: five refunds within 15 minutes would be a burst, whatever their currency)
        await deliverAll(h, [refund(T0S - 5 * HOUR, 50_000, 'jpy'), ...[4, 3, 2, 1].map((ago) => refund(T0S - ago * HOUR - 30 * MIN, 10_000, 'jpy'))]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        // 600.00 USD refunded: 12 % of USD volume (but 1.1 % if USD and JPY were pooled).
        await deliverAll(h, [100, 80, 60, 40, 20, 3].map((m) => refund(T0S - m * MIN, 10_000)));
        await settle(h);
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ condition: 'ratio', currency: 'usd', refundedAmount: 60_000, capturedAmount: 500_000 });
        expect(i!.summary).toContain('600.00 USD');
      });
    });

    it('counts a refund delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, charges(50, T0S - 20 * HOUR, 20 * MIN, 1000));
        const r = refund(T0S - 40 * MIN, 1000);
        for (let i = 0; i < 10; i++) expect(await h.deliver(r)).toBe(200);
        await deliverAll(h, [35, 30, 25, 20].map((m) => refund(T0S - m * MIN, 1000)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 50.00 of 500.00, 40.00 without the largest: not 140.00
      });
    });

    it('fires when the charges arrive after the refunds (out of order)', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [50, 45, 40, 35, 30].map((m) => refund(T0S - m * MIN, 3000)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // no captured volume yet
        await deliverAll(h, charges(50, T0S - 20 * HOUR, 20 * MIN, 1000));
        await settle(h);
        const list = await mine(h);
        expect(list).toHaveLength(1);
        expect(list[0]!.historical).toBe(false);
        expect(list[0]!.severity).toBe('critical'); // 30 %
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('old-API charge.refunded with the cumulative refunds list does not re-judge (and re-open) a past window', async () => {
      await withHarness(
        dialect,
        async (h) => {
          // Three days ago, live: a surge (50 charges, six 20.00 refunds), over and resolved since.
          const past = T0S - 3 * DAY;
          h.app.clock.set(past * 1000);
          await deliverAll(h, charges(50, past - 20 * HOUR, 20 * MIN, 1000));
          const first = [50, 45, 40, 35, 30, 25].map((m) => legacyRefunded(past - m * MIN, 2000));
          await deliverAll(h, first.map((f) => f.event));
          await settle(h);
          expect(await mine(h)).toHaveLength(1);
          h.app.clock.set(T0);
          await h.tick();
          await h.tick();
          expect((await mine(h))[0]!.status).toBe('resolved');

          // Today a second partial refund of the surge's last charge: Stripe sends the charge with BOTH
          // refunds, the old one closing the surge's 24 h window.
          const again = legacyRefunded(T0S - 5 * MIN, 300, first[5]!);
          await deliverAll(h, [again.event]);
          await settle(h);
          expect((await mine(h)).map((i) => i.status)).toEqual(['resolved']);
          expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });

    it('burst: 5 refunds in 15 minutes fire on a quiet tenant, 4 do not; 10 are critical; it resolves after the storm', async () => {
      await withHarness(dialect, async (h) => {
        // A week of quiet history: one refund a day.
        for (let d = 7; d >= 1; d--) await h.backfill(refund(T0S - d * DAY, 700));
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        const start = T0S - 40 * MIN;
        await deliverAll(h, [0, 3, 6, 9].map((m) => refund(start + m * MIN, 700)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        const fifth = refund(start + 14 * MIN + 59, 700);
        await deliverAll(h, [fifth]);
        await settle(h);
        let [i] = await mine(h);
        expect(i!.figures).toMatchObject({ condition: 'burst', refundCount: 5, minCount: 5, 'refundCount:usd': 5 });
        expect(i!.severity).toBe('warning');
        expect(i!.historical).toBe(false);
        expect(i!.evidence.eventIds).toContain(fifth.id);

        await deliverAll(h, [10, 11, 12, 13, 14].map((m) => refund(start + m * MIN, 700, m % 2 ? 'eur' : 'usd')));
        await settle(h);
        [i] = await mine(h);
        expect(i!.severity).toBe('critical');

        // The storm passes: clear at the next tick, resolved after the quiet period.
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('open');
        h.app.clock.set(T0 + 61 * 60_000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'escalate', 'resolve']);
      });
    });

    it('burst: 5 in 15 minutes are ordinary where the busiest quarter hours of the past days held 4; 8 fire', async () => {
      await withHarness(dialect, async (h) => {
        // Three days of a support team refunding 4 orders within 10 minutes each morning (all-day average 0.04 per 15 min).
        for (let d = 3; d >= 1; d--) for (const m of [0, 3, 6, 9]) await h.backfill(refund(T0S - d * DAY + m * MIN, 700));
        await settle(h);
        const start = T0S - 40 * MIN;
        await deliverAll(h, [0, 2, 4, 6, 8].map((m) => refund(start + m * MIN, 700)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // ≥ 5 and 5 × the average, but under 2 × the busiest 15 minutes (8)
        await deliverAll(h, [9, 10, 11].map((m) => refund(start + m * MIN, 700)));
        await settle(h);
        const [i] = await mine(h);
        expect(i?.figures).toMatchObject({ condition: 'burst', refundCount: 8, baselinePeakPerWindow: 4, threshold: '8.00' });
      });
    });

    it('burst: refunds arriving newest first, one batch each (out of order), still fire', async () => {
      await withHarness(dialect, async (h) => {
        const start = T0S - 40 * MIN;
        for (const m of [12, 9, 6, 3, 0]) {
          await deliverAll(h, [refund(start + m * MIN, 700)]);
          await settle(h);
        }
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ condition: 'burst', refundCount: 5 });
        expect(i!.historical).toBe(false);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('burst is judged against the tenant baseline: 9 in a window is normal where 2 per window is usual', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { burstWindowMinutes: 60, burstBaselineDays: 1, burstMultiplier: 5 })).toBe(200);
        // 2 refunds every hour (hh:10, hh:40) until 10:40 today: 2 per 60-minute window, threshold 10.
        for (let hr = 31; hr >= 2; hr--) for (const m of [10, 40]) await h.backfill(refund(T0S - hr * HOUR + m * MIN, 300));
        await settle(h);
        const eleven = T0S - HOUR;
        await deliverAll(h, Array.from({ length: 9 }, (_, k) => refund(eleven + k * 5 * MIN, 300)));
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 9 in the hour: above the minimum of 5, not 5× the usual
        await deliverAll(h, [refund(eleven + 54 * MIN, 300)]);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.figures).toMatchObject({ condition: 'burst', refundCount: 10, baselineAveragePerWindow: '2.00', threshold: '10.00' });
      });
    });

    it('opens backfilled history as historical, without notifying, and resolves it on the schedule', async () => {
      await withHarness(dialect, async (h) => {
        const base = T0S - 10 * DAY;
        for (const e of charges(50, base - 20 * HOUR, 20 * MIN, 1000)) await h.backfill(e);
        for (const e of [50, 45, 40, 35, 30].map((m) => refund(base - m * MIN, 2000))) await h.backfill(e);
        await settle(h);
        const [i] = await mine(h);
        expect(i!.historical).toBe(true);
        expect(i!.figures).toMatchObject({ condition: 'ratio', currency: 'usd' });
        await h.tick();
        h.app.clock.set(T0 + 61 * 60_000);
        await h.tick();
        expect((await mine(h))[0]!.status).toBe('resolved');
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('survives a restart mid-stream; re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const refunds = [50, 45, 40, 35, 30].map((m) => refund(T0S - m * MIN, 1500));
        await deliverAll(h, charges(50, T0S - 20 * HOUR, 20 * MIN, 1000));
        await deliverAll(h, refunds.slice(0, 4));
        await settle(h);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, refunds);
        await settle(h);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        expect(before[0]!.figures).toMatchObject({ refundedAmount: 7500, refundCount: 5 }); // the redeliveries counted once
        await settle(h);
        await h.tick();
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.figures])).toEqual(before.map((i) => [i.id, i.status, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
