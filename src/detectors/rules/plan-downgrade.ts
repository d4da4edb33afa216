/**
 * plan_downgrade — a subscription now brings in less recurring revenue (or fewer seats) than before.
 *
 * Judged from one `customer.subscription.updated` at a time: its `data.previous_attributes` against
 * its `data.object`, never from plan, price or product names. Stripe puts in `previous_attributes`
 * only what changed, and an array that changed in full: a changed `items` arrives as
 * `{ items: { data: [ …every previous subscription item… ] } }`; older API versions also carry the
 * top-level `plan` (only the changed keys of the object) and `quantity`.
 *
 * For each side the recurring amount is Σ item unit amount × quantity (`price.unit_amount`, or
 * `unit_amount_decimal`, or the legacy `plan.amount`), and the quantity is Σ item quantities.
 * Metered items carry no fixed recurring amount or seat count and are left out. When both sides bill
 * on the same interval the per-period amounts are compared; when the interval changes (monthly →
 * yearly) the amounts are compared per year, exactly (rationals with BigInt, no floats).
 *
 * Fires (subject: the subscription) when:
 * - the recurring amount decreased by at least `minDecreasePercent` % (0 = any decrease), or
 * - the amount is unchanged (or cannot be known, e.g. tiered prices) and the total quantity decreased.
 * Never fires when: the amount went up (an upgrade, even with fewer seats of a dearer plan); only names,
 * ids, metadata or periods changed (a renewal or a rename: same amounts and quantities); the currency
 * differs between the two sides (not comparable, skipped); `previous_attributes` has no items/plan/
 * quantity (nothing about the price changed).
 *
 * Severity: `info`; `warning` when the amount fell by at least `warningDecreasePercent` % (default 50)
 * or to zero. Each update is judged on its own, so arrival order does not matter; several downgrades
 * of one subscription merge into its incident. A per-object finding: no `stillFiring`.
 */
import { Type } from '@sinclair/typebox';
import type { Detector, DetectorEvent, Severity, Trigger } from '../detector.js';

export interface PlanDowngradeConfig extends Record<string, unknown> {
  minDecreasePercent: number;
  warningDecreasePercent: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

/** Exact rational a/b (b > 0). */
interface Rational {
  n: bigint;
  d: bigint;
}
const ZERO: Rational = { n: 0n, d: 1n };
const add = (a: Rational, b: Rational): Rational => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
const cmp = (a: Rational, b: Rational): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};

/** A decimal string of minor units ("1234", "12.5") as an exact rational. */
function decimal(s: string): Rational | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  return { n: BigInt(m[1]! + frac), d: 10n ** BigInt(frac.length) };
}

const PER_YEAR: Record<string, bigint> = { day: 365n, week: 52n, month: 12n, year: 1n };

interface Side {
  currency: string | null;
  /** Σ unit × quantity per billing period; null when some item's amount is unknown. */
  perPeriod: Rational | null;
  /** Σ unit × quantity × periods per year; null when unknown. */
  perYear: Rational | null;
  /** "month", "3 month"… when every item shares it; null when mixed or unknown. */
  interval: string | null;
  quantity: number;
  currencies: Set<string>;
}

interface ItemView {
  price: Json | undefined;
  plan: Json | undefined;
  quantity: unknown;
}

function unitOf(item: ItemView): Rational | null {
  const p = item.price;
  if (p) {
    const u = int(p.unit_amount);
    if (u !== null) return { n: BigInt(u), d: 1n };
    const ud = str(p.unit_amount_decimal);
    if (ud) return decimal(ud);
    if (p.billing_scheme === 'tiered' || p.unit_amount === null) return null;
  }
  const pl = item.plan;
  if (pl) {
    const a = int(pl.amount);
    if (a !== null) return { n: BigInt(a), d: 1n };
    const ad = str(pl.amount_decimal);
    if (ad) return decimal(ad);
  }
  return null;
}

function recurringOf(item: ItemView): Json | undefined {
  if (item.price && isObject(item.price.recurring)) return item.price.recurring;
  if (item.plan) return item.plan; // plan.interval / interval_count / usage_type
  return undefined;
}

