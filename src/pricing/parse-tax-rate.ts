import { Decimal } from './decimal.js';
import { PricingError } from './pricing-error.js';

/**
 * `taxRate` is a percentage, as Stripe's TaxRate `percentage` field: "8.25" is 8.25 %. (A fraction
 * like 0.0825 would read as 0.0825 %, which is why values are echoed back in the result.) Allowed:
 * 0–100 with at most 4 decimals (0.0001 %).
 */
export function parseTaxRate(input: unknown): Decimal {
  let rate: Decimal;
  try {
    if (typeof input !== 'string' && typeof input !== 'number') throw new PricingError('INVALID_SIMULATION', 'not a number');
    rate = Decimal.from(input);
  } catch {
    throw new PricingError('INVALID_SIMULATION', `taxRate must be a percentage such as "8.25" (got ${JSON.stringify(input)})`);
  }
  if (rate.isNegative() || rate.gt(Decimal.fromInteger(100))) {
    throw new PricingError('INVALID_SIMULATION', `taxRate is a percentage between 0 and 100 (got ${rate.toString()})`);
  }
  if (rate.decimalPlaces() > 4) {
    throw new PricingError('INVALID_SIMULATION', `taxRate has more than 4 decimals (got ${rate.toString()})`);
  }
  return rate.normalize();
}

/** Tax on an amount in minor units, rounded once half-up like any Stripe amount. */
export function taxOn(taxableMinor: bigint, ratePercent: Decimal): bigint {
  return Decimal.fromInteger(taxableMinor).mul(ratePercent).shift(-2).roundToScale(0, 'half-up').units;
}
