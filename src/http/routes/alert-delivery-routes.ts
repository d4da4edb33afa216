import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';
import { listFilters } from '../list-filters.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const DeliveryView = Type.Object({
  id: Type.String(),
  channelId: Type.String(),
  kind: Type.String(),
  event: Type.String(),
  incidentId: Nullable(Type.String()),
  status: Type.Union([Type.Literal('pending'), Type.Literal('sending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('canceled')]),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  retryUntil: Type.String({ format: 'date-time' }),
  lastError: Nullable(Type.String()),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
});

const ListQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.String({ maxLength: 100, description: 'pending, sending, delivered, failed, canceled (comma-separated)' })),
    channelId: Type.Optional(Type.String({ maxLength: 64 })),
    incidentId: Type.Optional(Type.String({ maxLength: 64 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

/** The alert outbox: what was sent where, with attempts and the last error; retry by hand. */
export async function alertDeliveryRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { alertDeliveries } = services;
  const tags = ['alerts'];

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/alert-deliveries', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags,
      summary: 'Alert deliveries, newest first (filters, cursor)',
      security: bearerAuth,
      querystring: ListQuery,
      response: { 200: Type.Object({ data: Type.Array(DeliveryView), nextCursor: Nullable(Type.String()) }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => alertDeliveries.list(tenantOf(request, request.query.tenantId), listFilters(request.query)));

  app.get<WithId>('/v1/alert-deliveries/:id', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: { tags, summary: 'One alert delivery', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: DeliveryView, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => alertDeliveries.get(tenantOf(request, request.query.tenantId), request.params.id));

  app.post<WithId>('/v1/alert-deliveries/:id/retry', {
    preHandler: requireAccess(services, { scope: 'write' }),
    schema: {
      tags,
      summary: 'Queue a failed, canceled or waiting delivery for an attempt now, with a fresh retry window (a delivered one: 409)',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      response: { 200: DeliveryView, ...errorResponses(401, 403, 404, 409, 503) },
    },
  }, async (request) => alertDeliveries.retry(tenantOf(request, request.query.tenantId), request.params.id));
}
