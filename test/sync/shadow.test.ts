import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { LIVE_KEY, TEST_KEY, createMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * Shadow mode: a mapping also pushes, independently, to the tenant's test-mode account with its own
 * state. Live is never touched by shadow traffic; without a test key shadow is off with a warning and
 * nothing goes to the live key instead; a failing shadow leaves live pushes alone.
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`shadow mode: ${dialect}`, () => {
    let s: SyncApp;
    let liveMeter: string;
    let testMeter: string;
    let customer: string;
    let testCustomer: string;
    const liveEvents = () => s.fake.account(LIVE_KEY).meterEvents();
    const testEvents = () => s.fake.account(TEST_KEY).meterEvents();

    beforeAll(async () => {
      s = await startSync(dialect);
      liveMeter = createMeter(s.fake, LIVE_KEY, 'api_calls', 'sum').id;
      const created = await s.request('POST', '/v1/mappings', { metric: 'api_calls', meterEventName: 'api_calls', aggregation: 'sum', shadow: { enabled: true } });
      expect(created.status).toBe(201);
      ({ live: customer, test: testCustomer } = await s.mapCustomerWithShadow('acme'));
    });
    afterAll(async () => {
      await s?.close();
    });

    it('without a test key: shadow is off with a warning, and nothing is sent with the live key in its place', async () => {
      await s.ingest([{ customerRef: 'acme', quantity: 10 }]);
      const report = await s.run();
      expect(report.pushed.map((p: any) => [p.mode, p.value])).toEqual([['live', '10']]);
      expect(report.warnings.join(' ')).toMatch(/shadow is disabled: the tenant has no test-mode key.*never falls back to the live key/);
      expect(s.fake.requestLog.every((r) => r.apiKey === LIVE_KEY)).toBe(true);
      expect(liveEvents()).toHaveLength(1);
      const status = await s.status();
      expect(status.mappings[0].shadow).toMatchObject({ enabled: true, active: false, warning: expect.stringMatching(/no test-mode key/) });
      expect(status.mappings[0].items.map((i: any) => i.mode)).toEqual(['live']);
      expect(s.stripeTotal(LIVE_KEY, liveMeter, customer)).toBe(10);
    });

    it('with a test key: pushed to the test account with its own state; live is untouched', async () => {
      testMeter = createMeter(s.fake, TEST_KEY, 'api_calls', 'sum').id;
      expect((await s.request('PUT', '/v1/tenants/default/stripe', { testApiKey: TEST_KEY }, ADMIN_TOKEN)).status).toBe(200);
      const liveBefore = liveEvents().length;
      const report = await s.run();
      expect(report.pushed.map((p: any) => [p.mode, p.value, p.total])).toEqual([['shadow', '10', '10']]);
      expect(liveEvents()).toHaveLength(liveBefore);
      expect(s.stripeTotal(TEST_KEY, testMeter, testCustomer)).toBe(10);
      expect(testEvents()[0]!.payload.stripe_customer_id, 'the test-mode customer').toBe(testCustomer);

      await s.ingest([{ customerRef: 'acme', quantity: 5 }]);
      const both = await s.run();
      expect(both.pushed.map((p: any) => [p.mode, p.value, p.total]).sort()).toEqual([
        ['live', '5', '15'],
        ['shadow', '5', '15'],
      ]);
      expect(s.stripeTotal(LIVE_KEY, liveMeter, customer)).toBe(15);
      expect(s.stripeTotal(TEST_KEY, testMeter, testCustomer)).toBe(15);
      const liveIds = new Set(liveEvents().map((e) => e.identifier));
      expect(testEvents().some((e) => liveIds.has(e.identifier)), 'shadow identifiers are its own').toBe(false);
      const status = await s.status();
      expect(status.mappings[0].items.map((i: any) => [i.mode, i.status, i.pushed]).sort()).toEqual([
        ['live', 'ok', '15'],
        ['shadow', 'ok', '15'],
      ]);
    });

    it('a failing shadow does not hold live back', async () => {
      s.fake.account(TEST_KEY).deactivateMeter(testMeter);
      await s.ingest([{ customerRef: 'acme', quantity: 7 }]);
      const report = await s.run();
      expect(report.pushed.map((p: any) => [p.mode, p.total])).toEqual([['live', '22']]);
      expect(report.failures).toEqual([expect.objectContaining({ mode: 'shadow', kind: 'rejected', error: expect.stringMatching(/No active meter/) })]);
      expect(s.stripeTotal(LIVE_KEY, liveMeter, customer)).toBe(22);
      const shadowItem = (await s.status('?mode=shadow')).mappings[0].items[0];
      expect(shadowItem).toMatchObject({ status: 'failing', pushed: '15', target: '22', consecutiveFailures: 1 });
      s.fake.account(TEST_KEY).reactivateMeter(testMeter);
      s.clock.advance(10 * 60_000);
      expect((await s.run()).pushed.map((p: any) => [p.mode, p.total])).toEqual([['shadow', '22']]);
    });

    it('the test key removed again: shadow stops, the live key is never used for it', async () => {
      expect((await s.request('PUT', '/v1/tenants/default/stripe', { testApiKey: null }, ADMIN_TOKEN)).status).toBe(200);
      const requestsBefore = s.fake.requestLog.length;
      await s.ingest([{ customerRef: 'acme', quantity: 3 }]);
      const report = await s.run();
      expect(report.pushed.map((p: any) => [p.mode, p.total])).toEqual([['live', '25']]);
      const sent = s.fake.requestLog.slice(requestsBefore);
      expect(sent.map((r) => [r.apiKey, r.path])).toEqual([[LIVE_KEY, '/v1/billing/meter_events']]);
      expect(s.stripeTotal(TEST_KEY, testMeter, testCustomer)).toBe(22);
      const journal = await s.app.services.store.sync.listJournal('default', { mode: 'live', limit: 1000 });
      expect(liveEvents().map((e) => e.identifier).sort(), 'every live event is a live push').toEqual(journal.map((j) => j.identifier).sort());
    });
  });
}
