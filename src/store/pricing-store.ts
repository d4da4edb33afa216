/**
 * Persistence of price plans; part of `Store` as `store.pricing`. A price belongs to a tenant's
 * default plan (`customerRef: null`) or to one customer's overrides. Every read and write takes the
 * tenant id explicitly.
 */

/** Which counter value a price is applied to. */
export type UsageAggregation = 'sum' | 'max' | 'last';

export type PriceSource = 'config' | 'stripe';

export interface MetricPriceRecord {
  tenantId: string;
  /** null: the tenant's default plan. */
  customerRef: string | null;
  metric: string;
  aggregation: UsageAggregation;
  /** Lower-case ISO 4217 code of the config (also inside it): listing without parsing. */
  currency: string;
  /** The canonical price config as JSON text (decimals as strings). */
  priceConfig: string;
  source: PriceSource;
  stripePriceId: string | null;
  createdAt: number;
  updatedAt: number;
  updatedBy: string;
}

export interface PricingStore {
  /** Inserts or replaces the price of (tenant, customer or default, metric); keeps the first `createdAt`. */
  putPrice(price: MetricPriceRecord): Promise<MetricPriceRecord>;
  getPrice(tenantId: string, customerRef: string | null, metric: string): Promise<MetricPriceRecord | undefined>;
  /** The tenant's default plan (null) or one customer's overrides, by metric. */
  listPrices(tenantId: string, customerRef: string | null): Promise<MetricPriceRecord[]>;
  /** Both halves of a customer's plan in one read: the tenant defaults and the customer's overrides. */
  listPlanPrices(tenantId: string, customerRef: string): Promise<MetricPriceRecord[]>;
  /** True when a price was deleted now. */
  deletePrice(tenantId: string, customerRef: string | null, metric: string): Promise<boolean>;
  /**
   * Whether the tenant has ever heard of this customer: billing settings (`PUT /v1/customers`), price
   * overrides, or usage counters of any period. Index seeks only.
   */
  isKnownCustomer(tenantId: string, customerRef: string): Promise<boolean>;
}
