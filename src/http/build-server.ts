import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from './services.js';
import { registerErrorHandling } from './error-handler.js';
import { lazyRequestLogger } from './lazy-request-logger.js';
import { ErrorResponse } from './schemas.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { tenantRoutes } from './routes/tenant-routes.js';
import { apiKeyRoutes } from './routes/api-key-routes.js';
import { billingEventRoutes } from './routes/billing-event-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { anomalyRoutes } from './routes/anomaly-routes.js';
import { detectorRoutes } from './routes/detector-routes.js';
import { simulateRoutes } from './routes/simulate-routes.js';
import { meteringRoutes } from './routes/metering-routes.js';
import { alertChannelRoutes } from './routes/alert-channel-routes.js';
import { alertDeliveryRoutes } from './routes/alert-delivery-routes.js';
import { digestRoutes } from './routes/digest-routes.js';
import { priceRoutes } from './routes/price-routes.js';
import { projectionRoutes } from './routes/projection-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { backfillRoutes } from './routes/backfill-routes.js';
import { reconciliationRoutes } from './routes/reconciliation-routes.js';
import { mappingRoutes } from './routes/mapping-routes.js';
import { syncRoutes } from './routes/sync-routes.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildServer(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    // Per-request info logs would cost more than the webhook itself at thousands per second;
    // failures are logged by the error handler with the request id.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: 1_048_576,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req_${services.clock.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.decorateRequest('principal', undefined);
  app.addSchema(ErrorResponse);
  registerErrorHandling(app);

  // Callback-style hooks: they run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    // 'close' fires once however the exchange ends (answered, or the client went away).
    services.load.inFlight += 1;
    reply.raw.once('close', () => {
      services.load.inFlight -= 1;
    });
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Meterwatch API', version: '0.1.0', description: 'Verified Stripe webhook intake, billing anomalies and usage metering.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(async (scope) => webhookRoutes(scope, services));
  await app.register(async (scope) => tenantRoutes(scope, services));
  await app.register(async (scope) => apiKeyRoutes(scope, services));
  await app.register(async (scope) => billingEventRoutes(scope, services));
  await app.register(async (scope) => opsRoutes(scope, services));
  await app.register(async (scope) => anomalyRoutes(scope, services));
  await app.register(async (scope) => detectorRoutes(scope, services));
  await app.register(async (scope) => simulateRoutes(scope, services));
  await app.register(async (scope) => meteringRoutes(scope, services));
  await app.register(async (scope) => alertChannelRoutes(scope, services));
  await app.register(async (scope) => alertDeliveryRoutes(scope, services));
  await app.register(async (scope) => digestRoutes(scope, services));
  await app.register(async (scope) => priceRoutes(scope, services));
  await app.register(async (scope) => projectionRoutes(scope, services));
  await app.register(async (scope) => jobRoutes(scope, services));
  await app.register(async (scope) => backfillRoutes(scope, services));
  await app.register(async (scope) => reconciliationRoutes(scope, services));
  await app.register(async (scope) => mappingRoutes(scope, services));
  await app.register(async (scope) => syncRoutes(scope, services));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
