import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { T0S, startBackfill, type BackfillHarness } from './backfill-harness.js';

const MINUTE = 60;

/** The scheduled gap-fill: recent Events API pages against what arrived by webhook. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`gap-fill: ${dialect}`, () => {
    let h: BackfillHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('finds exactly the events that never arrived by webhook, counts them in the job and the metric', async () => {
      h = await startBackfill(dialect);
      const keyless = await h.request('POST', '/v1/tenants', { name: 'no key' }, { token: ADMIN_TOKEN });
      const recent = h.seedEvents(40, { newest: T0S - 15 * MINUTE });
      const missing = [3, 9, 17, 26, 38].map((i) => recent[i]!);
      for (const e of recent) if (!missing.includes(e)) await h.deliver(e);
      // Created moments ago: possibly still on its way by webhook, so not taken yet.
      const inFlight = h.seedEvents(2, { newest: T0S - 2 * MINUTE });
      // Older than the 24 h lookback.
      h.seedEvents(3, { newest: T0S - 25 * 3600 });

      const gapfill = h.app.services.backfill.gapfill;
      expect(await gapfill.run()).toBe(1);
      expect(await gapfill.run()).toBe(0);
      expect(await h.app.services.backfill.runner.work()).toBe(1);

      const jobs = (await h.request('GET', '/v1/jobs?kind=gapfill')).body.data;
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({
        kind: 'gapfill',
        status: 'succeeded',
        createdBy: 'schedule',
        params: { since: T0S - 24 * 3600, until: T0S - 10 * MINUTE, types: null },
        progress: { processed: 40, stored: 5, duplicates: 35, pages: 1 },
      });
      const backfilled = (await h.stored()).filter((e) => e.source === 'backfill');
      expect(backfilled.map((e) => e.eventId).sort()).toEqual(missing.map((e) => e.id).sort());
      expect((await h.request('GET', '/v1/jobs', undefined, { token: keyless.body.apiKey })).body.data).toEqual([]);

      const metrics = await h.app.server.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain('meterwatch_gapfill_events_total{tenant="default"} 5');

      // Nothing new before the interval; after it, the next run takes what has aged past the grace.
      h.clock.advance(14 * MINUTE * 1000);
      expect(await gapfill.run()).toBe(0);
      await h.deliver(inFlight[0]!);
      h.clock.advance(MINUTE * 1000);
      expect(await gapfill.run()).toBe(1);
      await h.app.services.backfill.runner.work();
      const second = (await h.request('GET', '/v1/jobs?kind=gapfill&limit=1')).body.data[0];
      expect(second).toMatchObject({ status: 'succeeded', progress: { processed: 42, stored: 1, duplicates: 41 } });
      expect((await h.stored()).find((e) => e.eventId === inFlight[1]!.id)?.source).toBe('backfill');
      expect((await h.app.server.inject({ method: 'GET', url: '/metrics' })).body).toContain('meterwatch_gapfill_events_total{tenant="default"} 6');
    });

    it('is off with MW_GAPFILL_INTERVAL_MINUTES=0', async () => {
      h = await startBackfill(dialect, { env: { MW_GAPFILL_INTERVAL_MINUTES: '0' } });
      expect(h.app.services.backfill.tasks.map((t) => t.name)).not.toContain('stripe-gapfill');
    });
  });
}

describe.skipIf(!(await dialectEnabled('postgres')))('gap-fill across replicas: postgres', () => {
  let h: BackfillHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('only the replica holding the schedule lease queues', async () => {
    h = await startBackfill('postgres', { env: { MW_GAPFILL_INTERVAL_MINUTES: '1' } });
    const [a, b] = [h.app, await h.startApp()].map((app) => app.services.backfill);
    expect(await a!.gapfill.run()).toBe(1);
    await a!.runner.work();
    h.clock.advance(2 * MINUTE * 1000);
    // Due by the interval, but the other replica holds the schedule.
    expect(await b!.gapfill.run()).toBe(0);
    expect(await a!.gapfill.run()).toBe(1);
    await a!.runner.work();
    // Its holder stops (shutdown): the other replica takes over at once.
    await a!.gapfill.stop();
    h.clock.advance(2 * MINUTE * 1000);
    expect(await b!.gapfill.run()).toBe(1);
  });
});
