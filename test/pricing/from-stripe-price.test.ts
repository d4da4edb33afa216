import { describe, expect, it } from 'vitest';
import {
  compilePrice,
  fromStripePrice,
  InvoiceSimulator,
  priceLine,
  PricingError,
  type StripePriceLike,
} from '../../src/pricing/index.js';
import { STRIPE_FIXTURE_PRICE } from '../support/price-fixtures.js';

/** `resources.plan` of the same fixtures file: the legacy Plan view of STRIPE_FIXTURE_PRICE (amount_decimal, transform_usage). */
const FIXTURE_PLAN = {
  active: true,
  amount: 2000,
  amount_decimal: '2000',
  billing_scheme: 'per_unit',
  currency: 'usd',
  id: 'price_1PgafmB7WZ01zgkW6dKueIc5',
  object: 'plan',
  tiers_mode: null,
  transform_usage: { divide_by: 1592560163, round: 'down' },
  usage_type: 'licensed',
} satisfies StripePriceLike & Record<string, unknown>;

function stripeLineAmount(price: StripePriceLike, quantity: number | string): number {
  return Number(priceLine(compilePrice(fromStripePrice(price)), quantity).amountMinor);
}

/** Typographic's tiers from Stripe's tiered-pricing guide: 1–5 at 7 USD, 6–10 at 6.5 USD, 11+ at 6 USD. */
function typographic(mode: 'graduated' | 'volume'): StripePriceLike {
  return {
    object: 'price',
    currency: 'usd',
    billing_scheme: 'tiered',
    tiers_mode: mode,
    tiers: [
      { up_to: 5, unit_amount: 700, unit_amount_decimal: '700', flat_amount: null, flat_amount_decimal: null },
      { up_to: 10, unit_amount: 650, unit_amount_decimal: '650', flat_amount: null, flat_amount_decimal: null },
      { up_to: null, unit_amount: 600, unit_amount_decimal: '600', flat_amount: null, flat_amount_decimal: null },
    ],
  };
}

describe('fromStripePrice: the published fixture', () => {
  it('maps per_unit + transform_quantity to a package price in major units', () => {
    expect(fromStripePrice(STRIPE_FIXTURE_PRICE)).toEqual({
      model: 'package',
      currency: 'usd',
      unitPrice: '20', // unit_amount 2000 cents = 20 USD per package
      packageSize: '1592560163',
      packageRounding: 'down',
    });
    expect(fromStripePrice(FIXTURE_PLAN)).toEqual(fromStripePrice(STRIPE_FIXTURE_PRICE));
  });

  it("prices quantities the way Stripe's invoice line would", () => {
    // Stripe: floor(quantity / 1592560163) × 2000 cents.
    expect(stripeLineAmount(STRIPE_FIXTURE_PRICE, 1)).toBe(0); // floor(1 / 1592560163) = 0
    expect(stripeLineAmount(STRIPE_FIXTURE_PRICE, 1592560163)).toBe(2000); // exactly 1 package → 20.00
    expect(stripeLineAmount(STRIPE_FIXTURE_PRICE, 3185120325)).toBe(2000); // 2×divide_by − 1 → 1 package
    expect(stripeLineAmount(STRIPE_FIXTURE_PRICE, 3185120326)).toBe(4000); // 2 packages → 40.00
    const roundedUp: StripePriceLike = { ...STRIPE_FIXTURE_PRICE, transform_quantity: { divide_by: 1592560163, round: 'up' } };
    expect(stripeLineAmount(roundedUp, 1)).toBe(2000); // ceil → 1 package
  });
});

