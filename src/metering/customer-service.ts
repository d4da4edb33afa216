import type { Clock } from '../shared/clock.js';
import type { MeteringCustomerRecord, MeteringStore } from '../store/metering-store.js';
import { invalidMeteringInput } from './metering-errors.js';
import { periodContaining } from './period.js';
import type { PeriodResolver } from './period-resolver.js';
import { parseTimeInput } from './time-input.js';
import { isValidTimeZone } from '../shared/zoned-time.js';

export interface CustomerInput {
  stripeCustomerId?: string | null | undefined;
  stripeTestCustomerId?: string | null | undefined;
  billingAnchor?: string | number | null | undefined;
  timezone?: string | null | undefined;
}

export interface CustomerView {
  customerRef: string;
  stripeCustomerId: string | null;
  stripeTestCustomerId: string | null;
  billingAnchor: string | null;
  timezone: string | null;
  /** The period `now` falls in under the rule in force, and where that rule comes from. */
  currentPeriod: { start: string; end: string; source: string };
  updatedAt: string | null;
}

/**
 * Per-customer billing settings. PUT replaces them whole (an omitted field is cleared). The period
 * rule applies to events ingested from now on: stored events keep the period they were assigned.
 */
export class CustomerService {
  constructor(
    private readonly store: MeteringStore,
    private readonly periods: PeriodResolver,
    private readonly clock: Clock,
  ) {}

  async put(tenantId: string, customerRef: string, input: CustomerInput): Promise<CustomerView> {
    const problems: string[] = [];
    const stripeCustomerId = input.stripeCustomerId ?? null;
    if (stripeCustomerId !== null && !/^cus_[A-Za-z0-9]{1,250}$/.test(stripeCustomerId)) problems.push('stripeCustomerId must be a Stripe customer id (cus_…)');
    const stripeTestCustomerId = input.stripeTestCustomerId ?? null;
    if (stripeTestCustomerId !== null && !/^cus_[A-Za-z0-9]{1,250}$/.test(stripeTestCustomerId)) problems.push('stripeTestCustomerId must be a Stripe customer id (cus_…)');
    const billingAnchor = input.billingAnchor === null || input.billingAnchor === undefined ? null : parseTimeInput('billingAnchor', input.billingAnchor, problems) ?? null;
    const timezone = input.timezone ?? null;
    if (timezone !== null && !isValidTimeZone(timezone)) problems.push(`timezone "${timezone}" is not an IANA time zone (e.g. Europe/Paris)`);
    if (problems.length > 0) throw invalidMeteringInput(problems);
    const now = this.clock.now();
    const saved = await this.store.putCustomer({ tenantId, customerRef, stripeCustomerId, stripeTestCustomerId, billingAnchor, timezone, createdAt: now, updatedAt: now });
    this.periods.invalidate(tenantId, customerRef);
    return this.view(tenantId, customerRef, saved);
  }

  async get(tenantId: string, customerRef: string): Promise<CustomerView> {
    const [saved] = await this.store.getCustomers(tenantId, [customerRef]);
    return this.view(tenantId, customerRef, saved);
  }

  private async view(tenantId: string, customerRef: string, saved: MeteringCustomerRecord | undefined): Promise<CustomerView> {
    const rule = await this.periods.ruleOf(tenantId, customerRef);
    const period = periodContaining(rule, this.clock.now());
    return {
      customerRef,
      stripeCustomerId: saved?.stripeCustomerId ?? null,
      stripeTestCustomerId: saved?.stripeTestCustomerId ?? null,
      billingAnchor: saved?.billingAnchor == null ? null : new Date(saved.billingAnchor).toISOString(),
      timezone: saved?.timezone ?? null,
      currentPeriod: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString(), source: period.source },
      updatedAt: saved ? new Date(saved.updatedAt).toISOString() : null,
    };
  }
}
