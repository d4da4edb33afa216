import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import { runBacktest } from '../../detectors/backtest.js';
import { parseTimeMs } from '../../detectors/anomaly-query.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const TenantQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
const NameParams = Type.Object({ name: Type.String({ maxLength: 64 }) });
/** `enabled` plus any of the detector's own config keys; the detector's schema decides the rest. */
const PutBody = Type.Record(Type.String(), Type.Unknown());
const BacktestBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    detector: Type.Optional(Type.String({ maxLength: 64 })),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    since: Type.String({ maxLength: 40 }),
    until: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);

export async function detectorRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { detectorSettings } = services;

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/detectors', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: { tags: ['detectors'], summary: 'Detectors with this tenant’s effective config and defaults', security: bearerAuth, querystring: TenantQuery, response: errorResponses(401, 403, 503) },
  }, async (request) => ({ data: await detectorSettings.list(tenantOf(request, request.query.tenantId)) }));

  app.put<{ Params: Static<typeof NameParams>; Querystring: Static<typeof TenantQuery>; Body: Static<typeof PutBody> }>('/v1/detectors/:name', {
    preHandler: requireAccess(services, { scope: 'write' }),
    schema: {
      tags: ['detectors'],
      summary: 'Enable/disable a detector or change its thresholds; unknown keys are refused',
      security: bearerAuth,
      params: NameParams,
      querystring: TenantQuery,
      body: PutBody,
      response: errorResponses(400, 401, 403, 404, 503),
    },
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const { enabled, ...config } = request.body;
    if (enabled !== undefined && typeof enabled !== 'boolean') throw new AppError('validation_failed', 'enabled must be a boolean');
    const view = await detectorSettings.update(tenantId, request.params.name, { ...(enabled !== undefined ? { enabled } : {}), config });
    // The worker reads settings from the store per batch; the message is for any cache it keeps.
    services.detectorThread?.settingsChanged(tenantId);
    return view;
  });

  app.post<{ Body: Static<typeof BacktestBody> }>('/v1/detectors/backtest', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags: ['detectors'],
      summary: 'The incidents a detector config would have opened over stored history; nothing is stored or notified',
      security: bearerAuth,
      body: BacktestBody,
      response: errorResponses(400, 401, 403, 404, 503),
    },
  }, async (request) => {
    const b = request.body;
    const tenantId = tenantOf(request, b.tenantId);
    const problems: string[] = [];
    const sinceMs = parseTimeMs('since', b.since, problems);
    const untilMs = parseTimeMs('until', b.until, problems);
    if (problems.length > 0 || sinceMs === undefined || untilMs === undefined) throw new AppError('validation_failed', problems.join('; '), { problems });
    return runBacktest(services.store, detectorSettings, tenantId, { detector: b.detector, config: b.config, sinceMs, untilMs });
  });
}
