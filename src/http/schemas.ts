import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorResponse' },
);

export const errorResponses = (...statuses: number[]): Record<number, TSchema> =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref(ErrorResponse)]));

export const ScopeSchema = Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('write')]);
export const bearerAuth = [{ bearerAuth: [] }];

/** `?tenantId=` of tenant-scoped routes: an admin names the tenant, an API key may name only its own (auth.ts `tenantOf`). */
export const TenantQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** Route generics of a tenant-scoped `/…/:id` route. */
export type WithId = { Params: Static<typeof IdParams>; Querystring: Static<typeof TenantQuery> };
