import { Decimal } from '../pricing/decimal.js';
import { ExactNumber } from './exact-json.js';

/**
 * Usage quantities are exact: integer micro-units (quantity × 10^6) held as BigInt and stored in
 * 64-bit columns. A quantity is a JSON number — never a string, so `"5"` is an error — that is
 * finite, at most 10^12 units and has at most 6 decimals. Formatting back uses the pricing
 * library's exact decimal, so the API shows exactly what was summed.
 */
export const QUANTITY_DECIMALS = 6;
export const MICRO_PER_UNIT = 1_000_000n;
/** 10^12 units, 10^18 micro-units: one event can never overflow a signed 64-bit column. */
export const MAX_QUANTITY_UNITS = 1_000_000_000_000;
export const MAX_QUANTITY_MICRO = BigInt(MAX_QUANTITY_UNITS) * MICRO_PER_UNIT;
/** A JS integer whose micro-units stay below 2^53 converts without BigInt multiplication. */
const FAST_INTEGER_LIMIT = Math.floor(Number.MAX_SAFE_INTEGER / 1_000_000);

const DECIMAL_TEXT = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export type MicroResult = bigint | { problem: string };

export interface QuantityRules {
  /** Adjustments may be negative; usage events may not. */
  allowNegative?: boolean;
  what?: string;
}

/** A JSON number (or the exact literal of a long one) → micro-units, or the reason it is refused. */
export function quantityToMicro(value: unknown, rules: QuantityRules = {}): MicroResult {
  const what = rules.what ?? 'quantity';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { problem: `${what} must be a finite number` };
    if (value < 0 && !rules.allowNegative) return { problem: `${what} must not be negative` };
    if (Number.isInteger(value)) {
      if (Math.abs(value) > MAX_QUANTITY_UNITS) return { problem: `${what} must be at most ${MAX_QUANTITY_UNITS} units` };
      if (Math.abs(value) <= FAST_INTEGER_LIMIT) return BigInt(value * 1_000_000);
      return BigInt(value) * MICRO_PER_UNIT;
    }
    // A fractional JSON number with ≤ 15 significant digits prints as exactly the literal that was
    // sent (longer literals arrive as ExactNumber, see exact-json.ts).
    return decimalTextToMicro(String(value), rules);
  }
  if (value instanceof ExactNumber) return decimalTextToMicro(value.literal, rules);
  if (typeof value === 'string') return { problem: `${what} must be a JSON number, not a string` };
  return { problem: `${what} must be a number` };
}

/** Exact decimal text (plain or with an exponent) → micro-units; used for JSON literals and CSV cells. */
export function decimalTextToMicro(text: string, rules: QuantityRules = {}): MicroResult {
  const what = rules.what ?? 'quantity';
  const m = DECIMAL_TEXT.exec(text);
  if (!m || text.length > 100) return { problem: `${what} ${JSON.stringify(text.slice(0, 40))} is not a decimal number` };
  const negative = m[1] === '-';
  const fraction = m[3] ?? '';
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  let digits = (m[2]! + fraction).replace(/^0+(?=\d)/, '');
  // decimal places = fraction length − exponent; trailing zeros do not count as precision.
  let places = fraction.length - exponent;
  while (places > 0 && digits.length > 1 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    places -= 1;
  }
  if (digits === '0') return 0n;
  if (negative && !rules.allowNegative) return { problem: `${what} must not be negative` };
  if (places > QUANTITY_DECIMALS) return { problem: `${what} has more than ${QUANTITY_DECIMALS} decimals` };
  // Integer digits beyond what the cap allows: refuse before building a huge BigInt.
  if (digits.length - places > 13) return { problem: `${what} must be at most ${MAX_QUANTITY_UNITS} units` };
  const magnitude = BigInt(digits) * 10n ** BigInt(QUANTITY_DECIMALS - places);
  if (magnitude > MAX_QUANTITY_MICRO) return { problem: `${what} must be at most ${MAX_QUANTITY_UNITS} units` };
  return negative ? -magnitude : magnitude;
}

/** Micro-units → exact decimal text without trailing zeros: 5000000n → "5", 250000n → "0.25". */
export function formatMicro(micro: bigint): string {
  return Decimal.fromUnits(micro, QUANTITY_DECIMALS).toString();
}

/** Micro-units → the exact Decimal, for the pricing library. */
export function microToDecimal(micro: bigint): Decimal {
  return Decimal.fromUnits(micro, QUANTITY_DECIMALS).normalize();
}

export function isMicroProblem(value: MicroResult): value is { problem: string } {
  return typeof value !== 'bigint';
}
