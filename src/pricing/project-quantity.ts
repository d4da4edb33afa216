import type { Decimal } from './decimal.js';
import { parseQuantity } from './parse-quantity.js';
import { projectLinear } from './project-usage.js';
import { parseInstant, parsePeriod } from './parse-period.js';
import { PricingError } from './pricing-error.js';

export interface QuantityProjectionInput {
  /** Usage so far in the period. */
  quantity: unknown;
  periodStart: string;
  periodEnd: string;
  /** The moment `quantity` was measured (e.g. the counter's watermark), not the wall clock: callers inject time. */
  asOf: string;
}

/**
 * Linear end-of-period projection: quantity × period length / elapsed time, rounded half-up to the 6
 * decimals quantities carry. Before any time has elapsed there is no rate to extrapolate, and at or
 * after the period end the usage is final, so both return the quantity unchanged.
 */
export function projectQuantity(input: QuantityProjectionInput): Decimal {
  const quantity = parseQuantity(input.quantity);
  const { startMs, endMs } = parsePeriod(input.periodStart, input.periodEnd);
  const asOfMs = parseInstant(input.asOf, 'asOf');
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(endMs) || !Number.isSafeInteger(asOfMs)) {
    throw new PricingError('INVALID_PERIOD', 'dates must resolve to whole milliseconds');
  }
  return projectLinear(quantity, startMs, endMs, asOfMs);
}
