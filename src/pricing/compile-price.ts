import { checkSchema } from './check-schema.js';
import { currencyExponent, normalizeCurrency } from './currencies.js';
import { Decimal } from './decimal.js';
import { parseMajorAmountToMinor, parseUnitPriceToMinor } from './parse-money-input.js';
import { parseQuantity } from './parse-quantity.js';
import { PriceConfigSchema, type PriceConfig, type PriceModel, type PriceTier } from './price-config-schema.js';
import { atPath, PricingError } from './pricing-error.js';

export interface CompiledTier {
  /** 1-based position, as invoices number tiers. */
  readonly index: number;
  /** Exclusive lower bound: the tier bills units above `from` up to and including `upTo`. */
  readonly from: Decimal;
  /** Inclusive upper bound; null for the last, unbounded tier. */
  readonly upTo: Decimal | null;
  /** Major units, for display. */
  readonly unitPrice: Decimal;
  readonly unitPriceMinor: Decimal;
  readonly flatFeeMinor: bigint;
}

/**
 * A validated price config with every decimal parsed once, so pricing a line does no text parsing
 * and no validation (the hot path of the simulator, projections and the benchmark).
 */
export interface CompiledPrice {
  readonly model: PriceModel;
  readonly currency: string;
  readonly exponent: number;
  /** Per unit (per_unit) or per package (package); null for other models. Major units. */
  readonly unitPrice: Decimal | null;
  readonly unitPriceMinor: Decimal | null;
  /** Fixed amount added to the line whatever the quantity (the whole price for `flat`). */
  readonly flatFeeMinor: bigint;
  readonly packageSize: Decimal | null;
  readonly packageRounding: 'up' | 'down';
  readonly tiers: readonly CompiledTier[];
  readonly includedUnits: Decimal;
  readonly minimumChargeMinor: bigint | null;
  readonly maximumChargeMinor: bigint | null;
  /** The config in canonical form: model alias resolved, currency lower-case, decimals as strings. */
  readonly config: PriceConfig;
}

type ConfigField = Exclude<keyof PriceConfig, 'model' | 'currency'>;

/** Which optional fields each model takes; anything else is a mistake worth reporting, not ignoring. */
const ALLOWED_FIELDS: Record<PriceModel, readonly ConfigField[]> = {
  flat: ['flatFee', 'minimumCharge', 'maximumCharge'],
  per_unit: ['unitPrice', 'flatFee', 'includedUnits', 'minimumCharge', 'maximumCharge'],
  package: ['unitPrice', 'packageSize', 'packageRounding', 'flatFee', 'includedUnits', 'minimumCharge', 'maximumCharge'],
  graduated: ['tiers', 'flatFee', 'includedUnits', 'minimumCharge', 'maximumCharge'],
  volume: ['tiers', 'flatFee', 'includedUnits', 'minimumCharge', 'maximumCharge'],
};

const REQUIRED_FIELDS: Record<PriceModel, readonly ConfigField[]> = {
  flat: ['flatFee'],
  per_unit: ['unitPrice'],
  package: ['unitPrice', 'packageSize'],
  graduated: ['tiers'],
  volume: ['tiers'],
};

export function compilePrice(input: unknown): CompiledPrice {
  const config = checkSchema(PriceConfigSchema, input, 'INVALID_CONFIG', 'price config');
  const model: PriceModel = config.model === 'tiered' ? 'graduated' : config.model;
  const currency = atPath('currency', () => normalizeCurrency(config.currency));
  const exponent = currencyExponent(currency);
  checkFields(config, model);

  const unitPriceMinor =
    config.unitPrice === undefined ? null : atPath('unitPrice', () => parseUnitPriceToMinor(config.unitPrice, exponent));
  const flatFeeMinor =
    config.flatFee === undefined ? 0n : atPath('flatFee', () => parseMajorAmountToMinor(config.flatFee, exponent, 'flatFee'));
  const packageSize = config.packageSize === undefined ? null : atPath('packageSize', () => parsePackageSize(config.packageSize));
  const includedUnits =
    config.includedUnits === undefined
      ? Decimal.ZERO
      : atPath('includedUnits', () => parseQuantity(config.includedUnits, 'includedUnits'));
  const tiers = config.tiers === undefined ? [] : atPath('tiers', () => compileTiers(config.tiers ?? [], exponent));
  const minimumChargeMinor = optionalCharge(config.minimumCharge, exponent, 'minimumCharge');
  const maximumChargeMinor = optionalCharge(config.maximumCharge, exponent, 'maximumCharge');
  if (minimumChargeMinor !== null && maximumChargeMinor !== null && minimumChargeMinor > maximumChargeMinor) {
    throw new PricingError('INVALID_CONFIG', 'minimumCharge must not exceed maximumCharge', 'minimumCharge');
  }

  const compiled = {
    model,
    currency,
    exponent,
    unitPrice: unitPriceMinor === null ? null : unitPriceMinor.shift(-exponent).normalize(),
    unitPriceMinor,
    flatFeeMinor,
    packageSize,
    packageRounding: config.packageRounding ?? 'up',
    tiers,
    includedUnits,
    minimumChargeMinor,
    maximumChargeMinor,
  };
  return { ...compiled, config: canonicalConfig(compiled) };
}

