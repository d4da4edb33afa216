import type { Static } from '@sinclair/typebox';
import { currencyExponent, normalizeCurrency } from './currencies.js';
import { Decimal } from './decimal.js';
import { PricingError } from './pricing-error.js';
import type { MoneySchema } from './simulation-result.js';

/** An amount as the API returns it: exact integer minor units plus a display string ("1,500 JPY"). */
export type Money = Static<typeof MoneySchema>;

/**
 * Fixed format, independent of the machine's locale (Intl output differs between ICU builds and
 * locales, and this string is compared in scenario files): comma thousands separators, a dot before
 * the currency's minor digits, and the upper-case code after the number.
 */
export function formatMinor(minor: bigint, currency: string): string {
  const code = normalizeCurrency(currency);
  const text = Decimal.fromUnits(minor, currencyExponent(code)).toFixed(currencyExponent(code));
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const dot = unsigned.indexOf('.');
  const integerPart = dot === -1 ? unsigned : unsigned.slice(0, dot);
  const fractionPart = dot === -1 ? '' : unsigned.slice(dot);
  const grouped = integerPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fractionPart} ${code.toUpperCase()}`;
}

/** JSON numbers are exact only up to 2^53 − 1; beyond that we refuse instead of emitting a wrong amount. */
export function minorToNumber(minor: bigint): number {
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PricingError('AMOUNT_OVERFLOW', `amount ${minor} minor units exceeds the safe integer range`);
  }
  return Number(minor);
}

export function toMoney(minor: bigint, currency: string): Money {
  return { minor: minorToNumber(minor), formatted: formatMinor(minor, currency) };
}
