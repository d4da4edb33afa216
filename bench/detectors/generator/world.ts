/**
 * One tenant's Stripe account, simulated: customers, subscriptions and charges, a queue of timed
 * actions (renewals, payment retries, refunds, disputes…) and Poisson arrivals of new activity with
 * daily and weekly seasonality. `advanceTo` runs the account up to a time and returns the events
 * Stripe would have emitted, each rendered as the exact webhook body.
 *
 * The flows themselves live in `payments.ts` and `subscriptions.ts`; injections (`../inject/`) use the
 * same flows, so an anomaly is made of ordinary-looking Stripe events.
 */
import { Rng } from '../prng.js';
import { dayOfWeek, hourOfDay, simDay } from './calendar.js';
import { MinHeap } from './heap.js';
import { eventEnvelope, Ids, type PriceRef, type RefundSpec, type SubscriptionView } from './objects.js';
import { ENABLED_EVENTS, priceIn, type PlanSpec, type TenantProfile } from './profiles.js';
import { DAY_MS, MINUTE_MS, type Json, type SimEvent } from './types.js';
import { backgroundCase, backgroundRefund, oneOffPurchase } from './payments.js';
import { cancelSomeSubscription, createSubscription, scheduleRenewal, upgradeSomeSubscription } from './subscriptions.js';

export interface Customer {
  id: string;
  currency: string;
  country: string;
  createdMs: number;
  paymentMethod: string;
  last4: string;
}

export interface Subscription extends SubscriptionView {
  customerRef: Customer;
  /** Which scheduled renewal is current (older queue entries are ignored). */
  renewalToken: number;
  /** Percent off from the subscription's coupon (0 when none). */
  percentOff: number;
  /** Injection hooks: `stale` = the renewal never happens; `unpaid` = renewed but never paid. */
  hold?: 'stale' | 'unpaid';
  /** Injection hook: the next renewal invoice carries this 100 % discount. */
  fullDiscountNext?: { discountId: string; coupon: string; onInvoice?: (invoiceId: string) => void };
}

export interface ChargeRecord {
  id: string;
  customer: Customer | null;
  amount: number;
  currency: string;
  paymentIntent: string;
  createdMs: number;
  description: string;
  refunds: RefundSpec[];
}

export type RateProcess = 'oneOff' | 'signup';

export interface RateModifier {
  process: RateProcess;
  from: number;
  to: number;
  factor: number;
}

