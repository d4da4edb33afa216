import { afterEach, describe, expect, it } from 'vitest';
import { dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { startBackfill, type BackfillHarness } from './backfill-harness.js';

/** Several replicas on one PostgreSQL database: each job is worked by one of them at a time. */
describe.skipIf(!(await dialectEnabled('postgres')))('backfill across replicas: postgres', () => {
  let h: BackfillHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('two apps working at once never run one job twice', async () => {
    h = await startBackfill('postgres');
    const second = await h.startApp();
    const tenants = [{ id: 'default', key: 'rk_test_backfill0000000001', token: h.key }];
    for (let i = 0; i < 4; i++) {
      const apiKey = `rk_test_replica${i}0000000000`;
      const created = await h.request('POST', '/v1/tenants', { name: `replica ${i}`, stripeApiKey: apiKey }, { token: ADMIN_TOKEN });
      tenants.push({ id: created.body.id, key: apiKey, token: created.body.apiKey });
    }
    const jobs: string[] = [];
    for (const [i, t] of tenants.entries()) {
      h.seedEvents(150 + i * 100, { apiKey: t.key });
      jobs.push((await h.request('POST', '/v1/backfill', { since: '30d' }, { token: t.token })).body.id);
    }

    // Four lanes (two per app) claim and work concurrently, one page at a time, until all is done.
    const runners = [h.app, second].map((a) => a.services.backfill.runner);
    let steps = 0;
    for (let round = 0; round < 100; round++) {
      const done = await Promise.all(runners.flatMap((r) => [r.work({ maxSteps: 1 }, 0), r.work({ maxSteps: 1 }, 1)]));
      steps += done.reduce((a, b) => a + b, 0);
      if (done.every((n) => n === 0)) break;
    }

    // Pages of 100: 2 + 3 + 4 + 5 + 6, each requested exactly once.
    expect(steps).toBe(20);
    const requests = h.fake.requestLog.filter((r) => r.path === '/v1/events');
    expect(requests).toHaveLength(20);
    for (const [i, t] of tenants.entries()) {
      const job = (await h.request('GET', `/v1/jobs/${jobs[i]}`, undefined, { token: t.token })).body;
      expect(job).toMatchObject({ status: 'succeeded', progress: { processed: 150 + i * 100, stored: 150 + i * 100, duplicates: 0, pages: 2 + i } });
      expect(requests.filter((r) => r.apiKey === t.key)).toHaveLength(2 + i);
      expect(await h.stored(t.id)).toHaveLength(150 + i * 100);
    }
  });

  it('a worker whose lease was taken over cannot commit: its late page is refused whole', async () => {
    h = await startBackfill('postgres');
    const second = await h.startApp();
    const events = h.seedEvents(300);
    const started = await h.request('POST', '/v1/backfill', { since: '30d' });
    const jobId = started.body.id as string;
    const store = h.app.services.store;
    expect(await h.app.services.backfill.runner.work({ maxSteps: 1 })).toBe(1);
    const firstOwner = (await store.jobs.getJob('default', jobId))!.leaseOwner!;

    // The first worker stalls past its lease; the second takes the job over.
    h.clock.advance(2 * 2_000 + 60_000 + 1);
    expect(await second.services.backfill.runner.work({ maxSteps: 1 })).toBe(1);
    const taken = (await store.jobs.getJob('default', jobId))!;
    expect(taken.leaseOwner).not.toBe(firstOwner);

    // The stalled worker's page arrives late: neither its events nor its cursor are written.
    const late = h.app.services.backfillIntake.prepare('default', JSON.stringify(events[250]));
    const refused = await store.jobs.advanceJob('default', jobId, firstOwner, [late], () => ({ progress: { ...taken.progress, stored: 999 }, cursor: { startingAfter: 'evt_bogus' }, updatedAt: h!.clock.now() }));
    expect(refused.held).toBe(false);
    expect(await store.getBillingEvent('default', events[250]!.id)).toBeUndefined();
    expect(await store.jobs.getJob('default', jobId)).toEqual(taken);
    expect(await h.app.services.backfill.runner.work()).toBe(0);

    expect(await second.services.backfill.runner.work()).toBe(1);
    const job = (await h.request('GET', `/v1/jobs/${jobId}`)).body;
    expect(job).toMatchObject({ status: 'succeeded', progress: { pages: 3, processed: 300, stored: 300, duplicates: 0 } });
    expect(h.eventListRequests()).toHaveLength(3);
  });
});
