import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, detectorHarness, type DetectorHarness, type IncidentView } from '../support/detector-harness.js';
import { chargeSucceeded } from '../support/stripe-events.js';
import { T0, startTestApp, type TestApp } from '../support/test-app.js';
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

/** Backfilled history: one event every `everyMinutes` over [from, to) (offsets from T0, seconds) in each of the previous 4 weeks. */
async function history(h: DetectorHarness, everyMinutes: number, from: number, to: number) {
  for (let k = 1; k <= 4; k++) {
    for (let t = T0S + from - k * WEEK; t < T0S + to - k * WEEK; t += everyMinutes * MIN) await h.backfill(chargeSucceeded(t));
  }
}
/** A live event at `created`, delivered at that moment. */
async function liveEvent(h: DetectorHarness, created: number, id?: string) {
  h.app.clock.set(at(created));
  expect(await h.deliver(chargeSucceeded(created, {}, id))).toBe(200);
}

async function withHarness(dialect: (typeof DIALECTS)[number], fn: (h: DetectorHarness) => Promise<void>, env: Record<string, string> = {}) {
  const h = await detectorHarness(dialect, env);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}
const mine = async (h: DetectorHarness): Promise<IncidentView[]> => h.incidents({ detector: DETECTOR });
const myNotifications = async (h: DetectorHarness) => (await h.notifications()).filter((n) => n.detector === DETECTOR);
async function tickAt(h: DetectorHarness, seconds: number) {
  h.app.clock.set(at(seconds));
  await h.process();
  await h.tick();
}

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`webhook_silence: ${dialect}`, () => {
    it('busy hours (6 events/h): silent at exactly 1 h, fires just after, critical at 2 × the threshold', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 10, -6 * HOUR, 6 * HOUR);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + HOUR);
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, LAST + HOUR + MIN);
        let incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'tenant', id: 'default' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ lastEventAt: at(LAST), thresholdMinutes: '60.0', baselineWeeks: 4 });
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

    it('quiet hours (1 event per 2 h): a 7 h gap is plausible, an 11 h gap is not', async () => {
      await withHarness(dialect, async (h) => {
        await history(h, 120, -DAY, DAY);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 7 * HOUR);
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, LAST + 11 * HOUR);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ usualGapMinutes: '132.0' }); // 11 h ÷ 5 expected events
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
          await history(h, 10, -6 * HOUR, 6 * HOUR);
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
          await history(h, 10, -6 * HOUR, 6 * HOUR);
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
        await history(h, 10, -6 * HOUR, 6 * HOUR);
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
      const h = await detectorHarness(dialect, { MW_RESOLVE_AFTER_MINUTES: '0' });
      let app2: TestApp | undefined;
      try {
        await history(h, 10, -6 * HOUR, 6 * HOUR);
        await liveEvent(h, LAST);
        await tickAt(h, LAST + 90 * MIN);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        await h.app.close();
        app2 = await startTestApp(h.app.db, { MW_RESOLVE_AFTER_MINUTES: '0' }, new ManualClock(at(LAST + 96 * MIN))); // past the old replica's schedule lease (5 min)
        const engine = app2.services.detectorEngine;
        await engine.drain();
        expect(await engine.runSchedule()).toBe(true);
        const list = async () =>
          (await app2!.server.inject({ method: 'GET', url: `/v1/anomalies?detector=${DETECTOR}`, headers: { authorization: `Bearer ${h.apiKey}` } })).json()
            .data as IncidentView[];
        expect((await list()).map((i) => [i.id, i.status])).toEqual(before.map((i) => [i.id, 'open']));
        const notes = async () => (await app2!.services.store.detectors.listNotifications('default', { limit: 100 })).filter((n) => n.detector === DETECTOR);
        expect(await notes()).toHaveLength(1);
        await app2.services.backfillIntake.store('default', JSON.stringify(chargeSucceeded(LAST + 96 * MIN)));
        await engine.drain();
        expect(await engine.runSchedule()).toBe(true);
        expect((await list())[0]!.status).toBe('resolved');
        expect((await notes()).map((n) => n.kind)).toEqual(['open', 'resolve']);
      } finally {
        await app2?.close();
        await h.close();
      }
    });
  });
}
