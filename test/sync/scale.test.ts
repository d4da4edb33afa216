import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { LIVE_KEY, createMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * Stripe calls follow customers × intervals, never events: 150 customers, 4 intervals of the
 * background loop (MW_SYNC_INTERVAL_SECONDS=60), 80,000 usage events. v1 makes one call per changed
 * customer per interval; v2 one stream request per 100 of them (plus a session every 15 minutes).
 * The measured "calls per million events" is printed and checked against that arithmetic.
 */
const CUSTOMERS = 150;
const INTERVALS = 4;
const BATCHES_PER_INTERVAL = 20;

for (const transport of ['v1', 'v2'] as const) {
  for (const dialect of DIALECTS) {
    const enabled = await dialectEnabled(dialect);

    describe.skipIf(!enabled)(`calls per million events (${transport}): ${dialect}`, () => {
      let s: SyncApp | undefined;
      afterAll(async () => {
        await s?.close();
      });

      it('scales with customers × intervals, runs on the configured interval', async () => {
        s = await startSync(dialect, { env: { MW_SYNC_TRANSPORT: transport, MW_SYNC_INTERVAL_SECONDS: '60' } });
        const sync = s;
        const meter = createMeter(sync.fake, LIVE_KEY, 'api_calls', 'sum').id;
        expect((await sync.request('POST', '/v1/mappings', { metric: 'api_calls', meterEventName: 'api_calls', aggregation: 'sum' })).status).toBe(201);
        const refs = Array.from({ length: CUSTOMERS }, (_, i) => `c${i}`);
        const ids = new Map<string, string>();
        for (const ref of refs) ids.set(ref, await sync.mapCustomer(ref));
        const pushCalls = () => sync.fake.requestLog.filter((r) => /meter_event/.test(r.path));

        let events = 0;
        for (let interval = 0; interval < INTERVALS; interval++) {
          for (let b = 0; b < BATCHES_PER_INTERVAL; b++) {
            await sync.ingest(Array.from({ length: 1000 }, (_, i) => ({ customerRef: refs[(b * 1000 + i) % CUSTOMERS]!, quantity: 1 })));
            events += 1000;
          }
          const before = pushCalls().length;
          await sync.app.services.loop.tick();
          await sync.app.services.sync.engine.idle();
          const made = pushCalls().length - before;
          expect(made).toBe(transport === 'v1' ? CUSTOMERS : Math.ceil(CUSTOMERS / 100) + (interval === 0 ? 1 : 0));
          // Half an interval later the loop ticks again, but the sync waits for its interval.
          sync.clock.advance(30_000);
          await sync.ingest([{ customerRef: 'c0', quantity: 1 }]);
          events += 1;
          await sync.app.services.loop.tick();
          await sync.app.services.sync.engine.idle();
          expect(pushCalls().length, 'no push before the interval has passed').toBe(before + made);
          sync.clock.advance(30_000);
        }
        await sync.app.services.loop.tick();
        await sync.app.services.sync.engine.idle();

        for (const ref of refs.slice(0, 5)) {
          const local = (await sync.request('GET', `/v1/usage/current?customerRef=${ref}&metric=api_calls`)).body.metrics[0].sum;
          expect(String(sync.stripeTotal(LIVE_KEY, meter, ids.get(ref)!))).toBe(local);
        }
        if (transport === 'v2') {
          const streams = sync.fake.requestLog.filter((r) => r.path === '/v2/billing/meter_event_stream');
          expect(streams.length).toBe(INTERVALS * Math.ceil(CUSTOMERS / 100) + 1);
        }
        const status = await sync.status('?limit=1');
        const live = status.summary.live;
        expect(live.stripeCalls).toBe(pushCalls().length);
        expect(live.eventsCovered).toBe(events);
        expect(live.callsPerMillionEvents).toBeCloseTo((live.stripeCalls / events) * 1e6, 0);
        console.log(
          `calls per million events (${transport}, ${dialect}): ${live.callsPerMillionEvents} — ${live.stripeCalls} Stripe calls for ${events} events, ${CUSTOMERS} customers, ${INTERVALS + 1} intervals`,
        );
      }, 120_000);
    });
  }
}
