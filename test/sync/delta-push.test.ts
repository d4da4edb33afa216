import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { LIVE_KEY, NOW, createMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * Delta push, exactly: only differences are sent, with whole units (Stripe's rule), identifiers are
 * accepted once, an unchanged counter costs no call, and a max counter goes to a last meter as its
 * current value. Clock frozen at 2026-11-20 12:00 UTC; the fake Stripe runs on the same clock.
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`delta push: ${dialect}`, () => {
    let s: SyncApp;
    let sumMeter: string;
    let lastMeter: string;

    beforeAll(async () => {
      s = await startSync(dialect);
      sumMeter = createMeter(s.fake, LIVE_KEY, 'api_calls', 'sum').id;
      lastMeter = createMeter(s.fake, LIVE_KEY, 'seats_peak', 'last').id;
      expect((await s.request('POST', '/v1/mappings', { metric: 'api_calls', meterEventName: 'api_calls', aggregation: 'sum' })).status).toBe(201);
      expect((await s.request('POST', '/v1/mappings', { metric: 'seats', meterEventName: 'seats_peak', aggregation: 'max' })).status).toBe(201);
    });
    afterAll(async () => {
      await s?.close();
    });

    it('pushes the difference only, in whole units, and nothing when nothing changed', async () => {
      const a = await s.mapCustomer('acme');
      const b = await s.mapCustomer('globex');
      await s.ingest([
        { customerRef: 'acme', quantity: 5 },
        { customerRef: 'acme', quantity: 2.5 },
        { customerRef: 'globex', quantity: 3 },
        { customerRef: 'unmapped', quantity: 9 },
      ]);
      const first = await s.run();
      expect(first.pushed.map((p: any) => [p.customerRef, p.kind, p.value, p.total]).sort()).toEqual([
        ['acme', 'event', '7', '7'],
        ['globex', 'event', '3', '3'],
      ]);
      expect(s.stripeTotal(LIVE_KEY, sumMeter, a)).toBe(7);
      expect(s.stripeTotal(LIVE_KEY, sumMeter, b)).toBe(3);

      await s.ingest([{ customerRef: 'acme', quantity: 0.5 }]);
      const second = await s.run();
      expect(second.pushed.map((p: any) => [p.customerRef, p.value, p.total])).toEqual([['acme', '1', '8']]);
      expect(s.stripeTotal(LIVE_KEY, sumMeter, a)).toBe(8);

      const calls = s.fake.requestLog.length;
      const idle = await s.run();
      expect(idle.pushed).toEqual([]);
      expect(idle.calls.live).toBe(0);
      expect(s.fake.requestLog.length, 'no Stripe call when nothing changed').toBe(calls);

      const events = s.fake.account(LIVE_KEY).meterEvents().filter((e) => e.event_name === 'api_calls');
      expect(new Set(events.map((e) => e.identifier)).size).toBe(events.length);
      expect(events.every((e) => e.timestamp >= Date.UTC(2026, 10, 1) / 1000 && e.timestamp <= NOW / 1000)).toBe(true);

      const status = await s.status('?customerRef=acme');
      const item = status.mappings.find((m: any) => m.metric === 'api_calls').items[0];
      expect(item).toMatchObject({ customerRef: 'acme', stripeCustomerId: a, status: 'ok', pushed: '8', target: '8', local: '8', lagSeconds: 0, consecutiveFailures: 0, lastError: null });
    });

    it('a max counter goes to a last meter as its current value, up and down', async () => {
      const c = await s.mapCustomer('initech');
      await s.ingest([
        { metric: 'seats', customerRef: 'initech', quantity: 4 },
        { metric: 'seats', customerRef: 'initech', quantity: 9 },
        { metric: 'seats', customerRef: 'initech', quantity: 6 },
      ]);
      const first = await s.run();
      expect(first.pushed.filter((p: any) => p.eventName === 'seats_peak').map((p: any) => [p.value, p.total])).toEqual([['9', '9']]);
      expect(s.stripeTotal(LIVE_KEY, lastMeter, c)).toBe(9);
      s.clock.advance(60_000);
      await s.ingest([{ metric: 'seats', customerRef: 'initech', quantity: 12 }]);
      await s.run();
      expect(s.stripeTotal(LIVE_KEY, lastMeter, c)).toBe(12);
      s.clock.set(NOW);
    });
  });
}
