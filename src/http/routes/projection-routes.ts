import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CustomerRef, TenantIdField } from '../../metering/ingest-schemas.js';
import { UsageProjectionSchema } from '../../pricing/projection-result.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const ProjectionBody = Type.Object(
  {
    tenantId: Type.Optional(TenantIdField),
    customerRef: CustomerRef,
    asOf: Type.Optional(
      Type.Union([Type.String({ maxLength: 40 }), Type.Integer({ minimum: 0 })], { description: 'project from this instant instead of now (ISO 8601, YYYY-MM-DD or epoch ms)' }),
    ),
  },
  { additionalProperties: false },
);

/** Cost projection for the customer's current billing period (scope `read`). */
export async function projectionRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { projections } = services.pricing;
  app.post<{ Body: Static<typeof ProjectionBody> }>('/v1/usage/projection', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags: ['usage'],
      summary: 'Usage so far and projected to the period end per metric, with current and projected cost per currency',
      security: bearerAuth,
      body: ProjectionBody,
      response: { 200: UsageProjectionSchema, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request) => {
    const b = request.body;
    return projections.project(tenantOf(request, b.tenantId), { customerRef: b.customerRef, asOf: b.asOf });
  });
}
