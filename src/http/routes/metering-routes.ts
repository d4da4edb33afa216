import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { usageEventRoutes } from './usage-event-routes.js';
import { usageRoutes } from './usage-routes.js';
import { adjustmentRoutes } from './adjustment-routes.js';
import { meteringCustomerRoutes } from './metering-customer-routes.js';
import { replayRoutes } from './replay-routes.js';

/** Usage metering: each area in its own encapsulated scope (the ingest scope has its own body parsers). */
export async function meteringRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => usageEventRoutes(scope, services));
  await app.register(async (scope) => usageRoutes(scope, services));
  await app.register(async (scope) => adjustmentRoutes(scope, services));
  await app.register(async (scope) => meteringCustomerRoutes(scope, services));
  await app.register(async (scope) => replayRoutes(scope, services));
}
