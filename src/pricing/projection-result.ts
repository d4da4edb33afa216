import { Type, type Static } from '@sinclair/typebox';
import { AggregationSchema } from './price-input-schema.js';
import { MoneySchema, SimulatedTierSchema } from './simulation-result.js';

/** The answer of `POST /v1/usage/projection`, as TypeBox schemas (OpenAPI) with the types derived from them. */

const Quantity = Type.String({ description: 'Exact decimal' });

export const LineCostSchema = Type.Object(
  {
    amount: MoneySchema,
    usage: MoneySchema,
    fees: MoneySchema,
    adjustment: MoneySchema,
    limitApplied: Type.Union([Type.Literal('minimum'), Type.Literal('maximum'), Type.Null()]),
    exactAmountMinor: Type.String({ description: 'Exact line before rounding and limits, in minor units' }),
    packages: Type.Optional(Type.String()),
    tiers: Type.Array(SimulatedTierSchema, { description: 'Tier-by-tier breakdown (graduated and volume prices)' }),
  },
  { additionalProperties: false },
);

export const MetricProjectionSchema = Type.Object(
  {
    metric: Type.String(),
    aggregation: AggregationSchema,
    usage: Type.Object(
      {
        sum: Quantity,
        max: Type.Union([Quantity, Type.Null()]),
        last: Type.Union([Quantity, Type.Null()]),
        lastTs: Type.Union([Type.String(), Type.Null()]),
        count: Type.Integer(),
      },
      { additionalProperties: false, description: 'The period counter (zero when the metric has no usage yet)' },
    ),
    quantity: Type.String({ description: 'The value priced so far: usage.sum, usage.max or usage.last, per aggregation' }),
    projectedQuantity: Type.String({ description: 'Estimated value at the period end' }),
    method: Type.Union([Type.Literal('daily_rate'), Type.Literal('linear'), Type.Literal('current_value')]),
    dailyRate: Type.Union(
      [
        Type.Object(
          { perDay: Quantity, windowSum: Quantity, windowStart: Type.String(), windowEnd: Type.String(), days: Type.Integer() },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'The trailing window the daily_rate method measured' },
    ),
    priced: Type.Boolean(),
    price: Type.Union([
      Type.Object(
        {
          scope: Type.Union([Type.Literal('tenant'), Type.Literal('customer')]),
          currency: Type.String(),
          model: Type.String(),
          source: Type.Union([Type.Literal('config'), Type.Literal('stripe')]),
          stripePriceId: Type.Union([Type.String(), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    cost: Type.Union([Type.Object({ current: LineCostSchema, projected: LineCostSchema }, { additionalProperties: false }), Type.Null()]),
  },
  { additionalProperties: false },
);

export const CurrencyProjectionSchema = Type.Object(
  { currency: Type.String(), current: MoneySchema, projected: MoneySchema },
  { additionalProperties: false, description: 'One per currency; amounts in different currencies are never added together' },
);

export const UsageProjectionSchema = Type.Object(
  {
    customerRef: Type.String(),
    asOf: Type.String(),
    period: Type.Object(
      {
        start: Type.String(),
        end: Type.String(),
        source: Type.String({ description: 'subscription, anchor or calendar (see GET /v1/usage/current)' }),
        elapsedFraction: Type.String({ description: '(asOf − start) / (end − start), 6 decimals' }),
      },
      { additionalProperties: false },
    ),
    metrics: Type.Array(MetricProjectionSchema),
    totals: Type.Array(CurrencyProjectionSchema),
  },
  { additionalProperties: false },
);

export type LineCost = Static<typeof LineCostSchema>;
export type MetricProjection = Static<typeof MetricProjectionSchema>;
export type CurrencyProjection = Static<typeof CurrencyProjectionSchema>;
export type UsageProjection = Static<typeof UsageProjectionSchema>;
