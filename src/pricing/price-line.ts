import type { CompiledPrice, CompiledTier } from './compile-price.js';
import { Decimal } from './decimal.js';
import { parseQuantity } from './parse-quantity.js';
import { allocateRounded, roundMinorUnits } from './rounding.js';

/** One tier's share of a tiered line. */
export interface PricedTier {
  readonly tier: CompiledTier;
  /** Units billed in this tier. */
  readonly quantity: Decimal;
  /** quantity × unit price, exact, in minor units. */
  readonly exactMinor: Decimal;
  /** This tier's rounded share of the line's usage amount (the shares add up to the line; see allocateRounded). */
  readonly amountMinor: bigint;
  readonly flatFeeMinor: bigint;
}

/**
 * A priced line in exact and rounded minor units. Invariant:
 * sum(tiers.amountMinor + tiers.flatFeeMinor) + usageMinor + flatFeeMinor + adjustmentMinor = amountMinor,
 * where usageMinor is the non-tiered usage part (per_unit, package).
 */
export interface PricedLine {
  readonly price: CompiledPrice;
  readonly quantity: Decimal;
  /** Quantity after included free units. */
  readonly billableQuantity: Decimal;
  /** Packages billed (package model only). */
  readonly packages: Decimal | null;
  readonly tiers: readonly PricedTier[];
  /** Usage amount of per_unit/package lines (0 for tiered lines, whose usage is in `tiers`). */
  readonly usageMinor: bigint;
  readonly flatFeeMinor: bigint;
  /** Everything before rounding and before the minimum/maximum charge. */
  readonly exactMinor: Decimal;
  /** Raises the line to minimumCharge or lowers it to maximumCharge (0 if neither applies). */
  readonly adjustmentMinor: bigint;
  readonly limitApplied: 'minimum' | 'maximum' | null;
  readonly amountMinor: bigint;
}

interface UsageParts {
  packages: Decimal | null;
  tiers: { tier: CompiledTier; quantity: Decimal; exactMinor: Decimal }[];
  /** Exact usage amount of a non-tiered line. */
  usageExactMinor: Decimal;
}

/**
 * Prices `quantity` units under a compiled price. The line is computed exactly and rounded once
 * (Stripe's line-level half-up rule, see rounding.ts); then the minimum/maximum charge applies. Since
 * those limits are whole minor units, clamping before or after rounding gives the same amount.
 */
export function priceLine(price: CompiledPrice, quantityInput: unknown): PricedLine {
  const quantity = parseQuantity(quantityInput);
  const billableQuantity = Decimal.max(quantity.sub(price.includedUnits), Decimal.ZERO);
  const usage = usageParts(price, billableQuantity);

  const tierFlatFees = usage.tiers.map(({ tier }) => tier.flatFeeMinor);
  const fractionalParts = [...usage.tiers.map((part) => part.exactMinor), usage.usageExactMinor];
  const roundedParts = allocateRounded(fractionalParts);
  const usageMinor = roundedParts[roundedParts.length - 1] ?? 0n;

  const fixedMinor = tierFlatFees.reduce((sum, fee) => sum + fee, price.flatFeeMinor);
  const exactMinor = fractionalParts.reduce((sum, part) => sum.add(part), Decimal.fromInteger(fixedMinor));
  const unclampedMinor = roundMinorUnits(exactMinor);
  const { amountMinor, limitApplied } = applyChargeLimits(price, unclampedMinor);

  return {
    price,
    quantity,
    billableQuantity,
    packages: usage.packages,
    tiers: usage.tiers.map((part, position) => ({
      tier: part.tier,
      quantity: part.quantity,
      exactMinor: part.exactMinor,
      amountMinor: roundedParts[position] ?? 0n,
      flatFeeMinor: part.tier.flatFeeMinor,
    })),
    usageMinor,
    flatFeeMinor: price.flatFeeMinor,
    exactMinor,
    adjustmentMinor: amountMinor - unclampedMinor,
    limitApplied,
    amountMinor,
  };
}

function usageParts(price: CompiledPrice, billable: Decimal): UsageParts {
  switch (price.model) {
    case 'flat':
      return { packages: null, tiers: [], usageExactMinor: Decimal.ZERO };
    case 'per_unit':
      return { packages: null, tiers: [], usageExactMinor: billable.mul(price.unitPriceMinor ?? Decimal.ZERO) };
    case 'package': {
      const packages = packageCount(price, billable);
      return { packages, tiers: [], usageExactMinor: packages.mul(price.unitPriceMinor ?? Decimal.ZERO) };
    }
    case 'graduated':
      return { packages: null, tiers: graduatedTiers(price.tiers, billable), usageExactMinor: Decimal.ZERO };
    case 'volume':
      return { packages: null, tiers: volumeTier(price.tiers, billable), usageExactMinor: Decimal.ZERO };
  }
}

/** Whole packages: quantity / size rounded up (every started package is paid) or down. */
function packageCount(price: CompiledPrice, billable: Decimal): Decimal {
  const size = price.packageSize ?? Decimal.ONE;
  return billable.div(size, 0, price.packageRounding === 'up' ? 'ceil' : 'floor');
}

/**
 * Graduated: each tier bills the units that fall inside it, (from, upTo]. A tier (and its flat fee)
 * counts only once the quantity reaches into it, so 0 units bill nothing.
 */
function graduatedTiers(tiers: readonly CompiledTier[], billable: Decimal): UsageParts['tiers'] {
  const parts: UsageParts['tiers'] = [];
  for (const tier of tiers) {
    if (billable.lte(tier.from)) break;
    const top = tier.upTo === null ? billable : Decimal.min(billable, tier.upTo);
    const quantity = top.sub(tier.from);
    parts.push({ tier, quantity, exactMinor: quantity.mul(tier.unitPriceMinor) });
  }
  return parts;
}

/**
 * Volume: the whole quantity is billed at the tier containing it; `upTo` is inclusive, so exactly
 * 1,000 units use the "up to 1,000" tier. 0 units reach no tier and bill nothing.
 */
function volumeTier(tiers: readonly CompiledTier[], billable: Decimal): UsageParts['tiers'] {
  if (billable.isZero()) return [];
  const tier = tiers.find((candidate) => candidate.upTo === null || billable.lte(candidate.upTo));
  if (tier === undefined) return [];
  return [{ tier, quantity: billable, exactMinor: billable.mul(tier.unitPriceMinor) }];
}

function applyChargeLimits(
  price: CompiledPrice,
  amountMinor: bigint,
): { amountMinor: bigint; limitApplied: PricedLine['limitApplied'] } {
  if (price.minimumChargeMinor !== null && amountMinor < price.minimumChargeMinor) {
    return { amountMinor: price.minimumChargeMinor, limitApplied: 'minimum' };
  }
  if (price.maximumChargeMinor !== null && amountMinor > price.maximumChargeMinor) {
    return { amountMinor: price.maximumChargeMinor, limitApplied: 'maximum' };
  }
  return { amountMinor, limitApplied: null };
}
