import type { Clock } from '../shared/clock.js';
import type { BillingEventInput, Store } from '../store/store.js';
import { parseStripeEvent } from './parse-stripe-event.js';

/**
 * Stores Stripe events fetched from the Events API (or imported) as `backfill`: same dedup as
 * webhooks by (tenant, event id), and marked so that nothing they trigger ever notifies as live.
 */
export class BackfillIntake {
  constructor(
    private readonly events: Store,
    private readonly clock: Clock,
  ) {}

  async store(tenantId: string, rawEvent: string): Promise<{ eventId: string; duplicate: boolean }> {
    const event = this.prepare(tenantId, rawEvent);
    const { inserted } = await this.events.insertBillingEvent(event);
    return { eventId: event.eventId, duplicate: !inserted };
  }

  /**
   * The row `store` would write, for callers that write a page of events in their own transaction
   * (the backfill job stores a page together with its cursor).
   */
  prepare(tenantId: string, rawEvent: string): BillingEventInput {
    return parseStripeEvent(rawEvent, tenantId, 'backfill', this.clock.now());
  }
}
