import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams } from '../schemas.js';
import type { Services } from '../services.js';

const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  webhookUrl: Type.String(),
  webhookSecretsActive: Type.Integer(),
  stripeApiKey: Type.Object({ configured: Type.Boolean(), mode: Type.Union([Type.Literal('live'), Type.Literal('test'), Type.Null()]) }),
  stripeTestApiKey: Type.Object({ configured: Type.Boolean() }),
  createdAt: Type.String({ format: 'date-time' }),
});

const CreateTenantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    stripeWebhookSecret: Type.Optional(Type.String({ maxLength: 256 })),
    stripeApiKey: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

const StripeSecretsBody = Type.Object(
  {
    webhookSecret: Type.Optional(Type.String({ maxLength: 256 })),
    webhookSecrets: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 2 })),
    apiKey: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    testApiKey: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  },
  { additionalProperties: false },
);


export async function tenantRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { tenants } = services;
  const admin = requireAccess(services, { admin: true });

  app.post<{ Body: Static<typeof CreateTenantBody> }>('/v1/tenants', {
    preHandler: admin,
    schema: {
      tags: ['tenants'],
      summary: 'Create a tenant (admin token); returns its webhook URL and first API key, shown once',
      security: bearerAuth,
      body: CreateTenantBody,
      response: {
        201: Type.Object({ id: Type.String(), name: Type.String(), webhookToken: Type.String(), webhookUrl: Type.String(), apiKey: Type.String(), apiKeyId: Type.String() }),
        ...errorResponses(400, 401, 403, 409, 503),
      },
    },
  }, async (request, reply) => {
    const b = request.body;
    const created = await tenants.create({
      name: b.name,
      ...(b.stripeWebhookSecret !== undefined ? { stripeWebhookSecret: b.stripeWebhookSecret } : {}),
      ...(b.stripeApiKey !== undefined ? { stripeApiKey: b.stripeApiKey } : {}),
    });
    return reply.status(201).send(created);
  });

  app.get('/v1/tenants', {
    preHandler: admin,
    schema: {
      tags: ['tenants'],
      summary: 'List tenants (admin token)',
      security: bearerAuth,
      response: { 200: Type.Object({ data: Type.Array(TenantView) }), ...errorResponses(401, 403, 503) },
    },
  }, async () => ({ data: await tenants.list() }));

  app.get<{ Params: Static<typeof IdParams> }>('/v1/tenants/:id', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags: ['tenants'],
      summary: 'One tenant (admin token, or a key of that tenant)',
      security: bearerAuth,
      params: IdParams,
      response: { 200: TenantView, ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => tenants.get(tenantOf(request, request.params.id)));

  app.post<{ Params: Static<typeof IdParams> }>('/v1/tenants/:id/rotate-webhook-token', {
    preHandler: admin,
    schema: {
      tags: ['tenants'],
      summary: 'Issue a new webhook URL token; the old URL stops working at once',
      security: bearerAuth,
      params: IdParams,
      response: { 200: Type.Object({ webhookToken: Type.String(), webhookUrl: Type.String() }), ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => tenants.rotateWebhookToken(request.params.id));

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof StripeSecretsBody> }>('/v1/tenants/:id/stripe', {
    preHandler: requireAccess(services, { scope: 'write' }),
    schema: {
      tags: ['tenants'],
      summary: 'Set Stripe credentials (admin, or a write key of that tenant). `webhookSecret` rotates in a new signing secret and keeps the previous one active; `webhookSecrets` replaces the set',
      security: bearerAuth,
      params: IdParams,
      body: StripeSecretsBody,
      response: { 200: TenantView, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request) => {
    const tenantId = tenantOf(request, request.params.id);
    const b = request.body;
    if (Object.keys(b).length === 0) throw new AppError('validation_failed', 'Nothing to set');
    return tenants.setStripeSecrets(tenantId, b);
  });
}
