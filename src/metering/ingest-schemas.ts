import { Type, type Static } from '@sinclair/typebox';

/**
 * The usage event as the API documents it, and the stricter shapes compiled for the hot path.
 * `quantity` and `ts` are checked by hand after the shape (exact decimals, time rules): the
 * compiled checker sees them as unknown, the OpenAPI document shows what they must be.
 */
const NO_CONTROL = '^[^\\u0000-\\u001F\\u007F]+$';
export const METRIC_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$';
/** Printable ASCII: keys compare bytewise the same in JS, SQLite and PostgreSQL ("C" collation). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]+$';

export const Metric = Type.String({ minLength: 1, maxLength: 100, pattern: METRIC_PATTERN, description: 'letters, digits, _ . : / -' });
export const CustomerRef = Type.String({ minLength: 1, maxLength: 255, pattern: NO_CONTROL });
export const TenantIdField = Type.String({ minLength: 1, maxLength: 64 });

const common = {
  tenantId: Type.Optional(TenantIdField),
  metric: Metric,
  customerRef: CustomerRef,
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN, description: 'printable ASCII; scoped to the tenant' })),
  resourceId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: NO_CONTROL, description: 'part of the derived key' })),
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'a JSON object, at most 4 KiB' })),
};

/** What the compiled checker enforces on each event. */
export const UsageEventShape = Type.Object({ ...common, quantity: Type.Unknown(), ts: Type.Unknown() }, { additionalProperties: false });
export type UsageEventShape = Static<typeof UsageEventShape>;

/** The documented event (OpenAPI). */
export const UsageEventDoc = Type.Object(
  {
    ...common,
    quantity: Type.Number({ minimum: 0, description: 'a JSON number (not a string), ≥ 0, at most 6 decimals, at most 10^12' }),
    ts: Type.Union([Type.String({ format: 'date-time', description: 'ISO 8601 with Z or an offset' }), Type.Integer({ description: 'epoch milliseconds' })]),
  },
  { additionalProperties: false },
);

export const IngestEnvelope = Type.Object({ events: Type.Array(Type.Unknown()) }, { additionalProperties: false });

export const IngestBodyDoc = Type.Object({ events: Type.Array(UsageEventDoc, { minItems: 1 }) }, { additionalProperties: false });

export const EventResult = Type.Object({
  index: Type.Integer(),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('conflict'), Type.Literal('rejected')]),
  idempotencyKey: Type.Optional(Type.String()),
  late: Type.Optional(Type.Boolean()),
  adjustmentId: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});

export const IngestResponse = Type.Object({
  results: Type.Array(EventResult),
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  conflicts: Type.Integer(),
  rejected: Type.Integer(),
});
