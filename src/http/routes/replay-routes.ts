import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../../tenants/principal.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const Body = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Integer({ minimum: 0 })])),
    until: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Integer({ minimum: 0 })])),
    metric: Type.Optional(Type.String({ maxLength: 100 })),
    customerRef: Type.Optional(Type.String({ maxLength: 255 })),
    dryRun: Type.Optional(Type.Boolean({ default: true, description: 'true (the default) only reports; false repairs the differing counters' })),
  },
  { additionalProperties: false },
);

/** Re-fold the ledger and compare (dry run, scope `read`) or repair (scope `write`). */
export async function replayRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  app.post<{ Body: Static<typeof Body> }>('/v1/replay', {
    preHandler: read,
    schema: {
      tags: ['usage'],
      summary: 'Re-fold the ledger for a scope: every counter that differs, and the pending late events; dryRun:false repairs',
      security: bearerAuth,
      body: Body,
      response: errorResponses(400, 401, 403, 503),
    },
  }, async (request) => {
    const b = request.body;
    const dryRun = b.dryRun ?? true;
    if (!dryRun && request.principal) requireScope(request.principal, 'write');
    return services.metering.replay.replay(tenantOf(request, b.tenantId), { since: b.since, until: b.until, metric: b.metric, customerRef: b.customerRef, dryRun });
  });
}
