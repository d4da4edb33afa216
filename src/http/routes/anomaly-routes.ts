import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import { listAnomalies, parseTimeMs } from '../../detectors/anomaly-query.js';
import { incidentsToCsv, toIncidentView } from '../../detectors/incident-view.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const ListQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.String({ maxLength: 100, description: 'open, acknowledged, resolved, false_positive (comma-separated)' })),
    detector: Type.Optional(Type.String({ maxLength: 64 })),
    severity: Type.Optional(Type.String({ maxLength: 16 })),
    customer: Type.Optional(Type.String({ maxLength: 255, description: 'the subject id (customer, charge, subscription, invoice)' })),
    since: Type.Optional(Type.String({ maxLength: 40 })),
    until: Type.Optional(Type.String({ maxLength: 40 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

const ExportQuery = Type.Object(
  { tenantId: Type.Optional(Type.String({ maxLength: 64 })), since: Type.String({ maxLength: 40 }), until: Type.String({ maxLength: 40 }) },
  { additionalProperties: false },
);

const ActionBody = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    suppressForHours: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 365 })),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const TenantQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

const actorOf = (request: FastifyRequest): string =>
  request.principal?.kind === 'api_key' ? `api_key:${request.principal.keyId}` : 'admin';

export async function anomalyRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { store, incidents } = services;

  const list = async (request: FastifyRequest<{ Querystring: Static<typeof ListQuery> }>) => {
    const q = request.query;
    return listAnomalies(store, tenantOf(request, q.tenantId), {
      status: q.status,
      detector: q.detector,
      severity: q.severity,
      customer: q.customer,
      since: q.since,
      until: q.until,
      cursor: q.cursor,
      limit: q.limit === undefined ? undefined : Number(q.limit),
    });
  };
  const listSchema = { tags: ['anomalies'], security: bearerAuth, querystring: ListQuery, response: errorResponses(400, 401, 403, 503) };
  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/anomalies', { preHandler: read, schema: { ...listSchema, summary: 'Anomaly incidents, newest first (filters, cursor)' } }, list);
  app.get<{ Querystring: Static<typeof ListQuery> }>('/anomalies', { preHandler: read, schema: { ...listSchema, summary: 'Alias of /v1/anomalies (the brief’s path)' } }, list);

  app.get<{ Querystring: Static<typeof ExportQuery> }>('/v1/anomalies/export.csv', {
    preHandler: read,
    schema: { tags: ['anomalies'], summary: 'CSV export of incidents first triggered in [since, until)', security: bearerAuth, querystring: ExportQuery },
  }, async (request, reply) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const problems: string[] = [];
    const since = parseTimeMs('since', request.query.since, problems);
    const until = parseTimeMs('until', request.query.until, problems);
    if (problems.length > 0 || since === undefined || until === undefined) throw new AppError('validation_failed', problems.join('; '), { problems });
    if (until <= since) throw new AppError('validation_failed', 'until must be after since');
    const rows = [];
    let before: { firstTriggeredAt: number; id: string } | undefined;
    for (let page = 0; page < 200; page++) {
      const chunk = await store.detectors.listIncidents(tenantId, { since, until, ...(before ? { before } : {}), limit: 500 });
      rows.push(...chunk);
      if (chunk.length < 500) break;
      const last = chunk[chunk.length - 1]!;
      before = { firstTriggeredAt: last.firstTriggeredAt, id: last.id };
    }
    const name = `anomalies-${new Date(since).toISOString().slice(0, 10)}-${new Date(until).toISOString().slice(0, 10)}.csv`;
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(incidentsToCsv(rows));
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof TenantQuery> }>('/v1/anomalies/:id', {
    preHandler: read,
    schema: { tags: ['anomalies'], summary: 'One incident with its evidence events', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: errorResponses(401, 403, 404, 503) },
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const incident = await incidents.get(tenantId, request.params.id);
    const events = [];
    for (const eventId of incident.evidence) {
      const e = await store.getBillingEvent(tenantId, eventId);
      if (e) events.push({ id: e.eventId, type: e.type, created: new Date(e.created * 1000).toISOString(), customer: e.customer, amount: e.amount, currency: e.currency, source: e.source, anomalyScore: e.anomalyScore });
    }
    return { ...toIncidentView(incident), evidenceEvents: events };
  });

  const action = (path: string, summary: string, run: (tenantId: string, id: string, actor: string, body: Static<typeof ActionBody>) => Promise<unknown>) =>
    app.post<{ Params: Static<typeof IdParams>; Querystring: Static<typeof TenantQuery>; Body: Static<typeof ActionBody> }>(`/v1/anomalies/:id/${path}`, {
      preHandler: write,
      schema: { tags: ['anomalies'], summary, security: bearerAuth, params: IdParams, querystring: TenantQuery, body: Type.Optional(ActionBody), response: errorResponses(400, 401, 403, 404, 409, 503) },
    }, async (request) => {
      const tenantId = tenantOf(request, request.query.tenantId);
      const incident = await run(tenantId, request.params.id, actorOf(request), request.body ?? {});
      return toIncidentView(incident as never);
    });

  action('acknowledge', 'Acknowledge: someone is on it (notifications keep their course)', (t, id, actor) => incidents.acknowledge(t, id, actor));
  action('resolve', 'Resolve by hand', (t, id, actor, body) => incidents.resolve(t, id, actor, body.reason ?? null));
  action('false-positive', 'Close as a false positive (reason required); suppresses this detector for this subject', (t, id, actor, body) => {
    if (!body.reason || body.reason.trim() === '') throw new AppError('validation_failed', 'reason is required to mark a false positive');
    return incidents.markFalsePositive(t, id, actor, body.reason, body.suppressForHours === undefined ? undefined : body.suppressForHours * 3_600_000);
  });
}
