import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { LIVE_KEY, TEST_KEY, createMeter, startSync, type SyncApp } from './sync-harness.js';

/**
 * `/v1/mappings`: every combination Stripe cannot represent is refused with the reason, the meter
 * is checked on Stripe (by id or by event name), tenants are isolated, delete disables.
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`mappings: ${dialect}`, () => {
    let s: SyncApp;
    const create = (body: Record<string, unknown>, token?: string) => s.request('POST', '/v1/mappings', body, token);
    const problems = (res: { body: any }) => (res.body.error.details?.problems ?? [res.body.error.message]).join(' | ') as string;

    beforeAll(async () => {
      s = await startSync(dialect);
      createMeter(s.fake, LIVE_KEY, 'm_sum', 'sum');
      createMeter(s.fake, LIVE_KEY, 'm_last', 'last');
      createMeter(s.fake, LIVE_KEY, 'm_count', 'count');
      createMeter(s.fake, LIVE_KEY, 'm_keys', 'sum', { value_settings: { event_payload_key: 'tokens' }, customer_mapping: { event_payload_key: 'cust', type: 'by_id' } });
      createMeter(s.fake, LIVE_KEY, 'm_hourly', 'sum', { event_time_window: 'hour' });
      s.fake.account(LIVE_KEY).deactivateMeter(createMeter(s.fake, LIVE_KEY, 'm_off', 'sum').id);
    });
    afterAll(async () => {
      await s?.close();
    });

    it('refuses what a meter cannot represent, saying why', async () => {
      const sumToLast = await create({ metric: 'api_calls', meterEventName: 'm_last', aggregation: 'sum' });
      expect(sumToLast.status).toBe(400);
      expect(problems(sumToLast)).toMatch(/"sum" counter is pushed as deltas, which only a "sum" meter adds up.*"last"/);

      const maxToSum = await create({ metric: 'seats', meterEventName: 'm_sum', aggregation: 'max' });
      expect(maxToSum.status).toBe(400);
      expect(problems(maxToSum)).toMatch(/"max" counter is pushed as its current value, which only a "last" meter represents.*"sum", which would add every pushed value up/);

      const lastToCount = await create({ metric: 'seats', meterEventName: 'm_count', aggregation: 'last' });
      expect(problems(lastToCount)).toMatch(/counts events \(formula "count"\)/);

      const hourly = await create({ metric: 'api_calls', meterEventName: 'm_hourly', aggregation: 'sum' });
      expect(problems(hourly)).toMatch(/pre-aggregated per hour/);

      const inactive = await create({ metric: 'api_calls', meterEventName: 'm_off', aggregation: 'sum' });
      expect(problems(inactive)).toMatch(/is inactive: Stripe accepts no events/);

      const missing = await create({ metric: 'api_calls', meterEventName: 'no_such_meter', aggregation: 'sum' });
      expect(problems(missing)).toMatch(/no billing meter with event name "no_such_meter"/);

      const keys = await create({ metric: 'api_calls', meterEventName: 'm_keys', aggregation: 'sum', valueKey: 'value' });
      expect(problems(keys)).toMatch(/reads the value from payload key "tokens", so valueKey "value" would never be counted/);

      const badShape = await create({ metric: 'bad metric!', meterEventName: 'm sum', aggregation: 'sum' });
      expect(badShape.status).toBe(400);
      expect(problems(badShape)).toMatch(/metric must be.*meterEventName must be/);

      const wrongAggregation = await create({ metric: 'api_calls', meterEventName: 'm_sum', aggregation: 'avg' });
      expect(wrongAggregation.status).toBe(400);
    });

    it('checks the meter by id or by name, and takes its payload keys', async () => {
      const keyed = await create({ metric: 'tokens', meterEventName: 'm_keys', aggregation: 'sum' });
      expect(keyed.status).toBe(201);
      expect(keyed.body).toMatchObject({ metric: 'tokens', aggregation: 'sum', meterEventName: 'm_keys', meterId: expect.stringMatching(/^mtr_/), valueKey: 'tokens', customerKey: 'cust', enabled: true });

      const lastMeter = s.fake.account(LIVE_KEY).meters().find((m) => m.event_name === 'm_last')!;
      const wrongId = await create({ metric: 'seats', meterEventName: 'm_sum', meterId: lastMeter.id, aggregation: 'last' });
      expect(problems(wrongId)).toMatch(/records events named "m_last", not "m_sum"/);
      const byId = await create({ metric: 'seats', meterEventName: 'm_last', meterId: lastMeter.id, aggregation: 'last' });
      expect(byId.status).toBe(201);
      expect(byId.body.meterId).toBe(lastMeter.id);
      const unknownId = await create({ metric: 'seats', meterEventName: 'm_last', meterId: 'mtr_doesnotexist', aggregation: 'last' });
      expect(problems(unknownId)).toMatch(/no billing meter with id mtr_doesnotexist/);
    });

    it('one enabled mapping per meter; delete disables; PUT keeps metric and aggregation', async () => {
      const first = await create({ metric: 'api_calls', meterEventName: 'm_sum', aggregation: 'sum' });
      expect(first.status).toBe(201);
      const second = await create({ metric: 'other_calls', meterEventName: 'm_sum', aggregation: 'sum' });
      expect(second.status).toBe(409);
      expect(second.body.error.message).toMatch(/already pushes to the meter event "m_sum"/);

      const changeAggregation = await s.request('PUT', `/v1/mappings/${first.body.id}`, { aggregation: 'max' });
      expect(changeAggregation.status).toBe(400);
      expect(problems(changeAggregation)).toMatch(/aggregation cannot change/);

      const deleted = await s.request('DELETE', `/v1/mappings/${first.body.id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body.enabled).toBe(false);
      const again = await create({ metric: 'other_calls', meterEventName: 'm_sum', aggregation: 'sum' });
      expect(again.status).toBe(201);
      const reEnable = await s.request('PUT', `/v1/mappings/${first.body.id}`, { enabled: true });
      expect(reEnable.status).toBe(409);

      const list = await s.request('GET', '/v1/mappings');
      expect(list.body.data.map((m: any) => [m.metric, m.meterEventName, m.enabled])).toContainEqual(['api_calls', 'm_sum', false]);
      expect((await s.request('GET', `/v1/mappings/${again.body.id}`)).body.metric).toBe('other_calls');
    });

    it('is tenant-scoped; the admin names the tenant', async () => {
      const mine = (await s.request('GET', '/v1/mappings')).body.data[0];
      const other = await s.request('POST', '/v1/tenants', { name: `other-${dialect}` }, ADMIN_TOKEN);
      expect(other.status).toBe(201);
      const otherKey = other.body.apiKey as string;
      expect((await s.request('GET', `/v1/mappings/${mine.id}`, undefined, otherKey)).status).toBe(404);
      expect((await s.request('GET', '/v1/mappings', undefined, otherKey)).body.data).toEqual([]);
      // The other tenant has no Stripe key: its meter cannot be checked.
      const noKey = await create({ metric: 'api_calls', meterEventName: 'm_sum', aggregation: 'sum' }, otherKey);
      expect(noKey.status).toBe(400);
      expect(problems(noKey)).toMatch(/no Stripe API key/);
      expect((await s.request('GET', `/v1/mappings/${mine.id}?tenantId=default`, undefined, ADMIN_TOKEN)).status).toBe(200);
      expect((await s.request('GET', `/v1/mappings/${mine.id}`, undefined, ADMIN_TOKEN)).status).toBe(400);
      expect((await s.request('GET', '/v1/mappings?tenantId=default', undefined, otherKey)).status).toBe(403);
    });

    it('shadow: accepted without a test key (with a warning); with one, the test meter is checked', async () => {
      const noTestKey = await create({ metric: 'shadowed', meterEventName: 'm_shadow', aggregation: 'sum', shadow: { enabled: true } });
      // The live meter does not exist yet: refused for that, not for the missing test key.
      expect(problems(noTestKey)).toMatch(/no billing meter with event name "m_shadow"/);
      createMeter(s.fake, LIVE_KEY, 'm_shadow', 'sum');
      const accepted = await create({ metric: 'shadowed', meterEventName: 'm_shadow', aggregation: 'sum', shadow: { enabled: true } });
      expect(accepted.status).toBe(201);
      expect(accepted.body.shadow).toMatchObject({ enabled: true, active: false, warning: expect.stringMatching(/no test-mode key.*never falls back to the live key/) });

      expect((await s.request('PUT', '/v1/tenants/default/stripe', { testApiKey: TEST_KEY }, ADMIN_TOKEN)).status).toBe(200);
      const noTestMeter = await s.request('PUT', `/v1/mappings/${accepted.body.id}`, { shadow: { enabled: true, meterEventName: 'm_shadow_test' } });
      expect(problems(noTestMeter)).toMatch(/shadow: the test-mode Stripe account has no billing meter with event name "m_shadow_test"/);
      createMeter(s.fake, TEST_KEY, 'm_shadow_test', 'last');
      const incompatible = await s.request('PUT', `/v1/mappings/${accepted.body.id}`, { shadow: { enabled: true, meterEventName: 'm_shadow_test' } });
      expect(problems(incompatible)).toMatch(/^shadow: a "sum" counter is pushed as deltas/);
      createMeter(s.fake, TEST_KEY, 'm_shadow_ok', 'sum');
      const ok = await s.request('PUT', `/v1/mappings/${accepted.body.id}`, { shadow: { enabled: true, meterEventName: 'm_shadow_ok' } });
      expect(ok.status).toBe(200);
      expect(ok.body.shadow).toMatchObject({ enabled: true, active: true, warning: null, meterEventName: 'm_shadow_ok', meterId: expect.stringMatching(/^mtr_/) });
      expect((await s.request('PUT', '/v1/tenants/default/stripe', { testApiKey: null }, ADMIN_TOKEN)).status).toBe(200);
    });

    it('Stripe unreachable while checking: 503, nothing stored', async () => {
      const before = (await s.request('GET', '/v1/mappings')).body.data.length;
      s.fake.setFaults({ seed: 1, rate: 1, kinds: ['503'] });
      try {
        const res = await create({ metric: 'api_calls_2', meterEventName: 'm_last', aggregation: 'last' });
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('stripe_unavailable');
      } finally {
        s.fake.setFaults(null);
      }
      expect((await s.request('GET', '/v1/mappings')).body.data.length).toBe(before);
    });
  });
}
