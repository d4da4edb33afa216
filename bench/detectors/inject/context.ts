/**
 * What an injection gets to plant its anomaly: the tenant's simulated account (its flows emit the
 * anomalous events as ordinary Stripe events), its delivery model (for delivery faults), a seeded
 * random stream of its own, and `expect` to declare the incident a correct detector should raise.
 */
import type { Rng } from '../prng.js';
import type { DeliveryModel } from '../generator/delivery.js';
import type { Injection, SubjectType } from '../generator/types.js';
import type { ChargeRecord, Subscription, TenantWorld } from '../generator/world.js';

export interface InjectContext {
  world: TenantWorld;
  delivery: DeliveryModel;
  rng: Rng;
  /** Declares the expected incident; fill `subjectId` later (when the anomaly runs) if needed. */
  expect(spec: {
    detector: string;
    label: string;
    subjectType: SubjectType;
    subjectId?: string;
    startsAt: number;
    window: { from: number; to: number };
    explains?: string[];
  }): Injection;
}

/** A recent successful charge of the tenant matching `accept` (newest first), for refunds and disputes. */
export function recentCharge(w: TenantWorld, accept: (c: ChargeRecord) => boolean): ChargeRecord | undefined {
  for (let i = w.recentCharges.length - 1; i >= 0; i--) {
    const c = w.recentCharges[i]!;
    if (accept(c)) return c;
  }
  return undefined;
}

/** Active subscriptions matching `accept`, in a stable order. */
export function activeWhere(w: TenantWorld, accept: (s: Subscription) => boolean): Subscription[] {
  return w.active.filter(accept).sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Untouched by anything else: active, not cancelling, no injection hook. */
export const ordinary = (s: Subscription): boolean =>
  s.status === 'active' && !s.cancelAtPeriodEnd && s.hold === undefined && s.fullDiscountNext === undefined && s.collectionMethod === 'charge_automatically';
