import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { startBackfill, type BackfillHarness } from './backfill-harness.js';

/** A process that dies mid-run, or stops, leaves a job another process finishes from its cursor. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`backfill resumes: ${dialect}`, () => {
    let h: BackfillHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('after a crash, a new process on the same database finishes without duplicates or losses', async () => {
      h = await startBackfill(dialect);
      const events = h.seedEvents(530);
      await h.deliver(events[400]!);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      const jobId = started.body.id as string;

      expect(await h.app.services.backfill.runner.work({ maxSteps: 2 })).toBe(2);
      const midway = (await h.request('GET', `/v1/jobs/${jobId}`)).body;
      expect(midway).toMatchObject({ status: 'running', progress: { pages: 2, processed: 200, stored: 200 }, cursor: { startingAfter: events[199]!.id } });
      // New events arrive while the job runs: they sit above its pages and shift nothing.
      h.seedEvents(7, { newest: Math.floor(h.clock.now() / 1000) - 1 });

      // The process dies: no shutdown, its lease is still on the job.
      await h.app.server.close();
      await h.app.services.store.close();

      const second = await h.startApp();
      expect(await second.services.backfill.runner.work()).toBe(0);
      // Once the dead worker's lease has run out, the new process takes the job over.
      h.clock.advance(2 * 2_000 + 60_000 + 1);
      const job = await h.workUntilFinished(jobId, { app: second });
      expect(job).toMatchObject({ status: 'succeeded', progress: { pages: 6, processed: 530, stored: 529, duplicates: 1 } });

      const stored = await h.stored('default', second);
      expect(stored).toHaveLength(530);
      expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(events.map((e) => e.id)));
      // Each page was read once: the resumed run started after the last committed page.
      expect(h.eventListRequests()).toHaveLength(6);
    });

    it('a stopped process hands its job over at once, and the next continues where it stopped', async () => {
      h = await startBackfill(dialect);
      const events = h.seedEvents(230);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      expect(await h.app.services.backfill.runner.work({ maxSteps: 1 })).toBe(1);
      await h.app.close();

      const next = await h.startApp();
      const job = await h.workUntilFinished(started.body.id, { app: next, stepMs: 0, maxRounds: 1 });
      expect(job).toMatchObject({ status: 'succeeded', progress: { pages: 3, processed: 230, stored: 230, duplicates: 0 } });
      expect((await h.stored('default', next)).map((e) => e.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    });
  });
}
