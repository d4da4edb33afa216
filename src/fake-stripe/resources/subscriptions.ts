import type { Account, SubscriptionRecord } from '../account.js';
import { invalidRequest, missingParam, resourceMissing } from '../errors.js';
import { newId } from '../ids.js';
import { LIST_PARAMS, createdFilter, expansions, paginate } from '../list.js';
import type { Params } from '../params.js';
import { periodAt } from '../periods.js';
import type { Router } from '../router.js';
import type { SubscriptionObject } from '../wire-types.js';
import { getCustomer } from './customers.js';
import { getPrice, renderPrice } from './prices.js';

export function createSubscription(account: Account, p: Params, request: { id?: string; idempotencyKey?: string | null } = {}): SubscriptionRecord {
  p.allowOnly(['customer', 'items', 'billing_cycle_anchor', 'metadata', 'description', 'expand']);
  const customer = getCustomer(account, p.requiredString('customer'), 'customer').id;
  const itemParams = p.array('items');
  if (itemParams.length === 0) throw missingParam('items');
  const now = account.nowSeconds();
  const items = itemParams.map((item) => {
    item.allowOnly(['price', 'quantity', 'metadata']);
    const price = getPrice(account, item.requiredString('price'), `${item.name('price')}`);
    if (price.recurring === null)
      throw invalidRequest(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, { param: item.name('price') });
    const quantity = item.integer('quantity');
    if (price.recurring.usage_type === 'metered' && quantity !== undefined)
      throw invalidRequest('Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[0]` and try again.', { param: item.name('quantity') });
    return { id: newId('si', 14), price: price.id, quantity: price.recurring.usage_type === 'metered' ? undefined : (quantity ?? 1), created: now, metadata: item.stringMap('metadata') ?? {} };
  });
  const prices = items.map((i) => getPrice(account, i.price));
  const first = prices[0]!;
  for (const price of prices) {
    if (price.currency !== first.currency) throw invalidRequest('All prices on a subscription must have the same currency.', { param: 'items' });
    if (price.recurring?.interval !== first.recurring?.interval || price.recurring?.interval_count !== first.recurring?.interval_count)
      throw invalidRequest('All prices on a subscription must have the same recurring.interval and recurring.interval_count.', { param: 'items' });
  }
  const anchor = p.integer('billing_cycle_anchor') ?? now;
  if (anchor < now) throw invalidRequest('billing_cycle_anchor cannot be in the past.', { param: 'billing_cycle_anchor' });
  const record: SubscriptionRecord = {
    id: newId('sub', 24),
    customer,
    created: now,
    startDate: now,
    billingCycleAnchor: anchor,
    items,
    metadata: p.stringMap('metadata') ?? {},
    description: p.string('description') ?? null,
    status: 'active',
    canceledAt: null,
    fixedPeriod: null,
  };
  account.subscriptions.set(record.id, record);
  account.recordEvent('customer.subscription.created', renderSubscription(account, record, new Set()), {
    requestId: request.id ?? null,
    idempotencyKey: request.idempotencyKey ?? null,
  });
  return record;
}

/** The wire object, with each item's current period computed for the fake's `now`. */
export function renderSubscription(account: Account, s: SubscriptionRecord, expand: Set<string>, prefix = ''): SubscriptionObject {
  const prices = s.items.map((i) => getPrice(account, i.price));
  const first = prices[0]!;
  const recurring = first.recurring!;
  const at = s.status === 'canceled' && s.canceledAt !== null ? s.canceledAt : account.nowSeconds();
  const period = s.fixedPeriod ?? periodAt(at, s.startDate, s.billingCycleAnchor, recurring.interval, recurring.interval_count);
  return {
    id: s.id,
    object: 'subscription',
    application: null,
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: s.canceledAt,
    collection_method: 'charge_automatically',
    created: s.created,
    currency: first.currency,
    customer: s.customer,
    days_until_due: null,
    default_payment_method: null,
    description: s.description,
    discounts: [],
    ended_at: s.status === 'canceled' ? s.canceledAt : null,
    items: {
      object: 'list',
      data: s.items.map((item, i) => ({
        id: item.id,
        object: 'subscription_item',
        created: item.created,
        current_period_end: period.end,
        current_period_start: period.start,
        discounts: [],
        metadata: { ...item.metadata },
        price: renderPrice(prices[i]!, expand, `${prefix}items.data.price.`),
        ...(item.quantity !== undefined ? { quantity: item.quantity } : {}),
        subscription: s.id,
        tax_rates: [],
      })),
      has_more: false,
      total_count: s.items.length,
      url: `/v1/subscription_items?subscription=${s.id}`,
    },
    latest_invoice: null,
    livemode: account.livemode,
    metadata: { ...s.metadata },
    start_date: s.startDate,
    status: s.status,
    trial_end: null,
    trial_start: null,
  };
}

