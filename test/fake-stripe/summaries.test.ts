import { describe, expect, it } from 'vitest';
import { DAY, HOUR, T0S, TEST_KEY, customerAndMeter, startHarness, stripeError } from './harness.js';

const DAY0 = T0S - 12 * HOUR; // 2026-11-20 00:00 UTC

describe('fake Stripe: meter event summaries', () => {
  it('groups by hour and by day, newest window first, and aggregates with sum', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const other = await stripe.customers.create({});
    const send = (customerId: string, value: string, timestamp: number) =>
      stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customerId, value }, timestamp });
    await send(customer.id, '1', T0S - 2 * HOUR + 10);
    await send(customer.id, '2', T0S - 2 * HOUR + 3599);
    await send(customer.id, '4', T0S - HOUR);
    await send(customer.id, '8', T0S - 13 * HOUR); // the day before
    await send(other.id, '100', T0S - HOUR);

    const hourly = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: T0S - 3 * HOUR,
      end_time: T0S,
      value_grouping_window: 'hour',
    });
    expect(hourly.data.map((s) => [s.start_time, s.end_time, s.aggregated_value])).toEqual([
      [T0S - HOUR, T0S, 4],
      [T0S - 2 * HOUR, T0S - HOUR, 3],
    ]);
    const daily = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: DAY0 - DAY,
      end_time: DAY0 + DAY,
      value_grouping_window: 'day',
    });
    expect(daily.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([
      [DAY0, 7],
      [DAY0 - DAY, 8],
    ]);
    const whole = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: DAY0 - DAY, end_time: DAY0 + DAY });
    expect(whole.data.map((s) => s.aggregated_value)).toEqual([15]);
    // An empty range still has its one ungrouped summary.
    const empty = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0S, end_time: T0S + 60 });
    expect(empty.data.map((s) => s.aggregated_value)).toEqual([0]);
  });

  it('counts with count and takes the latest value with last', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const customer = await stripe.customers.create({});
    const count = await stripe.billing.meters.create({ display_name: 'c', event_name: 'c', default_aggregation: { formula: 'count' } });
    const last = await stripe.billing.meters.create({ display_name: 'l', event_name: 'l', default_aggregation: { formula: 'last' } });
    for (const [value, ts] of [['5', T0S - 50], ['9', T0S - 10], ['7', T0S - 30]] as const) {
      await stripe.billing.meterEvents.create({ event_name: 'c', payload: { stripe_customer_id: customer.id, value }, timestamp: ts });
      await stripe.billing.meterEvents.create({ event_name: 'l', payload: { stripe_customer_id: customer.id, value }, timestamp: ts });
    }
    // A count meter needs no value at all.
    await stripe.billing.meterEvents.create({ event_name: 'c', payload: { stripe_customer_id: customer.id }, timestamp: T0S - 5 });
    const q = { customer: customer.id, start_time: T0S - HOUR, end_time: T0S + HOUR };
    expect((await stripe.billing.meters.listEventSummaries(count.id, q)).data[0]?.aggregated_value).toBe(4);
    expect((await stripe.billing.meters.listEventSummaries(last.id, q)).data[0]?.aggregated_value).toBe(9);
  });

  it('keeps only the latest event per window for a pre-aggregated meter', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const customer = await stripe.customers.create({});
    const meter = await stripe.billing.meters.create({ display_name: 'p', event_name: 'p', default_aggregation: { formula: 'sum' }, event_time_window: 'hour' });
    for (const [value, ts] of [['5', T0S - HOUR + 1], ['6', T0S - 10], ['3', T0S - 2 * HOUR]] as const)
      await stripe.billing.meterEvents.create({ event_name: 'p', payload: { stripe_customer_id: customer.id, value }, timestamp: ts });
    const s = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0S - 3 * HOUR, end_time: T0S });
    expect(s.data[0]?.aggregated_value).toBe(9);
  });

  it('rejects times not aligned the way Stripe requires', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const list = (start_time: number, end_time: number, value_grouping_window?: 'hour' | 'day') =>
      stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time, end_time, ...(value_grouping_window ? { value_grouping_window } : {}) });
    expect(await stripeError(list(T0S + 1, T0S + 60))).toMatchObject({ statusCode: 400, param: 'start_time' });
    expect(await stripeError(list(T0S, T0S + 90))).toMatchObject({ statusCode: 400, param: 'end_time' });
    expect(await stripeError(list(T0S + 60, T0S + HOUR, 'hour'))).toMatchObject({ statusCode: 400, param: 'start_time' });
    expect(await stripeError(list(T0S, T0S + DAY, 'day'))).toMatchObject({ statusCode: 400, param: 'start_time' });
    expect(await stripeError(list(T0S, T0S))).toMatchObject({ statusCode: 400, param: 'end_time' });
    await expect(list(T0S + 60, T0S + 120)).resolves.toBeTruthy();
    await expect(list(DAY0, DAY0 + DAY, 'day')).resolves.toBeTruthy();
    expect(await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: 'cus_nope', start_time: T0S, end_time: T0S + 60 }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'customer',
    });
  });

  it('pages through grouped summaries with stable cursors', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    for (let i = 1; i <= 5; i += 1)
      await stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: String(i) }, timestamp: T0S - i * HOUR });
    const q = { customer: customer.id, start_time: T0S - 6 * HOUR, end_time: T0S, value_grouping_window: 'hour' as const, limit: 2 };
    const first = await stripe.billing.meters.listEventSummaries(meter.id, q);
    expect(first.has_more).toBe(true);
    const all = [];
    for await (const s of stripe.billing.meters.listEventSummaries(meter.id, q)) all.push(s.aggregated_value);
    expect(all).toEqual([1, 2, 3, 4, 5]);
  });

  it('cancels an event within 24 hours of sending it, and not after', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const send = (identifier: string, value: string) =>
      stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value }, identifier, timestamp: T0S - 60 });
    await send('keep', '10');
    await send('drop', '5');
    h.clock.advance(DAY * 1000 - 1000);
    const adjustment = await stripe.billing.meterEventAdjustments.create({ event_name: 'api_calls', type: 'cancel', cancel: { identifier: 'drop' } });
    expect(adjustment).toMatchObject({ object: 'billing.meter_event_adjustment', type: 'cancel', cancel: { identifier: 'drop' }, event_name: 'api_calls' });
    const q = { customer: customer.id, start_time: T0S - HOUR, end_time: T0S };
    expect((await stripe.billing.meters.listEventSummaries(meter.id, q)).data[0]?.aggregated_value).toBe(10);
    expect(h.fake.account(TEST_KEY).meterEvents().map((e) => [e.identifier, e.cancelled])).toEqual([
      ['keep', false],
      ['drop', true],
    ]);
    expect(await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'api_calls', type: 'cancel', cancel: { identifier: 'drop' } }))).toMatchObject({
      statusCode: 400,
    });
    h.clock.advance(1000);
    const late = await stripeError(stripe.billing.meterEventAdjustments.create({ event_name: 'api_calls', type: 'cancel', cancel: { identifier: 'keep' } }));
    expect(late).toMatchObject({ statusCode: 400, param: 'cancel[identifier]' });
    expect((await stripe.billing.meters.listEventSummaries(meter.id, q)).data[0]?.aggregated_value).toBe(10);
  });
});
