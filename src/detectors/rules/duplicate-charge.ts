/**
 * duplicate_charge — a customer paid the same amount twice in a few minutes (double submit, a retry
 * that created a second payment, two integrations charging for one order).
 *
 * Fires when one customer has two successful charges (`charge.succeeded`) with the same amount and
 * the same currency whose Stripe `created` times are at most `windowMinutes` (default 5) apart, and
 * the two charges belong to DIFFERENT payments. Two charges are the same payment when they share any
 * identity: the charge id, the payment intent (a payment intent that retried and then succeeded is
 * one payment), or the invoice (legacy API versions put `invoice` on the charge). So charges without
 * a payment intent count as distinct only when their charge ids differ and they do not share an
 * invoice. The identity is transitive (charge A shares a payment intent with B, B an invoice with C:
 * one payment).
 *
 * Does not fire: the invoice and the charge of one payment (only `charge.succeeded` is read, never
 * `invoice.*`, so `invoice.created` + `invoice.paid` can never pair up); two events about one charge;
 * the same amount in different currencies (2,000 USD cents and 2,000 JPY are not compared); different
 * amounts; different customers; charges without a customer; charges 5 min 1 s apart; a charge
 * delivered 10 times (the store keeps one event, and one charge id is one payment anyway).
 *
 * Arrival order does not matter: each new charge looks both backwards and forwards in event time
 * among the stored charges, so whichever of the two arrives last finds the other.
 *
 * Severity: `warning`; `critical` when ≥ 3 distinct payments of that amount fall within the window
 * around one charge (a retry loop, not a double click).
 * Subject: the customer; figures name both charges (`firstCharge`, `secondCharge`). No auto-resolve:
 * a human decides whether to refund, so the incident stays until resolved by hand.
 */
import { Type } from '@sinclair/typebox';
import type { Detector, DetectorContext, DetectorEvent, EventKey, Severity, Trigger } from '../detector.js';
import { formatMinor } from '../../pricing/format-money.js';
import { compareText } from '../../shared/compare-text.js';

export interface DuplicateChargeConfig extends Record<string, unknown> {
  windowMinutes: number;
}

const configSchema = Type.Object(
  {
    windowMinutes: Type.Integer({ minimum: 1, maximum: 60 }),
  },
  { additionalProperties: false },
);

const defaults: DuplicateChargeConfig = { windowMinutes: 5 };

const READ_LIMIT = 1000;
/** Charge keys read at once for a batch before each charge reads for itself. */
const SHARED_READ_LIMIT = 10_000; // the most DetectorData reads at once
/** A batch whose charges lie further apart than this (a backfill) reads per charge. */
const SHARED_RANGE_SECONDS = 6 * 3600;

type Ctx = DetectorContext<DuplicateChargeConfig>;

interface Charge {
  eventId: string;
  chargeId: string;
  created: number;
  keys: string[];
}

const idOf = (v: unknown): string | null => {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const id = (v as Record<string, unknown>).id;
    return typeof id === 'string' && id.length > 0 ? id : null;
  }
  return null;
};

function toCharge(e: DetectorEvent): Charge {
  const chargeId = idOf(e.object.id) ?? e.objectId ?? `evt:${e.eventId}`;
  const keys = [`ch:${chargeId}`];
  const pi = idOf(e.object.payment_intent);
  if (pi) keys.push(`pi:${pi}`);
  const invoice = idOf(e.object.invoice);
  if (invoice) keys.push(`in:${invoice}`);
  return { eventId: e.eventId, chargeId, created: e.created, keys };
}

