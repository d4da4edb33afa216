import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, TenantQuery } from '../schemas.js';
import type { Services } from '../services.js';

const Params = Type.Object({ customerRef: Type.String({ minLength: 1, maxLength: 255 }) });
const nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

const PutBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    stripeCustomerId: nullable(Type.String({ maxLength: 255, description: 'cus_…: periods follow this customer’s Stripe subscription' })),
    stripeTestCustomerId: nullable(Type.String({ maxLength: 255, description: 'cus_… of the same customer in the test-mode account: where shadow pushes go (default: stripeCustomerId)' })),
    billingAnchor: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Integer({ minimum: 0 }), Type.Null()], { description: 'a period boundary (ISO 8601 or epoch ms); periods repeat monthly from it' })),
    timezone: nullable(Type.String({ maxLength: 64, description: 'IANA zone for the anchor or the calendar month; default UTC' })),
  },
  { additionalProperties: false },
);

/** A customer's billing-period settings. */
export async function meteringCustomerRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { customers } = services.metering;

  app.put<{ Params: Static<typeof Params>; Body: Static<typeof PutBody> }>('/v1/customers/:customerRef', {
    preHandler: write,
    schema: { tags: ['usage'], summary: 'Set how a customer’s billing periods are found (replaces the settings; omitted fields are cleared)', security: bearerAuth, params: Params, body: PutBody, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => {
    const b = request.body;
    return customers.put(tenantOf(request, b.tenantId), request.params.customerRef, { stripeCustomerId: b.stripeCustomerId, stripeTestCustomerId: b.stripeTestCustomerId, billingAnchor: b.billingAnchor, timezone: b.timezone });
  });

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof TenantQuery> }>('/v1/customers/:customerRef', {
    preHandler: read,
    schema: { tags: ['usage'], summary: 'A customer’s billing-period settings and current period', security: bearerAuth, params: Params, querystring: TenantQuery, response: errorResponses(401, 403, 503) },
  }, async (request) => customers.get(tenantOf(request, request.query.tenantId), request.params.customerRef));
}
