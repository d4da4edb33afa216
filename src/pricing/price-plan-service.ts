import { AppError, notFound } from '../shared/app-error.js';
import type { Clock } from '../shared/clock.js';
import type { MetricPriceRecord, PricingStore, UsageAggregation } from '../store/pricing-store.js';
import { checkSchema } from './check-schema.js';
import { compilePrice, type CompiledPrice } from './compile-price.js';
import { fromStripePrice, type StripePriceLike } from './from-stripe-price.js';
import type { PriceConfig } from './price-config-schema.js';
import { StripePriceImportSchema, type PriceInput, type StripePriceImport } from './price-input-schema.js';
import { atPath } from './pricing-error.js';

export type PlanScope = 'tenant' | 'customer';

export interface PriceView {
  metric: string;
  /** null for the tenant's default plan. */
  customerRef: string | null;
  scope: PlanScope;
  aggregation: UsageAggregation;
  currency: string;
  priceConfig: PriceConfig;
  source: 'config' | 'stripe';
  stripePriceId: string | null;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

/** The price a customer's metric is billed at: its own override, else the tenant default. */
export interface PlanPrice {
  view: PriceView;
  compiled: CompiledPrice;
}

/** Stripe's legacy `aggregate_usage` → the counter value it bills. */
const STRIPE_AGGREGATION: Record<string, UsageAggregation> = { sum: 'sum', max: 'max', last_during_period: 'last' };

/**
 * Price plans: per tenant a default plan (metric → price) and per-customer overrides. Every config is
 * validated and stored in canonical form by the pricing library (compilePrice), whether it was given
 * as our config or imported from a Stripe price.
 */
export class PricePlanService {
  constructor(
    private readonly store: PricingStore,
    private readonly clock: Clock,
  ) {}

  async put(tenantId: string, customerRef: string | null, metric: string, input: PriceInput, actor: string): Promise<PriceView> {
    const problems: string[] = [];
    if ((input.priceConfig === undefined) === (input.stripePrice === undefined)) problems.push('give exactly one of priceConfig and stripePrice');
    if (input.currency !== undefined && input.stripePrice === undefined) problems.push('currency applies to stripePrice only (priceConfig has its own)');
    if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });

    let compiled: CompiledPrice;
    let aggregation: UsageAggregation = input.aggregation ?? 'sum';
    let stripePriceId: string | null = null;
    if (input.priceConfig !== undefined) {
      const config = input.priceConfig;
      compiled = atPath('priceConfig', () => compilePrice(config));
    } else {
      const price = atPath('stripePrice', () => checkSchema(StripePriceImportSchema, input.stripePrice, 'UNSUPPORTED_STRIPE_PRICE', 'Stripe price'));
      const currency = input.currency;
      compiled = atPath('stripePrice', () => compilePrice(fromStripePrice(price as StripePriceLike, currency === undefined ? {} : { currency })));
      if (input.aggregation === undefined) aggregation = stripeAggregation(price);
      stripePriceId = price.id ?? null;
    }
    const now = this.clock.now();
    const saved = await this.store.putPrice({
      tenantId,
      customerRef,
      metric,
      aggregation,
      currency: compiled.currency,
      priceConfig: JSON.stringify(compiled.config),
      source: input.priceConfig !== undefined ? 'config' : 'stripe',
      stripePriceId,
      createdAt: now,
      updatedAt: now,
      updatedBy: actor,
    });
    return toPriceView(saved);
  }

  async get(tenantId: string, customerRef: string | null, metric: string): Promise<PriceView> {
    const found = await this.store.getPrice(tenantId, customerRef, metric);
    if (!found) throw notFound('Price');
    return toPriceView(found);
  }

  async list(tenantId: string, customerRef: string | null): Promise<PriceView[]> {
    return (await this.store.listPrices(tenantId, customerRef)).map(toPriceView);
  }

  async delete(tenantId: string, customerRef: string | null, metric: string): Promise<void> {
    if (!(await this.store.deletePrice(tenantId, customerRef, metric))) throw notFound('Price');
  }

  /** The customer's effective plan, by metric: an override beats the tenant default. */
  async planOf(tenantId: string, customerRef: string): Promise<Map<string, PlanPrice>> {
    const plan = new Map<string, PlanPrice>();
    for (const record of await this.store.listPlanPrices(tenantId, customerRef)) {
      const current = plan.get(record.metric);
      if (current?.view.scope === 'customer') continue;
      const view = toPriceView(record);
      plan.set(record.metric, { view, compiled: compilePrice(view.priceConfig) });
    }
    return plan;
  }
}

function stripeAggregation(price: StripePriceImport): UsageAggregation {
  const stripe = price.recurring?.aggregate_usage ?? price.aggregate_usage ?? null;
  if (stripe === null) return 'sum';
  const mapped = STRIPE_AGGREGATION[stripe];
  if (mapped === undefined) {
    throw new AppError(
      'validation_failed',
      `stripePrice.recurring.aggregate_usage "${stripe}" has no per-period counter here; pass aggregation (sum, max or last) explicitly`,
      { problems: [`unsupported aggregate_usage ${stripe}`] },
    );
  }
  return mapped;
}

export function toPriceView(record: MetricPriceRecord): PriceView {
  return {
    metric: record.metric,
    customerRef: record.customerRef,
    scope: record.customerRef === null ? 'tenant' : 'customer',
    aggregation: record.aggregation,
    currency: record.currency,
    priceConfig: JSON.parse(record.priceConfig) as PriceConfig,
    source: record.source,
    stripePriceId: record.stripePriceId,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    updatedBy: record.updatedBy,
  };
}
