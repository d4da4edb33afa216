import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';
import { listFilters } from '../list-filters.js';

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Status = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]);

export const JobViewSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  kind: Type.String({ description: '`backfill` (operator) or `gapfill` (scheduled)' }),
  status: Status,
  params: Type.Record(Type.String(), Type.Unknown(), { description: 'backfill: since/until in unix seconds, types' }),
  progress: Type.Object({
    processed: Type.Integer(),
    stored: Type.Integer({ description: 'stored now; for a gap-fill, the events that never arrived by webhook' }),
    duplicates: Type.Integer({ description: 'already stored (by webhook or an earlier run)' }),
    pages: Type.Integer(),
    retries: Type.Integer(),
    newestCreated: Time,
    oldestCreated: Time,
  }),
  cursor: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  nextAttemptAt: Time,
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  startedAt: Time,
  finishedAt: Time,
});

const ListQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.String({ maxLength: 40 })),
    status: Type.Optional(Status),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  },
  { additionalProperties: false },
);

/** Durable background jobs (backfill, gap-fill): progress, listing and cancel. */
export async function jobRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const jobs = services.backfill.jobs;

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/jobs', {
    preHandler: read,
    schema: {
      tags: ['jobs'],
      summary: 'Jobs of the tenant, newest first',
      security: bearerAuth,
      querystring: ListQuery,
      response: { 200: Type.Object({ data: Type.Array(JobViewSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => jobs.list(tenantOf(request, request.query.tenantId), listFilters(request.query)));

  app.get<WithId>('/v1/jobs/:id', {
    preHandler: read,
    schema: { tags: ['jobs'], summary: 'One job: status, progress, cursor, error', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: JobViewSchema, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => jobs.get(tenantOf(request, request.query.tenantId), request.params.id));

  app.post<WithId>('/v1/jobs/:id/cancel', {
    preHandler: write,
    schema: { tags: ['jobs'], summary: 'Cancel a queued or running job (it stops after its current page)', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: { 200: JobViewSchema, ...errorResponses(401, 403, 404, 503) } },
  }, async (request) => jobs.cancel(tenantOf(request, request.query.tenantId), request.params.id));
}
