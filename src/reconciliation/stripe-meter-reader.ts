import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeClientFactory } from '../stripe/stripe-client.js';
import { microFromNumber } from './stripe-value.js';
import { summaryWindow } from '../stripe/meter-summary-window.js';
import { toUsageLine, type UsageLine } from './invoice-lines.js';

const CACHE_MS = 10 * 60_000;

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * What reconciliation and invoice parity ask Stripe: a customer's meter total over a period, the
 * meter behind an event name, the meter behind a price. Meters and prices change rarely, so their
 * lookups are cached for ten minutes per key; totals never are.
 */
export class StripeMeterReader {
  private readonly meterIds = new Map<string, Cached<string | null>>();
  private readonly meters = new Map<string, Cached<{ id: string; eventName: string; formula: string } | null>>();
  private readonly prices = new Map<string, Cached<{ meterId: string | null; metered: boolean } | null>>();

  constructor(
    private readonly stripeFor: StripeClientFactory,
    private readonly now: () => number,
  ) {}

  /** Σ aggregated_value of the customer's events in the period's minute-aligned window, in micro-units. */
  async periodTotal(apiKey: string, meterId: string, stripeCustomerId: string, periodStart: number, periodEnd: number): Promise<bigint> {
    const window = summaryWindow(periodStart, periodEnd);
    let total = 0n;
    // Without a grouping window Stripe answers one summary for the range; paging covers the rest anyway.
    for await (const summary of this.stripeFor(apiKey).billing.meters.listEventSummaries(meterId, {
      customer: stripeCustomerId,
      start_time: window.startTime,
      end_time: window.endTime,
      limit: 100,
    })) {
      total += microFromNumber(summary.aggregated_value);
    }
    return total;
  }

  /** The active meter for an event name, or null. */
  async meterIdForEventName(apiKey: string, eventName: string): Promise<string | null> {
    return this.cached(this.meterIds, `${fingerprint(apiKey)}|${eventName}`, async () => {
      for await (const meter of this.stripeFor(apiKey).billing.meters.list({ status: 'active', limit: 100 })) {
        if (meter.event_name === eventName) return meter.id;
      }
      return null;
    });
  }

  async meter(apiKey: string, meterId: string): Promise<{ id: string; eventName: string; formula: string } | null> {
    return this.cached(this.meters, `${fingerprint(apiKey)}|${meterId}`, async () => {
      try {
        const meter = await this.stripeFor(apiKey).billing.meters.retrieve(meterId);
        return { id: meter.id, eventName: meter.event_name, formula: meter.default_aggregation.formula };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    });
  }

  /** Whether a price is metered, and by which meter. */
  async price(apiKey: string, priceId: string): Promise<{ meterId: string | null; metered: boolean } | null> {
    return this.cached(this.prices, `${fingerprint(apiKey)}|${priceId}`, async () => {
      try {
        const price: Stripe.Price = await this.stripeFor(apiKey).prices.retrieve(priceId);
        return { meterId: price.recurring?.meter ?? null, metered: price.recurring?.usage_type === 'metered' };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    });
  }

  /** Every line of an invoice whose webhook payload was cut short (`lines.has_more`). */
  async invoiceLines(apiKey: string, invoiceId: string): Promise<UsageLine[]> {
    const lines: UsageLine[] = [];
    for await (const line of this.stripeFor(apiKey).invoices.listLineItems(invoiceId, { limit: 100 })) {
      lines.push(...toUsageLine(line as unknown as Record<string, unknown>));
    }
    return lines;
  }

  private async cached<T>(cache: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    const now = this.now();
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { value, until: now + CACHE_MS });
    return value;
  }
}

const isMissing = (error: unknown) => (error as { statusCode?: number }).statusCode === 404;

/** Cache keys never hold the API key itself. */
function fingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('base64url').slice(0, 22);
}
