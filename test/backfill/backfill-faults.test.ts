import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { startBackfill, type BackfillHarness } from './backfill-harness.js';

const EVENTS_PATH = /^\/v1\/events$/;

/** Rate limits, 5xx and dropped connections from Stripe: retried on the injected clock, bounded. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`backfill under Stripe faults: ${dialect}`, () => {
    let h: BackfillHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('waits out a 429 for its Retry-After, measured on the clock, then continues', async () => {
      h = await startBackfill(dialect);
      h.seedEvents(150);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      const runner = h.app.services.backfill.runner;
      h.fake.setFaults({ seed: 1, rate: 1, kinds: ['429'], retryAfterSeconds: 30, paths: EVENTS_PATH });
      expect(await runner.work()).toBe(1);
      const waiting = (await h.request('GET', `/v1/jobs/${started.body.id}`)).body;
      expect(waiting).toMatchObject({ status: 'running', attempts: 1, progress: { pages: 0, retries: 1 } });
      expect(waiting.error).toMatch(/^attempt 1 of 8 failed, retrying at .*: Stripe rate limit \(429\)/);
      expect(Date.parse(waiting.nextAttemptAt) - h.clock.now()).toBeGreaterThanOrEqual(30_000);

      h.fake.setFaults(null);
      h.clock.advance(29_000);
      expect(await runner.work()).toBe(0);
      expect(h.eventListRequests()).toHaveLength(1);
      h.clock.advance(Date.parse(waiting.nextAttemptAt) - h.clock.now());
      expect(await runner.work()).toBe(2);
      expect((await h.request('GET', `/v1/jobs/${started.body.id}`)).body).toMatchObject({ status: 'succeeded', error: null, attempts: 0, nextAttemptAt: null, progress: { processed: 150, stored: 150, retries: 1 } });
    });

    it('retries 429, 500, 503 and dropped connections until it succeeds, storing every event once', async () => {
      h = await startBackfill(dialect, { faults: { seed: 7, rate: 0.5, kinds: ['429', '500', '503', 'drop'], paths: EVENTS_PATH } });
      const events = h.seedEvents(620);
      await h.deliver(events[3]!);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      const job = await h.workUntilFinished(started.body.id, { stepMs: 10 * 60_000, maxRounds: 100 });
      const faults = h.eventListRequests().filter((r) => r.fault !== undefined);
      expect(new Set(faults.map((f) => f.fault))).toEqual(new Set(['429', '500', '503', 'drop']));
      expect(job).toMatchObject({ status: 'succeeded', progress: { pages: 7, processed: 620, stored: 619, duplicates: 1 } });
      // One retry per failed attempt (the SDK itself re-sends once on a connection closed under it).
      expect(job.progress.retries).toBeGreaterThanOrEqual(faults.filter((f) => f.fault !== 'drop').length);
      expect(job.progress.retries).toBeLessThanOrEqual(faults.length);
      const stored = await h.stored();
      expect(stored).toHaveLength(620);
      expect(new Set(stored.map((e) => e.eventId)).size).toBe(620);
    });

    it('fails with a clear error once the attempts run out', async () => {
      h = await startBackfill(dialect, { env: { MW_BACKFILL_MAX_ATTEMPTS: '3' }, faults: { seed: 3, rate: 1, kinds: ['500'], paths: EVENTS_PATH } });
      h.seedEvents(10);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      const job = await h.workUntilFinished(started.body.id, { stepMs: 10 * 60_000 });
      expect(job).toMatchObject({ status: 'failed', attempts: 3, progress: { pages: 0, stored: 0, retries: 2 } });
      expect(job.error).toMatch(/^gave up after 3 failed attempts: Stripe answered 500: An unknown error occurred/);
      expect(job.finishedAt).not.toBeNull();
      expect(h.eventListRequests()).toHaveLength(3);
      // A failed backfill frees the tenant for the next one.
      expect((await h.request('POST', '/v1/backfill', { since: '30d' })).status).toBe(202);
    });

    it('reads back 30 days at most; fails at once, without retrying, when the tenant key is gone', async () => {
      h = await startBackfill(dialect);
      h.seedEvents(5);
      const started = await h.request('POST', '/v1/backfill', { since: '45d' });
      const job = await h.workUntilFinished(started.body.id);
      // Like Stripe, the fake keeps 30 days; asking further back is allowed and simply finds less.
      expect(job).toMatchObject({ status: 'succeeded', progress: { processed: 5 } });

      // A key removed after the job was queued: the job says so instead of retrying.
      const next = await h.request('POST', '/v1/backfill', { since: '1d' });
      await h.app.services.tenants.setStripeSecrets('default', { apiKey: null });
      const failed = await h.workUntilFinished(next.body.id);
      expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
      expect(failed.error).toMatch(/no Stripe API key/);
    });
  });
}
