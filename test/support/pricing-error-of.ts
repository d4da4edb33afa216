import { PricingError } from '../../src/pricing/index.js';

/** The PricingError `fn` throws, to assert on its code and path; anything else fails the test. */
export function pricingErrorOf(fn: () => unknown): PricingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PricingError) return error;
    throw error;
  }
  throw new Error('expected a PricingError');
}
