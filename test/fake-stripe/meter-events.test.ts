import { describe, expect, it } from 'vitest';
import { DAY, HOUR, T0S, customerAndMeter, startHarness, stripeError } from './harness.js';

describe('fake Stripe: meter events (v1)', () => {
  it('accepts an event and returns a billing.meter_event; the summary counts it', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const event = await stripe.billing.meterEvents.create({
      event_name: 'api_calls',
      payload: { stripe_customer_id: customer.id, value: '25' },
      identifier: 'evt-1',
      timestamp: T0S - 60,
    });
    expect(event).toMatchObject({ object: 'billing.meter_event', identifier: 'evt-1', event_name: 'api_calls', livemode: false, timestamp: T0S - 60 });
    expect(event.payload).toEqual({ stripe_customer_id: customer.id, value: '25' });
    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0S - HOUR, end_time: T0S + HOUR });
    expect(summaries.object).toBe('list');
    expect(summaries.data).toHaveLength(1);
    expect(summaries.data[0]).toMatchObject({ object: 'billing.meter_event_summary', aggregated_value: 25, start_time: T0S - HOUR, end_time: T0S + HOUR, meter: meter.id });
    expect(h.fake.account('sk_test_fake0000000000000000000001').meterEvents()).toEqual([
      expect.objectContaining({ identifier: 'evt-1', event_name: 'api_calls', timestamp: T0S - 60, cancelled: false, customer: customer.id }),
    ]);
  });

  it('generates an identifier when none is given', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer } = await customerAndMeter(stripe);
    const event = await stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '1' } });
    expect(event.identifier).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.timestamp).toBe(T0S);
  });

  it('refuses a duplicate identifier for 24 hours, then accepts it again', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const send = () => stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '2' }, identifier: 'same' });
    await send();
    h.clock.advance(DAY * 1000 - 1000);
    const dup = await stripeError(send());
    expect(dup.type).toBe('StripeInvalidRequestError');
    expect(dup.statusCode).toBe(400);
    expect(dup.message).toBe('An event already exists with identifier same.');
    h.clock.advance(1000);
    await expect(send()).resolves.toMatchObject({ identifier: 'same' });
    const total = h.fake.account('sk_test_fake0000000000000000000001').meterTotal({ meter: meter.id, customer: customer.id, start_time: T0S - DAY, end_time: T0S + 2 * DAY });
    expect(total).toBe(4);
  });

  it('applies the 35-day and 5-minute timestamp rules', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer } = await customerAndMeter(stripe);
    const at = (timestamp: number) => stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '1' }, timestamp });
    await expect(at(T0S - 35 * DAY)).resolves.toBeTruthy();
    const old = await stripeError(at(T0S - 35 * DAY - 1));
    expect(old).toMatchObject({ statusCode: 400, code: 'timestamp_too_far_in_past', param: 'timestamp' });
    expect(old.message).toContain('cannot be more than 35 days in past');
    await expect(at(T0S + 300)).resolves.toBeTruthy();
    const future = await stripeError(at(T0S + 301));
    expect(future).toMatchObject({ statusCode: 400, code: 'timestamp_in_future', param: 'timestamp' });
  });

  it('refuses unknown and inactive meters, a missing customer key and invalid values', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const send = (payload: Record<string, string>, event_name = 'api_calls') => stripe.billing.meterEvents.create({ event_name, payload });
    expect(await stripeError(send({ stripe_customer_id: customer.id, value: '1' }, 'nope'))).toMatchObject({ statusCode: 400, code: 'no_meter', param: 'event_name' });
    expect(await stripeError(send({ value: '1' }))).toMatchObject({ code: 'meter_event_no_customer_defined' });
    expect(await stripeError(send({ stripe_customer_id: customer.id }))).toMatchObject({ code: 'meter_event_invalid_value' });
    expect(await stripeError(send({ stripe_customer_id: customer.id, value: '1.5' }))).toMatchObject({ code: 'meter_event_invalid_value' });
    expect(await stripeError(send({ stripe_customer_id: customer.id, value: 'ten' }))).toMatchObject({ code: 'meter_event_invalid_value' });
    expect(await stripeError(send({ stripe_customer_id: customer.id, value: '1234567890123456' }))).toMatchObject({ code: 'meter_event_value_too_many_digits' });
    await expect(send({ stripe_customer_id: customer.id, value: '-3' })).resolves.toBeTruthy();
    await stripe.billing.meters.deactivate(meter.id);
    expect(await stripeError(send({ stripe_customer_id: customer.id, value: '1' }))).toMatchObject({ code: 'archived_meter' });
  });

  it('accepts decimals only when the fake is told to', async () => {
    const h = await startHarness({ acceptDecimalValues: true });
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    for (const value of ['0.1', '0.2']) await stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value } });
    const s = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0S, end_time: T0S + 60 });
    expect(s.data[0]?.aggregated_value).toBe(0.3);
  });

  it('uses the meter payload keys', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const customer = await stripe.customers.create({});
    const meter = await stripe.billing.meters.create({
      display_name: 'bytes',
      event_name: 'bytes',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { event_payload_key: 'cust', type: 'by_id' },
      value_settings: { event_payload_key: 'bytes_used' },
    });
    expect(meter).toMatchObject({ customer_mapping: { event_payload_key: 'cust', type: 'by_id' }, value_settings: { event_payload_key: 'bytes_used' }, status: 'active' });
    await stripe.billing.meterEvents.create({ event_name: 'bytes', payload: { cust: customer.id, bytes_used: '7' } });
    expect(await stripeError(stripe.billing.meterEvents.create({ event_name: 'bytes', payload: { stripe_customer_id: customer.id, value: '7' } }))).toMatchObject({
      code: 'meter_event_no_customer_defined',
    });
    expect(h.fake.account('sk_test_fake0000000000000000000001').meterTotal({ meter: meter.id, customer: customer.id, start_time: T0S, end_time: T0S + 60 })).toBe(7);
  });

  it('keeps an event for an unknown customer out of the totals and reports it like Stripe does later', async () => {
    const h = await startHarness();
    const stripe = h.client();
    await customerAndMeter(stripe);
    await expect(stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: 'cus_missing', value: '1' }, identifier: 'x' })).resolves.toBeTruthy();
    const account = h.fake.account('sk_test_fake0000000000000000000001');
    expect(account.meterEvents()).toEqual([]);
    expect(account.meterEventErrors()).toEqual([expect.objectContaining({ identifier: 'x', code: 'meter_event_customer_not_found', source: 'v1' })]);
  });
});
