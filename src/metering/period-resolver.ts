import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { MeteringCustomerRecord } from '../store/metering-store.js';
import type { SubscriptionFactRecord } from '../store/detector-store.js';
import { periodContaining, type Period, type PeriodRule } from './period.js';

/** Subscription states whose current period is the one being billed. */
const BILLING_STATUSES = new Set(['active', 'trialing', 'past_due', 'unpaid']);

interface CacheEntry {
  rule: PeriodRule;
  expires: number;
  /** The last period computed: consecutive events of a customer almost always fall in it. */
  last: Period | undefined;
}

export interface PeriodResolverOptions {
  /** How long a customer's rule is trusted; another replica's `PUT /v1/customers` or a new Stripe period reaches this one within it. */
  cacheMs: number;
  maxEntries: number;
}

/**
 * Which period an event belongs to: the customer's Stripe subscription period when the customer is
 * mapped to a Stripe customer and the detector engine has projected a subscription for it, else
 * the customer's billing anchor, else the calendar month (UTC unless a time zone is set).
 * Rules are cached per customer so the ingest path reads the database once per customer per TTL.
 */
export class PeriodResolver {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: PeriodResolverOptions,
  ) {}

  /** Loads (batched) the rules of the customers not cached; call before `periodOf`. */
  async load(tenantId: string, customerRefs: Iterable<string>): Promise<void> {
    const now = this.clock.now();
    const missing: string[] = [];
    for (const ref of customerRefs) {
      const entry = this.cache.get(cacheKey(tenantId, ref));
      if (!entry || entry.expires <= now) missing.push(ref);
    }
    if (missing.length === 0) return;
    const unique = [...new Set(missing)];
    const customers = new Map((await this.store.metering.getCustomers(tenantId, unique)).map((c) => [c.customerRef, c]));
    for (const ref of unique) {
      const rule = await this.ruleFor(tenantId, customers.get(ref));
      this.remember(tenantId, ref, rule, now);
    }
  }

  /** The period of `ts` for a customer whose rule `load` fetched (or the UTC month if it did not). */
  periodOf(tenantId: string, customerRef: string, ts: number): Period {
    const entry = this.cache.get(cacheKey(tenantId, customerRef));
    if (!entry) return periodContaining({ kind: 'calendar', timeZone: 'UTC' }, ts);
    const last = entry.last;
    if (last && ts >= last.start && ts < last.end) return last;
    const period = periodContaining(entry.rule, ts);
    entry.last = period;
    return period;
  }

  async ruleOf(tenantId: string, customerRef: string): Promise<PeriodRule> {
    await this.load(tenantId, [customerRef]);
    return this.cache.get(cacheKey(tenantId, customerRef))?.rule ?? { kind: 'calendar', timeZone: 'UTC' };
  }

  /** Forget a customer's rule (after its settings changed here). */
  invalidate(tenantId: string, customerRef: string): void {
    this.cache.delete(cacheKey(tenantId, customerRef));
  }

  private remember(tenantId: string, ref: string, rule: PeriodRule, now: number): void {
    const key = cacheKey(tenantId, ref);
    this.cache.delete(key);
    if (this.cache.size >= this.options.maxEntries) {
      // Map iteration is insertion order: drop the oldest tenth in one go.
      let drop = Math.ceil(this.options.maxEntries / 10);
      for (const k of this.cache.keys()) {
        if (drop-- <= 0) break;
        this.cache.delete(k);
      }
    }
    this.cache.set(key, { rule, expires: now + this.options.cacheMs, last: undefined });
  }

  private async ruleFor(tenantId: string, customer: MeteringCustomerRecord | undefined): Promise<PeriodRule> {
    const timeZone = customer?.timezone ?? 'UTC';
    if (customer?.stripeCustomerId) {
      const facts = await this.store.detectors.listSubscriptionFacts(tenantId, { customer: customer.stripeCustomerId, limit: 50 });
      const fact = pickSubscription(facts);
      if (fact && fact.currentPeriodStart !== null && fact.currentPeriodEnd !== null && fact.currentPeriodEnd > fact.currentPeriodStart) {
        return { kind: 'subscription', start: fact.currentPeriodStart, end: fact.currentPeriodEnd, subscriptionId: fact.subscriptionId };
      }
    }
    if (customer?.billingAnchor !== null && customer?.billingAnchor !== undefined) return { kind: 'anchor', anchor: customer.billingAnchor, timeZone };
    return { kind: 'calendar', timeZone };
  }
}

/** The subscription being billed: a billing status first, then the latest period, then the newest state. */
export function pickSubscription(facts: SubscriptionFactRecord[]): SubscriptionFactRecord | undefined {
  let best: SubscriptionFactRecord | undefined;
  const rank = (f: SubscriptionFactRecord) => [BILLING_STATUSES.has(f.status) ? 1 : 0, f.currentPeriodEnd ?? -1, f.asOf] as const;
  for (const f of facts) {
    if (f.currentPeriodStart === null || f.currentPeriodEnd === null) continue;
    if (!best) {
      best = f;
      continue;
    }
    const a = rank(f);
    const b = rank(best);
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = f;
  }
  return best;
}

function cacheKey(tenantId: string, customerRef: string): string {
  return `${tenantId}\u0000${customerRef}`;
}
