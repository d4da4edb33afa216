import { factsOf, toDetectorEvent } from '../detectors/event-facts.js';
import { METRIC } from '../detectors/metrics.js';
import { formatMinor } from '../pricing/format-money.js';
import type { BillingEventRecord, Store } from '../store/store.js';
import { incidentUrl } from './alert-message.js';
import type { CountWithAmounts, DigestContent, MoneyTotal } from './digest-content.js';
import type { DigestPeriod } from './digest-period.js';

/** Subscription events read per digest; a period with more is summarised from the first ones. */
const MAX_SUBSCRIPTION_EVENTS = 20_000;
const MAX_LISTED_INCIDENTS = 50;
const SUBSCRIPTION_TYPES = ['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'];

/**
 * What happened in a period, by Stripe event time, from what is already stored:
 * - counts and captured volume from the detector buckets (`detectors/metrics.ts`), refunds counted
 *   once per refund object (never from a charge's cumulative `amount_refunded`);
 * - failed-charge and dispute amounts from the stored events, grouped by currency;
 * - new and canceled subscriptions decided by the detectors' own event rules (`factsOf`), so the
 *   digest agrees with the buckets, with their recurring amount per currency.
 * Amounts are integer minor units per currency and are never added across currencies.
 */
export async function buildDigest(store: Store, tenantId: string, period: DigestPeriod, publicUrl: string): Promise<DigestContent> {
  const { start, end } = period;
  const d = store.detectors;
  const [events, succeeded, failed, disputes, captured, refunds, totals, active] = await Promise.all([
    d.sumBuckets(tenantId, METRIC.event, start, end),
    d.sumBuckets(tenantId, METRIC.chargeSucceeded, start, end),
    d.sumBuckets(tenantId, METRIC.chargeFailed, start, end),
    d.sumBuckets(tenantId, METRIC.dispute, start, end),
    d.sumBucketsByPrefix(tenantId, METRIC.chargeCapturedPrefix, start, end),
    d.sumBucketsByPrefix(tenantId, METRIC.refundPrefix, start, end),
    store.alerts.eventTotals(tenantId, ['charge.failed', 'charge.dispute.created'], Math.floor(start / 1000), Math.floor(end / 1000)),
    d.listActiveIncidents(tenantId),
  ]);
  const subscriptions = await subscriptionChanges(store, tenantId, start, end);

  const byPrefix = (sums: Map<string, { count: number; amount: number }>, prefix: string): MoneyTotal[] =>
    [...sums.entries()].map(([metric, s]) => money(metric.slice(prefix.length), s.count, s.amount)).sort(byCurrency);
  const fromTotals = (type: string): MoneyTotal[] =>
    totals.filter((t) => t.type === type && t.currency !== null).map((t) => money(t.currency!, t.count, t.amount)).sort(byCurrency);
  const refundAmounts = byPrefix(refunds, METRIC.refundPrefix);

  const incidents = [...active].sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? 1 : -1));
  const content: DigestContent = {
    tenantId,
    period: { frequency: period.frequency, start: new Date(start).toISOString(), end: new Date(end).toISOString(), timeZone: period.timeZone, label: period.label },
    events: { received: events.count },
    charges: {
      succeeded: { count: succeeded.count, amounts: byPrefix(captured, METRIC.chargeCapturedPrefix) },
      failed: { count: failed.count, amounts: fromTotals('charge.failed') },
    },
    refunds: { count: refundAmounts.reduce((n, r) => n + r.count, 0), amounts: refundAmounts },
    disputes: { count: disputes.count, amounts: fromTotals('charge.dispute.created') },
    subscriptions,
    openIncidents: {
      total: incidents.length,
      items: incidents.slice(0, MAX_LISTED_INCIDENTS).map((i) => ({
        id: i.id,
        detector: i.detector,
        severity: i.severity,
        status: i.status,
        summary: i.summary,
        openedAt: new Date(i.openedAt).toISOString(),
        url: incidentUrl(publicUrl, i.id),
      })),
    },
    empty: false,
  };
  content.empty = events.count === 0 && incidents.length === 0;
  return content;
}

async function subscriptionChanges(store: Store, tenantId: string, start: number, end: number): Promise<{ new: CountWithAmounts; canceled: CountWithAmounts }> {
  const created = new Tally();
  const canceled = new Tally();
  let before: { created: number; seq: number } | undefined;
  for (let read = 0; read < MAX_SUBSCRIPTION_EVENTS; ) {
    const page: BillingEventRecord[] = await store.listBillingEvents(tenantId, {
      types: SUBSCRIPTION_TYPES,
      since: Math.floor(start / 1000),
      until: Math.floor(end / 1000),
      ...(before ? { before } : {}),
      limit: 500,
    });
    for (const event of page) {
      const facts = factsOf(toDetectorEvent(event));
      const sub = facts.subscription;
      for (const b of facts.buckets) {
        if (b.metric === METRIC.subscriptionCreated) created.add(sub?.currency ?? null, sub?.recurringAmount ?? null);
        if (b.metric === METRIC.subscriptionCanceled) canceled.add(sub?.currency ?? null, sub?.recurringAmount ?? null);
      }
    }
    read += page.length;
    const last = page[page.length - 1];
    if (page.length < 500 || !last) break;
    before = { created: last.created, seq: last.seq };
  }
  return { new: created.result(), canceled: canceled.result() };
}

/** Counts subscriptions and sums their recurring amounts per currency (unknown amounts count, add nothing). */
class Tally {
  private count = 0;
  private readonly amounts = new Map<string, { count: number; amount: number }>();

  add(currency: string | null, amount: number | null): void {
    this.count += 1;
    if (currency === null || amount === null) return;
    const entry = this.amounts.get(currency) ?? { count: 0, amount: 0 };
    entry.count += 1;
    entry.amount += amount;
    this.amounts.set(currency, entry);
  }

  result(): CountWithAmounts {
    return { count: this.count, amounts: [...this.amounts.entries()].map(([c, s]) => money(c, s.count, s.amount)).sort(byCurrency) };
  }
}

function money(currency: string, count: number, amount: number): MoneyTotal {
  let formatted: string;
  try {
    formatted = formatMinor(BigInt(amount), currency);
  } catch {
    // A currency the pricing table does not know: show minor units rather than guess decimals.
    formatted = `${amount} ${currency.toUpperCase()} (minor units)`;
  }
  return { currency, count, amount, formatted };
}

const byCurrency = (a: MoneyTotal, b: MoneyTotal) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0);