describe('fromStripePrice: prices built as Stripe documents them', () => {
  it('unit_amount_decimal 0.05 cents × 30 = 1.5 cents → 2 cents (the decimal-amounts guide example)', () => {
    const price: StripePriceLike = { currency: 'usd', billing_scheme: 'per_unit', unit_amount: null, unit_amount_decimal: '0.05' };
    expect(fromStripePrice(price)).toEqual({ model: 'per_unit', currency: 'usd', unitPrice: '0.0005' });
    expect(stripeLineAmount(price, 30)).toBe(2);
  });

  it('unit_amount_decimal 105.5 cents ($1.055): 1 unit → 106 cents, 2 units → 211 cents', () => {
    const price: StripePriceLike = { currency: 'usd', unit_amount: null, unit_amount_decimal: '105.5' };
    expect(stripeLineAmount(price, 1)).toBe(106); // 105.5 → 106 (half-up)
    expect(stripeLineAmount(price, 2)).toBe(211); // 211.0
  });

  it("volume tiers: Stripe's guide table (1 → 7, 5 → 35, 6 → 39, 20 → 120, 25 → 150 USD)", () => {
    const price = typographic('volume');
    expect(stripeLineAmount(price, 1)).toBe(700);
    expect(stripeLineAmount(price, 5)).toBe(3500); // 5 × 7
    expect(stripeLineAmount(price, 6)).toBe(3900); // 6 × 6.5: all units at the 6–10 rate
    expect(stripeLineAmount(price, 20)).toBe(12000); // 20 × 6
    expect(stripeLineAmount(price, 25)).toBe(15000); // 25 × 6
  });

  it('graduated tiers: each tier bills its own units', () => {
    const price = typographic('graduated');
    expect(stripeLineAmount(price, 5)).toBe(3500); // 5 × 7 = 35
    expect(stripeLineAmount(price, 6)).toBe(4150); // 35 + 1 × 6.5 = 41.50
    expect(stripeLineAmount(price, 20)).toBe(12750); // 35 + 5 × 6.5 + 10 × 6 = 127.50
    expect(stripeLineAmount(price, 25)).toBe(15750); // 35 + 32.5 + 15 × 6 = 157.50
  });

  it('tiers with flat amounts and decimal unit amounts', () => {
    // Graduated: up to 1,000 units: flat 200.00 + 0 per unit; above: 0.4 cents per unit.
    const price: StripePriceLike = {
      currency: 'usd',
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: [
        { up_to: 1000, unit_amount: 0, flat_amount: 20000, flat_amount_decimal: '20000' },
        { up_to: null, unit_amount: null, unit_amount_decimal: '0.4', flat_amount: null },
      ],
    };
    expect(fromStripePrice(price)).toEqual({
      model: 'graduated',
      currency: 'usd',
      tiers: [
        { upTo: '1000', unitPrice: '0', flatFee: '200' },
        { upTo: null, unitPrice: '0.004' },
      ],
    });
    expect(stripeLineAmount(price, 800)).toBe(20000); // flat 200.00 only
    // 200.00 + 1,337 × 0.4 cents = 20000 + 534.8 = 20534.8 → 20535 cents
    expect(stripeLineAmount(price, 2337)).toBe(20535);
  });

  it('converts zero- and three-decimal currencies by their own exponent', () => {
    // 0.5 yen per unit × 3 = 1.5 → 2 yen; unit_amount in JPY is already whole yen.
    expect(fromStripePrice({ currency: 'jpy', unit_amount_decimal: '0.5' })).toMatchObject({ unitPrice: '0.5' });
    expect(stripeLineAmount({ currency: 'jpy', unit_amount_decimal: '0.5' }, 3)).toBe(2);
    // 1250 fils = 1.250 KWD per unit × 3 = 3750 fils
    expect(fromStripePrice({ currency: 'kwd', unit_amount: 1250 })).toMatchObject({ unitPrice: '1.25' });
    expect(stripeLineAmount({ currency: 'kwd', unit_amount: 1250 }, 3)).toBe(3750);
  });

  it('can price in one of the currency_options', () => {
    const price: StripePriceLike = {
      currency: 'usd',
      unit_amount: 1000,
      currency_options: { eur: { unit_amount: 900 }, jpy: { unit_amount: 1500 } },
    };
    expect(fromStripePrice(price, { currency: 'EUR' })).toEqual({ model: 'per_unit', currency: 'eur', unitPrice: '9' });
    expect(fromStripePrice(price, { currency: 'jpy' })).toEqual({ model: 'per_unit', currency: 'jpy', unitPrice: '1500' });
    expect(() => fromStripePrice(price, { currency: 'gbp' })).toThrow(PricingError);
  });

  it('refuses prices it cannot price faithfully', () => {
    const code = (price: StripePriceLike) => {
      try {
        fromStripePrice(price);
      } catch (error) {
        return (error as PricingError).code;
      }
      return undefined;
    };
    expect(code({ currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'graduated' })).toBe('UNSUPPORTED_STRIPE_PRICE'); // not expanded
    expect(code({ ...typographic('volume'), transform_quantity: { divide_by: 10, round: 'up' } })).toBe('UNSUPPORTED_STRIPE_PRICE');
    expect(code({ currency: 'usd', unit_amount: null, custom_unit_amount: { minimum: 500, maximum: null, preset: null } })).toBe(
      'UNSUPPORTED_STRIPE_PRICE',
    );
    expect(code({ currency: 'usd' })).toBe('UNSUPPORTED_STRIPE_PRICE');
    expect(code({ currency: 'usd', unit_amount: -5 })).toBe('UNSUPPORTED_STRIPE_PRICE');
    expect(code({ currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 0, round: 'up' } })).toBe('UNSUPPORTED_STRIPE_PRICE');
  });

  it('the simulator accepts a Stripe price directly', () => {
    const result = new InvoiceSimulator().simulate({
      customerId: 'cus_123',
      periodStart: '2024-07-01',
      periodEnd: '2024-08-01',
      usageItems: [{ metric: 'fonts', quantity: 20, stripePrice: typographic('graduated') }],
    });
    expect(result.lines[0]?.amount).toEqual({ minor: 12750, formatted: '127.50 USD' });
    expect(result.lines[0]?.tiers.map((tier) => tier.amount.minor)).toEqual([3500, 3250, 6000]);
  });
});
