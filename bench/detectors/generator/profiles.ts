/**
 * The synthetic tenants: four clean ones and three that receive injected anomalies, of different
 * sizes, business models and currencies (one JPY tenant, one multi-currency tenant). Rates are
 * averages; the generator adds daily and weekly seasonality, day-to-day jitter and Poisson noise.
 */

export interface PlanSpec {
  key: string;
  nickname: string;
  /** Monthly unit amount in USD cents; other currencies are converted (see `CURRENCY_FACTOR`). */
  usdCents: number;
  perSeat: boolean;
  /** Relative popularity at signup. */
  weight: number;
}

export interface TenantProfile {
  key: string;
  name: string;
  clean: boolean;
  business: string;
  /** Customer currencies and their shares. */
  currencies: { code: string; share: number }[];
  /** Active subscriptions when the run starts (created before it, renewing during it). */
  initialSubscriptions: number;
  /** New subscriptions per day on an average weekday. */
  newSubscriptionsPerDay: number;
  /** One-off card payments per hour at the busiest hour of a weekday. */
  oneOffPeakPerHour: number;
  /** One-off amount: median in USD cents, log-space sigma. */
  oneOffMedianUsdCents: number;
  oneOffSigma: number;
  plans: PlanSpec[];
  /** First-attempt decline probability of a customer-initiated payment. */
  declineRate: number;
  /** Decline probability of an automatic renewal charge (saved cards fail less). */
  renewalDeclineRate: number;
  /** Share of successful payments refunded later, and the share of those that are partial. */
  refundRate: number;
  partialRefundShare: number;
  /** Share of successful charges disputed (30–40 days later) and with an early fraud warning. */
  disputeRate: number;
  efwRate: number;
  /** Monthly voluntary churn of active subscriptions. */
  monthlyChurn: number;
  /** Monthly share of active subscriptions that upgrade (plan or seats). */
  monthlyUpgrades: number;
  /** Share of new subscriptions with a 20 % coupon. */
  couponShare: number;
  /** Hour-of-day (UTC) activity, mean ≈ 1. */
  hourly: number[];
  /** Day-of-week activity, Monday first. */
  weekly: number[];
}

/**
 * The event types each tenant's webhook endpoint is subscribed to (Stripe sends only these): what a
 * Meterwatch user enables for billing monitoring. `payment_intent.*` and `customer.created` are not
 * subscribed, as on most billing-monitoring endpoints.
 */
export const ENABLED_EVENTS = new Set([
  'charge.succeeded',
  'charge.failed',
  'charge.refunded',
  'charge.captured',
  'charge.dispute.created',
  'refund.created',
  'radar.early_fraud_warning.created',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.discount.created',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
]);

export const CURRENCY_FACTOR: Record<string, number> = { usd: 1, eur: 0.92, gbp: 0.79, jpy: 1.5 };
export const ZERO_DECIMAL = new Set(['jpy']);

/** Converts a USD list price (cents) to a list price in minor units of `currency` (¥ to 10, others x.99). */
export function priceIn(usdCents: number, currency: string): number {
  if (currency === 'usd') return usdCents;
  const raw = usdCents * (CURRENCY_FACTOR[currency] ?? 1);
  if (ZERO_DECIMAL.has(currency)) return Math.max(50, Math.round(raw / 10) * 10);
  return Math.max(99, Math.round(raw / 100) * 100 - 1);
}

/** Converts an arbitrary USD amount (cents) to minor units of `currency`. */
export function amountIn(usdCents: number, currency: string): number {
  const raw = usdCents * (CURRENCY_FACTOR[currency] ?? 1);
  if (ZERO_DECIMAL.has(currency)) return Math.max(50, Math.round(raw / 10) * 10);
  return Math.max(50, Math.round(raw));
}

