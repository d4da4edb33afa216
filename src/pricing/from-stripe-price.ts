import { currencyExponent, normalizeCurrency } from './currencies.js';
import { Decimal } from './decimal.js';
import type { PriceConfig, PriceTier } from './price-config-schema.js';
import { atPath, PricingError } from './pricing-error.js';

/** The fields of a Stripe Price (or legacy Plan) object that decide what a quantity costs. */
export interface StripeTierLike {
  /** Inclusive upper bound; null (API objects) or "inf" (create params) for the last tier. */
  up_to: number | 'inf' | null;
  unit_amount?: number | null;
  unit_amount_decimal?: string | null;
  flat_amount?: number | null;
  flat_amount_decimal?: string | null;
}

export interface StripeTransformLike {
  divide_by: number;
  round: 'up' | 'down';
}

interface StripeAmountsLike {
  unit_amount?: number | null;
  unit_amount_decimal?: string | null;
  tiers?: readonly StripeTierLike[] | null;
  custom_unit_amount?: { minimum?: number | null; maximum?: number | null; preset?: number | null } | null;
}

export interface StripePriceLike extends StripeAmountsLike {
  id?: string;
  object?: string;
  currency: string;
  billing_scheme?: 'per_unit' | 'tiered' | null;
  tiers_mode?: 'graduated' | 'volume' | null;
  transform_quantity?: StripeTransformLike | null;
  /** Legacy Plan objects call these `amount`, `amount_decimal` and `transform_usage`. */
  amount?: number | null;
  amount_decimal?: string | null;
  transform_usage?: StripeTransformLike | null;
  currency_options?: Record<string, StripeAmountsLike> | null;
}

export interface FromStripePriceOptions {
  /** Price a multi-currency Stripe price in one of its `currency_options` instead of its default currency. */
  currency?: string;
}

/**
 * Converts a Stripe price into our price config.
 *
 * Units: Stripe's `unit_amount`, `unit_amount_decimal`, `flat_amount` and `flat_amount_decimal` are in
 * MINOR units (cents); our `unitPrice`/`flatFee` are in MAJOR units. The conversion shifts the decimal
 * point by the currency's exponent — exact, no arithmetic: unit_amount_decimal "0.05" USD (0.05 cents)
 * → unitPrice "0.0005"; unit_amount 2000 JPY → unitPrice "2000"; flat_amount 1500 KWD (fils) → "1.5".
 *
 * Mapping: per_unit → per_unit; per_unit + transform_quantity {divide_by, round} → package (Stripe
 * divides the quantity, rounds up or down, then multiplies by unit_amount); tiered + tiers_mode →
 * graduated/volume. Tiers are only present when the price was fetched with `expand[]=tiers`.
 */
export function fromStripePrice(price: StripePriceLike, options: FromStripePriceOptions = {}): PriceConfig {
  const currency = normalizeCurrency(options.currency ?? price.currency);
  const amounts = amountsFor(price, currency);
  const exponent = currencyExponent(currency);
  const scheme = price.billing_scheme ?? 'per_unit';
  if (scheme === 'tiered') return tieredConfig(price, amounts, currency, exponent);
  if (scheme !== 'per_unit') {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', `unknown billing_scheme ${JSON.stringify(scheme)}`, 'billing_scheme');
  }
  const unitPrice = perUnitAmount(price, amounts, exponent);
  const transform = price.transform_quantity ?? price.transform_usage ?? null;
  if (transform === null) return { model: 'per_unit', currency, unitPrice };
  return {
    model: 'package',
    currency,
    unitPrice,
    packageSize: atPath('transform_quantity.divide_by', () => divideBy(transform.divide_by)),
    packageRounding: atPath('transform_quantity.round', () => roundDirection(transform.round)),
  };
}

function amountsFor(price: StripePriceLike, currency: string): StripeAmountsLike {
  if (currency === price.currency.toLowerCase()) return price;
  const option = price.currency_options?.[currency];
  if (option === undefined) {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', `price has no currency_options entry for ${currency}`, 'currency_options');
  }
  return option;
}

