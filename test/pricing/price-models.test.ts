import { describe, expect, it } from 'vitest';
import { compilePrice, priceLine, type PriceConfig, type PriceTier } from '../../src/pricing/index.js';
import { BRIEF_TIERED_PRICE } from '../support/price-fixtures.js';

function amountMinor(config: PriceConfig, quantity: string | number): number {
  return Number(priceLine(compilePrice(config), quantity).amountMinor);
}

const TIERS: PriceTier[] = [
  { upTo: 100, unitPrice: '1.00' },
  { upTo: 1000, unitPrice: '0.80' },
  { upTo: null, unitPrice: '0.60' },
];
const TIERS_WITH_FEES: PriceTier[] = [
  { upTo: 100, unitPrice: '1.00', flatFee: '10' },
  { upTo: 1000, unitPrice: '0.80', flatFee: '50' },
  { upTo: 'inf', unitPrice: '0.60', flatFee: '100' },
];
const graduated: PriceConfig = { model: 'graduated', currency: 'usd', tiers: TIERS };
const volume: PriceConfig = { model: 'volume', currency: 'usd', tiers: TIERS };

describe('graduated tiers', () => {
  it('1,500 units → 1,120.00 USD', () => {
    // 100 × 1.00 + 900 × 0.80 + 500 × 0.60 = 100 + 720 + 300 = 1,120.00
    expect(amountMinor(graduated, 1500)).toBe(112000);
  });

  it('150.5 units → 140.40 USD', () => {
    // 100 × 1.00 + 50.5 × 0.80 = 100 + 40.40 = 140.40
    expect(amountMinor(graduated, '150.5')).toBe(14040);
  });

  it('with flat fees 10 / 50 / 100: 1,500 units → 1,280.00, 0 units → 0', () => {
    // 1,120.00 of units + 10 + 50 + 100 of tier fees (all three tiers reached) = 1,280.00
    const config: PriceConfig = { model: 'graduated', currency: 'usd', tiers: TIERS_WITH_FEES };
    expect(amountMinor(config, 1500)).toBe(128000);
    // No tier is reached by 0 units, so no tier fee either.
    expect(amountMinor(config, 0)).toBe(0);
    // 50 units: 50 × 1.00 + tier-1 fee 10 = 60.00; 100 units (tier 1 full, tier 2 not reached) = 110.00
    expect(amountMinor(config, 50)).toBe(6000);
    expect(amountMinor(config, 100)).toBe(11000);
    // 100.5 units: 100 + 0.5 × 0.80 + 10 + 50 = 160.40
    expect(amountMinor(config, '100.5')).toBe(16040);
  });

  it('breaks the line down tier by tier', () => {
    const line = priceLine(compilePrice(graduated), 1500);
    expect(
      line.tiers.map((t) => [t.tier.index, t.tier.from.toString(), t.tier.upTo?.toString() ?? null, t.quantity.toString(), t.amountMinor]),
    ).toEqual([
      [1, '0', '100', '100', 10000n],
      [2, '100', '1000', '900', 72000n],
      [3, '1000', null, '500', 30000n],
    ]);
  });

  it('rounds once per line, and the tier shares add up to the line', () => {
    // Each tier: 1 unit × 0.005 USD = 0.5 cents. Line: 1.5 cents → 2 cents (half-up).
    // Rounding each tier separately would give 1 + 1 + 1 = 3 cents; the shares are 1, 0, 1.
    const config: PriceConfig = {
      model: 'graduated',
      currency: 'usd',
      tiers: [
        { upTo: 1, unitPrice: '0.005' },
        { upTo: 2, unitPrice: '0.005' },
        { upTo: null, unitPrice: '0.005' },
      ],
    };
    const line = priceLine(compilePrice(config), 3);
    expect(line.amountMinor).toBe(2n);
    expect(line.tiers.map((t) => t.amountMinor)).toEqual([1n, 0n, 1n]);
    expect(line.exactMinor.toString()).toBe('1.5');
  });

  it("the brief's tiered example: 25,000 api calls → 220.00 USD", () => {
    // 10,000 × 0.01 + 15,000 × 0.008 = 100 + 120 = 220.00 (third tier not reached)
    expect(amountMinor(BRIEF_TIERED_PRICE, 25000)).toBe(22000);
    expect(compilePrice(BRIEF_TIERED_PRICE).model).toBe('graduated');
  });

  it('subtracts included units before the tiers', () => {
    // 1,500 − 100 free = 1,400: 100 × 1.00 + 900 × 0.80 + 400 × 0.60 = 1,060.00
    expect(amountMinor({ ...graduated, includedUnits: 100 }, 1500)).toBe(106000);
    expect(amountMinor({ ...graduated, includedUnits: '2000' }, 1500)).toBe(0);
  });
});

