import { PricingError } from './pricing-error.js';

/**
 * Exact decimal arithmetic on BigInt: a value is `units / 10^scale`. Money math in this folder never
 * touches binary floating point; JS numbers are only accepted at the edges (and converted through
 * their shortest round-trip text, which is the literal the user typed) and produced for integer minor
 * units on the way out.
 */

/**
 * - `half-up`: to nearest, ties away from zero (1.5 → 2, -1.5 → -2). Stripe's documented rounding of
 *   invoice line amounts; see rounding.ts.
 * - `down` / `up`: toward / away from zero.
 * - `floor` / `ceil`: toward -∞ / +∞.
 */
export type RoundingMode = 'half-up' | 'down' | 'up' | 'floor' | 'ceil';

export type DecimalInput = Decimal | string | number | bigint;

/** Inputs longer than this are refused: no price or quantity needs it, and BigInt work grows with length. */
const MAX_LITERAL_LENGTH = 100;
/** Bounds the exponent of literals such as `1e-7`, so `1e999999` cannot allocate a huge BigInt. */
const MAX_LITERAL_EXPONENT = 400;

const PLAIN_DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;
const EXPONENT_DECIMAL = /^([+-])?(\d+)?(?:\.(\d*))?[eE]([+-]?\d+)$/;

const POW10: bigint[] = [1n];

function pow10(exponent: number): bigint {
  for (let i = POW10.length; i <= exponent; i++) POW10.push((POW10[i - 1] as bigint) * 10n);
  return POW10[exponent] as bigint;
}

function sign(value: bigint): bigint {
  return value < 0n ? -1n : 1n;
}

/** Rounds `numerator / denominator` (denominator > 0) to an integer. */
function roundQuotient(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (remainder === 0n) return quotient;
  switch (mode) {
    case 'down':
      return quotient;
    case 'up':
      return quotient + sign(numerator);
    case 'floor':
      return numerator < 0n ? quotient - 1n : quotient;
    case 'ceil':
      return numerator > 0n ? quotient + 1n : quotient;
    case 'half-up': {
      const twice = (remainder < 0n ? -remainder : remainder) * 2n;
      return twice >= denominator ? quotient + sign(numerator) : quotient;
    }
  }
}