export function getSubscription(account: Account, id: string): SubscriptionRecord {
  const s = account.subscriptions.get(id);
  if (s === undefined) throw resourceMissing('subscription', id);
  return s;
}

export function registerSubscriptionRoutes(router: Router): void {
  router.add('POST', '/v1/subscriptions', (ctx) => {
    const record = createSubscription(ctx.account, ctx.params, { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey });
    return { body: renderSubscription(ctx.account, record, expansions(ctx.params)) };
  });

  router.add('GET', '/v1/subscriptions', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'customer', 'price', 'status', 'created']);
    const customer = p.string('customer');
    const price = p.string('price');
    const status = p.enumOf('status', ['active', 'canceled', 'all', 'ended'] as const);
    const created = createdFilter(p);
    const all = [...ctx.account.subscriptions.values()].reverse().filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.some((i) => i.price === price)) &&
        (status === 'all' || (status === undefined ? s.status !== 'canceled' : status === 'ended' ? s.status === 'canceled' : s.status === status)) &&
        created(s.created),
    );
    const expand = expansions(p);
    const page = paginate(all, p, '/v1/subscriptions', (s) => s.id, 'subscription');
    return { body: { ...page, data: page.data.map((s) => renderSubscription(ctx.account, s, expand, 'data.')) } };
  });

  router.add('GET', '/v1/subscriptions/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: renderSubscription(ctx.account, getSubscription(ctx.account, ctx.pathParams.id ?? ''), expansions(ctx.params)) };
  });

  router.add('GET', '/v1/subscription_items', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'subscription']);
    const s = getSubscription(ctx.account, p.requiredString('subscription'));
    // `data.price.tiers` on this list is `items.data.price.tiers` on the subscription.
    const expand = new Set([...expansions(p)].map((e) => `items.${e}`));
    const items = renderSubscription(ctx.account, s, expand).items.data;
    return { body: paginate(items, p, '/v1/subscription_items', (i) => i.id, 'subscription_item') };
  });

  router.add('GET', '/v1/subscription_items/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    const id = ctx.pathParams.id ?? '';
    const expand = new Set([...expansions(ctx.params)].map((e) => `items.data.${e}`));
    for (const s of ctx.account.subscriptions.values()) {
      const item = renderSubscription(ctx.account, s, expand).items.data.find((i) => i.id === id);
      if (item) return { body: item };
    }
    throw resourceMissing('subscription_item', id);
  });

  router.add('DELETE', '/v1/subscriptions/:id', (ctx) => {
    ctx.params.allowOnly(['expand', 'invoice_now', 'prorate']);
    const s = getSubscription(ctx.account, ctx.pathParams.id ?? '');
    if (s.status === 'canceled') throw invalidRequest(`No such subscription: '${s.id}' is already canceled.`, { param: 'id' });
    s.status = 'canceled';
    s.canceledAt = ctx.account.nowSeconds();
    const body = renderSubscription(ctx.account, s, expansions(ctx.params));
    ctx.account.recordEvent('customer.subscription.deleted', body, { requestId: ctx.requestId });
    return { body };
  });
}