const COUNTRIES: Record<string, string[]> = {
  usd: ['US', 'US', 'US', 'CA'],
  eur: ['DE', 'FR', 'NL', 'ES', 'IT', 'IE'],
  gbp: ['GB'],
  jpy: ['JP'],
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export class TenantWorld {
  readonly rng: Rng;
  readonly ids: Ids;
  readonly customers: Customer[] = [];
  readonly active: Subscription[] = [];
  private readonly activeIndex = new Map<string, number>();
  readonly subscriptions = new Map<string, Subscription>();
  /** Successful charges of the last days, for refunds, disputes and injections. */
  readonly recentCharges: ChargeRecord[] = [];
  readonly modifiers: RateModifier[] = [];
  readonly prices = new Map<string, PriceRef>();
  readonly estimatedDailyCharges: number;

  private readonly queue = new MinHeap<() => void>();
  private out: SimEvent[] = [];
  private cursor: number;
  private jitterDay = -1;
  private jitter = { oneOff: 1, signup: 1 };
  private readonly hourlyMean: number;
  private readonly weeklyMean: number;
  private readonly hourlyMax: number;
  private invoiceCounter = 0;
  readonly startMs: number;
  /** Current time of the running action (ms); flows read it as "now". */
  now: number;

  constructor(
    readonly profile: TenantProfile,
    seed: string,
    startMs: number,
  ) {
    this.rng = Rng.stream(seed, `world/${profile.key}`);
    this.ids = new Ids(Rng.stream(seed, `ids/${profile.key}`), profile.key.slice(0, 2).toUpperCase());
    this.cursor = startMs;
    this.now = startMs;
    this.startMs = startMs;
    this.hourlyMean = mean(profile.hourly);
    this.weeklyMean = mean(profile.weekly);
    this.hourlyMax = Math.max(...profile.hourly);
    for (const currency of profile.currencies.map((c) => c.code)) {
      profile.plans.forEach((plan, tier) => this.prices.set(`${plan.key}:${currency}`, this.priceRef(plan, currency, tier)));
    }
    this.estimatedDailyCharges =
      (profile.oneOffPeakPerHour / this.hourlyMax) * this.hourlyMean * 24 + profile.initialSubscriptions / 30.4 + profile.newSubscriptionsPerDay;
    this.populate(startMs);
  }

  // ---------------------------------------------------------------- time and output

  /** Runs the account up to `untilMs` (exclusive) and returns the events emitted, in any order. */
  advanceTo(untilMs: number): SimEvent[] {
    while (this.cursor < untilMs) {
      const minuteEnd = this.cursor + MINUTE_MS;
      this.arrivals(this.cursor);
      this.runQueue(minuteEnd);
      this.cursor = minuteEnd;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Schedules an action; times in the past run at the next opportunity, never earlier than now. */
  schedule(atMs: number, action: () => void): void {
    this.queue.push(Math.max(atMs, this.now), action);
  }

  private runQueue(untilMs: number): void {
    for (let key = this.queue.peekKey(); key !== undefined && key < untilMs; key = this.queue.peekKey()) {
      const action = this.queue.pop()!;
      this.now = key;
      action();
    }
    this.now = untilMs;
  }

  /** Emits one event at `atMs` with a snapshot of `object` (only types the endpoint is subscribed to). */
  emit(type: string, atMs: number, object: Json, previousAttributes?: Json, requestId: string | null = null): SimEvent | undefined {
    if (!ENABLED_EVENTS.has(type)) return undefined;
    const id = this.ids.next('evt');
    const envelope = eventEnvelope({ id, type, createdMs: atMs, object, ...(previousAttributes ? { previousAttributes } : {}), requestId });
    const event: SimEvent = { tenantKey: this.profile.key, id, type, created: Math.floor(atMs / 1000), payload: JSON.stringify(envelope) };
    this.out.push(event);
    return event;
  }

  // ---------------------------------------------------------------- arrivals

  private seasonality(ms: number): { hourly: number; weekly: number } {
    return {
      hourly: this.profile.hourly[hourOfDay(ms)]! / this.hourlyMean,
      weekly: this.profile.weekly[dayOfWeek(ms)]! / this.weeklyMean,
    };
  }

  rateFactor(process: RateProcess, ms: number): number {
    let f = 1;
    for (const m of this.modifiers) if (m.process === process && ms >= m.from && ms < m.to) f *= m.factor;
    return f;
  }

  private arrivals(minute: number): void {
    const p = this.profile;
    const day = simDay(minute);
    if (day !== this.jitterDay) {
      this.jitterDay = day;
      this.jitter = { oneOff: this.rng.logNormal(1, 0.07), signup: this.rng.logNormal(1, 0.1) };
    }
    const s = this.seasonality(minute);
    const at = () => minute + Math.floor(this.rng.next() * MINUTE_MS);
    const times = (rate: number) => {
      const n = this.rng.poisson(rate);
      return Array.from({ length: n }, at);
    };

    const oneOffPerMinute = ((p.oneOffPeakPerHour / this.hourlyMax) * this.hourlyMean * s.hourly * s.weekly * this.jitter.oneOff) / 60;
    for (const t of times(oneOffPerMinute * this.rateFactor('oneOff', minute))) this.schedule(t, () => oneOffPurchase(this, t));

    const signupPerMinute = (p.newSubscriptionsPerDay * s.hourly * s.weekly * this.jitter.signup) / 1440;
    for (const t of times(signupPerMinute * this.rateFactor('signup', minute))) this.schedule(t, () => createSubscription(this, t));

    const perSubPerMinute = 1 / (30.4 * 1440);
    for (const t of times(this.active.length * p.monthlyUpgrades * perSubPerMinute * s.hourly * s.weekly)) this.schedule(t, () => upgradeSomeSubscription(this, t));
    for (const t of times(this.active.length * p.monthlyChurn * perSubPerMinute * s.hourly * s.weekly)) this.schedule(t, () => cancelSomeSubscription(this, t));

    // Refunds, disputes and fraud warnings of charges made before the run, fading out as the
    // charges made during the run take over (a steady state from the first day).
    const d = (minute - this.startMs) / DAY_MS;
    const daily = this.estimatedDailyCharges;
    const refundTail = 1 - normalCdf(Math.log((24 * Math.max(d, 0.001)) / 20) / 1.0);
    for (const t of times((daily * p.refundRate * refundTail) / 1440 * s.hourly)) this.schedule(t, () => backgroundRefund(this, t));
    const disputeTail = d < 7 ? 1 : Math.max(0, (40 - d) / 33);
    for (const t of times((daily * p.disputeRate * disputeTail) / 1440)) this.schedule(t, () => backgroundCase(this, t, 'dispute'));
    const efwTail = d < 1 ? 1 : Math.max(0, (12 - d) / 11);
    for (const t of times((daily * p.efwRate * efwTail) / 1440)) this.schedule(t, () => backgroundCase(this, t, 'efw'));
  }

  // ---------------------------------------------------------------- entities

  private priceRef(plan: PlanSpec, currency: string, tier: number): PriceRef {
    return {
      id: `price_1${this.profile.key.slice(0, 2).toUpperCase()}${plan.key.replace(/[^a-z]/g, '')}${currency}${this.rng.base62(10)}`,
      product: `prod_${this.profile.key.slice(0, 2).toUpperCase()}${plan.key.replace(/[^a-z]/g, '')}${this.rng.base62(8)}`,
      nickname: plan.nickname,
      unitAmount: priceIn(plan.usdCents, currency),
      currency,
      perSeat: plan.perSeat,
      tier,
    };
  }

  price(planKey: string, currency: string): PriceRef {
    const p = this.prices.get(`${planKey}:${currency}`);
    if (!p) throw new Error(`no price ${planKey} in ${currency} for ${this.profile.key}`);
    return p;
  }

  pickCurrency(): string {
    const cs = this.profile.currencies;
    return this.rng.weighted(
      cs.map((c) => c.code),
      cs.map((c) => c.share),
    );
  }

  newCustomer(createdMs: number, currency = this.pickCurrency()): Customer {
    const c: Customer = {
      id: this.ids.next('cus'),
      currency,
      country: this.rng.pick(COUNTRIES[currency] ?? ['US']),
      createdMs,
      paymentMethod: this.ids.next('pm'),
      last4: String(this.rng.int(0, 9999)).padStart(4, '0'),
    };
    this.customers.push(c);
    return c;
  }

  nextInvoiceNumber(customer: Customer): string {
    this.invoiceCounter += 1;
    return `${customer.id.slice(-8).toUpperCase()}-${String(this.invoiceCounter).padStart(4, '0')}`;
  }

  addActive(sub: Subscription): void {
    this.subscriptions.set(sub.id, sub);
    if (this.activeIndex.has(sub.id)) return;
    this.activeIndex.set(sub.id, this.active.length);
    this.active.push(sub);
  }

  removeActive(sub: Subscription): void {
    const i = this.activeIndex.get(sub.id);
    if (i === undefined) return;
    const last = this.active.pop()!;
    if (last.id !== sub.id) {
      this.active[i] = last;
      this.activeIndex.set(last.id, i);
    }
    this.activeIndex.delete(sub.id);
  }

  /** A random active subscription matching `accept` (undefined after a few misses). */
  pickActive(accept: (s: Subscription) => boolean): Subscription | undefined {
    for (let i = 0; i < 25 && this.active.length > 0; i++) {
      const s = this.rng.pick(this.active);
      if (accept(s)) return s;
    }
    return undefined;
  }

  rememberCharge(c: ChargeRecord): void {
    this.recentCharges.push(c);
    // Keep about two weeks of charges (bounded memory; older ones are rarely needed).
    if (this.recentCharges.length > 40_000) this.recentCharges.splice(0, 10_000);
  }

  // ---------------------------------------------------------------- initial state

  /** Subscriptions and customers that exist before the run: anchors spread over the month. */
  private populate(startMs: number): void {
    const p = this.profile;
    for (let i = 0; i < p.initialSubscriptions; i++) {
      const customer = this.newCustomer(startMs - this.rng.int(40, 900) * DAY_MS);
      const hour = this.rng.weighted(
        p.hourly.map((_, h) => h),
        p.hourly,
      );
      const periodEnd = startMs + this.rng.int(0, 29) * DAY_MS + hour * 3_600_000 + this.rng.int(0, 3_599_999);
      createSubscription(this, periodEnd, { existing: { customer, periodEndMs: periodEnd, createdMs: customer.createdMs + this.rng.int(0, 20) * DAY_MS } });
    }
    // Past one-off buyers who may come back.
    const buyers = Math.round(p.initialSubscriptions * 0.8 + p.oneOffPeakPerHour * 40);
    for (let i = 0; i < buyers; i++) this.newCustomer(startMs - this.rng.int(1, 700) * DAY_MS);
  }

  /** Used by `createSubscription` for pre-existing subscriptions: queue the first renewal. */
  queueRenewal(sub: Subscription): void {
    scheduleRenewal(this, sub);
  }
}

/** Φ(x), the standard normal CDF (Abramowitz–Stegun 7.1.26 via erf). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
