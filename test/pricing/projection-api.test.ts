import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { utc } from '../metering/metering-harness.js';
import { ISSUE_TIERS, money, useProjectionApp } from './projection-harness.js';

/**
 * POST /v1/usage/projection on both stores, with usage ingested through POST /v1/events/ingest and
 * the clock moved, never slept. Every expected number is worked out by hand in the comments.
 * The clock's home is 2026-11-20 12:00 UTC; November has 30 days.
 */
const T0 = utc(2026, 11, 20, 12);
const NOV = (day: number, hour = 0, minute = 0) => new Date(utc(2026, 11, day, hour, minute)).toISOString();

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`usage projection: ${dialect}`, () => {
    const p = useProjectionApp(dialect, { resetClockTo: T0 });

    it('before 3 full days: linear in elapsed time — 100 units in 2 of 30 days → 1,500 → 1,120.00 on the issue tiers', async () => {
      const t = await p.tenant('linear');
      expect((await t.putPrice('api_calls', { priceConfig: { model: 'tiered', currency: 'USD', tiers: ISSUE_TIERS } })).status).toBe(200);
      p.m.app.clock.set(utc(2026, 11, 3));
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_a', quantity: 60, ts: NOV(1, 10) },
        { metric: 'api_calls', customerRef: 'cus_a', quantity: 40, ts: NOV(2, 15) },
      ]);
      const res = await t.project({ customerRef: 'cus_a' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        customerRef: 'cus_a',
        asOf: '2026-11-03T00:00:00.000Z',
        // 2 / 30 = 0.0666… → 0.066667
        period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', source: 'calendar', elapsedFraction: '0.066667' },
      });
      const [line] = res.body.metrics;
      expect(line).toMatchObject({
        metric: 'api_calls',
        aggregation: 'sum',
        usage: { sum: '100', max: '60', last: '40', lastTs: '2026-11-02T15:00:00.000Z', count: 2 },
        quantity: '100',
        // 100 × 30 days / 2 days
        projectedQuantity: '1500',
        method: 'linear',
        dailyRate: null,
        priced: true,
        price: { scope: 'tenant', currency: 'usd', model: 'graduated', source: 'config', stripePriceId: null },
      });
      // 100 × 1.00 = 100.00 so far; 1,500 → 100 × 1.00 + 900 × 0.80 + 500 × 0.60 = 1,120.00
      expect(line.cost.current.amount).toEqual(money(10000, '100.00 USD'));
      expect(line.cost.projected.amount).toEqual(money(112000, '1,120.00 USD'));
      expect(line.cost.projected.tiers.map((tier: any) => [tier.tier, tier.quantity, tier.unitPrice, tier.amount.formatted])).toEqual([
        [1, '100', '1', '100.00 USD'],
        [2, '900', '0.8', '720.00 USD'],
        [3, '500', '0.6', '300.00 USD'],
      ]);
      expect(res.body.totals).toEqual([{ currency: 'usd', current: money(10000, '100.00 USD'), projected: money(112000, '1,120.00 USD') }]);

      // A fractional elapsed time: 90 units in 2.25 days → 90 × 30 / 2.25 = 1,200 → 100 + 720 + 120 = 940.00
      p.m.app.clock.set(utc(2026, 11, 3, 6));
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_b', quantity: 40, ts: NOV(1, 10) },
        { metric: 'api_calls', customerRef: 'cus_b', quantity: 50, ts: NOV(2, 10) },
      ]);
      const b = await t.project({ customerRef: 'cus_b' });
      expect(b.body.period.elapsedFraction).toBe('0.075');
      expect(b.body.metrics[0]).toMatchObject({ quantity: '90', projectedQuantity: '1200', method: 'linear' });
      expect(b.body.totals[0]).toMatchObject({ current: money(9000, '90.00 USD'), projected: money(94000, '940.00 USD') });
    });

    it('with 3+ full days: the trailing 7-day daily rate, not the period average (volume tiers)', async () => {
      const t = await p.tenant('rate');
      await t.putPrice('api_calls', { priceConfig: { model: 'volume', currency: 'usd', tiers: ISSUE_TIERS } });
      // A burst early in the month, then 10 a day. The window is [Nov 13 12:00, Nov 20 12:00): the
      // Nov 13 06:00 event is just outside it.
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_r', quantity: 1000, ts: NOV(2, 10) },
        { metric: 'api_calls', customerRef: 'cus_r', quantity: 500, ts: NOV(13, 6) },
        ...[14, 15, 16, 17, 18, 19, 20].map((day) => ({ metric: 'api_calls', customerRef: 'cus_r', quantity: 10, ts: NOV(day, 6) })),
      ]);
      const res = await t.project({ customerRef: 'cus_r' });
      expect(res.status).toBe(200);
      expect(res.body.period.elapsedFraction).toBe('0.65'); // 19.5 / 30
      const [line] = res.body.metrics;
      expect(line).toMatchObject({
        quantity: '1570',
        method: 'daily_rate',
        dailyRate: { perDay: '10', windowSum: '70', windowStart: '2026-11-13T12:00:00.000Z', windowEnd: '2026-11-20T12:00:00.000Z', days: 7 },
        // 1,570 + 10/day × 10.5 days left = 1,675 (linear would say 1,570 × 30 / 19.5 = 2,415.38)
        projectedQuantity: '1675',
      });
      // Volume: every unit at the tier holding the total (> 1,000 → 0.60): 1,570 → 942.00, 1,675 → 1,005.00
      expect(line.cost.current.amount).toEqual(money(94200, '942.00 USD'));
      expect(line.cost.projected.amount).toEqual(money(100500, '1,005.00 USD'));
      expect(line.cost.projected.tiers.filter((tier: any) => tier.quantity !== '0').map((tier: any) => [tier.tier, tier.quantity])).toEqual([[3, '1675']]);
      expect(res.body.totals).toEqual([{ currency: 'usd', current: money(94200, '942.00 USD'), projected: money(100500, '1,005.00 USD') }]);
    });

    it('switches from linear to daily_rate exactly when the period holds 3 full days', async () => {
      const t = await p.tenant('switch');
      p.m.app.clock.set(utc(2026, 11, 3, 23, 30));
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_s', quantity: 30, ts: NOV(1, 5) },
        { metric: 'api_calls', customerRef: 'cus_s', quantity: 60, ts: NOV(3, 20) },
      ]);
      // 71.5 h elapsed (2 full days): 90 × 720 h / 71.5 h = 906.2937062… → 906.293706
      const before = await t.project({ customerRef: 'cus_s' });
      expect(before.body.metrics[0]).toMatchObject({ method: 'linear', projectedQuantity: '906.293706', priced: false, price: null, cost: null });
      expect(before.body.totals).toEqual([]);
      // Nov 4 00:00: window [Nov 1, Nov 4) holds 90 → 30/day; 90 + 30 × 27 days = 900
      p.m.app.clock.set(utc(2026, 11, 4));
      const after = await t.project({ customerRef: 'cus_s' });
      expect(after.body.metrics[0]).toMatchObject({
        method: 'daily_rate',
        dailyRate: { perDay: '30', windowSum: '90', windowStart: '2026-11-01T00:00:00.000Z', windowEnd: '2026-11-04T00:00:00.000Z', days: 3 },
        projectedQuantity: '900',
      });
    });

    it('max and last metrics are priced and projected at their current value; unpriced metrics are listed with priced:false', async () => {
      const t = await p.tenant('levels');
      await t.putPrice('seats', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '5.00' }, aggregation: 'max' });
      await t.putPrice('storage_gb', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.10' }, aggregation: 'last' });
      await t.ingest([
        { metric: 'seats', customerRef: 'cus_l', quantity: 3, ts: NOV(5) },
        { metric: 'seats', customerRef: 'cus_l', quantity: 7, ts: NOV(10) },
        { metric: 'seats', customerRef: 'cus_l', quantity: 4, ts: NOV(15) },
        { metric: 'storage_gb', customerRef: 'cus_l', quantity: 100, ts: NOV(10) },
        { metric: 'storage_gb', customerRef: 'cus_l', quantity: 80, ts: NOV(12) },
        { metric: 'logins', customerRef: 'cus_l', quantity: 5, ts: NOV(19) },
      ]);
      const res = await t.project({ customerRef: 'cus_l' });
      expect(res.body.metrics.map((m: any) => m.metric)).toEqual(['logins', 'seats', 'storage_gb']);
      const [logins, seats, storage] = res.body.metrics;
      // 5 in the window → 5/7 = 0.714285… per day; 5 + 5 × 10.5 / 7 = 12.5
      expect(logins).toMatchObject({ priced: false, price: null, cost: null, aggregation: 'sum', quantity: '5', method: 'daily_rate', projectedQuantity: '12.5' });
      expect(logins.dailyRate.perDay).toBe('0.714286');
      // max 7 seats × 5.00 = 35.00, now and at the end
      expect(seats).toMatchObject({ aggregation: 'max', usage: { sum: '14', max: '7', last: '4' }, quantity: '7', projectedQuantity: '7', method: 'current_value', dailyRate: null });
      expect([seats.cost.current.amount, seats.cost.projected.amount]).toEqual([money(3500, '35.00 USD'), money(3500, '35.00 USD')]);
      // last reported 80 GB × 0.10 = 8.00
      expect(storage).toMatchObject({ aggregation: 'last', quantity: '80', projectedQuantity: '80', method: 'current_value' });
      expect(storage.cost.projected.amount).toEqual(money(800, '8.00 USD'));
      expect(res.body.totals).toEqual([{ currency: 'usd', current: money(4300, '43.00 USD'), projected: money(4300, '43.00 USD') }]);
    });

    it('keeps one total per currency, never summed across currencies', async () => {
      const t = await p.tenant('currencies');
      await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.01' } });
      await t.putPrice('calls_jp', { priceConfig: { model: 'per_unit', currency: 'JPY', unitPrice: '2' } });
      await t.putPrice('sms', { priceConfig: { model: 'per_unit', currency: 'eur', unitPrice: '0.05' } }, 'cus_m');
      p.m.app.clock.set(utc(2026, 11, 3));
      await t.ingest([
        { metric: 'api_calls', customerRef: 'cus_m', quantity: 1000, ts: NOV(2) },
        { metric: 'sms', customerRef: 'cus_m', quantity: 10, ts: NOV(2) },
        { metric: 'calls_jp', customerRef: 'cus_m', quantity: 7, ts: NOV(2) },
      ]);
      // 2 of 30 days: every quantity × 15.
      const res = await t.project({ customerRef: 'cus_m' });
      expect(res.body.metrics.map((m: any) => [m.metric, m.projectedQuantity, m.price.currency, m.price.scope])).toEqual([
        ['api_calls', '15000', 'usd', 'tenant'],
        ['calls_jp', '105', 'jpy', 'tenant'],
        ['sms', '150', 'eur', 'customer'],
      ]);
      expect(res.body.totals).toEqual([
        { currency: 'usd', current: money(1000, '10.00 USD'), projected: money(15000, '150.00 USD') },
        { currency: 'jpy', current: money(14, '14 JPY'), projected: money(210, '210 JPY') },
        { currency: 'eur', current: money(50, '0.50 EUR'), projected: money(750, '7.50 EUR') },
      ]);
    });

    it('uses the billing period from the customer’s anchor (PUT /v1/customers), not the calendar month', async () => {
      const t = await p.tenant('anchor');
      await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '0.50' } });
      expect((await p.call('PUT', '/v1/customers/cus_anchor', { billingAnchor: '2026-10-15T00:00:00Z' }, t.key)).status).toBe(200);
      await t.ingest([
        // The previous period [Oct 15, Nov 15) closed more than 48 h ago: late, not in this period.
        { metric: 'api_calls', customerRef: 'cus_anchor', quantity: 1000, ts: NOV(14, 6) },
        { metric: 'api_calls', customerRef: 'cus_anchor', quantity: 25, ts: NOV(15, 6) },
        ...[16, 17, 18, 19, 20].map((day) => ({ metric: 'api_calls', customerRef: 'cus_anchor', quantity: 10, ts: NOV(day, 6) })),
      ]);
      const res = await t.project({ customerRef: 'cus_anchor' });
      // 5.5 of 30 days = 0.18333…
      expect(res.body.period).toEqual({ start: '2026-11-15T00:00:00.000Z', end: '2026-12-15T00:00:00.000Z', source: 'anchor', elapsedFraction: '0.183333' });
      // 5 full days → window [Nov 15 12:00, Nov 20 12:00) = 50 → 10/day; 75 + 10 × 24.5 days = 320
      expect(res.body.metrics[0]).toMatchObject({
        quantity: '75',
        method: 'daily_rate',
        dailyRate: { perDay: '10', windowSum: '50', windowStart: '2026-11-15T12:00:00.000Z', days: 5 },
        projectedQuantity: '320',
      });
      expect(res.body.totals).toEqual([{ currency: 'usd', current: money(3750, '37.50 USD'), projected: money(16000, '160.00 USD') }]);
    });

    it('unknown customer → 404; a known customer without usage still gets its plan (flat fee) priced', async () => {
      const t = await p.tenant('known');
      await t.putPrice('platform', { priceConfig: { model: 'flat', currency: 'usd', flatFee: '49.00' } });
      const unknown = await t.project({ customerRef: 'cus_nobody' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('not_found');

      await p.call('PUT', '/v1/customers/cus_new', {}, t.key);
      const fresh = await t.project({ customerRef: 'cus_new' });
      expect(fresh.status).toBe(200);
      expect(fresh.body.metrics).toEqual([expect.objectContaining({ metric: 'platform', quantity: '0', projectedQuantity: '0', priced: true })]);
      expect(fresh.body.totals).toEqual([{ currency: 'usd', current: money(4900, '49.00 USD'), projected: money(4900, '49.00 USD') }]);

      // Known through a price override only, or through usage in an earlier period only.
      await t.putPrice('platform', { priceConfig: { model: 'flat', currency: 'usd', flatFee: '19.00' } }, 'cus_override');
      expect((await t.project({ customerRef: 'cus_override' })).body.totals[0].projected).toEqual(money(1900, '19.00 USD'));
      p.m.app.clock.set(utc(2026, 10, 20));
      await t.ingest([{ metric: 'api_calls', customerRef: 'cus_old', quantity: 3, ts: new Date(utc(2026, 10, 10)).toISOString() }]);
      p.m.app.clock.set(T0);
      const old = await t.project({ customerRef: 'cus_old' });
      expect(old.status).toBe(200);
      expect(old.body.metrics.map((m: any) => m.metric)).toEqual(['platform']);
    });

    it('asOf picks the period and the elapsed time; usage is what the counters hold now', async () => {
      const t = await p.tenant('asof');
      await t.putPrice('api_calls', { priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '1' } });
      await t.ingest([{ metric: 'api_calls', customerRef: 'cus_t', quantity: 10, ts: NOV(1, 12) }]);
      const early = await t.project({ customerRef: 'cus_t', asOf: '2026-11-02T00:00:00Z' });
      expect(early.body).toMatchObject({ asOf: '2026-11-02T00:00:00.000Z', period: { elapsedFraction: '0.033333' } });
      expect(early.body.metrics[0]).toMatchObject({ method: 'linear', quantity: '10', projectedQuantity: '300' });
      // Epoch ms in December (31 days): a new period with nothing counted yet.
      const december = await t.project({ customerRef: 'cus_t', asOf: utc(2026, 12, 5) });
      expect(december.body.period).toEqual({ start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z', source: 'calendar', elapsedFraction: '0.129032' });
      expect(december.body.metrics[0]).toMatchObject({ quantity: '0', projectedQuantity: '0' });
    });

    it('enforces tenants, scopes and input validation', async () => {
      const a = await p.tenant('iso-a');
      const b = await p.tenant('iso-b');
      await a.ingest([{ metric: 'api_calls', customerRef: 'cus_iso', quantity: 1, ts: NOV(19) }]);
      expect((await a.project({ customerRef: 'cus_iso' })).status).toBe(200);
      // Another tenant's key: naming tenant A is a 403; its own tenant does not know the customer.
      expect((await b.project({ tenantId: a.id, customerRef: 'cus_iso' })).status).toBe(403);
      expect((await b.project({ customerRef: 'cus_iso' })).status).toBe(404);
      const admin = await p.m.app.server.inject({ method: 'POST', url: '/v1/usage/projection', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant-id': a.id }, payload: { customerRef: 'cus_iso' } });
      expect(admin.statusCode).toBe(200);
      expect((await p.m.app.server.inject({ method: 'POST', url: '/v1/usage/projection', payload: { customerRef: 'cus_iso' } })).statusCode).toBe(401);
      // Scope read: an ingest-only key is refused, a read-only key is enough.
      const ingestOnly = await p.call('POST', '/v1/api-keys', { name: 'ingest-only', scopes: ['ingest'] }, a.key);
      const readOnly = await p.call('POST', '/v1/api-keys', { name: 'read-only', scopes: ['read'] }, a.key);
      expect((await p.call('POST', '/v1/usage/projection', { customerRef: 'cus_iso' }, ingestOnly.body.key)).status).toBe(403);
      expect((await p.call('POST', '/v1/usage/projection', { customerRef: 'cus_iso' }, readOnly.body.key)).status).toBe(200);

      for (const body of [{}, { customerRef: '' }, { customerRef: 'cus_iso', extra: 1 }, { customerRef: 'cus_iso', asOf: true }]) {
        const res = await a.project(body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      for (const asOf of ['yesterday', 0, 999_999_999_999_999]) {
        const badTime = await a.project({ customerRef: 'cus_iso', asOf });
        expect(badTime.status).toBe(400);
        expect(badTime.body.error.details.problems).toEqual([expect.stringContaining('asOf')]);
      }
    });
  });
}
