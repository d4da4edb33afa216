import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, withHarness } from '../support/detector-harness.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'charge_failure_rate';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 3600;
const WEEK = 7 * 24 * 3600;

let seq = 0;
function failed(created: number, patch: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  const charge = {
    ...fixture('charge'),
    id: `ch_fail_${created}_${seq}`,
    amount: 2000,
    currency: 'usd',
    customer: `cus_${seq % 7}`,
    status: 'failed',
    paid: false,
    captured: false,
    failure_code: 'card_declined',
    failure_message: 'Your card was declined.',
    created,
    ...patch,
  };
  return stripeEvent('charge.failed', charge, { created });
}

function succeeded(created: number, patch: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return chargeSucceeded(created, { id: `ch_ok_${created}_${seq}`, customer: `cus_${seq % 7}`, payment_intent: `pi_${created}_${seq}`, ...patch });
}

/**
 * `nFailed` failures and `nOk` successes, one every `spacing` seconds from `start`, failures spread
 * evenly. The default packs up to 30 charges into one minute, so every trailing hour that holds one
 * of them holds all of them.
 */
function traffic(start: number, nFailed: number, nOk: number, spacing = 2): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const total = nFailed + nOk;
  let f = 0;
  for (let i = 0; i < total; i += 1) {
    const wantFailed = Math.floor(((i + 1) * nFailed) / total) > f;
    if (wantFailed) f += 1;
    out.push(wantFailed ? failed(start + i * spacing) : succeeded(start + i * spacing));
  }
  return out;
}

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`charge_failure_rate: ${dialect}`, () => {
    it('fires at exactly 15 % with exactly 20 attempts, once, on the tenant, and notifies', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, traffic(T0S - 40 * MIN, 3, 17));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [incident] = incidents;
        expect(incident!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incident!.severity).toBe('warning');
        expect(incident!.historical).toBe(false);
        expect(incident!.status).toBe('open');
        expect(incident!.figures).toMatchObject({ attempts: 20, failed: 3, failureRate: '15.00%', baselineRate: 'none' });
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        const flagged = new Set((await h.flagged()).map((f) => f.eventId));
        expect(incident!.evidence.eventIds.length).toBeGreaterThanOrEqual(3);
        for (const id of incident!.evidence.eventIds) expect(flagged.has(id)).toBe(true);
        // Only the failures are evidence: none of the 17 successful charges is the incident's evidence.
        const types = new Map((await h.app.services.store.listBillingEvents('default', { limit: 1_000 })).map((e) => [e.eventId, e.type]));
        expect(incident!.evidence.eventIds.map((id) => types.get(id))).toEqual(['charge.failed', 'charge.failed', 'charge.failed']);
      });
    });

    it('stays quiet just below the edge: 3 of 21 (14.3 %), and 3 of 19 (too few attempts)', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, traffic(T0S - 50 * MIN, 3, 18));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        await deliverAll(h, traffic(T0S - 50 * MIN, 3, 16));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('does not count attempts that fall outside the trailing hour', async () => {
      await withHarness(dialect, async (h) => {
        // 3 failures early, then 17 successes starting 61 minutes after them: no hour holds 20 attempts with 3 failures.
        const early = [failed(T0S - 90 * MIN), failed(T0S - 90 * MIN + 10), failed(T0S - 90 * MIN + 20)];
        const late = Array.from({ length: 17 }, (_, i) => succeeded(T0S - 28 * MIN + i * 30));
        await deliverAll(h, [...early, ...late]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('escalates to critical at twice the threshold (30 %)', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, traffic(T0S - 40 * MIN, 3, 17));
        await h.process();
        expect((await mine(h))[0]!.severity).toBe('warning');
        h.app.clock.set(T0 + 5 * 60_000);
        // The hour ending in minute T0 holds 8 of 25 (32 %) → critical.
        await deliverAll(h, [failed(T0S), failed(T0S + 10), failed(T0S + 20), failed(T0S + 30), failed(T0S + 40)]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => n.kind).sort()).toEqual(['escalate', 'open']);
      });
    });

    it('counts a failure delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        const events = traffic(T0S - 40 * MIN, 2, 18);
        await deliverAll(h, events);
        const repeated = events.find((e) => e.type === 'charge.failed')!;
        for (let i = 0; i < 10; i += 1) expect(await h.deliver(repeated)).toBe(200);
        await h.process();
        expect(await mine(h)).toHaveLength(0); // 2 of 20, not 11 of 29
      });
      await withHarness(dialect, async (h) => {
        const events = traffic(T0S - 40 * MIN, 3, 17);
        for (const e of events) for (let i = 0; i < (e.type === 'charge.failed' ? 10 : 1); i += 1) expect(await h.deliver(e)).toBe(200);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ attempts: 20, failed: 3 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('finds the hour when failures arrive late and out of order, after the successes', async () => {
      await withHarness(dialect, async (h) => {
        // Successes from minute 30 to 38 are processed first; three failures from minutes 5–7 arrive last.
        await deliverAll(h, Array.from({ length: 17 }, (_, i) => succeeded(T0S - 30 * MIN + i * 30)));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [failed(T0S - 53 * MIN), failed(T0S - 55 * MIN), failed(T0S - 54 * MIN)]);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ attempts: 20, failed: 3 });
        expect(incidents[0]!.historical).toBe(false);
      });
    });

    it('counts failures in every currency (a count, no amounts)', async () => {
      await withHarness(dialect, async (h) => {
        const events = [
          failed(T0S - 30 * MIN, { currency: 'usd', amount: 2000 }),
          failed(T0S - 29 * MIN, { currency: 'jpy', amount: 50_000 }),
          failed(T0S - 28 * MIN, { currency: 'eur', amount: 100 }),
          ...Array.from({ length: 17 }, (_, i) => succeeded(T0S - 27 * MIN + i * 30, { currency: i % 2 ? 'eur' : 'usd' })),
        ];
        await deliverAll(h, events);
        await h.process();
        expect((await mine(h))[0]?.figures).toMatchObject({ attempts: 20, failed: 3 });
      });
    });

    it('a rise within chance is no incident: 7 of 20 (35 %) against the usual 8 % at that hour stays quiet, 13 of 25 fires', async () => {
      // Baseline: 4 of 50 (8 %) in the same hour of each of the 4 previous weeks, backfilled: 16 of 200.
      const baseline = (): Record<string, unknown>[] => [1, 2, 3, 4].flatMap((w) => traffic(T0S - 45 * MIN - w * WEEK, 4, 46));
      await withHarness(dialect, async (h) => {
        for (const e of baseline()) await h.backfill(e);
        // 35 % with 20 attempts clears 15 % and 2 × 8 %, but its lower bound (10.8 %) is under the
        // baseline's upper bound (17.4 %) + 5 points: at 8 %, 7 of 20 happens by chance.
        await deliverAll(h, traffic(T0S - 40 * MIN, 7, 13));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        for (const e of baseline()) await h.backfill(e);
        // 12 of 25 (48 %): lower bound 20.0 % < 17.4 % + 5, quiet; 13 of 25 (52 %): 22.7 %, fires.
        await deliverAll(h, traffic(T0S - 40 * MIN, 12, 13));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        for (const e of baseline()) await h.backfill(e);
        await deliverAll(h, traffic(T0S - 40 * MIN, 13, 12));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({
          attempts: 25,
          failed: 13,
          baselineRate: '8.00%',
          baselineAttempts: 200,
          baselineFailed: 16,
          baselineBasis: 'same hour of previous weeks',
          baselineUpperBound: '17.38%',
        });
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.severity).toBe('critical');
      });
    });

    it('without history for that hour, judges against the previous days (all hours)', async () => {
      // 21 of 300 (7 %) over the day before, backfilled; nothing in the same hour of earlier weeks.
      const previousDay = () => traffic(T0S - 26 * HOUR, 21, 279, 4 * MIN);
      await withHarness(dialect, async (h) => {
        for (const e of previousDay()) await h.backfill(e);
        await deliverAll(h, traffic(T0S - 40 * MIN, 7, 13));
        await h.process();
        expect(await mine(h)).toHaveLength(0); // the absolute rule alone would fire
      });
      await withHarness(dialect, async (h) => {
        for (const e of previousDay()) await h.backfill(e);
        await deliverAll(h, traffic(T0S - 40 * MIN, 12, 13));
        await h.process();
        expect((await mine(h))[0]?.figures).toMatchObject({ failed: 12, baselineAttempts: 300, baselineFailed: 21, baselineBasis: 'previous days, all hours' });
      });
    });

    it('counts payments too: four customers retrying declined cards (13 charges, 4 payments) are not a spike', async () => {
      const previousDay = () => traffic(T0S - 26 * HOUR, 21, 279, 4 * MIN);
      await withHarness(dialect, async (h) => {
        for (const e of previousDay()) await h.backfill(e);
        // 13 of 26 charges declined (50 %, enough on charges alone), but they are 4 payment intents
        // retried 3 or 4 times, and one of them then went through: 3 failed payments of 16.
        const retries = [3, 3, 3, 4].flatMap((n, c) => Array.from({ length: n }, (_, i) => failed(T0S - 40 * MIN + c * 60 + i * 10, { payment_intent: `pi_retry_${c}` })));
        const recovered = succeeded(T0S - 36 * MIN, { payment_intent: 'pi_retry_0' });
        const ok = Array.from({ length: 12 }, (_, i) => succeeded(T0S - 35 * MIN + i * 20));
        await deliverAll(h, [...retries, recovered, ...ok]);
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        // 13 separate declined payments are a spike.
        await deliverAll(h, Array.from({ length: 13 }, (_, i) => failed(T0S - 30 * MIN + i * 10)));
        await h.process();
        expect((await mine(h))[0]?.figures).toMatchObject({ attempts: 39, failed: 26, payments: 29, failedPayments: 16 });
      });
    });

    it('with the statistical guard off (zScore 0, marginPercent 0), 2 × a 12 % baseline is needed', async () => {
      // Baseline: 3 of 25 (12 %) in the same hour of each of the 4 previous weeks, backfilled.
      const baseline = (): Record<string, unknown>[] => [1, 2, 3, 4].flatMap((w) => traffic(T0S - 40 * MIN - w * WEEK, 3, 22));
      const guardOff = { zScore: 0, marginPercent: 0 };
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, guardOff)).toBe(200);
        for (const e of baseline()) await h.backfill(e);
        await h.process();
        expect(await mine(h)).toHaveLength(0); // 12 % is below the absolute threshold
        // 5 of 25 = 20 %: above 15 % but below 24 % → quiet.
        await deliverAll(h, traffic(T0S - 40 * MIN, 5, 20));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, guardOff)).toBe(200);
        for (const e of baseline()) await h.backfill(e);
        // 6 of 25 = 24 % = exactly 2 × 12 % → fires.
        await deliverAll(h, traffic(T0S - 40 * MIN, 6, 19));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ attempts: 25, failed: 6, baselineRate: '12.00%', baselineAttempts: 100, baselineFailed: 12 });
        expect(incidents[0]!.historical).toBe(false);
      });
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { ...guardOff, baselineMultiplier: 1.5 })).toBe(200);
        for (const e of baseline()) await h.backfill(e);
        // 5 of 25 = 20 % ≥ 1.5 × 12 % = 18 % → fires with the tenant's multiplier.
        await deliverAll(h, traffic(T0S - 40 * MIN, 5, 20));
        await h.process();
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('opens backfilled or old history as historical, without a notification', async () => {
      await withHarness(dialect, async (h) => {
        for (const e of traffic(T0S - 3 * 24 * 3600, 5, 15)) await h.backfill(e);
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
      await withHarness(dialect, async (h) => {
        // Delivered by webhook now, but the events happened 3 hours ago (beyond the 1 h live horizon).
        await deliverAll(h, traffic(T0S - 3 * 3600, 5, 15));
        await h.process();
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('resolves automatically once the trailing hour at now is clean, not while it still fires', async () => {
      await withHarness(
        dialect,
        async (h) => {
          await deliverAll(h, traffic(T0S - 40 * MIN, 4, 16));
          await h.process();
          await h.tick();
          expect((await mine(h))[0]!.status).toBe('open');
          h.app.clock.set(T0 + 2 * 3600_000);
          await h.tick();
          const [incident] = await mine(h);
          expect(incident!.status).toBe('resolved');
          expect((await myNotifications(h)).map((n) => n.kind).sort()).toEqual(['open', 'resolve']);
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });

    it('validates its config and applies the tenant threshold', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { thresholdPercent: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { minAttempts: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { threshold: 10 })).toBe(400);
        expect(await h.configure(DETECTOR, { thresholdPercent: 10 })).toBe(200);
        await deliverAll(h, traffic(T0S - 40 * MIN, 2, 18)); // 10 %
        await h.process();
        expect(await mine(h)).toHaveLength(1);
      });
    });

    it('survives a restart mid-stream, and re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const events = traffic(T0S - 40 * MIN, 3, 17);
        await deliverAll(h, events.slice(0, 12));
        await h.process();
        expect(await mine(h)).toHaveLength(0);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, events.slice(12));
        // A redelivery of an event from before the restart changes nothing either.
        await deliverAll(h, [events[0]!]);
        await h.process();
        const first = await mine(h);
        expect(first).toHaveLength(1);
        expect(first[0]!.figures).toMatchObject({ attempts: 20, failed: 3 });
        expect(await myNotifications(h)).toHaveLength(1);

        await h.process();
        await h.tick();
        const second = await mine(h);
        expect(second.map((i) => [i.id, i.status, i.severity, i.figures])).toEqual(first.map((i) => [i.id, i.status, i.severity, i.figures]));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