export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);

  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  static fromUnits(units: bigint, scale = 0): Decimal {
    if (!Number.isSafeInteger(scale) || scale < 0) throw new RangeError(`invalid decimal scale ${scale}`);
    return new Decimal(units, scale);
  }

  static fromInteger(value: bigint | number): Decimal {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new PricingError('INVALID_DECIMAL', `${value} is not a safe integer`);
    }
    return new Decimal(BigInt(value), 0);
  }

  /** Plain decimal text only (`-12.3400`): what Stripe's `*_decimal` fields and our configs carry. */
  static parse(text: string): Decimal {
    if (text.length > MAX_LITERAL_LENGTH) {
      throw new PricingError('INVALID_DECIMAL', `decimal string is longer than ${MAX_LITERAL_LENGTH} characters`);
    }
    const match = PLAIN_DECIMAL.exec(text);
    if (match === null) {
      throw new PricingError('INVALID_DECIMAL', `${JSON.stringify(text)} is not a plain decimal number`);
    }
    const [, signText, integerDigits = '0', fractionDigits = ''] = match;
    const magnitude = BigInt(integerDigits + fractionDigits);
    return new Decimal(signText === '-' ? -magnitude : magnitude, fractionDigits.length);
  }

  /**
   * A JS number becomes the decimal its shortest round-trip text denotes (`0.1` → 0.1 exactly, not
   * 0.1000000000000000055…). That is the value the author wrote in JSON or code; arithmetic already
   * done in floating point (0.1 + 0.2) shows up as the long literal it really is.
   */
  static fromNumber(value: number): Decimal {
    if (!Number.isFinite(value)) throw new PricingError('INVALID_DECIMAL', `${value} is not a finite number`);
    return Decimal.parse(plainDecimalString(String(value)));
  }

  static from(value: DecimalInput): Decimal {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value, 0);
    if (typeof value === 'number') return Decimal.fromNumber(value);
    return Decimal.parse(value);
  }

  static max(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) >= 0 ? a : b;
  }

  static min(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) <= 0 ? a : b;
  }

  add(other: Decimal): Decimal {
    if (this.scale === other.scale) return new Decimal(this.units + other.units, this.scale);
    if (this.scale > other.scale) {
      return new Decimal(this.units + other.units * pow10(this.scale - other.scale), this.scale);
    }
    return new Decimal(this.units * pow10(other.scale - this.scale) + other.units, other.scale);
  }

  sub(other: Decimal): Decimal {
    return this.add(other.neg());
  }

  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  neg(): Decimal {
    return new Decimal(-this.units, this.scale);
  }

  abs(): Decimal {
    return this.units < 0n ? this.neg() : this;
  }

  /** Exact multiplication by 10^places (negative places divide). */
  shift(places: number): Decimal {
    if (places <= 0) return new Decimal(this.units, this.scale - places);
    if (this.scale >= places) return new Decimal(this.units, this.scale - places);
    return new Decimal(this.units * pow10(places - this.scale), 0);
  }

  /** `this / divisor`, rounded to `scale` decimal places with `mode`. */
  div(divisor: Decimal, scale: number, mode: RoundingMode): Decimal {
    if (divisor.units === 0n) throw new PricingError('INVALID_DECIMAL', 'division by zero');
    let numerator = this.units * pow10(divisor.scale + scale);
    let denominator = divisor.units * pow10(this.scale);
    if (denominator < 0n) {
      numerator = -numerator;
      denominator = -denominator;
    }
    return new Decimal(roundQuotient(numerator, denominator, mode), scale);
  }

  /** The value rounded (or exactly padded) to exactly `scale` decimal places. */
  roundToScale(scale: number, mode: RoundingMode = 'half-up'): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) return new Decimal(this.units * pow10(scale - this.scale), scale);
    return new Decimal(roundQuotient(this.units, pow10(this.scale - scale), mode), scale);
  }

  cmp(other: Decimal): -1 | 0 | 1 {
    let a = this.units;
    let b = other.units;
    if (this.scale > other.scale) b *= pow10(this.scale - other.scale);
    else if (other.scale > this.scale) a *= pow10(other.scale - this.scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: Decimal): boolean {
    return this.cmp(other) === 0;
  }

  lt(other: Decimal): boolean {
    return this.cmp(other) < 0;
  }

  lte(other: Decimal): boolean {
    return this.cmp(other) <= 0;
  }

  gt(other: Decimal): boolean {
    return this.cmp(other) > 0;
  }

  gte(other: Decimal): boolean {
    return this.cmp(other) >= 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  isInteger(): boolean {
    return this.scale === 0 || this.units % pow10(this.scale) === 0n;
  }

  /** The same value with trailing fractional zeros removed. */
  normalize(): Decimal {
    let units = this.units;
    let scale = this.scale;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale--;
    }
    return scale === this.scale ? this : new Decimal(units, scale);
  }

  /** Significant decimal places (trailing zeros do not count: "1.50" has 1). */
  decimalPlaces(): number {
    return this.normalize().scale;
  }

  /** Integer value; throws if there is a fractional part (callers round explicitly first). */
  toBigInt(): bigint {
    if (!this.isInteger()) throw new PricingError('INVALID_DECIMAL', `${this.toString()} is not an integer`);
    return this.units / pow10(this.scale);
  }

  /** Canonical text: plain notation, no trailing fractional zeros ("150.5", "0", "-0.05"). */
  toString(): string {
    return this.normalize().toFixedScaleString();
  }

  /** Text with exactly `places` decimals, rounded half-up when digits are dropped. */
  toFixed(places: number): string {
    return this.roundToScale(places, 'half-up').toFixedScaleString();
  }

  toJSON(): string {
    return this.toString();
  }

  private toFixedScaleString(): string {
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString();
    if (this.scale === 0) return negative ? `-${digits}` : digits;
    const padded = digits.padStart(this.scale + 1, '0');
    const cut = padded.length - this.scale;
    const text = `${padded.slice(0, cut)}.${padded.slice(cut)}`;
    return negative ? `-${text}` : text;
  }
}

/**
 * Rewrites a numeric literal that may use exponent notation (`1e-7`, `2.5E+3`, as JS prints small or
 * large numbers and YAML/JSON allow) into plain notation, digit for digit, without evaluating it.
 */
export function plainDecimalString(literal: string): string {
  if (PLAIN_DECIMAL.test(literal)) return literal;
  const match = EXPONENT_DECIMAL.exec(literal);
  if (match === null || (match[2] === undefined && (match[3] === undefined || match[3] === ''))) {
    throw new PricingError('INVALID_DECIMAL', `${JSON.stringify(literal)} is not a decimal number`);
  }
  const [, signText = '', integerDigits = '', fractionDigits = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (Math.abs(exponent) > MAX_LITERAL_EXPONENT) {
    throw new PricingError('INVALID_DECIMAL', `exponent of ${JSON.stringify(literal)} is out of range`);
  }
  const digits = `${integerDigits}${fractionDigits}`;
  const pointPosition = integerDigits.length + exponent;
  const sign = signText === '-' ? '-' : '';
  let plain: string;
  if (pointPosition <= 0) plain = `0.${'0'.repeat(-pointPosition)}${digits}`;
  else if (pointPosition >= digits.length) plain = digits.padEnd(pointPosition, '0');
  else plain = `${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
  return sign + plain.replace(/^0+(?=\d)/, '');
}
