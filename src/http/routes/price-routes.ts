import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CustomerRef, Metric, TenantIdField } from '../../metering/ingest-schemas.js';
import { parseJsonExact } from '../../metering/exact-json.js';
import { PriceInputFields } from '../../pricing/price-input-schema.js';
import { AppError } from '../../shared/app-error.js';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';
import { actorOf } from './metering-http.js';

const MetricParams = Type.Object({ metric: Metric });
const CustomerParams = Type.Object({ customerRef: CustomerRef });
const CustomerMetricParams = Type.Object({ customerRef: CustomerRef, metric: Metric });
const TenantQuery = Type.Object({ tenantId: Type.Optional(TenantIdField) }, { additionalProperties: false });
const PutBody = Type.Object({ tenantId: Type.Optional(TenantIdField), ...PriceInputFields }, { additionalProperties: false });

type MetricRoute = { Params: Static<typeof MetricParams>; Querystring: Static<typeof TenantQuery> };
type CustomerRoute = { Params: Static<typeof CustomerParams>; Querystring: Static<typeof TenantQuery> };
type CustomerMetricRoute = { Params: Static<typeof CustomerMetricParams>; Querystring: Static<typeof TenantQuery> };

/**
 * Price plans: the tenant's default price per metric and per-customer overrides (scope `write` to
 * change, `read` to look). Bodies take our price config or a Stripe price object to import.
 */
export async function priceRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { prices } = services.pricing;
  refuseInexactNumbers(app);
  const doc = (summary: string, extra: Record<string, unknown>, ...statuses: number[]) => ({
    tags: ['pricing'],
    summary,
    security: bearerAuth,
    ...extra,
    response: errorResponses(...statuses),
  });

  app.put<{ Params: Static<typeof MetricParams>; Body: Static<typeof PutBody> }>('/v1/prices/:metric', {
    preHandler: write,
    schema: doc('Set the tenant’s default price of a metric (priceConfig, or stripePrice to import)', { params: MetricParams, body: PutBody }, 400, 401, 403, 503),
  }, async (request) => {
    const { tenantId, ...input } = request.body;
    return prices.put(tenantOf(request, tenantId), null, request.params.metric, input, actorOf(request));
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/prices', {
    preHandler: read,
    schema: doc('The tenant’s default plan: one price per metric', { querystring: TenantQuery }, 401, 403, 503),
  }, async (request) => ({ data: await prices.list(tenantOf(request, request.query.tenantId), null) }));

  app.get<MetricRoute>('/v1/prices/:metric', {
    preHandler: read,
    schema: doc('The tenant’s default price of a metric', { params: MetricParams, querystring: TenantQuery }, 401, 403, 404, 503),
  }, async (request) => prices.get(tenantOf(request, request.query.tenantId), null, request.params.metric));

  app.delete<MetricRoute>('/v1/prices/:metric', {
    preHandler: write,
    schema: doc('Remove the tenant’s default price of a metric', { params: MetricParams, querystring: TenantQuery }, 401, 403, 404, 503),
  }, async (request, reply) => {
    await prices.delete(tenantOf(request, request.query.tenantId), null, request.params.metric);
    return reply.code(204).send();
  });

  app.put<{ Params: Static<typeof CustomerMetricParams>; Body: Static<typeof PutBody> }>('/v1/customers/:customerRef/prices/:metric', {
    preHandler: write,
    schema: doc('Set a customer’s own price of a metric (overrides the tenant default)', { params: CustomerMetricParams, body: PutBody }, 400, 401, 403, 503),
  }, async (request) => {
    const { tenantId, ...input } = request.body;
    return prices.put(tenantOf(request, tenantId), request.params.customerRef, request.params.metric, input, actorOf(request));
  });

  app.get<CustomerRoute>('/v1/customers/:customerRef/prices', {
    preHandler: read,
    schema: doc('A customer’s overrides (data) and effective plan (effective: override, else tenant default)', { params: CustomerParams, querystring: TenantQuery }, 401, 403, 503),
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const { customerRef } = request.params;
    const [data, plan] = await Promise.all([prices.list(tenantId, customerRef), prices.planOf(tenantId, customerRef)]);
    return { customerRef, data, effective: [...plan.values()].map((p) => p.view) };
  });

  app.get<CustomerMetricRoute>('/v1/customers/:customerRef/prices/:metric', {
    preHandler: read,
    schema: doc('A customer’s own price of a metric', { params: CustomerMetricParams, querystring: TenantQuery }, 401, 403, 404, 503),
  }, async (request) => prices.get(tenantOf(request, request.query.tenantId), request.params.customerRef, request.params.metric));

  app.delete<CustomerMetricRoute>('/v1/customers/:customerRef/prices/:metric', {
    preHandler: write,
    schema: doc('Remove a customer’s own price of a metric (the tenant default applies again)', { params: CustomerMetricParams, querystring: TenantQuery }, 401, 403, 404, 503),
  }, async (request, reply) => {
    await prices.delete(tenantOf(request, request.query.tenantId), request.params.customerRef, request.params.metric);
    return reply.code(204).send();
  });
}

/**
 * JSON.parse silently rounds a number literal longer than 15 significant digits; in a price that
 * would store a different price than the one sent. Such bodies are refused: send decimals as strings.
 */
function refuseInexactNumbers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let parsed: ReturnType<typeof parseJsonExact>;
    try {
      parsed = parseJsonExact(body as string);
    } catch {
      done(new AppError('bad_request', 'Request body is not valid JSON'), undefined);
      return;
    }
    if (parsed.exact) {
      done(new AppError('validation_failed', 'A number has more than 15 significant digits and would lose precision: send decimals as strings ("0.123456789012345678")'), undefined);
      return;
    }
    done(null, parsed.value);
  });
}
