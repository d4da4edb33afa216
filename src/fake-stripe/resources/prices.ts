import type { Account, StoredPrice } from '../account.js';
import { invalidRequest, missingParam, resourceMissing } from '../errors.js';
import { newId } from '../ids.js';
import { LIST_PARAMS, createdFilter, expansions, paginate } from '../list.js';
import type { Params } from '../params.js';
import type { Router } from '../router.js';
import type { PriceObject, PriceTier } from '../wire-types.js';
import { createProduct } from './products.js';

const PRICE_FIELDS = [
  'currency', 'unit_amount', 'unit_amount_decimal', 'product', 'product_data', 'recurring', 'billing_scheme', 'tiers_mode', 'tiers',
  'transform_quantity', 'nickname', 'lookup_key', 'metadata', 'active', 'tax_behavior', 'expand',
] as const;

const DECIMAL = /^-?\d+(\.\d{1,12})?$/;

/** Validates create params the way Stripe does for the fields we support, then stores the price. */
export function createPrice(account: Account, p: Params, request: { id?: string; idempotencyKey?: string | null } = {}): StoredPrice {
  p.allowOnly(PRICE_FIELDS);
  const currency = p.requiredString('currency').toLowerCase();
  const billingScheme = p.enumOf('billing_scheme', ['per_unit', 'tiered'] as const) ?? 'per_unit';
  let unitAmount = p.integer('unit_amount') ?? null;
  let unitAmountDecimal = p.string('unit_amount_decimal') ?? null;
  if (unitAmount !== null && unitAmountDecimal !== null)
    throw invalidRequest('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', { param: 'unit_amount' });
  if (unitAmountDecimal !== null && !DECIMAL.test(unitAmountDecimal))
    throw invalidRequest(`Invalid decimal: ${unitAmountDecimal}`, { param: 'unit_amount_decimal', code: 'parameter_invalid_decimal' });
  if (unitAmount !== null && unitAmount < 0) throw invalidRequest('This value must be greater than or equal to 0.', { param: 'unit_amount' });
  if (unitAmount !== null) unitAmountDecimal = String(unitAmount);
  else if (unitAmountDecimal !== null && /^\d+$/.test(unitAmountDecimal)) unitAmount = Number(unitAmountDecimal);

  const recurring = parseRecurring(account, p);
  const tiersMode = p.enumOf('tiers_mode', ['graduated', 'volume'] as const) ?? null;
  const tiers = p.has('tiers') ? parseTiers(p) : undefined;
  if (billingScheme === 'tiered') {
    if (tiers === undefined) throw missingParam('tiers');
    if (tiersMode === null) throw missingParam('tiers_mode');
    if (unitAmountDecimal !== null) throw invalidRequest('You cannot set unit_amount when billing_scheme is tiered.', { param: 'unit_amount' });
    if (p.has('transform_quantity')) throw invalidRequest('You cannot use transform_quantity with tiered prices.', { param: 'transform_quantity' });
  } else {
    if (tiers !== undefined || tiersMode !== null) throw invalidRequest('Tiers can only be set when billing_scheme is tiered.', { param: 'tiers' });
    if (unitAmountDecimal === null) throw missingParam('unit_amount');
  }
  const tq = p.object('transform_quantity')?.allowOnly(['divide_by', 'round']);
  const transformQuantity = tq ? { divide_by: tq.requiredInteger('divide_by'), round: tq.enumOf('round', ['up', 'down'] as const) ?? missing(tq, 'round') } : null;
  if (transformQuantity && transformQuantity.divide_by < 1)
    throw invalidRequest('This value must be greater than or equal to 1.', { param: 'transform_quantity[divide_by]' });

  let product = p.string('product');
  const productData = p.object('product_data')?.allowOnly(['name', 'metadata']);
  if (product !== undefined && productData !== undefined)
    throw invalidRequest('You may only specify one of these parameters: product, product_data.', { param: 'product' });
  if (product === undefined && productData === undefined) throw missingParam('product');
  if (product !== undefined && !account.products.has(product)) throw resourceMissing('product', product, 'product');
  if (productData !== undefined)
    product = createProduct(account, { name: productData.requiredString('name'), metadata: productData.stringMap('metadata') }, request).id;

  const price: StoredPrice = {
    id: newId('price', 24),
    object: 'price',
    active: p.boolean('active') ?? true,
    billing_scheme: billingScheme,
    created: account.nowSeconds(),
    currency,
    custom_unit_amount: null,
    livemode: account.livemode,
    lookup_key: p.string('lookup_key') ?? null,
    metadata: p.stringMap('metadata') ?? {},
    nickname: p.string('nickname') ?? null,
    product: product as string,
    recurring,
    tax_behavior: p.enumOf('tax_behavior', ['exclusive', 'inclusive', 'unspecified'] as const) ?? 'unspecified',
    tiers,
    tiers_mode: tiersMode,
    transform_quantity: transformQuantity,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: billingScheme === 'tiered' ? null : unitAmount,
    unit_amount_decimal: billingScheme === 'tiered' ? null : unitAmountDecimal,
  };
  account.prices.set(price.id, price);
  account.recordEvent('price.created', renderPrice(price, new Set()), { requestId: request.id ?? null, idempotencyKey: request.idempotencyKey ?? null });
  return price;
}

