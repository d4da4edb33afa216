import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const ChannelType = Type.Union([Type.Literal('slack'), Type.Literal('discord'), Type.Literal('email'), Type.Literal('webhook'), Type.Literal('pagerduty')]);
const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const Detectors = Type.Union([Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 50 }), Type.Null()], {
  description: 'detector names this channel receives; null (default) for all',
});

const ChannelView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  type: Type.String(),
  name: Type.String(),
  target: Type.Object({
    url: Type.Optional(Type.String({ description: 'masked: origin and the last four characters' })),
    to: Type.Optional(Type.Array(Type.String())),
    routingKey: Type.Optional(Type.String({ description: 'masked' })),
  }),
  minSeverity: Type.String(),
  detectors: Type.Union([Type.Array(Type.String()), Type.Null()]),
  sendResolved: Type.Boolean(),
  sendDigests: Type.Boolean(),
  enabled: Type.Boolean(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('disabled')]),
  disabledReason: Nullable(Type.String()),
  health: Type.Object({
    consecutiveFailures: Type.Integer(),
    failingSince: Nullable(Type.String({ format: 'date-time' })),
    backedOffUntil: Nullable(Type.String({ format: 'date-time' })),
    lastSuccessAt: Nullable(Type.String({ format: 'date-time' })),
    lastFailureAt: Nullable(Type.String({ format: 'date-time' })),
    lastError: Nullable(Type.String()),
  }),
  signing: Type.Union([Type.Object({ activeSecrets: Type.Integer(), previousSecretExpiresAt: Nullable(Type.String({ format: 'date-time' })) }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const WithSecret = Type.Intersect([ChannelView, Type.Object({ secret: Type.Optional(Type.String({ description: 'webhook channels: the whsec_ signing secret, shown only here' })) })]);

const CreateBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    type: ChannelType,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    url: Type.Optional(Type.String({ maxLength: 2048, description: 'slack, discord, webhook; pagerduty: optional Events API URL (e.g. the EU region)' })),
    to: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { minItems: 1, maxItems: 10, description: 'email recipients' })),
    routingKey: Type.Optional(Type.String({ maxLength: 64, description: 'pagerduty integration key' })),
    minSeverity: Type.Optional(Severity),
    detectors: Type.Optional(Detectors),
    sendResolved: Type.Optional(Type.Boolean()),
    sendDigests: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    to: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { minItems: 1, maxItems: 10 })),
    routingKey: Type.Optional(Type.String({ maxLength: 64 })),
    minSeverity: Type.Optional(Severity),
    detectors: Type.Optional(Detectors),
    sendResolved: Type.Optional(Type.Boolean()),
    sendDigests: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean({ description: 're-enable a channel disabled by a 410, or pause one' })),
  },
  { additionalProperties: false },
);

const RotateBody = Type.Object({ overlapHours: Type.Optional(Type.Integer({ minimum: 0, maximum: 168 })) }, { additionalProperties: false });
const TestResult = Type.Object({ delivered: Type.Boolean(), statusCode: Type.Union([Type.Integer(), Type.Null()]), error: Nullable(Type.String()) });


/** `/v1/alert-channels`: read scope to look, write scope to change; a key sees only its tenant's channels. */
export async function alertChannelRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { alertChannels } = services;
  const tags = ['alerts'];

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/alert-channels', {
    preHandler: read,
    schema: { tags, summary: 'Alert channels, credentials masked', security: bearerAuth, querystring: TenantQuery, response: { 200: Type.Object({ data: Type.Array(ChannelView) }), ...errorResponses(400, 401, 403, 503) } },
  }, async (request) => ({ data: await alertChannels.list(tenantOf(request, request.query.tenantId)) }));

  app.post<{ Body: Static<typeof CreateBody> }>('/v1/alert-channels', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Create a channel; a webhook channel’s whsec_ signing secret is in this response only',
      security: bearerAuth,
      body: CreateBody,
      response: { 201: WithSecret, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (request, reply) => {
    const { tenantId, ...input } = request.body;
    return reply.status(201).send(await alertChannels.create(tenantOf(request, tenantId), input));
  });

  app.get<WithId>('/v1/alert-channels/:id', {
    preHandler: read,
    schema: { tags, summary: 'One alert channel', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: ChannelView, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => alertChannels.get(tenantOf(request, request.query.tenantId), request.params.id));

  app.put<WithId & { Body: Static<typeof UpdateBody> }>('/v1/alert-channels/:id', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Change a channel (the type is fixed); re-enable or pause it',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      body: UpdateBody,
      response: { 200: ChannelView, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request) => alertChannels.update(tenantOf(request, request.query.tenantId), request.params.id, request.body));

  app.delete<WithId>('/v1/alert-channels/:id', {
    preHandler: write,
    schema: { tags, summary: 'Delete a channel; its queued deliveries are canceled', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: errorResponses(401, 403, 404, 503) },
  }, async (request, reply) => {
    await alertChannels.delete(tenantOf(request, request.query.tenantId), request.params.id);
    return reply.status(204).send();
  });

  app.post<WithId>('/v1/alert-channels/:id/test', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Send a test message now and report what the endpoint answered (not retried)',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      response: { 200: TestResult, ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => alertChannels.test(tenantOf(request, request.query.tenantId), request.params.id));

  app.post<WithId & { Body: Static<typeof RotateBody> }>('/v1/alert-channels/:id/rotate-secret', {
    preHandler: write,
    schema: {
      tags,
      summary: 'Webhook channels: a new signing secret (shown once); the old one keeps signing for overlapHours (default 24)',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      body: Type.Optional(RotateBody),
      response: { 200: WithSecret, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (request) => alertChannels.rotateSecret(tenantOf(request, request.query.tenantId), request.params.id, request.body?.overlapHours));
}
