import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type DetectorHarness, detectorViews, withHarness } from '../support/detector-harness.js';
import { chargeSucceeded } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'webhook_silence';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** The tenant's last live event (Stripe time, seconds). */
const LAST = T0S - 2 * HOUR;
const at = (seconds: number) => seconds * 1000;

/**
 * Backfilled history: one event every `everyMinutes` over [from, to) (offsets from T0, seconds) in
 * each of the previous 4 weeks (or the weeks listed), `clump` events at a time (a renewal or a signup
 * is several events within seconds).
 */
async function history(h: DetectorHarness, everyMinutes: number, from: number, to: number, clump = 1, weeks = [1, 2, 3, 4]) {
  for (const k of weeks) {
    for (let t = T0S + from - k * WEEK; t < T0S + to - k * WEEK; t += everyMinutes * MIN) {
      for (let i = 0; i < clump; i++) await h.backfill(chargeSucceeded(t + i));
    }
  }
}
/** A live event at `created`, delivered at that moment. */
async function liveEvent(h: DetectorHarness, created: number, id?: string) {
  h.app.clock.set(at(created));
  expect(await h.deliver(chargeSucceeded(created, {}, id))).toBe(200);
}

const { mine, myNotifications } = detectorViews(DETECTOR);
async function tickAt(h: DetectorHarness, seconds: number) {
  h.app.clock.set(at(seconds));
  await h.process();
  await h.tick();
}

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`webhook_silence: ${dialect}`, () => {
    it('busy hours (30 active minutes/h): silent at exactly 1 h, fires just after, critical at 2 × the threshold', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 2, -3 * HOUR, HOUR);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + HOUR);
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, LAST + HOUR + MIN);
        let incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ lastEventAt: at(LAST), thresholdMinutes: '60.0', baselineWeeks: 4, activeMinutesPerWeek: '30,30,30,30' });
        // Ticks while the silence lasts merge into the same incident.
        await tickAt(h, LAST + HOUR + 30 * MIN);
        expect(await mine(h)).toHaveLength(1);
        await tickAt(h, LAST + 2 * HOUR + MIN);
        incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => [n.kind, n.severity])).toEqual([
          ['open', 'warning'],
          ['escalate', 'critical'],
        ]);
      });
    });

    it('quiet hours (an event every 20 min): a 4.5 h gap is plausible, 5.5 h is not (15 × the usual gap)', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 20, -3 * HOUR, 5 * HOUR);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 270 * MIN);
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, LAST + 330 * MIN);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        // 330 min with 16 active minutes in each earlier week: a usual gap of 20.6 min, threshold 309 min.
        expect(incidents[0]!.figures).toMatchObject({ activeMinutesPerWeek: '16,16,16,16', usualGapMinutes: '20.6', thresholdMinutes: '309.4' });
      });
    });

    it('counts active minutes, not events: clumps of 8 events every 30 min make a 2 h silence plausible', async () => {
      await withHarness(dialect, async (h) => {
        // 16 events an hour but only 2 active minutes: 2 h of silence is 4 missed clumps, not 32 events.
        await history(h, 30, -3 * HOUR, HOUR, 8);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 2 * HOUR);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('the quietest baseline week decides: an evening that was empty one week is not an outage', async () => {
      await withHarness(dialect, async (h) => {
        // Busy in three of the four weeks, nothing at all in these hours two weeks ago.
        await history(h, 2, -3 * HOUR, HOUR, 1, [1, 3, 4]);
        await h.backfill(chargeSucceeded(T0S - 5 * WEEK)); // history reaches back past week 4
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 90 * MIN);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('is silent without history', async () => {
      await withHarness(dialect, async (h) => {
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 10 * HOUR);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('resolves on the next event, whatever its type', async () => {
      await withHarness(
        dialect,
        async (h) => {
          await history(h, 2, -3 * HOUR, HOUR);
          await liveEvent(h, LAST);
          await tickAt(h, LAST + 90 * MIN);
          expect((await mine(h))[0]!.status).toBe('open');
          await liveEvent(h, LAST + 95 * MIN);
          await tickAt(h, LAST + 96 * MIN);
          expect((await mine(h))[0]!.status).toBe('resolved');
          expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });

    it('duplicates and old events arriving late (webhook or backfill) do not end the silence', async () => {
      await withHarness(
        dialect,
        async (h) => {
          await history(h, 2, -3 * HOUR, HOUR);
          const last = chargeSucceeded(LAST);
          h.app.clock.set(at(LAST));
          for (let i = 0; i < 10; i++) expect(await h.deliver(last)).toBe(200);
          await tickAt(h, LAST + 90 * MIN);
          expect(await mine(h)).toHaveLength(1);
          // The same last event again, an older event delivered now, and an older backfilled one.
          expect(await h.deliver(last)).toBe(200);
          expect(await h.deliver(chargeSucceeded(LAST - 10 * MIN))).toBe(200);
          await h.backfill(chargeSucceeded(LAST - 20 * MIN));
          await tickAt(h, LAST + 100 * MIN);
          const incidents = await mine(h);
          expect(incidents).toHaveLength(1);
          expect(incidents[0]!.status).toBe('open');
          expect(incidents[0]!.figures).toMatchObject({ lastEventAt: at(LAST) });
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });

    it('learns the baseline from backfilled history and applies tenant config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { minGapMinutes: 30 })).toBe(400); // at least 1 h
        expect(await h.configure(DETECTOR, { multiplier: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { other: 1 })).toBe(400);
        expect(await h.configure(DETECTOR, { minGapMinutes: 180 })).toBe(200);
        await history(h, 2, -3 * HOUR, HOUR);
        // The last event is itself backfilled history: the silence since is live and current.
        await h.backfill(chargeSucceeded(LAST));
        await tickAt(h, LAST + 2 * HOUR);
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, LAST + 3 * HOUR + MIN);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ thresholdMinutes: '180.0' });
      });
    });

    it('survives a restart: one incident, one notification, and it still resolves on the next event', async () => {
      await withHarness(
        dialect,
        async (h) => {
          await history(h, 2, -3 * HOUR, HOUR);
          await liveEvent(h, LAST);
          await tickAt(h, LAST + 90 * MIN);
          const before = await mine(h);
          expect(before).toHaveLength(1);
          await h.restart(new ManualClock(at(LAST + 96 * MIN))); // past the old replica's schedule lease (5 min)
          const engine = h.app.services.detectorEngine;
          await engine.drain();
          expect(await engine.runSchedule()).toBe(true);
          expect((await mine(h)).map((i) => [i.id, i.status])).toEqual(before.map((i) => [i.id, 'open']));
          expect(await myNotifications(h)).toHaveLength(1);
          await h.backfill(chargeSucceeded(LAST + 96 * MIN));
          await engine.drain();
          expect(await engine.runSchedule()).toBe(true);
          expect((await mine(h))[0]!.status).toBe('resolved');
          expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'resolve']);
        },
        { MW_RESOLVE_AFTER_MINUTES: '0' },
      );
    });
  });
}
