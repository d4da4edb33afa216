import { Decimal } from './decimal.js';

/**
 * How amounts become integer minor units — the rule Stripe documents for decimal prices
 * (https://docs.stripe.com/billing/subscriptions/decimal-amounts, section "Rounding"):
 *
 *   "Rounding occurs on the line item level of your invoices. [...] if you create a price with
 *    unit_amount_decimal = 0.05 and a monthly subscription for that price with quantity = 30,
 *    rounding occurs after the quantity is multiplied by the decimal amount. [...] 0.05 * 30 = 1.5,
 *    which is then rounded up to 2 cents. If you have multiple line items, each will be rounded
 *    before summing up the total amount for the invoice."
 *
 * and for fees (https://support.stripe.com/questions/rounding-rules-for-stripe-fees): "round to the
 * nearest unit [...] 0.025 → 0.03, 0.024 → 0.02". So: compute the line exactly (quantity × unit price,
 * tier by tier, plus flat amounts), then round ONCE per line to the nearest minor unit, ties away
 * from zero ("half-up"), then sum the rounded lines. Never round unit prices or intermediate tier
 * amounts before summing a line; never round the invoice total again.
 */
export const STRIPE_LINE_ROUNDING = 'half-up' as const;

/** Exact minor-unit amount → integer minor units, Stripe's way. */
export function roundMinorUnits(exactMinor: Decimal): bigint {
  return exactMinor.roundToScale(0, STRIPE_LINE_ROUNDING).units;
}

/**
 * Splits an exact line into rounded parts that add up to the rounded line: part i gets
 * round(prefix sum through i) − round(prefix sum before i). Each part is within one minor unit of its
 * exact value, and the parts always sum to `roundMinorUnits(total)`, so a tier-by-tier breakdown never
 * disagrees with the line amount by a stray cent.
 */
export function allocateRounded(exactParts: readonly Decimal[]): bigint[] {
  const rounded: bigint[] = [];
  let prefix = Decimal.ZERO;
  let previous = 0n;
  for (const part of exactParts) {
    prefix = prefix.add(part);
    const current = roundMinorUnits(prefix);
    rounded.push(current - previous);
    previous = current;
  }
  return rounded;
}
