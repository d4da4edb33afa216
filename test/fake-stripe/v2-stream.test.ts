import { describe, expect, it } from 'vitest';
import { HOUR, T0, T0S, TEST_KEY, customerAndMeter, startHarness, stripeError } from './harness.js';

const iso = (s: number) => new Date(s * 1000).toISOString();

describe('fake Stripe: v2 meter event sessions and streams', () => {
  it('opens a 15-minute session whose token sends events', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    const session = await stripe.v2.billing.meterEventSession.create();
    expect(session).toMatchObject({ object: 'v2.billing.meter_event_session', livemode: false, created: new Date(T0).toISOString(), expires_at: new Date(T0 + 15 * 60_000).toISOString() });
    expect(session.id).toBeTruthy();
    const streamer = h.client(session.authentication_token);
    await streamer.v2.billing.meterEventStream.create({
      events: [
        { event_name: 'api_calls', identifier: 'a', payload: { stripe_customer_id: customer.id, value: '3' }, timestamp: iso(T0S - 60) },
        { event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '4' } },
      ],
    });
    const s = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0S - HOUR, end_time: T0S + 60 });
    expect(s.data[0]?.aggregated_value).toBe(7);
    const events = h.fake.account(TEST_KEY).meterEvents();
    expect(events.map((e) => [e.source, e.timestamp])).toEqual([
      ['v2', T0S - 60],
      ['v2', T0S],
    ]);
    expect(h.fake.requestLog.at(-2)).toMatchObject({ path: '/v2/billing/meter_event_stream', apiKey: TEST_KEY, status: 200 });
  });

  it('refuses an expired token with Stripe v2 error shape', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer } = await customerAndMeter(stripe);
    const session = await stripe.v2.billing.meterEventSession.create();
    const streamer = h.client(session.authentication_token);
    const send = () => streamer.v2.billing.meterEventStream.create({ events: [{ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '1' } }] });
    h.clock.advance(15 * 60_000 - 1);
    await expect(send()).resolves.toEqual({});
    h.clock.advance(1);
    const error = await stripeError(send());
    expect(error.type).toBe('TemporarySessionExpiredError');
    expect(error).toMatchObject({ statusCode: 401, code: 'billing_meter_event_session_expired', rawType: 'temporary_session_expired' });
    expect(await stripeError(h.client('mes_tok_test_unknown').v2.billing.meterEventStream.create({ events: [] }))).toMatchObject({ statusCode: 401 });
  });

  it('takes at most 100 events per request', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer } = await customerAndMeter(stripe);
    const streamer = h.client((await stripe.v2.billing.meterEventSession.create()).authentication_token);
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ event_name: 'api_calls', identifier: `e${n}-${i}`, payload: { stripe_customer_id: customer.id, value: '1' } }));
    await streamer.v2.billing.meterEventStream.create({ events: events(100) });
    const error = await stripeError(streamer.v2.billing.meterEventStream.create({ events: events(101) }));
    expect(error).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error' });
    expect(h.fake.account(TEST_KEY).meterEvents()).toHaveLength(100);
  });

  it('applies the v1 rules, but reports breaches later instead of refusing the request', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer, meter } = await customerAndMeter(stripe);
    await stripe.billing.meterEvents.create({ event_name: 'api_calls', identifier: 'dup', payload: { stripe_customer_id: customer.id, value: '1' } });
    const streamer = h.client((await stripe.v2.billing.meterEventSession.create()).authentication_token);
    await streamer.v2.billing.meterEventStream.create({
      events: [
        { event_name: 'api_calls', identifier: 'dup', payload: { stripe_customer_id: customer.id, value: '50' } },
        { event_name: 'api_calls', identifier: 'old', payload: { stripe_customer_id: customer.id, value: '50' }, timestamp: iso(T0S - 36 * 86_400) },
        { event_name: 'api_calls', identifier: 'frac', payload: { stripe_customer_id: customer.id, value: '0.5' } },
        { event_name: 'nope', identifier: 'nomtr', payload: { stripe_customer_id: customer.id, value: '1' } },
        { event_name: 'api_calls', identifier: 'ok', payload: { stripe_customer_id: customer.id, value: '2' } },
      ],
    });
    const account = h.fake.account(TEST_KEY);
    expect(account.meterEventErrors().map((e) => [e.identifier, e.code])).toEqual([
      ['dup', 'duplicate_identifier'],
      ['old', 'timestamp_too_far_in_past'],
      ['frac', 'meter_event_invalid_value'],
      ['nomtr', 'no_meter'],
    ]);
    expect(account.meterTotal({ meter: meter.id, customer: customer.id, start_time: T0S, end_time: T0S + 60 })).toBe(3);
  });
});