function checkFields(config: PriceConfig, model: PriceModel): void {
  const allowed = ALLOWED_FIELDS[model];
  for (const key of Object.keys(config) as (keyof PriceConfig)[]) {
    if (key === 'model' || key === 'currency' || config[key] === undefined) continue;
    if (!allowed.includes(key)) {
      throw new PricingError('INVALID_CONFIG', `${key} does not apply to the ${model} model`, key);
    }
  }
  for (const key of REQUIRED_FIELDS[model]) {
    if (config[key] === undefined) throw new PricingError('INVALID_CONFIG', `the ${model} model requires ${key}`, key);
  }
}

function parsePackageSize(input: unknown): Decimal {
  const size = parseQuantity(input, 'packageSize');
  if (size.isZero()) throw new PricingError('INVALID_CONFIG', 'packageSize must be greater than 0');
  return size;
}

function optionalCharge(input: unknown, exponent: number, field: 'minimumCharge' | 'maximumCharge'): bigint | null {
  return input === undefined ? null : atPath(field, () => parseMajorAmountToMinor(input, exponent, field));
}

function isUnbounded(upTo: PriceTier['upTo']): boolean {
  return upTo === null || upTo === 'inf' || upTo === Number.POSITIVE_INFINITY;
}

/**
 * Tiers as Stripe defines them: each `upTo` is inclusive, the next tier starts right above it, bounds
 * strictly increase, and the last tier is unbounded (Stripe requires `up_to: "inf"` last), so every
 * quantity has a price.
 */
function compileTiers(tiers: readonly PriceTier[], exponent: number): CompiledTier[] {
  const compiled: CompiledTier[] = [];
  let from = Decimal.ZERO;
  tiers.forEach((tier, position) =>
    atPath(`[${position}]`, () => {
      const last = position === tiers.length - 1;
      const upTo = isUnbounded(tier.upTo) ? null : atPath('upTo', () => parseQuantity(tier.upTo, 'upTo'));
      if (upTo === null && !last) {
        throw new PricingError('INVALID_TIERS', 'only the last tier may be unbounded', 'upTo');
      }
      if (upTo !== null && last) {
        throw new PricingError('INVALID_TIERS', 'the last tier must be unbounded (upTo null or "inf")', 'upTo');
      }
      if (upTo !== null && upTo.lte(from)) {
        throw new PricingError(
          'INVALID_TIERS',
          `upTo ${upTo.toString()} must be greater than the previous bound ${from.toString()}`,
          'upTo',
        );
      }
      const unitPriceMinor = atPath('unitPrice', () => parseUnitPriceToMinor(tier.unitPrice, exponent));
      const flatFeeMinor =
        tier.flatFee === undefined ? 0n : atPath('flatFee', () => parseMajorAmountToMinor(tier.flatFee, exponent, 'flatFee'));
      compiled.push({
        index: position + 1,
        from,
        upTo,
        unitPrice: unitPriceMinor.shift(-exponent).normalize(),
        unitPriceMinor,
        flatFeeMinor,
      });
      if (upTo !== null) from = upTo;
    }),
  );
  return compiled;
}

function minorToMajorText(minor: bigint, exponent: number): string {
  return Decimal.fromUnits(minor, exponent).toString();
}

function canonicalConfig(price: Omit<CompiledPrice, 'config'>): PriceConfig {
  const config: PriceConfig = { model: price.model, currency: price.currency };
  if (price.unitPrice !== null) config.unitPrice = price.unitPrice.toString();
  if (price.flatFeeMinor !== 0n || price.model === 'flat') config.flatFee = minorToMajorText(price.flatFeeMinor, price.exponent);
  if (price.packageSize !== null) {
    config.packageSize = price.packageSize.toString();
    config.packageRounding = price.packageRounding;
  }
  if (price.tiers.length > 0) {
    config.tiers = price.tiers.map((tier) => {
      const canonical: PriceTier = { upTo: tier.upTo === null ? null : tier.upTo.toString(), unitPrice: tier.unitPrice.toString() };
      if (tier.flatFeeMinor !== 0n) canonical.flatFee = minorToMajorText(tier.flatFeeMinor, price.exponent);
      return canonical;
    });
  }
  if (!price.includedUnits.isZero()) config.includedUnits = price.includedUnits.toString();
  if (price.minimumChargeMinor !== null) config.minimumCharge = minorToMajorText(price.minimumChargeMinor, price.exponent);
  if (price.maximumChargeMinor !== null) config.maximumCharge = minorToMajorText(price.maximumChargeMinor, price.exponent);
  return config;
}