const B2C_HOURLY = [0.45, 0.32, 0.25, 0.22, 0.24, 0.35, 0.55, 0.8, 1.0, 1.15, 1.3, 1.4, 1.45, 1.45, 1.4, 1.38, 1.35, 1.35, 1.4, 1.45, 1.4, 1.2, 0.95, 0.65];
const SAAS_HOURLY = [0.35, 0.28, 0.25, 0.25, 0.3, 0.45, 0.7, 1.0, 1.3, 1.5, 1.6, 1.6, 1.55, 1.55, 1.6, 1.6, 1.5, 1.35, 1.2, 1.05, 0.9, 0.75, 0.6, 0.45];
const B2B_HOURLY = [0.12, 0.1, 0.1, 0.1, 0.15, 0.3, 0.7, 1.3, 1.9, 2.1, 2.1, 1.9, 1.7, 1.9, 2.0, 1.9, 1.6, 1.2, 0.8, 0.5, 0.35, 0.25, 0.2, 0.15];
/** Tokyo shoppers: the UTC day is shifted by 9 hours. */
const JP_HOURLY = B2C_HOURLY.map((_, h) => B2C_HOURLY[(h + 9) % 24]!);

const B2C_WEEKLY = [0.95, 0.95, 0.97, 1.0, 1.08, 1.1, 0.95];
const SAAS_WEEKLY = [1.15, 1.15, 1.12, 1.1, 1.0, 0.72, 0.7];
const B2B_WEEKLY = [1.3, 1.3, 1.25, 1.2, 1.05, 0.3, 0.25];

const SAAS_PLANS: PlanSpec[] = [
  { key: 'starter', nickname: 'Starter', usdCents: 1900, perSeat: false, weight: 45 },
  { key: 'pro', nickname: 'Pro', usdCents: 4900, perSeat: false, weight: 35 },
  { key: 'business', nickname: 'Business', usdCents: 9900, perSeat: false, weight: 15 },
  { key: 'scale', nickname: 'Scale', usdCents: 19900, perSeat: false, weight: 5 },
];
const SEAT_PLANS: PlanSpec[] = [
  { key: 'team', nickname: 'Team (per seat)', usdCents: 1500, perSeat: true, weight: 60 },
  { key: 'company', nickname: 'Company (per seat)', usdCents: 3500, perSeat: true, weight: 40 },
];
const BOX_PLANS: PlanSpec[] = [
  { key: 'box-s', nickname: 'Snack box S', usdCents: 2400, perSeat: false, weight: 60 },
  { key: 'box-l', nickname: 'Snack box L', usdCents: 3900, perSeat: false, weight: 40 },
];

const common = {
  declineRate: 0.06,
  renewalDeclineRate: 0.04,
  partialRefundShare: 0.35,
  disputeRate: 0.001,
  efwRate: 0.0006,
  couponShare: 0.1,
};

