import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
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
}
