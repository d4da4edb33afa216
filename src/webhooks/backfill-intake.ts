import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
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
    const event = parseStripeEvent(rawEvent, tenantId, 'backfill', this.clock.now());
    const { inserted } = await this.events.insertBillingEvent(event);
    return { eventId: event.eventId, duplicate: !inserted };
  }
}