export const PROFILES: TenantProfile[] = [
  {
    ...common,
    key: 'northwind',
    name: 'northwind-saas',
    clean: true,
    business: 'USD SaaS, medium',
    currencies: [{ code: 'usd', share: 1 }],
    initialSubscriptions: 1500,
    newSubscriptionsPerDay: 18,
    oneOffPeakPerHour: 14,
    oneOffMedianUsdCents: 3500,
    oneOffSigma: 0.7,
    plans: SAAS_PLANS,
    refundRate: 0.03,
    monthlyChurn: 0.035,
    monthlyUpgrades: 0.02,
    hourly: SAAS_HOURLY,
    weekly: SAAS_WEEKLY,
  },
  {
    ...common,
    key: 'sakura',
    name: 'sakura-shop',
    clean: true,
    business: 'JPY e-commerce with a subscription box',
    currencies: [{ code: 'jpy', share: 1 }],
    initialSubscriptions: 300,
    newSubscriptionsPerDay: 4,
    oneOffPeakPerHour: 26,
    oneOffMedianUsdCents: 4200,
    oneOffSigma: 0.6,
    plans: BOX_PLANS,
    declineRate: 0.065,
    refundRate: 0.04,
    monthlyChurn: 0.06,
    monthlyUpgrades: 0.01,
    hourly: JP_HOURLY,
    weekly: B2C_WEEKLY,
  },
  {
    ...common,
    key: 'fjord',
    name: 'fjord-b2b',
    clean: true,
    business: 'EUR B2B per-seat SaaS, small',
    currencies: [{ code: 'eur', share: 1 }],
    initialSubscriptions: 220,
    newSubscriptionsPerDay: 2.5,
    oneOffPeakPerHour: 1.5,
    oneOffMedianUsdCents: 20000,
    oneOffSigma: 0.5,
    plans: SEAT_PLANS,
    declineRate: 0.05,
    renewalDeclineRate: 0.03,
    refundRate: 0.015,
    monthlyChurn: 0.02,
    monthlyUpgrades: 0.04,
    hourly: B2B_HOURLY,
    weekly: B2B_WEEKLY,
  },
  {
    ...common,
    key: 'umbrella',
    name: 'umbrella-global',
    clean: true,
    business: 'USD/EUR/GBP SaaS + store, large',
    currencies: [
      { code: 'usd', share: 0.6 },
      { code: 'eur', share: 0.28 },
      { code: 'gbp', share: 0.12 },
    ],
    initialSubscriptions: 2200,
    newSubscriptionsPerDay: 24,
    oneOffPeakPerHour: 20,
    oneOffMedianUsdCents: 3000,
    oneOffSigma: 0.75,
    plans: SAAS_PLANS,
    declineRate: 0.07,
    refundRate: 0.035,
    monthlyChurn: 0.04,
    monthlyUpgrades: 0.02,
    hourly: B2C_HOURLY,
    weekly: SAAS_WEEKLY,
  },
  {
    ...common,
    key: 'globex',
    name: 'globex-saas',
    clean: false,
    business: 'USD SaaS, medium-large (anomalies)',
    currencies: [{ code: 'usd', share: 1 }],
    initialSubscriptions: 2000,
    newSubscriptionsPerDay: 18,
    oneOffPeakPerHour: 60,
    oneOffMedianUsdCents: 3200,
    oneOffSigma: 0.7,
    plans: [...SAAS_PLANS, ...SEAT_PLANS.map((p) => ({ ...p, weight: p.weight / 4 }))],
    refundRate: 0.03,
    monthlyChurn: 0.035,
    monthlyUpgrades: 0.025,
    hourly: SAAS_HOURLY,
    weekly: SAAS_WEEKLY,
  },
  {
    ...common,
    key: 'initech',
    name: 'initech-eu',
    clean: false,
    business: 'EUR/GBP/USD B2B+B2C, medium (anomalies)',
    currencies: [
      { code: 'eur', share: 0.7 },
      { code: 'gbp', share: 0.2 },
      { code: 'usd', share: 0.1 },
    ],
    initialSubscriptions: 1100,
    newSubscriptionsPerDay: 12,
    oneOffPeakPerHour: 16,
    oneOffMedianUsdCents: 6000,
    oneOffSigma: 0.7,
    plans: [...SAAS_PLANS, ...SEAT_PLANS],
    declineRate: 0.06,
    refundRate: 0.03,
    monthlyChurn: 0.03,
    monthlyUpgrades: 0.03,
    hourly: SAAS_HOURLY,
    weekly: SAAS_WEEKLY,
  },
  {
    ...common,
    key: 'kaiju',
    name: 'kaiju-store',
    clean: false,
    business: 'JPY e-commerce (anomalies)',
    currencies: [{ code: 'jpy', share: 1 }],
    initialSubscriptions: 150,
    newSubscriptionsPerDay: 2,
    oneOffPeakPerHour: 34,
    oneOffMedianUsdCents: 3800,
    oneOffSigma: 0.65,
    plans: BOX_PLANS,
    declineRate: 0.07,
    refundRate: 0.035,
    monthlyChurn: 0.05,
    monthlyUpgrades: 0.01,
    hourly: JP_HOURLY,
    weekly: B2C_WEEKLY,
  },
];