function tieredConfig(price: StripePriceLike, amounts: StripeAmountsLike, currency: string, exponent: number): PriceConfig {
  if ((price.transform_quantity ?? price.transform_usage ?? null) !== null) {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', 'transform_quantity cannot be combined with tiers', 'transform_quantity');
  }
  const mode = price.tiers_mode;
  if (mode !== 'graduated' && mode !== 'volume') {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', 'a tiered price needs tiers_mode graduated or volume', 'tiers_mode');
  }
  const tiers = amounts.tiers;
  if (tiers === undefined || tiers === null || tiers.length === 0) {
    throw new PricingError(
      'UNSUPPORTED_STRIPE_PRICE',
      'tiers are missing: retrieve the price with expand[]=tiers',
      'tiers',
    );
  }
  return {
    model: mode,
    currency,
    tiers: tiers.map((tier, position) => atPath(`tiers[${position}]`, () => convertTier(tier, exponent))),
  };
}

function convertTier(tier: StripeTierLike, exponent: number): PriceTier {
  const unitMinor = minorAmount(tier.unit_amount_decimal, tier.unit_amount, 'unit_amount') ?? Decimal.ZERO;
  const flatMinor = minorAmount(tier.flat_amount_decimal, tier.flat_amount, 'flat_amount');
  if (flatMinor !== null && !flatMinor.isInteger()) {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', 'flat_amount_decimal must represent a whole number of minor units', 'flat_amount_decimal');
  }
  const converted: PriceTier = {
    upTo: tier.up_to === null || tier.up_to === 'inf' ? null : Decimal.fromInteger(tier.up_to).toString(),
    unitPrice: toMajor(unitMinor, exponent),
  };
  if (flatMinor !== null && !flatMinor.isZero()) converted.flatFee = toMajor(flatMinor, exponent);
  return converted;
}

function perUnitAmount(price: StripePriceLike, amounts: StripeAmountsLike, exponent: number): string {
  const decimalText = amounts.unit_amount_decimal ?? (amounts === price ? price.amount_decimal : undefined);
  const integer = amounts.unit_amount ?? (amounts === price ? price.amount : undefined);
  const minor = minorAmount(decimalText, integer, 'unit_amount');
  if (minor === null) {
    const custom = amounts.custom_unit_amount;
    const customerChooses = custom !== undefined && custom !== null && Object.values(custom).some((value) => value !== null);
    throw new PricingError(
      'UNSUPPORTED_STRIPE_PRICE',
      customerChooses
        ? 'customer-chosen amounts (custom_unit_amount) cannot be simulated'
        : 'price has neither unit_amount nor unit_amount_decimal',
      'unit_amount',
    );
  }
  return toMajor(minor, exponent);
}

/** `*_decimal` wins over the integer field: it is the exact one (Stripe nulls the integer when fractional). */
function minorAmount(decimalText: string | null | undefined, integer: number | null | undefined, field: string): Decimal | null {
  if (decimalText !== undefined && decimalText !== null) {
    const value = atPath(`${field}_decimal`, () => Decimal.parse(decimalText));
    if (value.isNegative()) throw new PricingError('UNSUPPORTED_STRIPE_PRICE', 'negative amounts are not supported', `${field}_decimal`);
    return value;
  }
  if (integer !== undefined && integer !== null) {
    const value = atPath(field, () => Decimal.fromInteger(integer));
    if (value.isNegative()) throw new PricingError('UNSUPPORTED_STRIPE_PRICE', 'negative amounts are not supported', field);
    return value;
  }
  return null;
}

function toMajor(minor: Decimal, exponent: number): string {
  return minor.shift(-exponent).toString();
}

function divideBy(value: number): string {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', `divide_by must be a positive integer (got ${value})`);
  }
  return String(value);
}

function roundDirection(value: string): 'up' | 'down' {
  if (value !== 'up' && value !== 'down') {
    throw new PricingError('UNSUPPORTED_STRIPE_PRICE', `round must be "up" or "down" (got ${JSON.stringify(value)})`);
  }
  return value;
}
