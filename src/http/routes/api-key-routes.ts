import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, ScopeSchema, TenantQuery } from '../schemas.js';
import type { Services } from '../services.js';

const ApiKeyView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const CreateBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3 }),
  },
  { additionalProperties: false },
);

/** API keys of a tenant: the admin token (naming the tenant) or a `write` key of that tenant. */
export async function apiKeyRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { apiKeys } = services;
  const write = requireAccess(services, { scope: 'write' });

  app.post<{ Body: Static<typeof CreateBody> }>('/v1/api-keys', {
    preHandler: write,
    schema: {
      tags: ['api-keys'],
      summary: 'Create an API key; the key is in this response only',
      security: bearerAuth,
      body: CreateBody,
      response: { 201: Type.Intersect([ApiKeyView, Type.Object({ key: Type.String() })]), ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const tenantId = tenantOf(request, request.body.tenantId);
    return reply.status(201).send(await apiKeys.create(tenantId, { name: request.body.name, scopes: request.body.scopes }));
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/api-keys', {
    preHandler: write,
    schema: {
      tags: ['api-keys'],
      summary: 'List API keys (never the keys themselves)',
      security: bearerAuth,
      querystring: TenantQuery,
      response: { 200: Type.Object({ data: Type.Array(ApiKeyView) }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => ({ data: await apiKeys.list(tenantOf(request, request.query.tenantId)) }));

  app.delete<{ Params: { id: string }; Querystring: Static<typeof TenantQuery> }>('/v1/api-keys/:id', {
    preHandler: write,
    schema: {
      tags: ['api-keys'],
      summary: 'Revoke an API key',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      response: { 200: Type.Object({ revoked: Type.Literal(true), id: Type.String() }), ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => {
    await apiKeys.revoke(tenantOf(request, request.query.tenantId), request.params.id);
    return { revoked: true as const, id: request.params.id };
  });
}