describe('volume tiers', () => {
  it('500 → 400.00 and 1,500 → 900.00', () => {
    expect(amountMinor(volume, 500)).toBe(40000); // 500 × 0.80
    expect(amountMinor(volume, 1500)).toBe(90000); // 1,500 × 0.60
  });

  it('bills the whole quantity in the tier containing it, upTo inclusive', () => {
    expect(amountMinor(volume, 100)).toBe(10000); // 100 × 1.00 (tier 1 includes 100)
    expect(amountMinor(volume, '100.000001')).toBe(8000); // 100.000001 × 0.80 = 80.0000008 → 80.00
    expect(amountMinor(volume, 1000)).toBe(80000); // 1,000 × 0.80
    expect(amountMinor(volume, 1001)).toBe(60060); // 1,001 × 0.60 = 600.60
  });

  it("adds the containing tier's flat fee only", () => {
    // 500 × 0.80 + 50 = 450.00; 0 units reach no tier → 0
    const config: PriceConfig = { model: 'volume', currency: 'usd', tiers: TIERS_WITH_FEES };
    expect(amountMinor(config, 500)).toBe(45000);
    expect(amountMinor(config, 0)).toBe(0);
  });
});

describe('flat, per unit and package', () => {
  it('flat fee ignores the quantity', () => {
    const config: PriceConfig = { model: 'flat', currency: 'usd', flatFee: '49.99' };
    expect(amountMinor(config, 0)).toBe(4999);
    expect(amountMinor(config, 1_000_000)).toBe(4999);
  });

  it('per unit rounds the line half-up, as Stripe documents', () => {
    // 0.05 cents per unit (Stripe's unit_amount_decimal example) = 0.0005 USD.
    const config: PriceConfig = { model: 'per_unit', currency: 'usd', unitPrice: '0.0005' };
    expect(amountMinor(config, 30)).toBe(2); // 1.5 cents → 2
    expect(amountMinor(config, 29)).toBe(1); // 1.45 cents → 1
    expect(amountMinor(config, 10)).toBe(1); // 0.5 cents → 1
    expect(amountMinor(config, 9)).toBe(0); // 0.45 cents → 0
  });

  it('per unit with a base fee and included units', () => {
    // (1,500 − 1,000) × 0.10 + 20.00 base = 70.00; below the allowance only the base fee
    const config: PriceConfig = { model: 'per_unit', currency: 'usd', unitPrice: '0.10', flatFee: '20', includedUnits: 1000 };
    expect(amountMinor(config, 1500)).toBe(7000);
    expect(amountMinor(config, 800)).toBe(2000);
  });

  it('package rounds the package count up or down', () => {
    const up: PriceConfig = { model: 'package', currency: 'usd', unitPrice: '5.00', packageSize: 1000, packageRounding: 'up' };
    const down: PriceConfig = { ...up, packageRounding: 'down' };
    expect(amountMinor(up, 1001)).toBe(1000); // 2 packages × 5.00
    expect(amountMinor(down, 1001)).toBe(500); // 1 package
    expect(amountMinor(up, 2000)).toBe(1000);
    expect(amountMinor(down, 2000)).toBe(1000);
    expect(amountMinor(down, 999)).toBe(0);
    expect(amountMinor(up, 0)).toBe(0);
    expect(amountMinor(up, '0.000001')).toBe(500);
    expect(priceLine(compilePrice(up), 2500).packages?.toString()).toBe('3');
  });

  it('package rounding defaults to up', () => {
    expect(amountMinor({ model: 'package', currency: 'usd', unitPrice: '1', packageSize: '2.5' }, 5.1)).toBe(300);
  });
});

describe('minimum and maximum charge', () => {
  const perUnit: PriceConfig = { model: 'per_unit', currency: 'usd', unitPrice: '0.01', minimumCharge: '5.00', maximumCharge: '50' };

  it('raises a line to the minimum, even with no usage', () => {
    const line = priceLine(compilePrice(perUnit), 100); // 1.00 → 5.00
    expect(line.amountMinor).toBe(500n);
    expect(line.adjustmentMinor).toBe(400n);
    expect(line.limitApplied).toBe('minimum');
    expect(amountMinor(perUnit, 0)).toBe(500);
  });

  it('caps a line at the maximum', () => {
    const line = priceLine(compilePrice(perUnit), 10000); // 100.00 → 50.00
    expect(line.amountMinor).toBe(5000n);
    expect(line.adjustmentMinor).toBe(-5000n);
    expect(line.limitApplied).toBe('maximum');
  });

  it('leaves lines between the limits alone', () => {
    const line = priceLine(compilePrice(perUnit), 1234); // 12.34
    expect(line.amountMinor).toBe(1234n);
    expect(line.limitApplied).toBeNull();
  });
});
