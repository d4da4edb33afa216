import { Type, type Static } from '@sinclair/typebox';
import { PriceConfigSchema } from './price-config-schema.js';

/**
 * Output of InvoiceSimulator.simulate(), as TypeBox schemas so the API can document (and serialise)
 * the response, with the TypeScript types derived from them.
 */

export const MoneySchema = Type.Object(
  {
    minor: Type.Integer({ description: 'Integer minor units (cents for USD, yen for JPY, fils for KWD), like Stripe amounts' }),
    formatted: Type.String({ description: 'Locale-independent display text, e.g. "1,120.00 USD"' }),
  },
  { additionalProperties: false },
);

export const SimulatedTierSchema = Type.Object(
  {
    tier: Type.Integer({ minimum: 1 }),
    from: Type.String({ description: 'Exclusive lower bound: the tier bills units above it' }),
    upTo: Type.Union([Type.String(), Type.Null()], { description: 'Inclusive upper bound; null if unbounded' }),
    quantity: Type.String(),
    unitPrice: Type.String({ description: 'Major units, exact' }),
    amount: MoneySchema,
    flatFee: MoneySchema,
    total: MoneySchema,
  },
  { additionalProperties: false, description: "One tier of a tiered line; amounts are the tier's rounded share of the line" },
);

export const SimulatedLineSchema = Type.Object(
  {
    metric: Type.String(),
    description: Type.Optional(Type.String()),
    currency: Type.String(),
    model: Type.Union([
      Type.Literal('flat'),
      Type.Literal('per_unit'),
      Type.Literal('package'),
      Type.Literal('graduated'),
      Type.Literal('volume'),
    ]),
    quantity: Type.String(),
    includedUnits: Type.String(),
    billableQuantity: Type.String({ description: 'quantity − includedUnits, not below 0' }),
    packages: Type.Optional(Type.String({ description: 'Whole packages billed (package model)' })),
    unitPrice: Type.Optional(Type.String({ description: 'Major units per unit or per package (per_unit, package)' })),
    tiers: Type.Array(SimulatedTierSchema),
    usage: MoneySchema,
    fees: MoneySchema,
    adjustment: MoneySchema,
    limitApplied: Type.Union([Type.Literal('minimum'), Type.Literal('maximum'), Type.Null()]),
    exactAmountMinor: Type.String({ description: 'Exact line before rounding and limits, in minor units: "14040", "1.5"' }),
    amount: MoneySchema,
    priceConfig: PriceConfigSchema,
  },
  { additionalProperties: false },
);

export const CurrencyTotalSchema = Type.Object(
  {
    currency: Type.String(),
    subtotal: MoneySchema,
    commitment: Type.Union([Type.Object({ minimum: MoneySchema, topUp: MoneySchema }, { additionalProperties: false }), Type.Null()]),
    creditsApplied: MoneySchema,
    creditsRemaining: MoneySchema,
    taxable: MoneySchema,
    tax: MoneySchema,
    total: MoneySchema,
  },
  { additionalProperties: false },
);

export const SimulationResultSchema = Type.Object(
  {
    customerId: Type.String(),
    periodStart: Type.String(),
    periodEnd: Type.String(),
    taxRate: Type.Union([Type.String(), Type.Null()], { description: 'Percentage applied, canonical decimal text' }),
    lines: Type.Array(SimulatedLineSchema),
    totals: Type.Array(CurrencyTotalSchema, {
      description: 'One entry per currency, in order of first appearance (lines, commitments, credits); never summed across currencies',
    }),
  },
  { additionalProperties: false },
);

export type SimulatedTier = Static<typeof SimulatedTierSchema>;
/**
 * Invariants: usage + fees + adjustment = amount; the tiers' totals add up to usage + tier fees;
 * adjustment raises the line to minimumCharge or lowers it to maximumCharge (limitApplied says which).
 */
export type SimulatedLine = Static<typeof SimulatedLineSchema>;
/**
 * topUp = max(0, commitment − subtotal); creditsApplied ≤ subtotal + topUp; taxable = subtotal +
 * topUp − creditsApplied; total = taxable + tax.
 */
export type CurrencyTotal = Static<typeof CurrencyTotalSchema>;
export type SimulationResult = Static<typeof SimulationResultSchema>;
