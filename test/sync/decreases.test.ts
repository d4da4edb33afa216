import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { LIVE_KEY, NOW, mapSumMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * Decreases (approved negative adjustments): within Stripe's 24 h window the newest accepted events
 * are cancelled (meter event adjustments), the remainder pushed again; beyond it, a negative meter
 * event. Late changes to closed periods are pushed inside the period, or reported when the period
 * is beyond Stripe's 35 days.
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`decreases and old periods: ${dialect}`, () => {
    let s: SyncApp;
    let meter: string;

    const adjust = async (customerRef: string, delta: number, ts?: string) => {
      const created = await s.request('POST', '/v1/adjustments', { metric: 'api_calls', customerRef, delta, reason: 'correction', ...(ts ? { ts } : {}) });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await s.request('POST', `/v1/adjustments/${created.body.id}/approve`, {})).status).toBe(200);
    };
    const liveEvents = (customer: string) => s.fake.account(LIVE_KEY).meterEvents().filter((e) => e.customer === customer);

    beforeAll(async () => {
      s = await startSync(dialect);
      meter = (await mapSumMeter(s)).meterId;
    });
    afterAll(async () => {
      await s?.close();
    });

    it('cancels within 24 h, pushes a negative event after, and never reuses an identifier', async () => {
      const c = await s.mapCustomer('acme');
      await s.ingest([{ customerRef: 'acme', quantity: 10 }]);
      await s.run();
      s.clock.advance(60_000);
      await s.ingest([{ customerRef: 'acme', quantity: 5 }]);
      await s.run();
      expect(s.stripeTotal(LIVE_KEY, meter, c)).toBe(15);

      // -5: the newest event (+5) is cancelled, nothing else is needed.
      await adjust('acme', -5);
      const cancel = await s.run();
      expect(cancel.pushed.map((p: any) => [p.kind, p.value, p.total])).toEqual([['cancel', '5', '10']]);
      expect(s.stripeTotal(LIVE_KEY, meter, c)).toBe(10);
      expect(liveEvents(c).map((e) => [e.payload.value, e.cancelled])).toEqual([
        ['10', false],
        ['5', true],
      ]);

      // -3: cancel the +10, push +7 again (Stripe then holds only positive events).
      await adjust('acme', -3);
      const recut = await s.run();
      expect(recut.pushed.map((p: any) => [p.kind, p.value, p.total])).toEqual([
        ['cancel', '10', '0'],
        ['event', '7', '7'],
      ]);
      expect(s.stripeTotal(LIVE_KEY, meter, c)).toBe(7);

      // A day later the +7 can no longer be cancelled: a negative event, Stripe's documented correction.
      s.clock.advance(25 * 3_600_000);
      await adjust('acme', -2, new Date(NOW).toISOString());
      const negative = await s.run();
      expect(negative.pushed.map((p: any) => [p.kind, p.value, p.total])).toEqual([['event', '-2', '5']]);
      expect(s.stripeTotal(LIVE_KEY, meter, c)).toBe(5);

      // Back up to 7: a total Stripe held before gets a new identifier (step numbers differ).
      await s.ingest([{ customerRef: 'acme', quantity: 2 }]);
      const up = await s.run();
      expect(up.pushed.map((p: any) => [p.kind, p.value, p.total])).toEqual([['event', '2', '7']]);
      expect(s.stripeTotal(LIVE_KEY, meter, c)).toBe(7);
      const ids = liveEvents(c).map((e) => e.identifier);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => id.length <= 100)).toBe(true);
    });

    it('a late change to a closed period is pushed inside that period; beyond 35 days it is reported', async () => {
      const c = await s.mapCustomer('late-co');
      // October closed on Nov 1 (19 days ago): events now are late, pending until approved.
      await s.request('POST', '/v1/events/ingest', { events: [{ metric: 'api_calls', customerRef: 'late-co', quantity: 4, ts: '2026-10-20T10:00:00Z' }] });
      await s.request('POST', '/v1/events/ingest', { events: [{ metric: 'api_calls', customerRef: 'late-co', quantity: 6, ts: '2026-09-20T10:00:00Z' }] });
      const pending = await s.request('GET', '/v1/adjustments?status=pending&customerRef=late-co');
      expect(pending.body.data).toHaveLength(2);
      for (const a of pending.body.data) expect((await s.request('POST', `/v1/adjustments/${a.id}/approve`, {})).status).toBe(200);

      const report = await s.run();
      const october = report.pushed.find((p: any) => p.customerRef === 'late-co');
      expect(october).toMatchObject({ periodStart: '2026-10-01T00:00:00.000Z', value: '4', total: '4' });
      const sent = liveEvents(c);
      expect(sent.map((e) => e.timestamp)).toEqual([Date.UTC(2026, 10, 1) / 1000 - 1]);
      expect(s.fake.account(LIVE_KEY).meterTotal({ meter, customer: c, start_time: Date.UTC(2026, 9, 1) / 1000, end_time: Date.UTC(2026, 10, 1) / 1000 })).toBe(4);

      expect(report.tooOld).toEqual([expect.objectContaining({ customerRef: 'late-co', periodStart: '2026-09-01T00:00:00.000Z', kind: 'too_old', error: expect.stringMatching(/past 35 days/) })]);
      const status = await s.status('?customerRef=late-co&status=too_old');
      expect(status.mappings[0].items).toEqual([expect.objectContaining({ periodStart: '2026-09-01T00:00:00.000Z', status: 'too_old', pushed: '0', target: '6', lastError: expect.stringMatching(/35 days/) })]);
      // Reported once, not retried every cycle.
      expect((await s.run()).tooOld).toEqual([]);
    });
  });
}
