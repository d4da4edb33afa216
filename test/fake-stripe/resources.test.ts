import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DAY, LIVE_KEY, T0S, TEST_KEY, startHarness, stripeError } from './harness.js';

describe('fake Stripe: customers, prices, subscriptions', () => {
  it('creates, retrieves, updates and lists customers', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const a = await stripe.customers.create({ email: 'a@example.test', name: 'A', metadata: { tenant: 't1' } });
    expect(a).toMatchObject({ object: 'customer', email: 'a@example.test', name: 'A', livemode: false, created: T0S, metadata: { tenant: 't1' } });
    expect(a.id).toMatch(/^cus_/);
    const b = await stripe.customers.create({ email: 'b@example.test' });
    expect(await stripe.customers.retrieve(a.id)).toEqual(a);
    const updated = await stripe.customers.update(a.id, { name: 'A2', metadata: { tenant: '', plan: 'pro' } });
    expect(updated).toMatchObject({ name: 'A2', metadata: { plan: 'pro' } });
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([b.id, a.id]);
    expect((await stripe.customers.list({ email: 'b@example.test' })).data.map((c) => c.id)).toEqual([b.id]);
    expect(await stripeError(stripe.customers.retrieve('cus_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such customer: 'cus_nope'" });
    expect((await stripe.events.list({ type: 'customer.updated' })).data[0]?.data.previous_attributes).toMatchObject({ name: 'A' });
  });

  it('refuses a missing or malformed key with 401, unknown URLs with 404 and unknown params with 400', async () => {
    const h = await startHarness();
    const noKey = await fetch(`${h.fake.url}/v1/customers`);
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') });
    const bad = await stripeError(h.client('pk_test_123').customers.list());
    expect(bad).toMatchObject({ statusCode: 401, type: 'StripeAuthenticationError', message: 'Invalid API Key provided: pk_test_****_123' });
    const unknown = await fetch(`${h.fake.url}/v1/nothing_here`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('Unrecognized request URL (GET: /v1/nothing_here)');
    const param = await stripeError(h.client().customers.create({ emial: 'x' } as Stripe.CustomerCreateParams));
    expect(param).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'emial' });
    // Basic auth (curl -u key:) works too.
    const basic = await fetch(`${h.fake.url}/v1/customers`, { headers: { Authorization: `Basic ${Buffer.from(`${TEST_KEY}:`).toString('base64')}` } });
    expect(basic.status).toBe(200);
  });

  it('keeps every key in its own account and sets livemode from the key', async () => {
    const h = await startHarness();
    const live = h.client(LIVE_KEY);
    const test = h.client(TEST_KEY);
    const liveCustomer = await live.customers.create({ email: 'live@example.test' });
    expect(liveCustomer.livemode).toBe(true);
    expect(await stripeError(test.customers.retrieve(liveCustomer.id))).toMatchObject({ statusCode: 404 });
    await test.customers.create({ email: 'test@example.test' });
    expect(h.fake.account(LIVE_KEY).customers().map((c) => c.email)).toEqual(['live@example.test']);
    expect(h.fake.account(TEST_KEY).customers().map((c) => c.email)).toEqual(['test@example.test']);
    expect(h.fake.account('rk_test_other').customers()).toEqual([]);
    expect(h.fake.requestLog.filter((r) => r.apiKey === LIVE_KEY).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/customers']);
  });

  it('creates metered, tiered and transformed prices like Stripe', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const meter = await stripe.billing.meters.create({ display_name: 'm', event_name: 'm', default_aggregation: { formula: 'sum' } });
    const product = await stripe.products.create({ name: 'API' });
    expect(await stripeError(stripe.prices.create({ currency: 'usd', unit_amount: 1, product: product.id, recurring: { interval: 'month', usage_type: 'metered' } }))).toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'recurring[meter]',
    });
    const tiered = await stripe.prices.create({
      currency: 'eur',
      product: product.id,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: [
        { up_to: 1000, unit_amount_decimal: Stripe.Decimal.from('0.5') },
        { up_to: 'inf', unit_amount: 0, flat_amount: 200 },
      ],
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
      expand: ['tiers'],
    });
    expect(tiered).toMatchObject({
      object: 'price',
      type: 'recurring',
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      unit_amount: null,
      recurring: { interval: 'month', interval_count: 1, usage_type: 'metered', meter: meter.id },
    });
    // The SDK turns *_decimal strings into its Decimal type; compare their text.
    const text = (v: unknown) => (v === null ? null : String(v));
    expect(tiered.tiers?.map((t) => [t.up_to, t.unit_amount, text(t.unit_amount_decimal), t.flat_amount, text(t.flat_amount_decimal)])).toEqual([
      [1000, null, '0.5', null, null],
      [null, 0, '0', 200, '200'],
    ]);
    expect((await stripe.prices.retrieve(tiered.id)).tiers).toBeUndefined();
    expect((await stripe.prices.retrieve(tiered.id, { expand: ['tiers'] })).tiers).toHaveLength(2);
    const perUnit = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: Stripe.Decimal.from('0.25'), product: product.id, transform_quantity: { divide_by: 1000, round: 'up' } });
    expect(perUnit).toMatchObject({ type: 'one_time', billing_scheme: 'per_unit', unit_amount: null, transform_quantity: { divide_by: 1000, round: 'up' } });
    expect(String(perUnit.unit_amount_decimal)).toBe('0.25');
    expect((await stripe.prices.list({ product: product.id, type: 'recurring' })).data.map((p) => p.id)).toEqual([tiered.id]);
    expect((await stripe.prices.list({ expand: ['data.tiers'], type: 'recurring' })).data[0]?.tiers).toHaveLength(2);
  });

  it('rolls subscription item periods monthly from the billing cycle anchor as the clock moves', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const customer = await stripe.customers.create({});
    const meter = await stripe.billing.meters.create({ display_name: 'm', event_name: 'm', default_aggregation: { formula: 'sum' } });
    const metered = await stripe.prices.create({ currency: 'usd', unit_amount: 2, product_data: { name: 'API' }, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const seat = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product_data: { name: 'Seat' }, recurring: { interval: 'month' } });
    expect(await stripeError(stripe.subscriptions.create({ customer: customer.id, items: [{ price: metered.id, quantity: 3 }] }))).toMatchObject({ statusCode: 400 });
    const anchor = Date.UTC(2026, 10, 30, 0, 0, 0) / 1000;
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: metered.id }, { price: seat.id, quantity: 2 }], billing_cycle_anchor: anchor });
    expect(sub).toMatchObject({ object: 'subscription', status: 'active', customer: customer.id, billing_cycle_anchor: anchor, start_date: T0S, currency: 'usd' });
    const [meteredItem, seatItem] = sub.items.data;
    expect(meteredItem).toMatchObject({ object: 'subscription_item', current_period_start: T0S, current_period_end: anchor, price: { id: metered.id } });
    expect(meteredItem?.quantity).toBeUndefined();
    expect(seatItem?.quantity).toBe(2);
    h.clock.set(Date.UTC(2027, 1, 10)); // February: the period anchored on the 30th ends on the last day of the month... then March 30
    const feb = await stripe.subscriptions.retrieve(sub.id);
    expect(feb.items.data[0]).toMatchObject({ current_period_start: Date.UTC(2027, 0, 30) / 1000, current_period_end: Date.UTC(2027, 1, 28) / 1000 });
    expect((await stripe.subscriptions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([sub.id]);
    const items = await stripe.subscriptionItems.list({ subscription: sub.id });
    expect(items.data.map((i) => [i.id, i.current_period_end])).toEqual([
      [meteredItem!.id, Date.UTC(2027, 1, 28) / 1000],
      [seatItem!.id, Date.UTC(2027, 1, 28) / 1000],
    ]);
    expect((await stripe.subscriptionItems.retrieve(seatItem!.id)).quantity).toBe(2);
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
  });

  it('seeds objects through FakeAccountState with the same rules', async () => {
    const h = await startHarness();
    const account = h.fake.account(TEST_KEY);
    const customer = account.createCustomer({ email: 's@example.test' });
    const meter = account.createMeter({ display_name: 'm', event_name: 'm', default_aggregation: { formula: 'sum' } });
    const price = account.createPrice({ currency: 'usd', unit_amount: 3, product_data: { name: 'X' }, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const period = { start: T0S - 10 * DAY, end: T0S + 20 * DAY };
    const sub = account.createSubscription({ customer: customer.id, items: [{ price: price.id }] }, { currentPeriod: period });
    expect(sub.items.data[0]).toMatchObject({ current_period_start: period.start, current_period_end: period.end });
    account.recordMeterEvent({ event_name: 'm', payload: { stripe_customer_id: customer.id, value: '4' }, identifier: 'seed-1', timestamp: T0S - DAY });
    expect(() => account.recordMeterEvent({ event_name: 'm', payload: { stripe_customer_id: customer.id, value: '4' }, identifier: 'seed-1' })).toThrow(/already exists/);
    const stripe = h.client();
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]?.current_period_end).toBe(period.end);
    expect(account.meterTotal({ meter: meter.id, customer: customer.id, start_time: period.start, end_time: period.end })).toBe(4);
    expect(() => account.createPrice({ currency: 'usd', product_data: { name: 'Y' } })).toThrow(/unit_amount/);
  });
});
