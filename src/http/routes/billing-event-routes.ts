import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listBillingEvents } from '../../webhooks/billing-event-query.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const Query = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(Type.String({ maxLength: 2000, description: 'event type, or several separated by commas' })),
    customer: Type.Optional(Type.String({ maxLength: 255 })),
    since: Type.Optional(Type.String({ maxLength: 40, description: 'inclusive; unix seconds or ISO 8601 with offset' })),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'exclusive; unix seconds or ISO 8601 with offset' })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    include: Type.Optional(Type.Literal('payload')),
    flagged: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);

const EventView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  created: Type.String({ format: 'date-time' }),
  livemode: Type.Boolean(),
  apiVersion: Type.Union([Type.String(), Type.Null()]),
  account: Type.Union([Type.String(), Type.Null()]),
  object: Type.Object({ type: Type.Union([Type.String(), Type.Null()]), id: Type.Union([Type.String(), Type.Null()]) }),
  customer: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Union([Type.Integer(), Type.Null()]),
  currency: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.String(), Type.Null()]),
  source: Type.String(),
  receivedAt: Type.String({ format: 'date-time' }),
  anomalyScore: Type.Integer(),
  flagged: Type.Boolean(),
  payload: Type.Optional(Type.Unknown()),
});

export async function billingEventRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.get<{ Querystring: Static<typeof Query> }>('/v1/billing-events', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags: ['webhooks'],
      summary: 'Stored Stripe events, newest first by Stripe `created`',
      security: bearerAuth,
      querystring: Query,
      response: { 200: Type.Object({ data: Type.Array(EventView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => {
    const q = request.query;
    return listBillingEvents(services.store, tenantOf(request, q.tenantId), {
      type: q.type,
      customer: q.customer,
      since: q.since,
      until: q.until,
      cursor: q.cursor,
      limit: q.limit === undefined ? undefined : Number(q.limit),
      includePayload: q.include === 'payload',
      flagged: q.flagged === undefined ? undefined : q.flagged === 'true',
    });
  });
}
