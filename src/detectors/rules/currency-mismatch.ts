/**
 * currency_mismatch — a subscribed customer is charged in a currency none of their subscriptions use
 * (a one-off charge or checkout created with the wrong currency, a price mix-up after a migration).
 *
 * Fires for a successful charge (`charge.succeeded`) of a customer when the customer has at least one
 * live subscription (status active, trialing or past_due, from `ctx.data.subscriptions`) that already
 * existed when the charge was made, and the charge's currency matches none of those subscriptions'
 * currencies. A customer with subscriptions in several currencies fires only when the charge matches
 * none of them.
 *
 * Does not fire: a customer without a live subscription (nothing to compare with); a charge in the
 * currency of any live subscription; a subscription created AFTER the charge (its `created` is read
 * from the stored subscription events; replayed history must not compare an old one-off charge with a
 * later subscription); when any live subscription's currency is unknown (it might be the charge's);
 * charges without a customer. Amounts are never compared, only currency codes.
 *
 * Arrival order: the subscription state comes from the store, so a charge that arrives after its
 * subscription is judged at once. A charge that arrives BEFORE the subscription's events is judged
 * again when `customer.subscription.created` arrives: that event re-checks the customer's charges from
 * the subscription's creation up to `recheckDays` (default 7) later. A duplicate delivery never
 * reaches the detector; a re-check of an already flagged charge merges into the same incident. A
 * re-check caused by a backfilled subscription event is historical (never notifies).
 *
 * Severity: `warning` (a configuration error that bills the customer wrongly; no threshold to double).
 * Subject: the charge. No auto-resolve: the charge stays mismatched, a human resolves it.
 */
import { Type } from '@sinclair/typebox';
import { DAY_MS, type Detector, type DetectorContext, type DetectorEvent, type SubscriptionFact, type Trigger } from '../detector.js';
import { formatMinor } from '../../pricing/format-money.js';

export interface CurrencyMismatchConfig extends Record<string, unknown> {
  recheckDays: number;
}

const configSchema = Type.Object(
  {
    recheckDays: Type.Integer({ minimum: 0, maximum: 60 }),
  },
  { additionalProperties: false },
);

const defaults: CurrencyMismatchConfig = { recheckDays: 7 };

const LIVE_STATUSES = ['active', 'trialing', 'past_due'];
const SUBSCRIPTION_LIMIT = 100;
const RECHECK_LIMIT = 500;

type Ctx = DetectorContext<CurrencyMismatchConfig>;

function money(amount: number | null, currency: string): string {
  if (amount === null) return currency.toUpperCase();
  try {
    return formatMinor(BigInt(amount), currency);
  } catch {
    return `${amount} ${currency.toUpperCase()} (minor units)`;
  }
}

/** Subscription creation time (seconds) from any stored event of it; undefined when none is stored. */
async function subscriptionCreated(ctx: Ctx, subscriptionId: string, cache: Map<string, number | undefined>): Promise<number | undefined> {
  if (cache.has(subscriptionId)) return cache.get(subscriptionId);
  const events = await ctx.data.events({ objectId: subscriptionId, limit: 1 });
  const created = events[0]?.object.created;
  const value = typeof created === 'number' && Number.isFinite(created) ? created : undefined;
  cache.set(subscriptionId, value);
  return value;
}

/** Live subscriptions per customer (at most SUBSCRIPTION_LIMIT each, by period end), read once per batch. */
type SubscriptionCache = Map<string, SubscriptionFact[]>;

async function prefetchSubscriptions(ctx: Ctx, customers: string[], cache: SubscriptionCache): Promise<void> {
  const wanted = [...new Set(customers)].filter((c) => !cache.has(c));
  if (wanted.length === 0) return;
  // One read for all; a customer's list is then exactly its own read's (same order), unless the
  // shared read came back full, when each customer reads for itself later.
  const limit = Math.min(10_000, wanted.length * SUBSCRIPTION_LIMIT);
  const subs = await ctx.data.subscriptions({ customers: wanted, status: LIVE_STATUSES, limit });
  if (subs.length >= limit) return;
  for (const c of wanted) cache.set(c, []);
  for (const s of subs) {
    const list = s.customer === null ? undefined : cache.get(s.customer);
    if (list && list.length < SUBSCRIPTION_LIMIT) list.push(s);
  }
}