function missing(p: Params, key: string): never {
  throw missingParam(p.name(key));
}

function parseRecurring(account: Account, p: Params): PriceObject['recurring'] {
  const r = p.object('recurring')?.allowOnly(['interval', 'interval_count', 'usage_type', 'meter', 'trial_period_days']);
  if (r === undefined) return null;
  const interval = r.enumOf('interval', ['day', 'week', 'month', 'year'] as const) ?? missing(r, 'interval');
  const usageType = r.enumOf('usage_type', ['licensed', 'metered'] as const) ?? 'licensed';
  const meter = r.string('meter') ?? null;
  // Since the Billing Meters migration, a metered price must name the meter that measures it.
  if (usageType === 'metered' && meter === null) throw missingParam('recurring[meter]');
  if (meter !== null) {
    const m = account.meters.get(meter);
    if (m === undefined) throw resourceMissing('billing.meter', meter, 'recurring[meter]');
    if (m.status !== 'active') throw invalidRequest(`The meter ${meter} is inactive and cannot be attached to a price.`, { param: 'recurring[meter]' });
    if (usageType !== 'metered') throw invalidRequest('recurring[meter] can only be set when recurring[usage_type] is metered.', { param: 'recurring[meter]' });
  }
  return { interval, interval_count: r.integer('interval_count') ?? 1, meter, trial_period_days: r.integer('trial_period_days') ?? null, usage_type: usageType };
}

function parseTiers(p: Params): PriceTier[] {
  const tiers = p.array('tiers').map((t, i): PriceTier => {
    t.allowOnly(['up_to', 'unit_amount', 'unit_amount_decimal', 'flat_amount', 'flat_amount_decimal']);
    const upToRaw = t.raw.up_to;
    if (upToRaw === undefined) throw missingParam(`tiers[${i}][up_to]`);
    const upTo = upToRaw === 'inf' ? null : t.requiredInteger('up_to');
    const unit = amountPair(t, 'unit_amount');
    const flat = amountPair(t, 'flat_amount');
    if (unit.amountDecimal === null && flat.amountDecimal === null)
      throw invalidRequest(`Each tier needs unit_amount or flat_amount (tiers[${i}]).`, { param: `tiers[${i}]` });
    return { up_to: upTo, unit_amount: unit.amount, unit_amount_decimal: unit.amountDecimal, flat_amount: flat.amount, flat_amount_decimal: flat.amountDecimal };
  });
  if (tiers.length === 0) throw missingParam('tiers');
  tiers.forEach((tier, i) => {
    const last = i === tiers.length - 1;
    if (last !== (tier.up_to === null)) throw invalidRequest('The last tier must have up_to set to inf, and only the last.', { param: `tiers[${i}][up_to]` });
    const prev = tiers[i - 1]?.up_to;
    if (prev != null && tier.up_to !== null && tier.up_to <= prev)
      throw invalidRequest('Tiers must be sorted by ascending up_to.', { param: `tiers[${i}][up_to]` });
  });
  return tiers;
}

