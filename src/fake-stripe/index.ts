export { startFakeStripe, type FakeStripe, type FakeStripeOptions, type RequestLogEntry } from './server.js';
export type { FakeAccountState, FakeMeterEvent, FakeMeterEventError, FakeSummaryQuery } from './account-state.js';
export type { FaultKind, FaultPlan } from './faults.js';
export type {
  CustomerObject,
  EventObject,
  MeterEventObject,
  MeterEventSummaryObject,
  MeterObject,
  PriceObject,
  PriceTier,
  ProductObject,
  SubscriptionItemObject,
  SubscriptionObject,
} from './wire-types.js';
