import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Aggregation = Type.Union([Type.Literal('sum'), Type.Literal('max'), Type.Literal('last')], {
  description: 'which local counter is pushed: sum (as deltas, to a "sum" meter) or max/last (as the current value, to a "last" meter)',
});
const Name = Type.String({ minLength: 1, maxLength: 100 });

const MappingView = Type.Object({
  id: Type.String(),
  metric: Type.String(),
  aggregation: Type.String(),
  meterEventName: Type.String(),
  meterId: Nullable(Type.String()),
  valueKey: Type.String(),
  customerKey: Type.String(),
  enabled: Type.Boolean(),
  shadow: Type.Object({
    enabled: Type.Boolean(),
    meterEventName: Nullable(Type.String()),
    meterId: Nullable(Type.String()),
    active: Type.Boolean({ description: 'enabled and the tenant has a test-mode key' }),
    warning: Nullable(Type.String()),
  }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const CreateBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    metric: Type.String({ minLength: 1, maxLength: 100 }),
    meterEventName: Name,
    meterId: Type.Optional(Type.String({ maxLength: 255, description: 'mtr_…; without it the meter is found by its event name' })),
    aggregation: Aggregation,
    valueKey: Type.Optional(Type.String({ maxLength: 100, description: 'must equal the meter’s value_settings.event_payload_key (taken from the meter when omitted)' })),
    customerKey: Type.Optional(Type.String({ maxLength: 100, description: 'must equal the meter’s customer_mapping.event_payload_key (taken from the meter when omitted)' })),
    shadow: Type.Optional(
      Type.Object(
        { enabled: Type.Boolean(), meterEventName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the test account’s meter event name; default the live one' })) },
        { additionalProperties: false, description: 'also push, independently, to the tenant’s test-mode account (testApiKey)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    metric: Type.Optional(Type.String({ maxLength: 100, description: 'cannot change; accepted when equal' })),
    aggregation: Type.Optional(Aggregation),
    meterEventName: Type.Optional(Name),
    meterId: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    valueKey: Type.Optional(Type.String({ maxLength: 100 })),
    customerKey: Type.Optional(Type.String({ maxLength: 100 })),
    shadow: Type.Optional(Type.Object({ enabled: Type.Boolean(), meterEventName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))) }, { additionalProperties: false })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);


/** `/v1/mappings`: local metric → Stripe billing meter; checked against the meter on Stripe. */
export async function mappingRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { mappings } = services.sync;
  const tags = ['sync'];

  app.post<{ Body: Static<typeof CreateBody> }>('/v1/mappings', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Map a metric to a Stripe meter; refused (with the reason) when the meter cannot represent the counter',
      security: bearerAuth,
      body: CreateBody,
      response: { 201: MappingView, ...errorResponses(400, 401, 403, 409, 503) },
    },
  }, async (request, reply) => {
    const { tenantId, ...input } = request.body;
    return reply.status(201).send(await mappings.create(tenantOf(request, tenantId), input));
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/mappings', {
    preHandler: read,
    schema: { tags, summary: 'Mappings, disabled ones included', security: bearerAuth, querystring: TenantQuery, response: { 200: Type.Object({ data: Type.Array(MappingView) }), ...errorResponses(400, 401, 403, 503) } },
  }, async (request) => ({ data: await mappings.list(tenantOf(request, request.query.tenantId)) }));

  app.get<WithId>('/v1/mappings/:id', {
    preHandler: read,
    schema: { tags, summary: 'One mapping', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: MappingView, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => mappings.get(tenantOf(request, request.query.tenantId), request.params.id));

  app.put<WithId & { Body: Static<typeof UpdateBody> }>('/v1/mappings/:id', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Change the meter, payload keys, shadow settings or enabled flag (metric and aggregation are fixed)',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      body: UpdateBody,
      response: { 200: MappingView, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (request) => mappings.update(tenantOf(request, request.query.tenantId), request.params.id, request.body));

  app.delete<WithId>('/v1/mappings/:id', {
    preHandler: write,
    schema: { tags, summary: 'Disable a mapping: nothing more is pushed; what Stripe holds stays', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: MappingView, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => mappings.disable(tenantOf(request, request.query.tenantId), request.params.id));
}
