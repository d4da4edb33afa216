import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { DEFAULT_SECRET } from '../support/test-app.js';
import { signPayload, stripeEvent } from '../support/stripe-events.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { startMetering, utc, type MeteringApp } from './metering-harness.js';

/**
 * Late events, adjustments, billing periods (anchor, time zone, Stripe subscription) and replay,
 * on both stores. The clock starts at 2026-11-20 12:00 UTC and is moved, never slept.
 */
const T0 = utc(2026, 11, 20, 12);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`late events, adjustments, periods, replay: ${dialect}`, () => {
    let m: MeteringApp;
    let customer = 0;
    const nextCustomer = () => `cus_${dialect}_${++customer}`;
    const usageAt = async (customerRef: string, at: string, metric = 'api_calls') => {
      const res = await m.get(`/v1/usage/current?customerRef=${encodeURIComponent(customerRef)}&metric=${metric}&at=${at}`);
      expect(res.status).toBe(200);
      return res.body.metrics[0] as { sum: string; max: string | null; last: string | null; count: number } | undefined;
    };

    beforeAll(async () => {
      m = await startMetering(dialect);
    });
    afterAll(async () => {
      await m?.close();
    });

    it('5: late inside the window counts in its own period: E1 on the 10th q5, then E2 on the 9th q3 → sum 8', async () => {
      const c = nextCustomer();
      // 36 h after November closed: still inside the 48 h window.
      m.app.clock.set(utc(2026, 12, 2, 12));
      try {
        const e1 = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 5, ts: '2026-11-10T08:00:00Z' }]);
        const e2 = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 3, ts: '2026-11-09T08:00:00Z' }]);
        expect([e1.body.results[0], e2.body.results[0]].map((r) => [r!.status, r!.late ?? false])).toEqual([
          ['accepted', false],
          ['accepted', false],
        ]);
        expect(await usageAt(c, '2026-11-15')).toMatchObject({ sum: '8', max: '5', last: '5', count: 2 });
        expect((await m.get('/v1/adjustments?status=pending&customerRef=' + c)).body.data).toEqual([]);
        await m.expectFolds();
      } finally {
        m.app.clock.set(T0);
      }
    });

    it('6: very late: the closed period is unchanged, one pending adjustment; approving it twice (even concurrently) applies it once', async () => {
      const c = nextCustomer();
      // October closed on Nov 1; its window ended Nov 3; the clock says Nov 20.
      await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 10, ts: '2026-10-15T00:00:00Z' }]).then((r) => expect(r.body.results[0]).toMatchObject({ status: 'accepted', late: true }));
      const late = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 4, ts: '2026-10-31T23:59:00Z', idempotencyKey: `late-${c}` }]);
      expect(late.body.results[0]).toMatchObject({ status: 'accepted', late: true, adjustmentId: expect.stringMatching(/^adj_/) });
      // A retry of the late event is a duplicate: still one adjustment.
      expect((await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 4, ts: '2026-10-31T23:59:00Z', idempotencyKey: `late-${c}` }])).body.results[0]!.status).toBe('duplicate');
      expect(await usageAt(c, '2026-10-15')).toBeUndefined();

      const pending = await m.get(`/v1/adjustments?status=pending&customerRef=${c}`);
      expect(pending.body.data).toHaveLength(2);
      const adj = pending.body.data.find((a: { id: string }) => a.id === late.body.results[0]!.adjustmentId);
      expect(adj).toMatchObject({
        kind: 'late_event',
        status: 'pending',
        metric: 'api_calls',
        customerRef: c,
        delta: '4',
        period: { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' },
        event: { idempotencyKey: `late-${c}`, ts: '2026-10-31T23:59:00.000Z' },
        createdBy: 'system',
      });
      // The listing shows the event as late; the history reports it apart.
      const listed = await m.get(`/v1/events?customerRef=${c}&limit=10`);
      expect(listed.body.data.map((e: { late: boolean }) => e.late)).toEqual([true, true]);
      const hist = await m.get(`/v1/usage/history?customerRef=${c}&metric=api_calls&from=2026-10-31&to=2026-11-01&bucket=day`);
      expect(hist.body.buckets[0]).toMatchObject({ sum: '0', count: 0, lateSum: '4', lateCount: 1 });
      await m.expectFolds();

      m.app.clock.set(T0 + 60_000);
      const approvals = await Promise.all([1, 2, 3].map(() => m.send('POST', `/v1/adjustments/${adj.id}/approve`, {})));
      expect(approvals.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(approvals.filter((a) => a.body.applied === true)).toHaveLength(1);
      expect(approvals[0]!.body).toMatchObject({ status: 'approved', decidedAt: new Date(T0 + 60_000).toISOString(), decidedBy: expect.stringMatching(/^api_key:key_/) });
      const again = await m.send('POST', `/v1/adjustments/${adj.id}/approve`, undefined);
      expect(again).toMatchObject({ status: 200, body: { applied: false, status: 'approved' } });
      expect(await usageAt(c, '2026-10-15')).toMatchObject({ sum: '4', max: '4', last: '4', count: 1 });
      await m.expectFolds();

      // Revert: an approved negative child, audited; the counter is back where it was.
      const revert = await m.send('POST', `/v1/adjustments/${adj.id}/revert`, { reason: 'customer was not billable in October' });
      expect(revert.status).toBe(200);
      expect(revert.body).toMatchObject({ kind: 'revert', status: 'approved', delta: '-4', parentId: adj.id, reason: 'customer was not billable in October' });
      expect((await m.get(`/v1/adjustments/${adj.id}`)).body).toMatchObject({ status: 'approved', revertedBy: revert.body.id });
      expect(await usageAt(c, '2026-10-15')).toMatchObject({ sum: '0', max: null, last: null, count: 0 });
      expect((await m.send('POST', `/v1/adjustments/${adj.id}/revert`, { reason: 'twice' })).status).toBe(409);
      expect((await m.send('POST', `/v1/adjustments/${revert.body.id}/revert`, { reason: 'revert a revert' })).status).toBe(409);
      expect((await m.send('POST', `/v1/adjustments/${adj.id}/revert`, {})).status).toBe(400);
      await m.expectFolds();

      // The other one is rejected: it stays out, and can then be neither approved nor reverted.
      const other = pending.body.data.find((a: { id: string }) => a.id !== adj.id);
      expect((await m.send('POST', `/v1/adjustments/${other.id}/reject`, { reason: 'duplicate of an invoice line' })).body).toMatchObject({ status: 'rejected', decisionReason: 'duplicate of an invoice line' });
      expect((await m.send('POST', `/v1/adjustments/${other.id}/approve`, {})).status).toBe(409);
      expect((await m.send('POST', `/v1/adjustments/${other.id}/revert`, { reason: 'x' })).status).toBe(409);
      expect((await m.send('POST', '/v1/adjustments/adj_nope/approve', {})).status).toBe(404);
      await m.expectFolds();
      m.app.clock.set(T0);
    });

    it('a late event that was the max or last of its period: revert restores max and last from the rest', async () => {
      const c = nextCustomer();
      m.app.clock.set(utc(2026, 12, 2));
      await m.ingest([
        { metric: 'seats', customerRef: c, quantity: 3, ts: '2026-11-05T00:00:00Z' },
        { metric: 'seats', customerRef: c, quantity: 2, ts: '2026-11-06T00:00:00Z' },
      ]);
      m.app.clock.set(utc(2026, 12, 10));
      const late = await m.ingest([{ metric: 'seats', customerRef: c, quantity: 9, ts: '2026-11-29T00:00:00Z' }]);
      const id = late.body.results[0]!.adjustmentId!;
      await m.send('POST', `/v1/adjustments/${id}/approve`, {});
      expect(await usageAt(c, '2026-11-15', 'seats')).toMatchObject({ sum: '14', max: '9', last: '9', count: 3 });
      await m.expectFolds();
      await m.send('POST', `/v1/adjustments/${id}/revert`, { reason: 'bad data' });
      expect(await usageAt(c, '2026-11-15', 'seats')).toMatchObject({ sum: '5', max: '3', last: '2', count: 2 });
      await m.expectFolds();
      m.app.clock.set(T0);
    });

    it('manual adjustments: pending until approved, signed deltas, a reason, audited; listing with cursor', async () => {
      const c = nextCustomer();
      await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 10, ts: '2026-11-05T00:00:00Z' }]);
      const credit = await m.send('POST', '/v1/adjustments', { metric: 'api_calls', customerRef: c, delta: -2.5, reason: 'SLA credit' });
      expect(credit.status).toBe(201);
      expect(credit.body).toMatchObject({ kind: 'manual', status: 'pending', delta: '-2.5', reason: 'SLA credit', period: { start: '2026-11-01T00:00:00.000Z' } });
      expect(await usageAt(c, '2026-11-05')).toMatchObject({ sum: '10' });
      await m.send('POST', `/v1/adjustments/${credit.body.id}/approve`, {});
      expect(await usageAt(c, '2026-11-05')).toMatchObject({ sum: '7.5', count: 1, max: '10' });
      // An adjustment for a period without events creates its counter.
      const back = await m.send('POST', '/v1/adjustments', { metric: 'api_calls', customerRef: c, delta: 1, ts: '2026-09-10T00:00:00Z', reason: 'missed batch' });
      await m.send('POST', `/v1/adjustments/${back.body.id}/approve`, {});
      expect(await usageAt(c, '2026-09-10')).toMatchObject({ sum: '1', count: 0, max: null });
      for (const bad of [
        { metric: 'api_calls', customerRef: c, delta: 0, reason: 'zero' },
        { metric: 'api_calls', customerRef: c, delta: '1', reason: 'string' },
        { metric: 'api_calls', customerRef: c, delta: 1, reason: '' },
        { metric: 'api_calls', customerRef: c, delta: 1 },
        { metric: 'api_calls', customerRef: c, delta: 1.0000001, reason: 'precision' },
      ]) {
        expect((await m.send('POST', '/v1/adjustments', bad)).status, JSON.stringify(bad)).toBe(400);
      }
      const page1 = await m.get(`/v1/adjustments?customerRef=${c}&limit=1`);
      expect(page1.body.data).toHaveLength(1);
      const page2 = await m.get(`/v1/adjustments?customerRef=${c}&limit=1&cursor=${page1.body.nextCursor}`);
      expect(page2.body.data).toHaveLength(1);
      expect(page2.body.data[0].id).not.toBe(page1.body.data[0].id);
      expect((await m.get('/v1/adjustments?status=bogus')).status).toBe(400);
      const readOnly = await m.send('POST', '/v1/api-keys', { name: 'ro', scopes: ['read'] });
      expect((await m.send('POST', `/v1/adjustments/${credit.body.id}/approve`, {}, readOnly.body.key)).status).toBe(403);
      await m.expectFolds();
    });

    it('billing anchor and time zone: PUT /v1/customers sets the periods of later events', async () => {
      const c = nextCustomer();
      const put = await m.send('PUT', `/v1/customers/${c}`, { billingAnchor: '2026-01-31T09:00:00Z' });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ customerRef: c, billingAnchor: '2026-01-31T09:00:00.000Z', timezone: null, currentPeriod: { start: '2026-10-31T09:00:00.000Z', end: '2026-11-30T09:00:00.000Z', source: 'anchor' } });
      await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-10-31T08:59:59.999Z' },
        { metric: 'api_calls', customerRef: c, quantity: 2, ts: '2026-10-31T09:00:00Z' },
        { metric: 'api_calls', customerRef: c, quantity: 3, ts: '2026-11-20T00:00:00Z' },
      ]);
      const now = await m.get(`/v1/usage/current?customerRef=${c}`);
      expect(now.body).toMatchObject({ period: { start: '2026-10-31T09:00:00.000Z', end: '2026-11-30T09:00:00.000Z', source: 'anchor' }, metrics: [{ sum: '5', count: 2 }] });

      const tz = nextCustomer();
      const zoned = await m.send('PUT', `/v1/customers/${tz}`, { timezone: 'Asia/Tokyo' });
      expect(zoned.body.currentPeriod).toEqual({ start: '2026-10-31T15:00:00.000Z', end: '2026-11-30T15:00:00.000Z', source: 'calendar' });
      for (const bad of [{ timezone: 'Mars/Olympus' }, { billingAnchor: 'soon' }, { stripeCustomerId: 'acct_1' }, { extra: 1 }]) {
        expect((await m.send('PUT', `/v1/customers/${tz}`, bad)).status, JSON.stringify(bad)).toBe(400);
      }
      // PUT replaces: clearing the zone brings back the UTC month.
      expect((await m.send('PUT', `/v1/customers/${tz}`, {})).body.currentPeriod.source).toBe('calendar');
      expect((await m.get(`/v1/customers/${tz}`)).body).toMatchObject({ timezone: null, currentPeriod: { start: '2026-11-01T00:00:00.000Z' } });
      await m.expectFolds();
    });

    it('Stripe subscription periods, learned from webhooks, for a customer mapped to a Stripe customer', async () => {
      const c = nextCustomer();
      const stripeCustomer = `cus_S${dialect}${customer}`;
      const start = utc(2026, 11, 14, 6);
      const end = utc(2026, 12, 14, 6);
      const subscription = {
        id: `sub_${dialect}_${customer}`,
        object: 'subscription',
        customer: stripeCustomer,
        status: 'active',
        currency: 'usd',
        cancel_at_period_end: false,
        items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', quantity: 1, current_period_start: start / 1000, current_period_end: end / 1000, price: { id: 'price_1', unit_amount: 1000 } }] },
      };
      const created = Math.floor(T0 / 1000);
      const payload = JSON.stringify(stripeEvent('customer.subscription.created', subscription, { created }));
      const hook = await m.app.server.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, created) } });
      expect(hook.statusCode).toBe(200);
      await m.app.services.detectorEngine.drain(50);

      const mapped = await m.send('PUT', `/v1/customers/${c}`, { stripeCustomerId: stripeCustomer, billingAnchor: '2026-01-01T00:00:00Z' });
      expect(mapped.body.currentPeriod).toEqual({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), source: 'subscription' });
      const res = await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 10, ts: '2026-11-14T06:00:00Z' },
        { metric: 'api_calls', customerRef: c, quantity: 5, ts: '2026-11-14T05:59:59.999Z' },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-20T11:00:00Z' },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-16T00:00:00Z' },
      ]);
      // The previous subscription period closed on Nov 14 06:00, more than 48 h ago: that one is late.
      expect(res.body.results.map((r) => r.late ?? false)).toEqual([false, true, false, false]);
      const now = await m.get(`/v1/usage/current?customerRef=${c}`);
      expect(now.body).toMatchObject({ period: { start: '2026-11-14T06:00:00.000Z', end: '2026-12-14T06:00:00.000Z', source: 'subscription' }, metrics: [{ sum: '12', count: 3 }] });
      // The previous period is stepped back by a month from the known one.
      expect(await usageAt(c, '2026-11-14T05:00:00Z')).toBeUndefined();
      expect((await m.get(`/v1/adjustments?customerRef=${c}`)).body.data[0]).toMatchObject({ delta: '5', period: { start: '2026-10-14T06:00:00.000Z', end: '2026-11-14T06:00:00.000Z' } });
      const before = await m.get(`/v1/usage/current?customerRef=${c}&at=2026-11-01`);
      expect(before.body.period).toMatchObject({ start: '2026-10-14T06:00:00.000Z', end: '2026-11-14T06:00:00.000Z' });
      await m.expectFolds();
    });

    it('replay: dryRun reports differences and pending late events and writes nothing; dryRun:false repairs whole periods', async () => {
      const c = nextCustomer();
      await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 2, ts: '2026-11-03T00:00:00Z' },
        { metric: 'api_calls', customerRef: c, quantity: 3, ts: '2026-11-18T00:00:00Z' },
        { metric: 'api_calls', customerRef: c, quantity: 7, ts: '2026-10-03T00:00:00Z' },
      ]);
      const clean = await m.send('POST', '/v1/replay', { tenantId: 'default', customerRef: c, dryRun: true });
      expect(clean.status).toBe(200);
      expect(clean.body).toMatchObject({ dryRun: true, differenceCount: 0, differences: [], repaired: 0, pendingLateEvents: { count: 1 } });
      expect(clean.body.pendingLateEvents.first[0]).toMatchObject({ kind: 'late_event', delta: '7', customerRef: c });

      // Damage a counter and a rollup behind the application's back.
      const store = m.app.services.store as KyselyStore;
      await sql`update usage_counters set sum_micro = sum_micro + 1000000, event_count = event_count + 5 where tenant_id = 'default' and customer_ref = ${c}`.execute(store.db);
      await sql`delete from usage_rollups where tenant_id = 'default' and customer_ref = ${c} and hour_start = ${utc(2026, 11, 18)}`.execute(store.db);

      // A scope that only touches the 18th still re-folds the whole November counter.
      const dry = await m.send('POST', '/v1/replay', { customerRef: c, since: '2026-11-18T00:00:00Z', until: '2026-11-19T00:00:00Z', dryRun: true });
      expect(dry.body.differenceCount).toBe(2);
      expect(dry.body.differences).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'counter', customerRef: c, stored: expect.objectContaining({ sum: '6', count: 7 }), folded: expect.objectContaining({ sum: '5', count: 2 }) }),
          expect.objectContaining({ kind: 'rollup', hourStart: '2026-11-18T00:00:00.000Z', stored: null, folded: expect.objectContaining({ sum: '3', count: 1 }) }),
        ]),
      );
      expect((await m.get(`/v1/usage/current?customerRef=${c}`)).body.metrics[0]).toMatchObject({ sum: '6' });
      // Repairing needs the write scope.
      const readOnly = await m.send('POST', '/v1/api-keys', { name: 'ro2', scopes: ['read'] });
      expect((await m.send('POST', '/v1/replay', { customerRef: c, dryRun: true }, readOnly.body.key)).status).toBe(200);
      expect((await m.send('POST', '/v1/replay', { customerRef: c, dryRun: false }, readOnly.body.key)).status).toBe(403);

      const fix = await m.send('POST', '/v1/replay', { customerRef: c, since: '2026-11-18T00:00:00Z', until: '2026-11-19T00:00:00Z', dryRun: false });
      expect(fix.body).toMatchObject({ dryRun: false, differenceCount: 2, repaired: 2 });
      expect((await m.get(`/v1/usage/current?customerRef=${c}`)).body.metrics[0]).toMatchObject({ sum: '5', count: 2, max: '3', last: '3' });
      expect((await m.send('POST', '/v1/replay', { customerRef: c, dryRun: true })).body.differenceCount).toBe(0);
      expect((await m.send('POST', '/v1/replay', { since: 'nope', dryRun: true })).status).toBe(400);
      await m.expectFolds();
    });
  });
}
