import type { PeriodResolver } from '../metering/period-resolver.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import { PricePlanService } from './price-plan-service.js';
import { UsageProjectionService } from './usage-projection-service.js';

/** The pricing services with state (price plans, projections), as the HTTP routes and the CLI use them. */
export interface Pricing {
  prices: PricePlanService;
  projections: UsageProjectionService;
}

export function createPricing(store: Store, periods: PeriodResolver, clock: Clock): Pricing {
  const prices = new PricePlanService(store.pricing, clock);
  return { prices, projections: new UsageProjectionService(store, periods, prices, clock) };
}
