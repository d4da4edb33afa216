import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';
import { listFilters } from '../list-filters.js';
import { invalidMeteringInput } from '../../metering/metering-errors.js';
import { actorOf, useExactJson } from './metering-http.js';

const ListQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.String({ maxLength: 100, description: 'pending, approved, rejected (comma-separated)' })),
    kind: Type.Optional(Type.String({ maxLength: 100, description: 'late_event, manual, revert (comma-separated)' })),
    metric: Type.Optional(Type.String({ maxLength: 100 })),
    customerRef: Type.Optional(Type.String({ maxLength: 255 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    metric: Type.String({ minLength: 1, maxLength: 100 }),
    customerRef: Type.String({ minLength: 1, maxLength: 255 }),
    delta: Type.Unknown({ description: 'signed quantity, a JSON number with at most 6 decimals' }),
    ts: Type.Optional(Type.Unknown({ description: 'an instant in the period to adjust (ISO 8601 or epoch ms); default now' })),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

const RevertBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false });

function optionalReason(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body) || Object.keys(body).some((k) => k !== 'reason')) throw invalidMeteringInput(['the body may only hold "reason"']);
  const reason = (body as { reason?: unknown }).reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000)) throw invalidMeteringInput(['reason must be a string of at most 1000 characters']);
  return reason as string | undefined;
}

/** Pending late events and manual corrections: list, create, approve (once), reject, revert. */
export async function adjustmentRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { adjustments } = services.metering;
  useExactJson(app, 65_536);

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/adjustments', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'Adjustments, newest first (late events awaiting a decision: status=pending)', security: bearerAuth, querystring: ListQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => adjustments.list(tenantOf(request, request.query.tenantId), listFilters(request.query)));

  app.get<WithId>('/v1/adjustments/:id', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'One adjustment', security: bearerAuth, params: IdParams, querystring: TenantQuery, response: errorResponses(401, 403, 404, 503) },
  }, async (request) => adjustments.get(tenantOf(request, request.query.tenantId), request.params.id));

  app.post<{ Body: Static<typeof CreateBody> }>('/v1/adjustments', {
    preHandler: write,
    schema: { tags: ['usage'], summary: 'A manual adjustment (pending until approved), with a reason', security: bearerAuth, body: CreateBody, response: errorResponses(400, 401, 403, 503) },
  }, async (request, reply) => {
    const b = request.body;
    const view = await adjustments.create(tenantOf(request, b.tenantId), { metric: b.metric, customerRef: b.customerRef, delta: b.delta, ts: b.ts, reason: b.reason }, actorOf(request));
    return reply.status(201).send(view);
  });

  const decision = (path: string, summary: string, body: typeof RevertBody | undefined, run: (tenantId: string, id: string, actor: string, reason: string | undefined) => Promise<unknown>) =>
    app.post<WithId & { Body: { reason?: string } | undefined }>(`/v1/adjustments/:id/${path}`, {
      preHandler: write,
      // approve/reject may come without a body at all, which a body schema would refuse: checked here.
      schema: { tags: ['usage'], summary, security: bearerAuth, params: IdParams, querystring: TenantQuery, ...(body ? { body } : {}), response: errorResponses(400, 401, 403, 404, 409, 503) },
    }, async (request) => {
      const reason = optionalReason(request.body);
      return run(tenantOf(request, request.query.tenantId), request.params.id, actorOf(request), reason);
    });

  decision('approve', 'Apply a pending adjustment to its counter; approving again changes nothing (applied:false)', undefined, (t, id, actor) => adjustments.approve(t, id, actor));
  decision('reject', 'Decline a pending adjustment', undefined, (t, id, actor, reason) => adjustments.reject(t, id, actor, reason ?? null));
  decision('revert', 'Cancel an approved adjustment with an approved negative one (reason required)', RevertBody, (t, id, actor, reason) => adjustments.revert(t, id, actor, reason ?? ''));
}
