import { checkSchema } from './check-schema.js';
import { compilePrice, type CompiledPrice } from './compile-price.js';
import { computeTotals } from './compute-totals.js';
import { toMoney } from './format-money.js';
import { fromStripePrice, type StripePriceLike } from './from-stripe-price.js';
import { parsePeriod } from './parse-period.js';
import { parseQuantity } from './parse-quantity.js';
import { parseTaxRate } from './parse-tax-rate.js';
import { priceLine, type PricedLine } from './price-line.js';
import { atPath, PricingError } from './pricing-error.js';
import type { SimulatedLine, SimulatedTier, SimulationResult } from './simulation-result.js';
import { SimulationInputSchema, type SimulationInput, type UsageItem } from './simulation-schema.js';

/**
 * Simulates the invoice a customer would get for a period's usage: one line per usage item (with the
 * tier-by-tier breakdown), then per-currency subtotal, commitment top-up, credits, tax and total.
 * Pure and deterministic: no clock, no I/O; every amount is exact integer minor units plus a
 * locale-independent display string. Throws PricingError (with `code` and `path`) on bad input.
 */
export class InvoiceSimulator {
  simulate(input: SimulationInput): SimulationResult {
    const simulation = checkSchema(SimulationInputSchema, input, 'INVALID_SIMULATION', 'simulation');
    parsePeriod(simulation.periodStart, simulation.periodEnd);
    const taxRate = simulation.taxRate === undefined ? null : atPath('taxRate', () => parseTaxRate(simulation.taxRate));
    const priced = simulation.usageItems.map((item, position) =>
      atPath(`usageItems[${position}]`, () => {
        const price = priceFor(item);
        return { item, line: priceLine(price, atPath('quantity', () => parseQuantity(item.quantity))) };
      }),
    );
    return {
      customerId: simulation.customerId,
      periodStart: simulation.periodStart,
      periodEnd: simulation.periodEnd,
      taxRate: taxRate === null ? null : taxRate.toString(),
      lines: priced.map(({ item, line }) => toSimulatedLine(line, item)),
      totals: computeTotals(
        priced.map(({ line }) => line),
        simulation.commitments ?? [],
        simulation.credits ?? [],
        taxRate,
      ),
    };
  }
}

/** A usage item is priced by our own config or by a Stripe Price object, not both. */
function priceFor(item: UsageItem): CompiledPrice {
  if (item.priceConfig !== undefined && item.stripePrice !== undefined) {
    throw new PricingError('INVALID_SIMULATION', 'give either priceConfig or stripePrice, not both');
  }
  if (item.priceConfig !== undefined) {
    const config = item.priceConfig;
    return atPath('priceConfig', () => compilePrice(config));
  }
  if (item.stripePrice !== undefined) {
    const stripePrice = item.stripePrice as StripePriceLike;
    return atPath('stripePrice', () => compilePrice(fromStripePrice(stripePrice)));
  }
  throw new PricingError('INVALID_SIMULATION', 'a usage item needs a priceConfig (or a stripePrice)');
}

function toSimulatedLine(line: PricedLine, item: UsageItem): SimulatedLine {
  const { price } = line;
  const money = (minor: bigint) => toMoney(minor, price.currency);
  const tierUsage = line.tiers.reduce((sum, tier) => sum + tier.amountMinor, 0n);
  const tierFees = line.tiers.reduce((sum, tier) => sum + tier.flatFeeMinor, 0n);
  const simulated: SimulatedLine = {
    metric: item.metric,
    currency: price.currency,
    model: price.model,
    quantity: line.quantity.toString(),
    includedUnits: price.includedUnits.toString(),
    billableQuantity: line.billableQuantity.toString(),
    tiers: line.tiers.map(
      (tier): SimulatedTier => ({
        tier: tier.tier.index,
        from: tier.tier.from.toString(),
        upTo: tier.tier.upTo === null ? null : tier.tier.upTo.toString(),
        quantity: tier.quantity.toString(),
        unitPrice: tier.tier.unitPrice.toString(),
        amount: money(tier.amountMinor),
        flatFee: money(tier.flatFeeMinor),
        total: money(tier.amountMinor + tier.flatFeeMinor),
      }),
    ),
    usage: money(tierUsage + line.usageMinor),
    fees: money(tierFees + line.flatFeeMinor),
    adjustment: money(line.adjustmentMinor),
    limitApplied: line.limitApplied,
    exactAmountMinor: line.exactMinor.toString(),
    amount: money(line.amountMinor),
    priceConfig: price.config,
  };
  if (item.description !== undefined) simulated.description = item.description;
  if (line.packages !== null) simulated.packages = line.packages.toString();
  if (price.unitPrice !== null) simulated.unitPrice = price.unitPrice.toString();
  return simulated;
}
