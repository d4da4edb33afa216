import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';

const TenantBody = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
const Status = Type.Union([
  Type.Literal('due'),
  Type.Literal('ok'),
  Type.Literal('failing'),
  Type.Literal('too_old'),
  Type.Literal('needs_review'),
  Type.Literal('detached'),
  Type.Literal('no_key'),
  Type.Literal('not_yet'),
]);
const StatusQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    mappingId: Type.Optional(Type.String({ maxLength: 64 })),
    customerRef: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    mode: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('shadow')])),
    status: Type.Optional(Status),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'items, 1 to 1000, default 200' })),
  },
  { additionalProperties: false },
);

const ResolveBody = Type.Object(
  { pendingAccepted: Type.Boolean({ description: 'what Stripe shows: true when it holds the pending event (or cancellation), false when it does not' }) },
  { additionalProperties: false },
);

/** `POST /v1/sync/run` (one push cycle for the tenant, now) and `GET /v1/sync/status`. */
export async function syncRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const tags = ['sync'];

  app.post<{ Body: Static<typeof TenantBody> | undefined }>('/v1/sync/run', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Run one push cycle for the tenant now; answers what was pushed, what failed and the Stripe calls made',
      security: bearerAuth,
      body: Type.Optional(TenantBody),
      response: errorResponses(400, 401, 403, 503),
    },
  }, async (request) => services.sync.engine.runCycle({ tenantId: tenantOf(request, request.body?.tenantId) }));

  app.get<{ Querystring: Static<typeof StatusQuery> }>('/v1/sync/status', {
    preHandler: read,
    schema: {
      tags,
      summary: 'Per mapping and customer period: pushed total, target, lag, last error, consecutive failures; calls per million events',
      security: bearerAuth,
      querystring: StatusQuery,
      response: errorResponses(400, 401, 403, 503),
    },
  }, async (request) => {
    const { tenantId, limit, ...filters } = request.query;
    return services.sync.status.status(tenantOf(request, tenantId), { ...filters, limit: Math.min(1000, Math.max(1, limit === undefined ? 200 : Number(limit))) });
  });

  app.post<WithId & { Body: Static<typeof ResolveBody> }>('/v1/sync/items/:id/resolve', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Settle an item in needs_review after checking Stripe: was its pending event accepted? The item is then pushed again from that truth',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      body: ResolveBody,
      response: errorResponses(400, 401, 403, 404, 409, 503),
    },
  }, async (request) => services.sync.review.resolve(tenantOf(request, request.query.tenantId), request.params.id, request.body));
}
