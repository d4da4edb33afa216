import { Type, type Static } from '@sinclair/typebox';

/**
 * The price config accepted by the simulator, the projection and (later) the HTTP API.
 * This schema checks shape only; compilePrice() checks meaning (precision, tier order, currency) and
 * reports it with PricingError codes.
 *
 * Money fields (`unitPrice`, `flatFee`, tier prices, `minimumCharge`, `maximumCharge`) are in MAJOR
 * units of `currency` ("0.80" = 80 cents), unlike Stripe's `unit_amount*` which are in minor units.
 * Decimal strings are exact; plain JSON numbers are taken as the literal they print as (0.01 → "0.01").
 */

const DECIMAL_TEXT = '^[+-]?\\d+(\\.\\d+)?$';

export const DecimalValueSchema = Type.Union(
  [Type.String({ pattern: DECIMAL_TEXT, maxLength: 100 }), Type.Number()],
  { description: 'Exact decimal, preferably as a string ("0.80"); numbers are read as the literal they print as' },
);

export const QuantityValueSchema = Type.Union(
  [Type.String({ pattern: DECIMAL_TEXT, maxLength: 100 }), Type.Number()],
  { description: 'Non-negative quantity with at most 6 decimals, as a string or a number' },
);

export const TierUpToSchema = Type.Union(
  [Type.Number(), Type.String({ pattern: `^(inf|\\d+(\\.\\d+)?)$`, maxLength: 100 }), Type.Null()],
  { description: 'Inclusive upper bound of the tier; null or "inf" for the last, unbounded tier' },
);

export const PriceTierSchema = Type.Object(
  {
    upTo: TierUpToSchema,
    unitPrice: DecimalValueSchema,
    flatFee: Type.Optional(DecimalValueSchema),
  },
  { additionalProperties: false },
);

export const PriceModelSchema = Type.Union([
  Type.Literal('flat'),
  Type.Literal('per_unit'),
  Type.Literal('package'),
  Type.Literal('graduated'),
  Type.Literal('volume'),
  Type.Literal('tiered'),
]);

export const PriceConfigSchema = Type.Object(
  {
    model: PriceModelSchema,
    currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 code; stored lower-case' }),
    unitPrice: Type.Optional(DecimalValueSchema),
    flatFee: Type.Optional(DecimalValueSchema),
    packageSize: Type.Optional(QuantityValueSchema),
    packageRounding: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down')])),
    tiers: Type.Optional(Type.Array(PriceTierSchema, { minItems: 1, maxItems: 100 })),
    includedUnits: Type.Optional(QuantityValueSchema),
    minimumCharge: Type.Optional(DecimalValueSchema),
    maximumCharge: Type.Optional(DecimalValueSchema),
  },
  { additionalProperties: false },
);

/** 'tiered' is the brief's name for 'graduated' and is accepted as an alias. */
export type PriceModelInput = Static<typeof PriceModelSchema>;
export type PriceModel = Exclude<PriceModelInput, 'tiered'>;
export type PriceTier = Static<typeof PriceTierSchema>;
export type PriceConfig = Static<typeof PriceConfigSchema>;
