import { Router } from './router.js';
import { registerCustomerRoutes } from './resources/customers.js';
import { registerEventSummaryRoutes } from './resources/event-summaries.js';
import { registerEventRoutes } from './resources/events.js';
import { registerMeterEventAdjustmentRoutes } from './resources/meter-event-adjustments.js';
import { registerMeterEventSessionRoutes, registerMeterEventStreamRoutes, type SessionRegistry } from './resources/meter-event-stream.js';
import { registerMeterEventRoutes } from './resources/meter-events.js';
import { registerMeterRoutes } from './resources/meters.js';
import { registerPriceRoutes } from './resources/prices.js';
import { registerProductRoutes } from './resources/products.js';
import { registerSubscriptionRoutes } from './resources/subscriptions.js';

export function buildRouter(sessions: SessionRegistry, options: { acceptDecimalValues: boolean }): Router {
  const router = new Router();
  registerCustomerRoutes(router);
  registerProductRoutes(router);
  registerPriceRoutes(router);
  registerSubscriptionRoutes(router);
  registerMeterRoutes(router);
  registerEventSummaryRoutes(router);
  registerMeterEventRoutes(router, options);
  registerMeterEventAdjustmentRoutes(router);
  registerMeterEventSessionRoutes(router, sessions);
  registerMeterEventStreamRoutes(router, options);
  registerEventRoutes(router);
  return router;
}
