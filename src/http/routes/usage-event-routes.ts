import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { stringifyJsonExact } from '../../metering/exact-json.js';
import { eventsOf, namedTenants, singleTenant, withIdempotencyHeader } from '../../metering/ingest-request.js';
import { IngestBodyDoc, IngestResponse } from '../../metering/ingest-schemas.js';
import { importNotFound } from '../../metering/metering-errors.js';
import { toImportView } from '../../metering/usage-views.js';
import { AppError } from '../../shared/app-error.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, TenantQuery } from '../schemas.js';
import type { Services } from '../services.js';
import { listFilters } from '../list-filters.js';
import { actorOf, isExactBody, useExactJson } from './metering-http.js';

const ListQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    metric: Type.Optional(Type.String({ maxLength: 100 })),
    customerRef: Type.Optional(Type.String({ maxLength: 255 })),
    since: Type.Optional(Type.String({ maxLength: 40, description: 'inclusive, on event time: ISO 8601, YYYY-MM-DD or epoch ms' })),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'exclusive' })),
    cursor: Type.Optional(Type.String({ maxLength: 400 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 10' })),
  },
  { additionalProperties: false },
);

const BackfillQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')])),
    name: Type.Optional(Type.String({ maxLength: 255, description: 'a label for the operation, e.g. the file name' })),
  },
  { additionalProperties: false },
);

const OperationParams = Type.Object({ operationId: Type.String({ maxLength: 64 }) });

const STREAM_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/csv'];

/** Usage ingest, the ledger listing and backfill imports. */
export async function usageEventRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { metering } = services;
  const ingestScope = requireAccess(services, { scope: 'ingest' });
  const read = requireAccess(services, { scope: 'read' });
  useExactJson(app, metering.config.maxBodyBytes);
  // Backfill bodies are streamed record by record, never buffered: any size, bounded memory.
  app.addContentTypeParser(STREAM_TYPES, (_request, payload, done) => done(null, payload));

  app.post('/v1/events/ingest', {
    preHandler: ingestScope,
    bodyLimit: metering.config.maxBodyBytes,
    // Shown in OpenAPI; checked by the compiled TypeBox checkers in the domain, per event, so one
    // bad event is reported by index instead of failing the batch.
    validatorCompiler: () => () => true,
    schema: {
      tags: ['usage'],
      summary: 'Ingest usage events (1–1000); a result per event, answered only once they are durable',
      security: bearerAuth,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255, description: 'only for a batch of one event' })) }),
      body: IngestBodyDoc,
      response: { 200: IngestResponse, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
    },
  }, async (request) => {
    const header = request.headers['idempotency-key'];
    const events = withIdempotencyHeader(eventsOf(request.body, metering.config.maxEventsPerRequest), typeof header === 'string' ? header : undefined);
    // Every tenant an event names must be the caller's (403 otherwise), before anything is stored.
    const named = namedTenants(events);
    for (const t of named) tenantOf(request, t);
    const tenantId = tenantOf(request, singleTenant(named));
    const outcome = await metering.ingest.ingest(tenantId, events, { source: 'api', exact: isExactBody(request.body) });
    return { results: outcome.results, accepted: outcome.accepted, duplicates: outcome.duplicates, conflicts: outcome.conflicts, rejected: outcome.rejected };
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/events', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'Ledger events, newest event time first (filters, cursor)', security: bearerAuth, querystring: ListQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request, reply) => {
    const page = await metering.query.listEvents(tenantOf(request, request.query.tenantId), listFilters(request.query));
    // meta is returned digit for digit as it was sent (numbers longer than a double included).
    return reply.header('content-type', 'application/json; charset=utf-8').send(stringifyJsonExact(page, true));
  });

  app.post<{ Querystring: Static<typeof BackfillQuery> }>('/v1/events/backfill', {
    preHandler: ingestScope,
    schema: {
      tags: ['usage'],
      summary: 'Import usage events from a JSONL (application/x-ndjson) or CSV (text/csv) body, streamed; same validation and dedup as ingest',
      security: bearerAuth,
      querystring: BackfillQuery,
      response: errorResponses(400, 401, 403, 415, 503),
    },
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format = request.query.format ?? (contentType === 'text/csv' ? 'csv' : 'jsonl');
    const body = request.body as AsyncIterable<Buffer> | undefined;
    if (!body || typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function') {
      throw new AppError('unsupported_media_type', `Send the file as ${STREAM_TYPES.join(' or ')}`);
    }
    return metering.imports.run(tenantId, body, { format, sourceName: request.query.name ?? null, actor: actorOf(request) });
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/events/backfill', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'Import operations, newest first', security: bearerAuth, querystring: TenantQuery, response: errorResponses(401, 403, 503) },
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    return { data: (await services.store.metering.listImports(tenantId, { limit: 100 })).map(toImportView) };
  });

  app.get<{ Params: Static<typeof OperationParams>; Querystring: Static<typeof TenantQuery> }>('/v1/events/backfill/:operationId', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'One import operation: progress and summary with reasons', security: bearerAuth, params: OperationParams, querystring: TenantQuery, response: errorResponses(401, 403, 404, 503) },
  }, async (request) => {
    const op = await metering.imports.get(tenantOf(request, request.query.tenantId), request.params.operationId);
    if (!op) throw importNotFound();
    return toImportView(op);
  });
}