function sideOf(items: ItemView[], fallbackCurrency: string | null): Side {
  let perPeriod: Rational | null = ZERO;
  let perYear: Rational | null = ZERO;
  let quantity = 0;
  const intervals = new Set<string>();
  const currencies = new Set<string>();
  for (const item of items) {
    const rec = recurringOf(item);
    if (rec && rec.usage_type === 'metered') continue;
    const cur = str(item.price?.currency) ?? str(item.plan?.currency);
    if (cur) currencies.add(cur.toLowerCase());
    const q = int(item.quantity) ?? 1;
    quantity += q;
    const interval = rec ? str(rec.interval) : null;
    const count = rec ? (int(rec.interval_count) ?? 1) : 1;
    intervals.add(interval ? `${count} ${interval}` : '?');
    const unit = unitOf(item);
    if (unit === null || perPeriod === null) perPeriod = null;
    else perPeriod = add(perPeriod, { n: unit.n * BigInt(q), d: unit.d });
    const factor = interval ? PER_YEAR[interval] : undefined;
    if (unit === null || perYear === null || factor === undefined || count <= 0) perYear = null;
    else perYear = add(perYear, { n: unit.n * BigInt(q) * factor, d: unit.d * BigInt(count) });
  }
  const only = intervals.size === 1 ? [...intervals][0]! : null;
  return {
    currency: currencies.size === 1 ? [...currencies][0]! : currencies.size === 0 ? fallbackCurrency : null,
    perPeriod,
    perYear,
    interval: only && only !== '?' ? only.replace(/^1 /, '') : null,
    quantity,
    currencies,
  };
}

const itemView = (raw: unknown): ItemView | undefined =>
  isObject(raw)
    ? { price: isObject(raw.price) ? raw.price : undefined, plan: isObject(raw.plan) ? raw.plan : undefined, quantity: raw.quantity }
    : undefined;

function itemsOf(listish: unknown): ItemView[] | null {
  if (!isObject(listish) || !Array.isArray(listish.data)) return null;
  const out: ItemView[] = [];
  for (const raw of listish.data) {
    const v = itemView(raw);
    if (v) out.push(v);
  }
  return out;
}

/** The new and previous item lists, or undefined when the update did not touch prices or quantities. */
function sides(sub: Json, prev: Json): { before: ItemView[]; after: ItemView[] } | undefined {
  const newItems = itemsOf(sub.items);
  const topPlan = isObject(sub.plan) ? sub.plan : undefined;
  const after: ItemView[] | null = newItems ?? (topPlan ? [{ price: undefined, plan: topPlan, quantity: sub.quantity }] : null);
  if (!after) return undefined;
  if ('items' in prev) {
    const before = itemsOf(prev.items);
    return before ? { before, after } : undefined;
  }
  if ('plan' in prev || 'quantity' in prev) {
    // Legacy single-plan subscription: previous_attributes holds only the changed keys of `plan`.
    if (after.length !== 1) return undefined;
    const cur = after[0]!;
    const oldQuantity = 'quantity' in prev ? prev.quantity : cur.quantity;
    if (isObject(prev.plan)) {
      const oldPlan = { ...(cur.plan ?? {}), ...prev.plan };
      // The old side is known by its plan only, so the new side is judged by its plan as well.
      return { before: [{ price: undefined, plan: oldPlan, quantity: oldQuantity }], after: [{ ...cur, price: cur.plan ? undefined : cur.price }] };
    }
    return { before: [{ ...cur, quantity: oldQuantity }], after };
  }
  return undefined;
}

const fmtPct = (r: number): string => (Math.round(r * 100) / 100).toFixed(2);

/** Rational minor units → "12.34 USD" (rounded down to the minor unit; display only). */
function formatAmount(r: Rational, currency: string): string {
  return formatMoney(Number(r.n / r.d), currency);
}

