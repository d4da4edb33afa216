import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { LIVE_KEY, createMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * The acceptance scenario: 20 % injected faults of every kind (5xx, 429 with Retry-After, timeouts,
 * dropped connections, and drops/timeouts AFTER Stripe applied the request), an app restart in the
 * middle of a push cycle, a second replica pushing at the same time, increases and decreases. At the
 * end Stripe's per-customer totals equal the local counters (whole units) and every identifier was
 * accepted exactly once. Time is moved by hand; only Stripe calls take (little) real time.
 */
const CUSTOMERS = 16;

function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
}

for (const transport of ['v1', 'v2'] as const) {
  for (const dialect of DIALECTS) {
    const enabled = await dialectEnabled(dialect);

    describe.skipIf(!enabled)(`20% faults, restart, two replicas (${transport}): ${dialect}`, () => {
      let s: SyncApp | undefined;
      let replica: TestApp | undefined;
      afterAll(async () => {
        await replica?.close();
        await s?.close();
      });

      it('Stripe ends equal to the local counters; every identifier accepted once', async () => {
        s = await startSync(dialect, { env: { MW_SYNC_TRANSPORT: transport, MW_SYNC_CONCURRENCY: '3' } });
        const sync = s;
        const meter = createMeter(sync.fake, LIVE_KEY, 'api_calls', 'sum').id;
        expect((await sync.request('POST', '/v1/mappings', { metric: 'api_calls', meterEventName: 'api_calls', aggregation: 'sum' })).status).toBe(201);
        const random = seeded(dialect === 'sqlite' ? 11 : 12);
        const refs = Array.from({ length: CUSTOMERS }, (_, i) => `cust-${i}`);
        const stripeIds = new Map<string, string>();
        for (const ref of refs) stripeIds.set(ref, await sync.mapCustomer(ref));
        const usage = async () => sync.ingest(refs.flatMap((ref) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ customerRef: ref, quantity: Math.round(random() * 50_000) / 1000 }))));

        await usage();
        sync.fake.setFaults({ seed: transport === 'v1' ? 5 : 6, rate: 0.2, retryAfterSeconds: 2, holdMs: 600 });

        // A restart while the first cycle is pushing: in-flight calls finish, recorded intents wait.
        const base = sync.fake.requestLog.length;
        const interrupted = sync.app.services.sync.engine.runCycle().catch(() => undefined);
        await until(() => sync.fake.requestLog.length >= base + 3);
        await sync.restart();
        await interrupted;
        const left = await sync.app.services.store.sync.listStates('default', { limit: 1000 });
        // v1 sends one request per customer, so the restart lands mid-cycle; a v2 cycle is one or two requests.
        if (transport === 'v1') expect(left.filter((st) => st.due).length, 'the restart left work for the new process').toBeGreaterThan(0);
        let replicaPushed = 0;

        for (let cycle = 0; cycle < 40; cycle++) {
          // v2 sends a cycle's changes in one stream request: usage every cycle gives it as many requests to fault.
          if ((transport === 'v2' || cycle % 3 === 2) && cycle < 30) await usage();
          if (cycle === 5 || cycle === 20) {
            for (const ref of refs.slice(cycle === 5 ? 0 : 4, cycle === 5 ? 4 : 8)) {
              const adj = await sync.request('POST', '/v1/adjustments', { metric: 'api_calls', customerRef: ref, delta: -1.5, reason: 'refund of a bad batch' });
              expect((await sync.request('POST', `/v1/adjustments/${adj.body.id}/approve`, {})).status).toBe(200);
            }
          }
          if (cycle === 7) replica = await startTestApp(sync.db, sync.env, sync.clock);
          sync.clock.advance(90_000);
          // Both replicas cycle at once; which one claims first alternates.
          const runs = [sync.app.services.sync.engine.runCycle(), replica?.services.sync.engine.runCycle()];
          if (cycle % 2 === 1) runs.reverse();
          const reports = await Promise.all(runs);
          const replicaReport = cycle % 2 === 1 ? reports[0] : reports[1];
          replicaPushed += replicaReport?.pushed.length ?? 0;
        }

        // Faults off: everything left converges.
        sync.fake.setFaults(null);
        for (let i = 0; i < 6; i++) {
          sync.clock.advance(20 * 60_000);
          await sync.app.services.sync.engine.runCycle();
        }

        const status = await sync.status('?limit=1000');
        const items = status.mappings[0].items;
        expect(items.filter((i: any) => i.status !== 'ok'), 'every item settled').toEqual([]);
        for (const ref of refs) {
          const current = await sync.request('GET', `/v1/usage/current?customerRef=${ref}&metric=api_calls`);
          const local = current.body.metrics[0].sum as string;
          const whole = Number(local.split('.')[0]);
          expect(sync.stripeTotal(LIVE_KEY, meter, stripeIds.get(ref)!), `${ref}: Stripe holds the local ${local} in whole units`).toBe(whole);
          expect(items.find((i: any) => i.customerRef === ref)).toMatchObject({ pushed: String(whole), target: String(whole), local, pending: null });
        }

        expect(replicaPushed, 'the second replica pushed too').toBeGreaterThan(0);
        const accepted = sync.fake.account(LIVE_KEY).meterEvents();
        const ids = accepted.map((e) => e.identifier);
        expect(new Set(ids).size, 'no identifier accepted twice').toBe(ids.length);
        const journal = await sync.app.services.store.sync.listJournal('default', { mode: 'live', limit: 100_000 });
        const recordedLive = journal.filter((j) => j.acceptedAt !== null && j.cancelledAt === null).map((j) => j.identifier).sort();
        expect(recordedLive, 'what we recorded as accepted is what Stripe holds').toEqual(accepted.filter((e) => !e.cancelled).map((e) => e.identifier).sort());
        expect(journal.filter((j) => j.cancelledAt !== null).map((j) => j.identifier).sort()).toEqual(accepted.filter((e) => e.cancelled).map((e) => e.identifier).sort());
        const faults = sync.fake.requestLog.filter((r) => r.fault !== undefined).map((r) => r.fault!);
        console.log(`${transport}/${dialect}: ${sync.fake.requestLog.length} requests, faults: ${faults.join(',')}`);
        expect(faults.length, 'faults were injected').toBeGreaterThanOrEqual(4);
        expect(faults.some((f) => f.endsWith('_after_commit')), 'some requests were applied and their answer lost').toBe(true);

        const incidents = await sync.request('GET', '/v1/anomalies?status=open');
        expect((incidents.body.data ?? []).filter((a: any) => a.detector === 'usage_push_failing')).toEqual([]);
      }, 120_000);
    });
  }
}
