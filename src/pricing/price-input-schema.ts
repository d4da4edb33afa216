import { Type, type Static } from '@sinclair/typebox';
import { PriceConfigSchema } from './price-config-schema.js';

/**
 * What `PUT /v1/prices/{metric}` and `PUT /v1/customers/{ref}/prices/{metric}` take: our own price
 * config, or a Stripe Price (or legacy Plan) object to import with fromStripePrice(). The Stripe
 * schema types the fields the import reads (so a malformed object is a 400 naming the field, never a
 * crash); the other fields of a full Price object are allowed and ignored.
 */

export const AggregationSchema = Type.Union([Type.Literal('sum'), Type.Literal('max'), Type.Literal('last')], {
  description: 'Which counter value is priced: the period sum (default), the maximum, or the last value reported',
});

const nullable = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const MinorInteger = Type.Integer({ minimum: -1e15, maximum: 1e15 });
const MinorDecimal = Type.String({ maxLength: 100 });

const StripeTierImportSchema = Type.Object(
  {
    up_to: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('inf'), Type.Null()]),
    unit_amount: nullable(MinorInteger),
    unit_amount_decimal: nullable(MinorDecimal),
    flat_amount: nullable(MinorInteger),
    flat_amount_decimal: nullable(MinorDecimal),
  },
  { additionalProperties: true },
);

const StripeTransformSchema = Type.Object(
  { divide_by: Type.Integer({ minimum: 1 }), round: Type.Union([Type.Literal('up'), Type.Literal('down')]) },
  { additionalProperties: true },
);

const StripeAmountsSchema = Type.Object(
  {
    unit_amount: nullable(MinorInteger),
    unit_amount_decimal: nullable(MinorDecimal),
    tiers: nullable(Type.Array(StripeTierImportSchema, { minItems: 1, maxItems: 100 })),
  },
  { additionalProperties: true },
);

export const StripePriceImportSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 255 })),
    object: Type.Optional(Type.String({ maxLength: 50 })),
    currency: Type.String({ pattern: '^[A-Za-z]{3}$' }),
    billing_scheme: nullable(Type.Union([Type.Literal('per_unit'), Type.Literal('tiered')])),
    tiers_mode: nullable(Type.Union([Type.Literal('graduated'), Type.Literal('volume')])),
    tiers: nullable(Type.Array(StripeTierImportSchema, { minItems: 1, maxItems: 100 })),
    transform_quantity: nullable(StripeTransformSchema),
    transform_usage: nullable(StripeTransformSchema),
    unit_amount: nullable(MinorInteger),
    unit_amount_decimal: nullable(MinorDecimal),
    amount: nullable(MinorInteger),
    amount_decimal: nullable(MinorDecimal),
    currency_options: nullable(Type.Record(Type.String({ pattern: '^[a-z]{3}$' }), StripeAmountsSchema)),
    recurring: nullable(Type.Object({ aggregate_usage: nullable(Type.String({ maxLength: 50 })) }, { additionalProperties: true })),
    /** Legacy Plan objects carry it at the top level. */
    aggregate_usage: nullable(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: true, description: 'A Stripe Price (retrieved with expand[]=tiers when tiered) or legacy Plan object' },
);

export const PriceInputFields = {
  priceConfig: Type.Optional(PriceConfigSchema),
  stripePrice: Type.Optional(StripePriceImportSchema),
  currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$', description: 'With stripePrice: price in this entry of its currency_options' })),
  aggregation: Type.Optional(AggregationSchema),
};

export const PriceInputSchema = Type.Object(PriceInputFields, { additionalProperties: false });

export type PriceInput = Static<typeof PriceInputSchema>;
export type StripePriceImport = Static<typeof StripePriceImportSchema>;
