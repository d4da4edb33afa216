import { describe, expect, it } from 'vitest';
import { compilePrice, Decimal, priceLine, type PriceConfig, type PriceTier } from '../../src/pricing/index.js';
import { SeededRandom } from './seeded-random.js';

/** Random valid tiers: 1–5 bounded tiers with increasing integer or decimal bounds, then an unbounded one. */
function randomTiers(random: SeededRandom): PriceTier[] {
  const tiers: PriceTier[] = [];
  let bound = Decimal.ZERO;
  const count = random.int(1, 5);
  for (let i = 0; i < count; i++) {
    bound = bound.add(Decimal.parse(random.decimalString(5000, random.pick([0, 0, 2, 6])))).add(Decimal.parse('0.000001'));
    tiers.push(randomTier(random, bound.toString()));
  }
  tiers.push(randomTier(random, null));
  return tiers;
}

function randomTier(random: SeededRandom, upTo: string | null): PriceTier {
  const tier: PriceTier = { upTo, unitPrice: random.decimalString(3, random.int(0, 8)) };
  if (random.int(0, 2) === 0) tier.flatFee = random.decimalString(100, 2);
  return tier;
}

function randomQuantity(random: SeededRandom, max: number): Decimal {
  return Decimal.parse(random.decimalString(max, random.pick([0, 1, 6])));
}

describe('pricing properties (seeded)', () => {
  it('graduated cost never decreases as the quantity grows', () => {
    const random = new SeededRandom(42);
    for (let run = 0; run < 300; run++) {
      const price = compilePrice({ model: 'graduated', currency: 'usd', tiers: randomTiers(random) });
      let previousQuantity = Decimal.ZERO;
      let previousAmount = 0n;
      for (let step = 0; step < 30; step++) {
        const quantity = previousQuantity.add(randomQuantity(random, step % 5 === 0 ? 5000 : 50));
        const amount = priceLine(price, quantity).amountMinor;
        expect(amount >= previousAmount, `seed 42 run ${run}: ${previousQuantity} → ${quantity}`).toBe(true);
        previousQuantity = quantity;
        previousAmount = amount;
      }
    }
  });

  it('graduated tier shares always add up to the rounded line', () => {
    const random = new SeededRandom(4242);
    for (let run = 0; run < 1000; run++) {
      const line = priceLine(compilePrice({ model: 'graduated', currency: 'usd', tiers: randomTiers(random) }), randomQuantity(random, 20000));
      const sum = line.tiers.reduce((total, tier) => total + tier.amountMinor + tier.flatFeeMinor, 0n);
      expect(sum).toBe(line.amountMinor);
      expect(line.amountMinor).toBe(line.exactMinor.roundToScale(0, 'half-up').units);
      for (const tier of line.tiers) {
        // Each share is within one minor unit of its exact value.
        expect(tier.exactMinor.sub(Decimal.fromInteger(tier.amountMinor)).abs().lt(Decimal.ONE)).toBe(true);
      }
    }
  });

  it('volume boundaries are inclusive of upTo', () => {
    const random = new SeededRandom(99);
    for (let run = 0; run < 300; run++) {
      const tiers = randomTiers(random);
      const price = compilePrice({ model: 'volume', currency: 'usd', tiers });
      price.tiers.forEach((tier, position) => {
        if (tier.upTo === null) return;
        const atBound = priceLine(price, tier.upTo);
        expect(atBound.tiers[0]?.tier.index).toBe(position + 1);
        const above = priceLine(price, tier.upTo.add(Decimal.parse('0.000001')));
        expect(above.tiers[0]?.tier.index).toBe(position + 2);
        const below = tier.upTo.sub(Decimal.parse('0.000001'));
        if (below.gt(tier.from)) expect(priceLine(price, below).tiers[0]?.tier.index).toBe(position + 1);
      });
    }
  });

  it('package rounding: up = fewest packages covering the quantity, down = most packages within it', () => {
    const random = new SeededRandom(7);
    for (let run = 0; run < 2000; run++) {
      const size = Decimal.parse(random.decimalString(1000, random.pick([0, 3]))).add(Decimal.parse('0.001'));
      const quantity = randomQuantity(random, 100000);
      const config: PriceConfig = { model: 'package', currency: 'usd', unitPrice: '1', packageSize: size.toString() };
      const up = priceLine(compilePrice({ ...config, packageRounding: 'up' }), quantity).packages ?? Decimal.ZERO;
      const down = priceLine(compilePrice({ ...config, packageRounding: 'down' }), quantity).packages ?? Decimal.ZERO;
      expect(up.isInteger() && down.isInteger()).toBe(true);
      expect(up.mul(size).gte(quantity)).toBe(true);
      expect(up.sub(Decimal.ONE).mul(size).lt(quantity) || up.isZero()).toBe(true);
      expect(down.mul(size).lte(quantity)).toBe(true);
      expect(down.add(Decimal.ONE).mul(size).gt(quantity)).toBe(true);
      expect(up.sub(down).lte(Decimal.ONE)).toBe(true);
    }
  });

  it('per unit equals quantity × price rounded half-up, computed independently on BigInt', () => {
    const random = new SeededRandom(1234);
    for (let run = 0; run < 2000; run++) {
      const unitPrice = random.decimalString(20, random.int(0, 14));
      const quantity = random.decimalString(100000, random.int(0, 6));
      const expected = (BigInt(unitPrice.replace('.', '')) * BigInt(quantity.replace('.', '')) * 100n);
      const scale = 10n ** BigInt((unitPrice.split('.')[1]?.length ?? 0) + (quantity.split('.')[1]?.length ?? 0));
      const rounded = (expected * 2n + scale) / (2n * scale); // half-up for non-negative values
      const amount = priceLine(compilePrice({ model: 'per_unit', currency: 'usd', unitPrice }), quantity).amountMinor;
      expect(amount, `${quantity} × ${unitPrice}`).toBe(rounded);
    }
  });
});