async function judgeCharge(ctx: Ctx, charge: DetectorEvent, createdCache: Map<string, number | undefined>, subsCache: SubscriptionCache): Promise<Trigger | undefined> {
  if (!charge.customer || !charge.currency) return undefined;
  const currency = charge.currency.toLowerCase();
  const subs = subsCache.get(charge.customer) ?? (await ctx.data.subscriptions({ customer: charge.customer, status: LIVE_STATUSES, limit: SUBSCRIPTION_LIMIT }));
  const existing: SubscriptionFact[] = [];
  for (const s of subs) {
    if (s.customer !== null && s.customer !== charge.customer) continue;
    const created = await subscriptionCreated(ctx, s.subscriptionId, createdCache);
    if (created !== undefined && created > charge.created) continue;
    existing.push(s);
  }
  if (existing.length === 0) return undefined;
  if (existing.some((s) => s.currency === null)) return undefined;
  const currencies = [...new Set(existing.map((s) => s.currency!.toLowerCase()))].sort();
  if (currencies.includes(currency)) return undefined;

  const chargeId = charge.objectId ?? `evt:${charge.eventId}`;
  const amount = money(charge.amount, currency);
  const expected = currencies.map((c) => c.toUpperCase()).join(', ');
  return {
    subjectType: 'charge',
    subjectId: chargeId,
    severity: 'warning',
    summary: `Charge ${chargeId} of ${amount} to customer ${charge.customer} is not in the currency of their subscription${existing.length > 1 ? 's' : ''} (${expected})`,
    figures: {
      charge: chargeId,
      customer: charge.customer,
      chargeCurrency: currency,
      amount,
      ...(charge.amount !== null ? { amountMinor: charge.amount } : {}),
      subscriptionCurrencies: currencies.join(','),
      subscriptions: existing.map((s) => s.subscriptionId).sort().join(','),
    },
    eventIds: [charge.eventId],
    at: charge.created * 1000,
  };
}

async function evaluateEvents(ctx: Ctx, events: DetectorEvent[]): Promise<Trigger[]> {
  const createdCache = new Map<string, number | undefined>();
  const subsCache: SubscriptionCache = new Map();
  const charged = events.filter((e) => e.type === 'charge.succeeded' && e.customer && e.currency).map((e) => e.customer!);
  for (let i = 0; i < charged.length; i += 500) await prefetchSubscriptions(ctx, charged.slice(i, i + 500), subsCache);
  const triggers = new Map<string, Trigger>();
  const judged = new Set<string>();
  const judge = async (charge: DetectorEvent, revealedBy?: DetectorEvent): Promise<void> => {
    if (judged.has(charge.eventId)) return;
    judged.add(charge.eventId);
    const t = await judgeCharge(ctx, charge, createdCache, subsCache);
    if (!t) return;
    // A re-check revealed by backfilled history must stay historical even when the charge is recent:
    // the backfilled subscription event then joins the evidence, and the engine sees no live event.
    // Revealed by a webhook, the charge's own time decides (an old charge stays historical).
    if (revealedBy && revealedBy.source !== 'webhook') t.eventIds.push(revealedBy.eventId);
    triggers.set(charge.eventId, t);
  };

  for (const e of events) if (e.type === 'charge.succeeded') await judge(e);

  // A subscription that became known after its customer's charges: re-check those charges.
  for (const e of events) {
    if (e.type !== 'customer.subscription.created' || !e.customer) continue;
    const created = typeof e.object.created === 'number' ? e.object.created : e.created;
    const charges = await ctx.data.events({
      types: ['charge.succeeded'],
      customer: e.customer,
      since: created,
      until: created + Math.floor((ctx.config.recheckDays * DAY_MS) / 1000) + 1,
      limit: RECHECK_LIMIT,
    });
    for (const c of charges) await judge(c, e);
  }
  return [...triggers.values()];
}

export const currencyMismatch: Detector<CurrencyMismatchConfig> = {
  name: 'currency_mismatch',
  description: 'A customer charged in a currency that none of their live subscriptions use.',
  configSchema,
  defaults,
  eventTypes: ['charge.succeeded', 'customer.subscription.created'],
  evaluateEvents,
};
