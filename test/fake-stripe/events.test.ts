import { describe, expect, it } from 'vitest';
import { DAY, T0S, TEST_KEY, startHarness, stripeError } from './harness.js';

describe('fake Stripe: Events API', () => {
  it('records customer.created and customer.subscription.created for API changes', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const customer = await stripe.customers.create({ email: 'e@example.test' });
    const meter = await stripe.billing.meters.create({ display_name: 'm', event_name: 'm', default_aggregation: { formula: 'sum' } });
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 5, product_data: { name: 'API' }, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }, { idempotencyKey: 'create-sub-1' });
    const events = await stripe.events.list({ limit: 100 });
    expect(events.data.map((e) => e.type)).toEqual(['customer.subscription.created', 'price.created', 'product.created', 'billing.meter.created', 'customer.created']);
    const created = events.data[0]!;
    expect(created).toMatchObject({ object: 'event', livemode: false, created: T0S, request: { idempotency_key: 'create-sub-1' } });
    expect((created.data.object as { id: string }).id).toBe(sub.id);
    expect(await stripe.events.retrieve(created.id)).toEqual(created);
    expect(await stripeError(stripe.events.retrieve('evt_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('lists newest first with limit, starting_after and ending_before', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const account = h.fake.account(TEST_KEY);
    const ids: string[] = [];
    for (let i = 0; i < 25; i += 1) ids.push(account.addEvent({ type: 'invoice.paid', data: { object: { id: `in_${i}`, object: 'invoice' } }, created: T0S - 1000 + i }).id);
    const newestFirst = [...ids].reverse();
    const page1 = await stripe.events.list();
    expect(page1.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 10));
    expect(page1.has_more).toBe(true);
    expect(page1.url).toBe('/v1/events');
    const page2 = await stripe.events.list({ limit: 10, starting_after: page1.data.at(-1)!.id });
    expect(page2.data.map((e) => e.id)).toEqual(newestFirst.slice(10, 20));
    const back = await stripe.events.list({ limit: 5, ending_before: page2.data[0]!.id });
    expect(back.data.map((e) => e.id)).toEqual(newestFirst.slice(5, 10));
    expect(back.has_more).toBe(true);
    const all: string[] = [];
    for await (const e of stripe.events.list({ limit: 7 })) all.push(e.id);
    expect(all).toEqual(newestFirst);
    expect(await stripeError(stripe.events.list({ limit: 101 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await stripeError(stripe.events.list({ starting_after: 'evt_nope' }))).toMatchObject({ statusCode: 404 });
  });

  it('filters by type, types[], created and delivery_success', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const account = h.fake.account(TEST_KEY);
    const add = (type: string, created: number, delivery_success = true) => account.addEvent({ type, data: { object: { id: 'x' } }, created, delivery_success }).id;
    const a = add('charge.succeeded', T0S - 300);
    const b = add('charge.refunded', T0S - 200, false);
    const c = add('invoice.paid', T0S - 100);
    const ids = async (params: Parameters<typeof stripe.events.list>[0]) => (await stripe.events.list(params)).data.map((e) => e.id);
    expect(await ids({ type: 'charge.succeeded' })).toEqual([a]);
    expect(await ids({ type: 'charge.*' })).toEqual([b, a]);
    expect(await ids({ types: ['invoice.paid', 'charge.succeeded'] })).toEqual([c, a]);
    expect(await ids({ created: { gte: T0S - 200 } })).toEqual([c, b]);
    expect(await ids({ created: { gt: T0S - 300, lt: T0S - 100 } })).toEqual([b]);
    expect(await ids({ created: { lte: T0S - 300 } })).toEqual([a]);
    expect(await ids({ delivery_success: false })).toEqual([b]);
    expect(await ids({ delivery_success: true })).toEqual([c, a]);
    expect(await stripeError(stripe.events.list({ type: 'a', types: ['b'] }))).toMatchObject({ statusCode: 400 });
  });

  it('only goes back 30 days', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const account = h.fake.account(TEST_KEY);
    const old = account.addEvent({ type: 'invoice.paid', data: { object: {} }, created: T0S - 30 * DAY - 1 });
    const recent = account.addEvent({ type: 'invoice.paid', data: { object: {} }, created: T0S - 30 * DAY });
    expect((await stripe.events.list()).data.map((e) => e.id)).toEqual([recent.id]);
    expect(await stripeError(stripe.events.retrieve(old.id))).toMatchObject({ statusCode: 404 });
    expect(account.events().map((e) => e.id)).toEqual([recent.id, old.id]);
  });
});
