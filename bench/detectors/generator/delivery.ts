/**
 * How Stripe delivers a tenant's events: a delay of a second or two (log-normal), a few deliveries
 * that take minutes (so arrival order differs from creation order), rare first attempts that failed
 * and arrive on Stripe's retry, and redeliveries of events already delivered (same event id, the
 * response got lost). Injected delivery faults: a window of late deliveries, and an endpoint outage
 * whose backlog Stripe delivers after it ends.
 */
import type { Rng } from '../prng.js';
import { MINUTE_MS, type Delivery, type SimEvent } from './types.js';

export type DeliveryFault =
  /** Events created in [from, to) arrive `minMs`–`maxMs` late. */
  | { kind: 'delay'; from: number; to: number; minMs: number; maxMs: number }
  /** Attempts that would arrive in [from, to) fail; Stripe's retries deliver them within `drainMs` after `to`. */
  | { kind: 'outage'; from: number; to: number; drainMs: number };

export interface DeliveryStats {
  events: number;
  deliveries: number;
  redeliveries: number;
  slow: number;
  retried: number;
  delayedByFault: number;
  heldByOutage: number;
}

export class DeliveryModel {
  readonly stats: DeliveryStats = { events: 0, deliveries: 0, redeliveries: 0, slow: 0, retried: 0, delayedByFault: 0, heldByOutage: 0 };

  constructor(
    private readonly rng: Rng,
    readonly faults: DeliveryFault[] = [],
  ) {}

  deliveries(event: SimEvent): Delivery[] {
    const createdMs = event.created * 1000 + this.rng.int(0, 999);
    let delay = 300 + this.rng.logNormal(1_200, 0.7);
    if (this.rng.chance(0.01)) {
      delay += this.rng.uniform(20_000, 240_000);
      this.stats.slow += 1;
    }
    if (this.rng.chance(0.0015)) {
      delay += this.rng.uniform(60_000, 600_000);
      this.stats.retried += 1;
    }
    for (const f of this.faults) {
      if (f.kind === 'delay' && createdMs >= f.from && createdMs < f.to) {
        delay = this.rng.uniform(f.minMs, f.maxMs);
        this.stats.delayedByFault += 1;
      }
    }
    const first = this.arrival(createdMs + delay);
    const out: Delivery[] = [{ tenantKey: event.tenantKey, eventId: event.id, type: event.type, created: event.created, receivedAt: first, payload: event.payload, redelivery: false }];
    if (this.rng.chance(0.012)) {
      const again = this.arrival(first + this.rng.uniform(5_000, 3 * 60 * MINUTE_MS));
      out.push({ ...out[0]!, receivedAt: again, redelivery: true });
      this.stats.redeliveries += 1;
    }
    this.stats.events += 1;
    this.stats.deliveries += out.length;
    return out;
  }

  private arrival(ms: number): number {
    let t = Math.round(ms);
    for (const f of this.faults) {
      if (f.kind === 'outage' && t >= f.from && t < f.to) {
        t = f.to + Math.round(this.rng.uniform(0, f.drainMs));
        this.stats.heldByOutage += 1;
      }
    }
    return t;
  }
}
