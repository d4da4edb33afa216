import { Decimal, type DecimalInput } from './decimal.js';
import { PricingError } from './pricing-error.js';

/** Usage quantities carry at most this many decimals (meters report e.g. GB-hours to the micro-unit). */
export const MAX_QUANTITY_DECIMALS = 6;

/**
 * A usage quantity: a non-negative exact decimal with at most 6 decimals. Numbers must be finite;
 * integers must be safe integers (above 2^53 a JSON number may already have lost digits, so such
 * quantities must come as strings); a fractional number is read as the literal it prints as.
 */
export function parseQuantity(input: DecimalInput | unknown, what = 'quantity'): Decimal {
  const value = toDecimal(input, what);
  if (value.isNegative()) throw new PricingError('INVALID_QUANTITY', `${what} must not be negative (got ${value.toString()})`);
  if (value.decimalPlaces() > MAX_QUANTITY_DECIMALS) {
    throw new PricingError(
      'INVALID_QUANTITY',
      `${what} has more than ${MAX_QUANTITY_DECIMALS} decimals (got ${value.toString()})`,
    );
  }
  return value.decimalPlaces() === value.scale ? value : value.normalize();
}

function toDecimal(input: unknown, what: string): Decimal {
  if (input instanceof Decimal) return input;
  if (typeof input === 'bigint') return Decimal.fromInteger(input);
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new PricingError('INVALID_QUANTITY', `${what} must be a finite number (got ${input})`);
    if (Number.isInteger(input) && !Number.isSafeInteger(input)) {
      throw new PricingError('INVALID_QUANTITY', `${what} ${input} is beyond 2^53; pass it as a decimal string`);
    }
    return Decimal.fromNumber(input);
  }
  if (typeof input === 'string') {
    try {
      return Decimal.parse(input);
    } catch {
      throw new PricingError('INVALID_QUANTITY', `${what} ${JSON.stringify(input)} is not a decimal number`);
    }
  }
  throw new PricingError('INVALID_QUANTITY', `${what} must be a decimal string or a number (got ${typeof input})`);
}
