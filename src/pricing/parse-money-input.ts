import { Decimal } from './decimal.js';
import { PricingError } from './pricing-error.js';

/** Stripe's `unit_amount_decimal` allows 12 decimals of a MINOR unit; in major units that is 12 + exponent. */
export const MAX_UNIT_PRICE_MINOR_DECIMALS = 12;

function toDecimal(input: unknown, code: 'INVALID_PRICE' | 'INVALID_AMOUNT', what: string): Decimal {
  try {
    if (typeof input === 'string' || typeof input === 'number' || typeof input === 'bigint' || input instanceof Decimal) {
      return Decimal.from(input);
    }
  } catch (error) {
    if (error instanceof PricingError) throw new PricingError(code, `${what}: ${error.message}`);
    throw error;
  }
  throw new PricingError(code, `${what} must be a decimal string or a number (got ${input === null ? 'null' : typeof input})`);
}

function nonNegative(value: Decimal, code: 'INVALID_PRICE' | 'INVALID_AMOUNT', what: string): Decimal {
  if (value.isNegative()) throw new PricingError(code, `${what} must not be negative (got ${value.toString()})`);
  return value;
}

/**
 * A unit price in MAJOR units ("0.80" USD), returned in exact MINOR units (80) so all line math is
 * done in minor units and rounds once at the end.
 */
export function parseUnitPriceToMinor(input: unknown, exponent: number, what = 'unitPrice'): Decimal {
  const major = nonNegative(toDecimal(input, 'INVALID_PRICE', what), 'INVALID_PRICE', what);
  const maxDecimals = MAX_UNIT_PRICE_MINOR_DECIMALS + exponent;
  if (major.decimalPlaces() > maxDecimals) {
    throw new PricingError(
      'INVALID_PRICE',
      `${what} ${major.toString()} has more than ${maxDecimals} decimals (12 beyond the currency's minor unit, as Stripe's unit_amount_decimal)`,
    );
  }
  return major.shift(exponent).normalize();
}

/**
 * A fixed amount in MAJOR units (flat fee, minimum/maximum charge) that must be a whole number of
 * minor units — as Stripe's `flat_amount_decimal` must represent an integer — returned in minor units.
 */
export function parseMajorAmountToMinor(input: unknown, exponent: number, what: string): bigint {
  const major = nonNegative(toDecimal(input, 'INVALID_AMOUNT', what), 'INVALID_AMOUNT', what);
  if (major.decimalPlaces() > exponent) {
    throw new PricingError(
      'INVALID_AMOUNT',
      `${what} ${major.toString()} is not a whole number of minor units (at most ${exponent} decimals for this currency)`,
    );
  }
  return major.shift(exponent).toBigInt();
}

/** A non-negative integer amount already in minor units (credits, commitments), e.g. 5000 or "5000". */
export function parseMinorAmount(input: unknown, what: string): bigint {
  if (typeof input === 'number' && Number.isInteger(input) && !Number.isSafeInteger(input)) {
    throw new PricingError('INVALID_AMOUNT', `${what} ${input} is beyond 2^53; pass it as a string`);
  }
  const value = nonNegative(toDecimal(input, 'INVALID_AMOUNT', what), 'INVALID_AMOUNT', what);
  if (!value.isInteger()) {
    throw new PricingError('INVALID_AMOUNT', `${what} must be an integer number of minor units (got ${value.toString()})`);
  }
  return value.toBigInt();
}
