import { Type, type Static } from '@sinclair/typebox';
import { DecimalValueSchema, PriceConfigSchema, QuantityValueSchema } from './price-config-schema.js';

/**
 * Input of InvoiceSimulator.simulate(), scenario files and (later) the simulate API route.
 *
 * Amounts of commitments and credits are integer MINOR units (like Stripe's `amount`), given as a
 * number or an integer string. `taxRate` is a PERCENTAGE, as Stripe's TaxRate.percentage: "8.25"
 * means 8.25 %, not 0.0825.
 */

/** Calendar date (UTC) or date-time with an explicit offset; a bare local time would depend on the host's zone. */
const ISO_INSTANT = '^\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?([Zz]|[+-]\\d{2}:?\\d{2}))?$';

const MinorAmountSchema = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d{1,30}$' })], {
  description: 'Non-negative integer amount in minor units of the currency',
});

const CurrencySchema = Type.String({ pattern: '^[A-Za-z]{3}$' });

/** The Stripe price fields fromStripePrice() reads; other fields of a full Price object are allowed and ignored. */
export const StripePriceInputSchema = Type.Object(
  {
    currency: CurrencySchema,
    billing_scheme: Type.Optional(Type.Union([Type.Literal('per_unit'), Type.Literal('tiered'), Type.Null()])),
    tiers_mode: Type.Optional(Type.Union([Type.Literal('graduated'), Type.Literal('volume'), Type.Null()])),
  },
  { additionalProperties: true },
);

export const UsageItemSchema = Type.Object(
  {
    metric: Type.String({ minLength: 1, maxLength: 200 }),
    quantity: QuantityValueSchema,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    priceConfig: Type.Optional(PriceConfigSchema),
    stripePrice: Type.Optional(StripePriceInputSchema),
  },
  { additionalProperties: false },
);

export const CommitmentSchema = Type.Object(
  {
    currency: CurrencySchema,
    minimumAmountMinor: MinorAmountSchema,
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const CreditSchema = Type.Object(
  {
    currency: CurrencySchema,
    amountMinor: MinorAmountSchema,
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const SimulationInputSchema = Type.Object(
  {
    customerId: Type.String({ minLength: 1, maxLength: 200 }),
    periodStart: Type.String({ pattern: ISO_INSTANT }),
    periodEnd: Type.String({ pattern: ISO_INSTANT }),
    usageItems: Type.Array(UsageItemSchema, { maxItems: 1000 }),
    commitments: Type.Optional(Type.Array(CommitmentSchema, { maxItems: 100 })),
    credits: Type.Optional(Type.Array(CreditSchema, { maxItems: 1000 })),
    taxRate: Type.Optional(DecimalValueSchema),
  },
  { additionalProperties: false },
);

export type UsageItem = Static<typeof UsageItemSchema>;
export type Commitment = Static<typeof CommitmentSchema>;
export type Credit = Static<typeof CreditSchema>;
export type SimulationInput = Static<typeof SimulationInputSchema>;
