import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { chargeSucceeded } from '../support/stripe-events.js';
import { RK, T0S, startBackfill, type BackfillHarness } from './backfill-harness.js';

/** POST /v1/backfill → a job that pages the Events API with the tenant's key; GET /v1/jobs/{id}. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`backfill through the API: ${dialect}`, () => {
    let h: BackfillHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('stores N events over several pages once each, as backfill; one that came by webhook is a duplicate', async () => {
      h = await startBackfill(dialect);
      const events = h.seedEvents(250);
      await h.deliver(events[120]!);
      // Older than the window: never asked for.
      h.seedEvents(3, { newest: T0S - 40 * 86_400 });

      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ kind: 'backfill', status: 'queued', tenantId: 'default', params: { since: T0S - 30 * 86_400, until: null, types: null } });

      const job = await h.workUntilFinished(started.body.id);
      expect(job).toMatchObject({
        status: 'succeeded',
        error: null,
        progress: { processed: 250, stored: 249, duplicates: 1, pages: 3, retries: 0 },
        cursor: { startingAfter: events[249]!.id },
      });
      expect(job.progress.newestCreated).toBe(new Date(events[0]!.created * 1000).toISOString());
      expect(job.progress.oldestCreated).toBe(new Date(events[249]!.created * 1000).toISOString());

      const stored = await h.stored();
      expect(stored.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.id).sort());
      expect(stored.filter((e) => e.source === 'webhook').map((e) => e.eventId)).toEqual([events[120]!.id]);
      expect(stored.filter((e) => e.source === 'backfill')).toHaveLength(249);
      // The raw event is kept as Stripe listed it.
      const one = stored.find((e) => e.eventId === events[7]!.id)!;
      expect(JSON.parse(one.payload)).toEqual(events[7]);

      // Three pages, each read once, all with the tenant's restricted key.
      expect(h.eventListRequests()).toEqual([1, 2, 3].map(() => ({ status: 200, apiKey: RK })));

      // A second run finds everything there already.
      const again = await h.request('POST', '/v1/backfill', { since: '30d' });
      expect(again.status).toBe(202);
      expect(await h.workUntilFinished(again.body.id)).toMatchObject({ status: 'succeeded', progress: { processed: 250, stored: 0, duplicates: 250 } });
      expect(await h.stored()).toHaveLength(250);

      const listed = await h.request('GET', '/v1/jobs?kind=backfill&limit=1');
      expect(listed.body.data.map((j: { id: string }) => j.id)).toEqual([again.body.id]);
      const next = await h.request('GET', `/v1/jobs?kind=backfill&limit=1&cursor=${listed.body.nextCursor}`);
      expect(next.body).toMatchObject({ data: [{ id: started.body.id }], nextCursor: null });
    });

    it('backfilled events never notify as live, even recent ones', async () => {
      h = await startBackfill(dialect);
      const account = h.fake.account(RK);
      // Two payments of one amount by one customer a minute apart: a duplicate charge, minutes ago.
      for (const [i, created] of [T0S - 180, T0S - 120].entries()) {
        const charge = { ...(chargeSucceeded(created).data as { object: Record<string, unknown> }).object, payment_intent: `pi_dup_${i}`, invoice: null };
        account.addEvent({ type: 'charge.succeeded', data: { object: charge }, created });
      }
      const started = await h.request('POST', '/v1/backfill', { since: '1h' });
      expect(await h.workUntilFinished(started.body.id, { stepMs: 0 })).toMatchObject({ status: 'succeeded', progress: { stored: 2 } });
      await h.app.services.detectorEngine.drain();
      const incidents = await h.app.services.store.detectors.listIncidents('default', { limit: 10 });
      expect(incidents.map((i) => [i.detector, i.historical])).toEqual([['duplicate_charge', true]]);
      expect(await h.app.services.store.detectors.listNotifications('default', { limit: 10 })).toEqual([]);
    });

    it('passes until and types to Stripe', async () => {
      h = await startBackfill(dialect);
      const charges = h.seedEvents(30);
      const refunds = h.seedEvents(5, { type: 'charge.refunded', newest: T0S - 30 });
      const started = await h.request('POST', '/v1/backfill', { since: '2026-11-19T00:00:00Z', until: charges[10]!.created, types: ['charge.refunded'] });
      expect(started.status).toBe(202);
      expect(await h.workUntilFinished(started.body.id)).toMatchObject({ status: 'succeeded', progress: { processed: 0, pages: 1 } });
      const later = await h.request('POST', '/v1/backfill', { since: T0S - 3600, types: ['charge.refunded', 'charge.succeeded'], until: charges[10]!.created });
      expect(await h.workUntilFinished(later.body.id)).toMatchObject({ status: 'succeeded', progress: { processed: 19 } });
      const stored = new Set((await h.stored()).map((e) => e.eventId));
      expect(charges.slice(11).every((e) => stored.has(e.id))).toBe(true);
      expect(charges.slice(0, 11).some((e) => stored.has(e.id))).toBe(false);
      expect(refunds.some((e) => stored.has(e.id))).toBe(false);
    });

    it('refuses clearly: no API key (409), a bad window (400), a second backfill while one runs (409), another tenant (403)', async () => {
      h = await startBackfill(dialect, { apiKey: null });
      const noKey = await h.request('POST', '/v1/backfill', { since: '30d' });
      expect(noKey.status).toBe(409);
      expect(noKey.body.error.message).toMatch(/no Stripe API key.*PUT \/v1\/tenants\/default\/stripe/);

      expect((await h.request('PUT', '/v1/tenants/default/stripe', { apiKey: RK }, { token: ADMIN_TOKEN })).status).toBe(200);
      for (const body of [{ since: 'yesterday' }, { since: '30d', until: '31d' }, { since: '30d', types: ['Not A Type'] }, { since: T0S + 3600 }, {}]) {
        const res = await h.request('POST', '/v1/backfill', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
      }

      const first = await h.request('POST', '/v1/backfill', { since: '7d' });
      expect(first.status).toBe(202);
      const second = await h.request('POST', '/v1/backfill', { since: '7d' });
      expect(second.status).toBe(409);
      expect(second.body.error.message).toContain(first.body.id);

      const other = await h.request('POST', '/v1/tenants', { name: 'other' }, { token: ADMIN_TOKEN });
      expect((await h.request('POST', '/v1/backfill', { since: '7d', tenantId: other.body.id })).status).toBe(403);
      expect((await h.request('GET', `/v1/jobs/${first.body.id}`, undefined, { token: other.body.apiKey })).status).toBe(404);
      expect((await h.request('GET', '/v1/jobs', undefined, { token: other.body.apiKey })).body.data).toEqual([]);
      // The admin names the tenant.
      expect((await h.request('GET', `/v1/jobs/${first.body.id}?tenantId=default`, undefined, { token: ADMIN_TOKEN })).body.id).toBe(first.body.id);

      const cancelled = await h.request('POST', `/v1/jobs/${first.body.id}/cancel`);
      expect(cancelled.body).toMatchObject({ status: 'cancelled' });
      expect(await h.app.services.backfill.runner.work()).toBe(0);
      expect((await h.request('POST', '/v1/backfill', { since: '7d' })).status).toBe(202);
    });

    it('stops a running job that is cancelled, after its current page', async () => {
      h = await startBackfill(dialect);
      h.seedEvents(350);
      const started = await h.request('POST', '/v1/backfill', { since: '30d' });
      expect(await h.app.services.backfill.runner.work({ maxSteps: 2 })).toBe(2);
      await h.request('POST', `/v1/jobs/${started.body.id}/cancel`);
      expect(await h.app.services.backfill.runner.work()).toBe(0);
      expect((await h.request('GET', `/v1/jobs/${started.body.id}`)).body).toMatchObject({ status: 'cancelled', progress: { pages: 2, stored: 200 } });
    });
  });
}