function judge(config: PlanDowngradeConfig, e: DetectorEvent): Trigger | undefined {
  const sub = e.object;
  const prev = e.previousAttributes;
  if (sub.object !== 'subscription' || !prev) return undefined;
  const subscriptionId = str(sub.id);
  if (!subscriptionId) return undefined;
  const pair = sides(sub, prev);
  if (!pair) return undefined;
  const subCurrency = str(sub.currency)?.toLowerCase() ?? null;
  const before = sideOf(pair.before, subCurrency);
  const after = sideOf(pair.after, subCurrency);
  if (!before.currency || !after.currency || before.currency !== after.currency) return undefined; // not comparable
  const currency = after.currency;

  const sameInterval = before.interval !== null && before.interval === after.interval;
  const oldAmt = sameInterval ? before.perPeriod : before.perYear;
  const newAmt = sameInterval ? after.perPeriod : after.perYear;
  const unit = sameInterval ? `/${before.interval}` : '/year';

  let decreasePercent: number | null = null;
  let reason: 'amount' | 'quantity';
  if (oldAmt && newAmt) {
    const c = cmp(newAmt, oldAmt);
    if (c > 0) return undefined; // an upgrade never fires
    if (c < 0) {
      // percent = (old − new) / old × 100, from the exact rationals
      const diff = add(oldAmt, { n: -newAmt.n, d: newAmt.d });
      decreasePercent = oldAmt.n === 0n ? 100 : Number((diff.n * oldAmt.d * 1_000_000n) / (diff.d * oldAmt.n)) / 10_000;
      // decrease ≥ min %  ⇔  (old − new) × 100 ≥ min × old, compared exactly
      const minScaled = BigInt(Math.round(config.minDecreasePercent * 10_000));
      if (diff.n * 100n * 10_000n * oldAmt.d < minScaled * oldAmt.n * diff.d) return undefined;
      reason = 'amount';
    } else {
      if (after.quantity >= before.quantity) return undefined;
      reason = 'quantity';
    }
  } else {
    if (after.quantity >= before.quantity) return undefined;
    reason = 'quantity';
  }

  const toZero = newAmt !== null && newAmt.n === 0n;
  const severity: Severity =
    reason === 'amount' && (toZero || (decreasePercent !== null && decreasePercent >= config.warningDecreasePercent)) ? 'warning' : 'info';
  const figures: Record<string, string | number> = {
    currency,
    reason,
    previousQuantity: before.quantity,
    newQuantity: after.quantity,
    comparedPer: unit.slice(1),
  };
  if (oldAmt) figures.previousRecurringAmount = formatAmount(oldAmt, currency);
  if (newAmt) figures.newRecurringAmount = formatAmount(newAmt, currency);
  if (decreasePercent !== null) figures.decreasePercent = fmtPct(decreasePercent);
  const customer = str(sub.customer) ?? (isObject(sub.customer) ? str(sub.customer.id) : null);
  if (customer) figures.customer = customer;

  const summary =
    reason === 'amount' && oldAmt && newAmt
      ? `Subscription ${subscriptionId} downgraded from ${formatAmount(oldAmt, currency)}${unit} to ${formatAmount(newAmt, currency)}${unit} (−${fmtPct(decreasePercent ?? 0)}%)`
      : `Subscription ${subscriptionId} quantity decreased from ${before.quantity} to ${after.quantity}`;
  return { subjectType: 'subscription', subjectId: subscriptionId, severity, summary, figures, eventIds: [e.eventId], at: e.created * 1000 };
}

export const planDowngrade: Detector<PlanDowngradeConfig> = {
  name: 'plan_downgrade',
  description: "A subscription's recurring amount or quantity decreased, judged from previous_attributes prices and quantities, never from names.",
  configSchema: Type.Object(
    {
      minDecreasePercent: Type.Number({ minimum: 0, maximum: 100 }),
      warningDecreasePercent: Type.Number({ minimum: 0, maximum: 100 }),
    },
    { additionalProperties: false },
  ),
  defaults: { minDecreasePercent: 0, warningDecreasePercent: 50 },
  eventTypes: ['customer.subscription.updated'],

  async evaluateEvents(ctx, events) {
    const triggers: Trigger[] = [];
    for (const e of [...events].sort((a, b) => a.created - b.created || a.seq - b.seq)) {
      const t = judge(ctx.config, e);
      if (t) triggers.push(t);
    }
    return triggers;
  },
};

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Integer minor units → "12.34 USD" without floating point. */
function formatMoney(minor: number, currency: string): string {
  const c = currency.toLowerCase();
  const digits = ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (digits === 0) return `${sign}${abs} ${c.toUpperCase()}`;
  const s = String(abs).padStart(digits + 1, '0');
  return `${sign}${s.slice(0, -digits)}.${s.slice(-digits)} ${c.toUpperCase()}`;
}
