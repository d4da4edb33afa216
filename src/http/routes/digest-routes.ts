import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import { parseTimeMs } from '../../detectors/anomaly-query.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, TenantQuery } from '../schemas.js';
import type { Services } from '../services.js';

const Period = Type.Union([Type.Literal('hourly'), Type.Literal('daily'), Type.Literal('weekly')]);
const DigestQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    period: Type.Optional(Period),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'the latest complete period ending at or before this time (default now)' })),
  },
  { additionalProperties: false },
);
const Settings = Type.Object({
  frequency: Type.Union([Period, Type.Literal('off')]),
  hour: Type.Integer(),
  weekday: Type.Integer(),
  timeZone: Type.String(),
  skipEmpty: Type.Boolean(),
});
const SettingsBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    frequency: Type.Optional(Type.Union([Period, Type.Literal('off')])),
    hour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23, description: 'local hour of daily and weekly digests' })),
    weekday: Type.Optional(Type.Integer({ minimum: 1, maximum: 7, description: 'weekly digests: 1 = Monday … 7 = Sunday' })),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris' })),
    skipEmpty: Type.Optional(Type.Boolean({ description: 'send nothing when no event arrived and no anomaly is open' })),
  },
  { additionalProperties: false },
);

export async function digestRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { digests } = services;
  const tags = ['alerts'];

  app.get<{ Querystring: Static<typeof DigestQuery> }>('/v1/digest', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags,
      summary: 'The digest of the latest complete period (amounts per currency); the tenant’s hour and time zone apply',
      security: bearerAuth,
      querystring: DigestQuery,
      response: errorResponses(400, 401, 403, 404, 503),
    },
  }, async (request) => {
    const q = request.query;
    const problems: string[] = [];
    const until = parseTimeMs('until', q.until, problems);
    if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });
    return digests.preview(tenantOf(request, q.tenantId), q.period, until);
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/digest/settings', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: { tags, summary: 'When digests are sent', security: bearerAuth, querystring: TenantQuery, response: { 200: Settings, ...errorResponses(400, 401, 403, 404, 503) } },
  }, async (request) => digests.settingsOf(tenantOf(request, request.query.tenantId)));

  app.put<{ Body: Static<typeof SettingsBody> }>('/v1/digest/settings', {
    preHandler: requireAccess(services, { scope: 'write' }),
    schema: { tags, summary: 'Change when digests are sent (hourly, daily, weekly or off)', security: bearerAuth, body: SettingsBody, response: { 200: Settings, ...errorResponses(400, 401, 403, 404, 503) } },
  }, async (request) => {
    const { tenantId, ...patch } = request.body;
    return digests.updateSettings(tenantOf(request, tenantId), patch);
  });
}