/** Groups charges into payments: charges sharing any identity key are one payment. Returns group per charge id. */
function paymentGroups(charges: Charge[]): Map<string, number> {
  const parent = charges.map((_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r]! !== r) r = parent[r]!;
    let x = i;
    while (parent[x]! !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  const owner = new Map<string, number>();
  charges.forEach((c, i) => {
    for (const key of c.keys) {
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<string, number>();
  charges.forEach((c, i) => groups.set(c.chargeId, find(i)));
  return groups;
}

function money(amount: number, currency: string): string {
  try {
    return formatMinor(BigInt(amount), currency);
  } catch {
    return `${amount} ${currency.toUpperCase()} (minor units)`;
  }
}

/**
 * How many stored charges each charge's own read would return (same customer, amount and currency,
 * within ±span), from ONE read of keys for the whole batch; undefined when that read came back full
 * (then each charge reads for itself). Nearly every charge has only itself: it is then settled here,
 * without reading or parsing a single payload.
 */
async function candidateCounts(ctx: Ctx, charges: DetectorEvent[], span: number): Promise<Map<string, number> | undefined> {
  const since = Math.min(...charges.map((e) => e.created)) - span;
  const until = Math.max(...charges.map((e) => e.created)) + span + 1;
  if (until - since > SHARED_RANGE_SECONDS) return undefined;
  const customers = [...new Set(charges.map((e) => e.customer!))];
  const amounts = new Set(charges.map((e) => e.amount!));
  const keys = await ctx.data.eventKeys({ types: ['charge.succeeded'], customers, amounts: [...amounts], since, until, limit: SHARED_READ_LIMIT });
  if (keys.length >= SHARED_READ_LIMIT) return undefined;
  const bySame = new Map<string, EventKey[]>();
  for (const k of keys) {
    if (k.amount === null || !amounts.has(k.amount) || !k.currency) continue;
    const key = `${k.customer}\u0000${k.amount}\u0000${k.currency}`;
    const list = bySame.get(key);
    if (list) list.push(k);
    else bySame.set(key, [k]);
  }
  const counts = new Map<string, number>();
  for (const e of charges) {
    const same = (bySame.get(`${e.customer}\u0000${e.amount}\u0000${e.currency}`) ?? []).filter((k) => k.created >= e.created - span && k.created < e.created + span + 1);
    // As the charge's own read would: at most READ_LIMIT stored, plus the charge itself when not among them.
    const stored = same.slice(0, READ_LIMIT);
    counts.set(e.eventId, stored.length + (stored.some((k) => k.seq === e.seq) ? 0 : 1));
  }
  return counts;
}

async function evaluateEvents(ctx: Ctx, events: DetectorEvent[]): Promise<Trigger[]> {
  const span = ctx.config.windowMinutes * 60;
  const triggers: Trigger[] = [];
  const charges = events.filter((e) => e.type === 'charge.succeeded' && e.customer && e.amount !== null && e.currency);
  if (charges.length === 0) return triggers;
  const counts = await candidateCounts(ctx, charges, span);
  for (const e of charges) {
    if (!e.customer || e.amount === null || !e.currency) continue;
    const currency = e.currency;
    const amount = e.amount;
    // The stored charges hold this one (the batch is indexed before it is evaluated): alone, no pair.
    if (counts && counts.get(e.eventId)! < 2) continue;
    // Only same-amount, same-currency charges can be duplicates: the store filters on its key fields.
    const stored = await ctx.data.events({ types: ['charge.succeeded'], customer: e.customer, amount, currency, since: e.created - span, until: e.created + span + 1, limit: READ_LIMIT });
    const sameAmount = stored.filter((s) => s.amount === amount && s.currency === currency && s.customer === e.customer);
    if (!sameAmount.some((s) => s.eventId === e.eventId)) sameAmount.push(e);
    if (sameAmount.length < 2) continue;

    // One entry per charge id (two events about one charge are one charge), earliest event kept.
    const byCharge = new Map<string, Charge>();
    for (const s of sameAmount.map(toCharge)) {
      const prev = byCharge.get(s.chargeId);
      if (!prev) byCharge.set(s.chargeId, s);
      else byCharge.set(s.chargeId, { ...(s.created < prev.created ? s : prev), keys: [...new Set([...prev.keys, ...s.keys])] });
    }
    const charges = [...byCharge.values()];
    const groups = paymentGroups(charges);
    const self = toCharge(e);
    const selfGroup = groups.get(self.chargeId);
    const selfCharge = byCharge.get(self.chargeId) ?? self;

    // The other payments, each represented by its charge nearest in time to this one.
    const others = new Map<number, Charge>();
    for (const c of charges) {
      const g = groups.get(c.chargeId)!;
      if (g === selfGroup) continue;
      const prev = others.get(g);
      if (!prev || Math.abs(c.created - e.created) < Math.abs(prev.created - e.created)) others.set(g, c);
    }
    if (others.size === 0) continue;
    const partners = [...others.values()].sort((a, b) => Math.abs(a.created - e.created) - Math.abs(b.created - e.created) || compareText(a.chargeId, b.chargeId));
    const partner = partners[0]!;
    const [first, second] = partner.created < selfCharge.created || (partner.created === selfCharge.created && partner.chargeId < selfCharge.chargeId)
      ? [partner, selfCharge]
      : [selfCharge, partner];
    const payments = others.size + 1;
    const severity: Severity = payments >= 3 ? 'critical' : 'warning';
    const formatted = money(amount, currency);
    triggers.push({
      subjectType: 'customer',
      subjectId: e.customer,
      severity,
      summary: `Customer ${e.customer} was charged ${formatted} twice within ${second.created - first.created} s: ${first.chargeId} and ${second.chargeId}${payments > 2 ? ` (${payments} payments of that amount)` : ''}`,
      figures: {
        customer: e.customer,
        firstCharge: first.chargeId,
        secondCharge: second.chargeId,
        amount: formatted,
        amountMinor: amount,
        currency,
        secondsApart: second.created - first.created,
        payments,
        windowMinutes: ctx.config.windowMinutes,
      },
      eventIds: [...new Set([e.eventId, first.eventId, second.eventId, ...partners.map((p) => p.eventId)])],
      at: second.created * 1000,
    });
  }
  return triggers;
}

export const duplicateCharge: Detector<DuplicateChargeConfig> = {
  name: 'duplicate_charge',
  description: 'The same customer charged the same amount in the same currency twice within minutes, by different payments.',
  configSchema,
  defaults,
  eventTypes: ['charge.succeeded'],
  evaluateEvents,
};
