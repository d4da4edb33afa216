import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';
import { actorOf } from './metering-http.js';
import { JobViewSchema } from './job-routes.js';

const TimeInput = Type.Union([Type.String({ maxLength: 40 }), Type.Integer({ minimum: 0 })], {
  description: 'a duration back from now (30d, 12h, 90m), ISO 8601 with an offset, or unix seconds',
});
const Body = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    since: TimeInput,
    until: Type.Optional(TimeInput),
    types: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20, description: "Stripe event types (Stripe's types[] filter)" })),
  },
  { additionalProperties: false },
);

/** `POST /v1/backfill`: queue a backfill of the tenant's Stripe history; follow it at `GET /v1/jobs/{id}`. */
export async function backfillRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.post<{ Body: Static<typeof Body> }>('/v1/backfill', {
    preHandler: requireAccess(services, { scope: 'write' }),
    schema: {
      tags: ['jobs'],
      summary: "Backfill the tenant's Stripe events (Events API, the tenant's key) as a resumable job; 202 with the job",
      security: bearerAuth,
      body: Body,
      response: { 202: JobViewSchema, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const job = await services.backfill.service.start(tenantOf(request, b.tenantId), { since: b.since, until: b.until, types: b.types }, actorOf(request));
    return reply.code(202).send(job);
  });
}
