import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { LIVE_KEY, mapSumMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * Failing pushes: backoff (Retry-After honoured), status and metrics, and the usage_push_failing
 * incident after N failing cycles, resolved when pushes succeed again.
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`push failures, backoff, incident, metrics: ${dialect}`, () => {
    let s: SyncApp;
    let mappingId: string;
    let customer: string;
    const metric = async (pattern: RegExp) => {
      const text = (await s.app.server.inject('/metrics')).body;
      const line = text.split('\n').find((l) => pattern.test(l));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    const openIncidents = async () => ((await s.request('GET', '/v1/anomalies?status=open,acknowledged')).body.data as any[]).filter((a) => a.detector === 'usage_push_failing');

    beforeAll(async () => {
      s = await startSync(dialect, { env: { MW_SYNC_FAILING_CYCLES: '3' } });
      ({ mappingId } = await mapSumMeter(s));
      customer = await s.mapCustomer('acme');
    });
    afterAll(async () => {
      await s?.close();
    });

    it('opens usage_push_failing after 3 failing cycles and resolves it when pushes succeed', async () => {
      await s.ingest([{ customerRef: 'acme', quantity: 5 }]);
      s.fake.setFaults({ seed: 3, rate: 1, kinds: ['500'], paths: /^\/v1\/billing\/meter_events$/ });
      for (let cycle = 1; cycle <= 3; cycle++) {
        const report = await s.run();
        expect(report.failures).toEqual([expect.objectContaining({ customerRef: 'acme', kind: 'retryable' })]);
        const item = (await s.status()).mappings[0].items[0];
        expect(item).toMatchObject({ status: 'failing', consecutiveFailures: cycle, pushed: '0', target: '5', lastError: expect.any(String) });
        expect(item.pending).toMatchObject({ kind: 'event', value: '5', uncertain: true });
        expect(await openIncidents()).toHaveLength(cycle < 3 ? 0 : 1);
        s.clock.advance(10 * 60_000);
      }
      const [incident] = await openIncidents();
      expect(incident).toMatchObject({ detector: 'usage_push_failing', subject: { type: 'usage_mapping', id: mappingId }, severity: 'warning' });
      expect(incident.summary).toMatch(/not reaching Stripe meter "api_calls".*3 attempts in a row/);

      expect(await metric(/^mw_sync_push_failures_total\{mode="live",reason="retryable"\}/)).toBe(3);
      expect(await metric(/^mw_sync_stripe_calls_total\{kind="meter_event",outcome="500"\}/)).toBe(3);
      // The gauge is set at the end of each cycle (the third ran 20 minutes after the change).
      expect(await metric(/^mw_sync_push_lag_seconds\{mode="live"\}/)).toBe(1200);
      const status = await s.status();
      expect(status.summary.live.maxLagSeconds).toBeGreaterThanOrEqual(1800);
      expect(status.summary.live.items).toEqual({ failing: 1 });

      s.fake.setFaults(null);
      const healed = await s.run();
      expect(healed.pushed.map((p: any) => [p.customerRef, p.total])).toEqual([['acme', '5']]);
      expect(s.stripeTotal(LIVE_KEY, s.fake.account(LIVE_KEY).meters()[0]!.id, customer)).toBe(5);
      expect(await openIncidents()).toEqual([]);
      const resolved = (await s.request('GET', '/v1/anomalies?status=resolved')).body.data.find((a: any) => a.detector === 'usage_push_failing');
      expect(resolved).toMatchObject({ subject: { id: mappingId }, status: 'resolved' });
      expect(await metric(/^mw_sync_push_lag_seconds\{mode="live"\}/)).toBe(0);
      expect(await metric(/^mw_sync_stripe_calls_total\{kind="meter_event",outcome="ok"\}/)).toBe(1);
      expect((await s.status()).mappings[0].items[0]).toMatchObject({ status: 'ok', consecutiveFailures: 0, lastError: null, lagSeconds: 0 });
    });

    it('a 429 pauses the account for its Retry-After: no call before, the push after', async () => {
      await s.ingest([{ customerRef: 'acme', quantity: 2 }]);
      s.fake.setFaults({ seed: 4, rate: 1, kinds: ['429'], retryAfterSeconds: 300 });
      const limited = await s.run();
      expect(limited.failures).toEqual([expect.objectContaining({ kind: 'rate_limited' })]);
      s.fake.setFaults(null);
      const before = s.fake.requestLog.length;
      s.clock.advance(120_000);
      const early = await s.run();
      expect(early.pushed).toEqual([]);
      expect(s.fake.requestLog.length, 'nothing sent before Retry-After').toBe(before);
      s.clock.advance(200_000);
      const after = await s.run();
      expect(after.pushed.map((p: any) => p.total)).toEqual(['7']);
    });

    it('a permanent refusal is not retried blindly: the item fails with Stripe’s reason and backs off', async () => {
      const meter = s.fake.account(LIVE_KEY).meters()[0]!;
      s.fake.account(LIVE_KEY).deactivateMeter(meter.id);
      await s.ingest([{ customerRef: 'acme', quantity: 1 }]);
      const refused = await s.run();
      expect(refused.failures).toEqual([expect.objectContaining({ kind: 'rejected', error: expect.stringMatching(/No active meter/) })]);
      const item = (await s.status()).mappings[0].items[0];
      expect(item).toMatchObject({ status: 'failing', pending: null, consecutiveFailures: 1 });
      s.fake.account(LIVE_KEY).reactivateMeter(meter.id);
      s.clock.advance(60_000);
      expect((await s.run()).pushed.map((p: any) => p.total)).toEqual(['8']);
    });

    it('an unknown outcome that Stripe then refuses goes to review (incident), and an operator settles it', async () => {
      const meter = s.fake.account(LIVE_KEY).meters()[0]!;
      await s.ingest([{ customerRef: 'acme', quantity: 3 }]);
      // Stripe applies the event, the answer is lost (held past our 400 ms timeout).
      s.fake.setFaults({ seed: 5, rate: 1, kinds: ['timeout_after_commit'], holdMs: 600, paths: /meter_events$/ });
      expect((await s.run()).failures).toEqual([expect.objectContaining({ kind: 'retryable' })]);
      s.fake.setFaults(null);
      s.fake.account(LIVE_KEY).deactivateMeter(meter.id);
      s.clock.advance(60_000);
      const review = await s.run();
      expect(review.failures).toEqual([expect.objectContaining({ kind: 'needs_review', error: expect.stringMatching(/may or may not hold it/) })]);
      const item = (await s.status()).mappings[0].items[0];
      expect(item).toMatchObject({ status: 'needs_review', pushed: '8', target: '11', pending: { kind: 'event', value: '3', uncertain: true } });
      const [incident] = await openIncidents();
      expect(incident.summary).toMatch(/1 waiting for review/);
      // Not retried on its own.
      s.fake.account(LIVE_KEY).reactivateMeter(meter.id);
      s.clock.advance(60_000);
      const calls = s.fake.requestLog.length;
      expect((await s.run()).pushed).toEqual([]);
      expect(s.fake.requestLog.length).toBe(calls);

      // The operator sees the event in Stripe (11 in the summary) and says so.
      expect(s.stripeTotal(LIVE_KEY, meter.id, customer)).toBe(11);
      const wrong = await s.request('POST', `/v1/sync/items/${item.id}/resolve`, { pendingAccepted: 'yes' });
      expect(wrong.status).toBe(400);
      const resolved = await s.request('POST', `/v1/sync/items/${item.id}/resolve`, { pendingAccepted: true });
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({ status: 'due', settled: 'accepted' });
      expect((await s.request('POST', `/v1/sync/items/${item.id}/resolve`, { pendingAccepted: true })).status).toBe(409);
      const after = await s.run();
      expect(after.pushed).toEqual([]);
      expect((await s.status()).mappings[0].items[0]).toMatchObject({ status: 'ok', pushed: '11', target: '11', pending: null });
      expect(s.stripeTotal(LIVE_KEY, meter.id, customer)).toBe(11);
      expect(await openIncidents()).toEqual([]);
    });
  });
}