function amountPair(t: Params, key: 'unit_amount' | 'flat_amount'): { amount: number | null; amountDecimal: string | null } {
  const amount = t.integer(key) ?? null;
  const decimal = t.string(`${key}_decimal`) ?? null;
  if (amount !== null && decimal !== null) throw invalidRequest(`You may only specify one of these parameters: ${key}, ${key}_decimal.`, { param: t.name(key) });
  if (decimal !== null && !DECIMAL.test(decimal)) throw invalidRequest(`Invalid decimal: ${decimal}`, { param: t.name(`${key}_decimal`) });
  if (amount !== null) return { amount, amountDecimal: String(amount) };
  if (decimal !== null) return { amount: /^\d+$/.test(decimal) ? Number(decimal) : null, amountDecimal: decimal };
  return { amount: null, amountDecimal: null };
}

/** The wire object; `tiers` only when expanded, as Stripe does. */
export function renderPrice(price: StoredPrice, expand: Set<string>, prefix = ''): PriceObject {
  const { tiers, ...rest } = price;
  const out: PriceObject = structuredClone(rest);
  if (expand.has(`${prefix}tiers`) && tiers !== undefined) out.tiers = structuredClone(tiers);
  return out;
}

export function getPrice(account: Account, id: string, param = 'id'): StoredPrice {
  const price = account.prices.get(id);
  if (price === undefined) throw resourceMissing('price', id, param);
  return price;
}

export function registerPriceRoutes(router: Router): void {
  router.add('POST', '/v1/prices', (ctx) => {
    const price = createPrice(ctx.account, ctx.params, { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey });
    return { body: renderPrice(price, expansions(ctx.params)) };
  });

  router.add('GET', '/v1/prices', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'active', 'currency', 'product', 'type', 'lookup_keys', 'created', 'recurring']);
    const active = p.boolean('active');
    const currency = p.string('currency');
    const product = p.string('product');
    const type = p.enumOf('type', ['one_time', 'recurring'] as const);
    const lookupKeys = p.stringArray('lookup_keys');
    const recurring = p.object('recurring')?.allowOnly(['interval', 'meter', 'usage_type']);
    const created = createdFilter(p);
    const all = [...ctx.account.prices.values()].reverse().filter(
      (x) =>
        (active === undefined || x.active === active) &&
        (currency === undefined || x.currency === currency) &&
        (product === undefined || x.product === product) &&
        (type === undefined || x.type === type) &&
        (lookupKeys.length === 0 || (x.lookup_key !== null && lookupKeys.includes(x.lookup_key))) &&
        (recurring === undefined || matchesRecurring(x, recurring)) &&
        created(x.created),
    );
    const expand = expansions(p);
    const page = paginate(all, p, '/v1/prices', (x) => x.id, 'price');
    return { body: { ...page, data: page.data.map((x) => renderPrice(x, expand, 'data.')) } };
  });

  router.add('GET', '/v1/prices/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: renderPrice(getPrice(ctx.account, ctx.pathParams.id ?? ''), expansions(ctx.params)) };
  });
}

function matchesRecurring(price: StoredPrice, r: Params): boolean {
  if (price.recurring === null) return false;
  const interval = r.string('interval');
  const meter = r.string('meter');
  const usage = r.string('usage_type');
  return (interval === undefined || price.recurring.interval === interval) && (meter === undefined || price.recurring.meter === meter) && (usage === undefined || price.recurring.usage_type === usage);
}
