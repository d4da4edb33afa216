import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const CurrentQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    customerRef: Type.String({ minLength: 1, maxLength: 255 }),
    metric: Type.Optional(Type.String({ maxLength: 100 })),
    at: Type.Optional(Type.String({ maxLength: 40, description: 'the period containing this instant instead of now (ISO 8601, YYYY-MM-DD or epoch ms)' })),
  },
  { additionalProperties: false },
);

const HistoryQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    customerRef: Type.String({ minLength: 1, maxLength: 255 }),
    metric: Type.String({ minLength: 1, maxLength: 100 }),
    from: Type.String({ maxLength: 40 }),
    to: Type.String({ maxLength: 40 }),
    bucket: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')])),
  },
  { additionalProperties: false },
);

/** Current-period counters and usage history (scope `read`). */
export async function usageRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const { query } = services.metering;

  app.get<{ Querystring: Static<typeof CurrentQuery> }>('/v1/usage/current', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'The customer’s counters (sum, max, last, count) for the current billing period', security: bearerAuth, querystring: CurrentQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => {
    const q = request.query;
    return query.current(tenantOf(request, q.tenantId), q.customerRef, q.metric, q.at);
  });

  app.get<{ Querystring: Static<typeof HistoryQuery> }>('/v1/usage/history', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'Exact usage per hour or UTC day between from and to', security: bearerAuth, querystring: HistoryQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => {
    const q = request.query;
    return query.history(tenantOf(request, q.tenantId), { customerRef: q.customerRef, metric: q.metric, from: q.from, to: q.to, bucket: q.bucket ?? 'day' });
  });
}
