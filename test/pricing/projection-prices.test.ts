import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { utc } from '../metering/metering-harness.js';
import { STRIPE_FIXTURE_PRICE } from '../support/price-fixtures.js';
import { ISSUE_TIERS, money, useProjectionApp } from './projection-harness.js';

/**
 * Price plans (tenant default + customer overrides) through the HTTP API on both stores, the Stripe
 * price import, and how the plan drives POST /v1/usage/projection.
 */
const T0 = utc(2026, 11, 20, 12);
const NOV = (day: number, hour = 0) => new Date(utc(2026, 11, day, hour)).toISOString();

/** A metered, tiered Stripe Price as the API returns it with expand[]=tiers: amounts in cents. */
const STRIPE_GRADUATED = {
  id: 'price_1Graduated',
  object: 'price',
  active: true,
  billing_scheme: 'tiered',
  currency: 'usd',
  livemode: false,
  product: 'prod_API',
  recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'metered', aggregate_usage: 'sum', trial_period_days: null },
  tiers: [
    { up_to: 100, unit_amount: 100, unit_amount_decimal: '100', flat_amount: null, flat_amount_decimal: null },
    { up_to: 1000, unit_amount: 80, unit_amount_decimal: '80', flat_amount: null, flat_amount_decimal: null },
    { up_to: null, unit_amount: 60, unit_amount_decimal: '60', flat_amount: null, flat_amount_decimal: null },
  ],
  tiers_mode: 'graduated',
  transform_quantity: null,
  type: 'recurring',
  unit_amount: null,
  unit_amount_decimal: null,
};

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`price plans: ${dialect}`, () => {
    const p = useProjectionApp(dialect, { resetClockTo: T0 });

    it('stores the tenant default in canonical form; replace, list, get, delete', async () => {
      const t = await p.tenant('crud');
      const put = await t.putPrice('api_calls', { priceConfig: { model: 'tiered', currency: 'USD', tiers: [{ upTo: 100, unitPrice: 1 }, { upTo: 1000, unitPrice: 0.8 }, { upTo: 'inf', unitPrice: '0.60' }] } });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({
        metric: 'api_calls',
        customerRef: null,
        scope: 'tenant',
        aggregation: 'sum',
        currency: 'usd',
        priceConfig: { model: 'graduated', currency: 'usd', tiers: [{ upTo: '100', unitPrice: '1' }, { upTo: '1000', unitPrice: '0.8' }, { upTo: null, unitPrice: '0.6' }] },
        source: 'config',
        stripePriceId: null,
        createdAt: '2026-11-20T12:00:00.000Z',
        updatedAt: '2026-11-20T12:00:00.000Z',
        updatedBy: expect.stringMatching(/^api_key:/),
      });
      p.m.app.clock.advance(3_600_000);
      const replaced = await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.002' }, aggregation: 'max' });
      expect(replaced.body).toMatchObject({ aggregation: 'max', priceConfig: { model: 'per_unit', unitPrice: '0.002' }, createdAt: '2026-11-20T12:00:00.000Z', updatedAt: '2026-11-20T13:00:00.000Z' });
      await t.putPrice('storage', { priceConfig: { model: 'flat', currency: 'eur', flatFee: '5' } });

      expect((await p.call('GET', '/v1/prices', undefined, t.key)).body.data.map((v: any) => [v.metric, v.currency])).toEqual([['api_calls', 'usd'], ['storage', 'eur']]);
      expect((await p.call('GET', '/v1/prices/storage', undefined, t.key)).body.priceConfig).toEqual({ model: 'flat', currency: 'eur', flatFee: '5' });
      expect((await p.call('DELETE', '/v1/prices/storage', undefined, t.key)).status).toBe(204);
      expect((await p.call('GET', '/v1/prices/storage', undefined, t.key)).status).toBe(404);
      expect((await p.call('DELETE', '/v1/prices/storage', undefined, t.key)).status).toBe(404);
      expect((await p.call('GET', '/v1/prices', undefined, t.key)).body.data).toHaveLength(1);
    });

    it('a customer override beats the tenant default, in the plan and in the projection; deleting it restores the default', async () => {
      const t = await p.tenant('override');
      await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.01' } });
      await t.putPrice('storage', { priceConfig: { model: 'flat', currency: 'usd', flatFee: '5' } });
      const override = await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.02' } }, 'cus_vip');
      expect(override.body).toMatchObject({ customerRef: 'cus_vip', scope: 'customer' });

      const plan = await p.call('GET', '/v1/customers/cus_vip/prices', undefined, t.key);
      expect(plan.body.data.map((v: any) => v.metric)).toEqual(['api_calls']);
      expect(plan.body.effective.map((v: any) => [v.metric, v.scope, v.priceConfig.unitPrice ?? v.priceConfig.flatFee])).toEqual([
        ['api_calls', 'customer', '0.02'],
        ['storage', 'tenant', '5'],
      ]);
      expect((await p.call('GET', '/v1/customers/cus_vip/prices/api_calls', undefined, t.key)).body.priceConfig.unitPrice).toBe('0.02');
      expect((await p.call('GET', '/v1/customers/cus_std/prices/api_calls', undefined, t.key)).status).toBe(404);

      p.m.app.clock.set(utc(2026, 11, 3));
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_vip', quantity: 100, ts: NOV(2) },
        { metric: 'api_calls', customerRef: 'cus_std', quantity: 100, ts: NOV(2) },
      ]);
      // 100 in 2 of 30 days → 1,500: × 0.02 = 30.00 for the VIP, × 0.01 = 15.00 on the default; + 5.00 flat each.
      const vip = await t.project({ customerRef: 'cus_vip' });
      expect(vip.body.metrics[0]).toMatchObject({ metric: 'api_calls', price: { scope: 'customer' }, cost: { projected: { amount: money(3000, '30.00 USD') } } });
      expect(vip.body.totals[0].projected).toEqual(money(3500, '35.00 USD'));
      const std = await t.project({ customerRef: 'cus_std' });
      expect(std.body.metrics[0]).toMatchObject({ price: { scope: 'tenant' }, cost: { projected: { amount: money(1500, '15.00 USD') } } });

      expect((await p.call('DELETE', '/v1/customers/cus_vip/prices/api_calls', undefined, t.key)).status).toBe(204);
      expect((await t.project({ customerRef: 'cus_vip' })).body.metrics[0]).toMatchObject({ price: { scope: 'tenant' }, cost: { projected: { amount: money(1500, '15.00 USD') } } });
      expect((await p.call('DELETE', '/v1/customers/cus_vip/prices/api_calls', undefined, t.key)).status).toBe(404);
    });

    it('imports Stripe prices (tiers in cents, transform_quantity, currency_options, aggregate_usage) and projects with them', async () => {
      const t = await p.tenant('stripe');
      const graduated = await t.putPrice('api_calls', { stripePrice: STRIPE_GRADUATED });
      expect(graduated.status).toBe(200);
      expect(graduated.body).toMatchObject({
        source: 'stripe',
        stripePriceId: 'price_1Graduated',
        aggregation: 'sum',
        priceConfig: { model: 'graduated', currency: 'usd', tiers: [{ upTo: '100', unitPrice: '1' }, { upTo: '1000', unitPrice: '0.8' }, { upTo: null, unitPrice: '0.6' }] },
      });
      p.m.app.clock.set(utc(2026, 11, 3));
      await t.ingest([{ metric: 'api_calls', customerRef: 'cus_stripe', quantity: 100, ts: NOV(2) }]);
      const projection = await t.project({ customerRef: 'cus_stripe' });
      // The issue's tiers, as Stripe writes them: 1,500 → 1,120.00
      expect(projection.body.metrics[0]).toMatchObject({ projectedQuantity: '1500', price: { source: 'stripe', stripePriceId: 'price_1Graduated' } });
      expect(projection.body.totals).toEqual([{ currency: 'usd', current: money(10000, '100.00 USD'), projected: money(112000, '1,120.00 USD') }]);

      // Stripe's fixture: 2000 cents per package of 1,592,560,163 units, rounded down.
      const fixture = await t.putPrice('api_calls', { stripePrice: STRIPE_FIXTURE_PRICE }, 'cus_fixture');
      expect(fixture.body).toMatchObject({
        scope: 'customer',
        aggregation: 'sum',
        stripePriceId: 'price_1PgafmB7WZ01zgkW6dKueIc5',
        priceConfig: { model: 'package', currency: 'usd', unitPrice: '20', packageSize: '1592560163', packageRounding: 'down' },
      });
      const multi = { ...STRIPE_GRADUATED, id: 'price_multi', billing_scheme: 'per_unit', tiers_mode: null, tiers: null, unit_amount: 100, unit_amount_decimal: '100', currency_options: { eur: { unit_amount: 90, unit_amount_decimal: '90.5' } } };
      expect((await t.putPrice('sms', { stripePrice: multi, currency: 'EUR' })).body.priceConfig).toEqual({ model: 'per_unit', currency: 'eur', unitPrice: '0.905' });

      const withAggregation = (aggregate_usage: string) => ({ ...STRIPE_GRADUATED, recurring: { ...STRIPE_GRADUATED.recurring, aggregate_usage } });
      expect((await t.putPrice('seats', { stripePrice: withAggregation('max') })).body.aggregation).toBe('max');
      expect((await t.putPrice('seats', { stripePrice: withAggregation('last_during_period') })).body.aggregation).toBe('last');
      const lastEver = await t.putPrice('seats', { stripePrice: withAggregation('last_ever') });
      expect(lastEver.status).toBe(400);
      expect(lastEver.body.error.message).toMatch(/last_ever/);
      expect((await t.putPrice('seats', { stripePrice: withAggregation('last_ever'), aggregation: 'last' })).body.aggregation).toBe('last');

      const noTiers = await t.putPrice('seats', { stripePrice: { ...STRIPE_GRADUATED, tiers: null } });
      expect(noTiers.status).toBe(400);
      expect(noTiers.body.error.details).toMatchObject({ pricingCode: 'UNSUPPORTED_STRIPE_PRICE', path: 'stripePrice.tiers' });
      expect((await t.putPrice('seats', { stripePrice: { ...STRIPE_GRADUATED, tiers: 'abc' } })).status).toBe(400);
      expect((await t.putPrice('seats', { stripePrice: { ...STRIPE_FIXTURE_PRICE, unit_amount: null, unit_amount_decimal: null } })).body.error.details.pricingCode).toBe('UNSUPPORTED_STRIPE_PRICE');
    });

    it('refuses invalid prices with 400 and the reason (and where)', async () => {
      const t = await p.tenant('invalid');
      const perUnit = { model: 'per_unit', currency: 'usd', unitPrice: '0.01' };
      const cases: [unknown, Record<string, unknown>][] = [
        [{ priceConfig: perUnit, stripePrice: STRIPE_GRADUATED }, { problems: ['give exactly one of priceConfig and stripePrice'] }],
        [{}, { problems: ['give exactly one of priceConfig and stripePrice'] }],
        [{ priceConfig: perUnit, currency: 'eur' }, { problems: [expect.stringContaining('currency applies to stripePrice only')] }],
        [{ priceConfig: { model: 'graduated', currency: 'usd', tiers: [{ upTo: 100, unitPrice: '1' }, { upTo: 50, unitPrice: '0.5' }, { upTo: null, unitPrice: '0.1' }] } }, { pricingCode: 'INVALID_TIERS', path: 'priceConfig.tiers[1].upTo' }],
        [{ priceConfig: { ...perUnit, currency: 'xyz' } }, { pricingCode: 'UNKNOWN_CURRENCY', path: 'priceConfig.currency' }],
        [{ priceConfig: { ...perUnit, tiers: ISSUE_TIERS } }, { pricingCode: 'INVALID_CONFIG', path: 'priceConfig.tiers' }],
        [{ priceConfig: { ...perUnit, unitPrice: '0.000000000000001' } }, { pricingCode: 'INVALID_PRICE', path: 'priceConfig.unitPrice' }],
      ];
      for (const [body, details] of cases) {
        const res = await t.putPrice('api_calls', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(res.body.error.details, JSON.stringify(body)).toMatchObject(details);
      }
      // Shape errors caught by the schema: a bad aggregation, unknown fields, a bad metric name.
      expect((await t.putPrice('api_calls', { priceConfig: perUnit, aggregation: 'avg' })).status).toBe(400);
      expect((await t.putPrice('api_calls', { priceConfig: perUnit, note: 'x' })).status).toBe(400);
      expect((await t.putPrice('bad%20metric', { priceConfig: perUnit })).status).toBe(400);
      // A literal a double cannot hold would be stored as a different price: refused, strings are asked for.
      const inexact = await p.call('PUT', '/v1/prices/api_calls', '{"priceConfig":{"model":"per_unit","currency":"usd","unitPrice":0.123456789012345678}}', t.key);
      expect(inexact.status).toBe(400);
      expect(inexact.body.error.message).toMatch(/as strings/);
      expect((await p.call('GET', '/v1/prices', undefined, t.key)).body.data).toEqual([]);
    });

    it('keeps plans per tenant and checks scopes', async () => {
      const a = await p.tenant('plans-a');
      const b = await p.tenant('plans-b');
      await a.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.01' } });
      await a.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.02' } }, 'cus_shared');
      expect((await p.call('PUT', '/v1/prices/api_calls', { tenantId: a.id, priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '9' } }, b.key)).status).toBe(403);
      expect((await p.call('GET', `/v1/prices?tenantId=${a.id}`, undefined, b.key)).status).toBe(403);
      expect((await p.call('GET', '/v1/prices', undefined, b.key)).body.data).toEqual([]);
      expect((await p.call('GET', '/v1/prices/api_calls', undefined, b.key)).status).toBe(404);
      expect((await p.call('DELETE', '/v1/prices/api_calls', undefined, b.key)).status).toBe(404);
      expect((await p.call('GET', '/v1/customers/cus_shared/prices', undefined, b.key)).body).toEqual({ customerRef: 'cus_shared', data: [], effective: [] });
      expect((await p.call('GET', '/v1/prices/api_calls', undefined, a.key)).body.priceConfig.unitPrice).toBe('0.01');

      const readOnly = await p.call('POST', '/v1/api-keys', { name: 'ro', scopes: ['read'] }, a.key);
      const ingestOnly = await p.call('POST', '/v1/api-keys', { name: 'io', scopes: ['ingest'] }, a.key);
      expect((await p.call('PUT', '/v1/prices/api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '1' } }, readOnly.body.key)).status).toBe(403);
      expect((await p.call('DELETE', '/v1/customers/cus_shared/prices/api_calls', undefined, readOnly.body.key)).status).toBe(403);
      expect((await p.call('GET', '/v1/customers/cus_shared/prices', undefined, readOnly.body.key)).status).toBe(200);
      expect((await p.call('GET', '/v1/prices', undefined, ingestOnly.body.key)).status).toBe(403);
      expect((await p.m.app.server.inject({ method: 'GET', url: '/v1/prices' })).statusCode).toBe(401);
    });
  });
}
