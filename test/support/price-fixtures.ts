import type { PriceConfig, StripePriceLike } from '../../src/pricing/index.js';

/**
 * `resources.price` of Stripe's published example data (stripe/openapi tag v2436, copied from
 * /work/shared/fixtures/stripe/fixtures3.json so the tests are hermetic). A per-unit price of 2000 cents
 * (20.00 USD) with transform_quantity {divide_by: 1592560163, round: "down"}.
 */
export const STRIPE_FIXTURE_PRICE = {
  active: true,
  billing_scheme: 'per_unit',
  created: 1234567890,
  currency: 'usd',
  custom_unit_amount: { maximum: null, minimum: null, preset: null },
  id: 'price_1PgafmB7WZ01zgkW6dKueIc5',
  livemode: false,
  lookup_key: null,
  metadata: {},
  nickname: null,
  object: 'price',
  product: 'prod_QXg1hqf4jFNsqG',
  recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'licensed', trial_period_days: null },
  tax_behavior: 'unspecified',
  tiers_mode: null,
  transform_quantity: { divide_by: 1592560163, round: 'down' },
  type: 'recurring',
  unit_amount: 2000,
  unit_amount_decimal: '2000',
} satisfies StripePriceLike & Record<string, unknown>;

/** The brief's tiered example: ≤10,000 at 0.01, ≤50,000 at 0.008, the rest at 0.005 (25,000 units → 220.00 USD). */
export const BRIEF_TIERED_PRICE: PriceConfig = {
  model: 'tiered',
  currency: 'USD',
  tiers: [
    { upTo: 10000, unitPrice: 0.01 },
    { upTo: 50000, unitPrice: 0.008 },
    { upTo: null, unitPrice: 0.005 },
  ],
};

/** Graduated USD tiers: ≤100 at 1.00, ≤1,000 at 0.80, the rest at 0.60. */
export const GRADUATED_USD: PriceConfig = {
  model: 'graduated',
  currency: 'usd',
  tiers: [
    { upTo: 100, unitPrice: '1.00' },
    { upTo: 1000, unitPrice: '0.80' },
    { upTo: null, unitPrice: '0.60' },
  ],
};
