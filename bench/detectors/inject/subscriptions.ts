/**
 * Injected subscription anomalies: a cancellation wave, downgrades (price and seats), and silent
 * lapses — a subscription whose renewal never happens, and the realistic Stripe shape of a lapse:
 * the period rolls over and the renewal invoice is sent but never paid.
 */
import { cancelNow, changeItems, scheduleCancel } from '../generator/subscriptions.js';
import { subscriptionObject } from '../generator/objects.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../generator/types.js';
import type { Subscription } from '../generator/world.js';
import { activeWhere, ordinary, type InjectContext } from './context.js';

/** `count` subscriptions cancel within `minutes` (a price-increase email); a quarter immediately. */
export function cancellationSpike(ctx: InjectContext, start: number, count = 26, minutes = 50): void {
  const w = ctx.world;
  ctx.expect({
    detector: 'cancellation_spike',
    label: `${count} cancellations in ${minutes} min`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: start + minutes * MINUTE_MS + 60 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const subs = ctx.rng.shuffle(activeWhere(w, (s) => ordinary(s) && s.periodEndMs > start + 2 * DAY_MS)).slice(0, count);
    subs.forEach((sub, i) => {
      const t = start + Math.floor(ctx.rng.uniform(0, minutes * MINUTE_MS));
      w.schedule(t, () => {
        if (!ordinary(sub)) return;
        if (i % 4 === 0) cancelNow(w, sub, t, 'cancellation_requested');
        else scheduleCancel(w, sub, t);
      });
    });
  });
}

/** A subscription moves to a cheaper plan (no proration), judged from the previous items' prices. */
export function planDowngrade(ctx: InjectContext, start: number, from: string, to: string): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'plan_downgrade',
    label: `plan downgrade ${from} → ${to}`,
    subjectType: 'subscription',
    startsAt: start,
    window: { from: start, to: start + 30 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const sub = ctx.rng.pick(activeWhere(w, (s) => ordinary(s) && s.items[0]!.price.id === w.price(from, s.currency).id && s.periodEndMs > start + DAY_MS));
    inj.subjectId = sub.id;
    changeItems(w, sub, start, [{ ...sub.items[0]!, price: w.price(to, sub.currency) }], false);
  });
}

/** A per-seat subscription drops `seats` seats. */
export function seatDowngrade(ctx: InjectContext, start: number, seats = 3): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'plan_downgrade',
    label: `seat downgrade (−${seats} seats)`,
    subjectType: 'subscription',
    startsAt: start,
    window: { from: start, to: start + 30 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const sub = ctx.rng.pick(activeWhere(w, (s) => ordinary(s) && s.items[0]!.price.perSeat && s.items[0]!.quantity > seats + 1 && s.periodEndMs > start + DAY_MS));
    inj.subjectId = sub.id;
    changeItems(w, sub, start, [{ ...sub.items[0]!, quantity: sub.items[0]!.quantity - seats }], false);
  });
}

function lapseCandidate(ctx: InjectContext, from: number, to: number): Subscription {
  const w = ctx.world;
  const subs = activeWhere(w, (s) => ordinary(s) && s.periodEndMs >= from && s.periodEndMs < to && s.items[0]!.price.unitAmount > 0);
  if (subs.length === 0) throw new Error(`no subscription renewing in the window for ${w.profile.key}`);
  return ctx.rng.pick(subs);
}

/**
 * The renewal never happens: a subscription Meterwatch knows (its metadata was edited the day
 * before) reaches its period end and nothing follows — no renewal, no invoice, still `active`.
 */
export function silentLapseStale(ctx: InjectContext, setupAt: number): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'silent_lapse',
    label: 'period ended, no renewal or invoice at all, still active',
    subjectType: 'subscription',
    startsAt: setupAt,
    window: { from: setupAt, to: setupAt },
  });
  w.schedule(setupAt, () => {
    const sub = lapseCandidate(ctx, setupAt + 12 * HOUR_MS, setupAt + 2 * DAY_MS);
    inj.subjectId = sub.id;
    inj.startsAt = sub.periodEndMs;
    inj.window = { from: sub.periodEndMs + 3 * DAY_MS, to: sub.periodEndMs + 4 * DAY_MS };
    sub.hold = 'stale';
    w.emit('customer.subscription.updated', setupAt, { ...subscriptionObject(sub), metadata: { crm_account: `acct-${ctx.rng.base62(6)}` } }, { metadata: {} });
  });
}

/**
 * Stripe's shape of a silent lapse: the customer switched to pay by invoice; at the period end
 * the subscription rolls over (`customer.subscription.updated` with the new period),
 * `invoice.created` and `invoice.finalized` follow — and the invoice is never paid. Stripe turns the
 * subscription `past_due` after the 3-day due date. A detector should notice no later than the
 * period end + the grace days (+1 day).
 */
export function silentLapseUnpaidRenewal(ctx: InjectContext, setupAt: number): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'silent_lapse',
    label: 'renewal invoice finalized, never paid (period rolled over)',
    subjectType: 'subscription',
    startsAt: setupAt,
    window: { from: setupAt, to: setupAt },
  });
  w.schedule(setupAt, () => {
    const sub = lapseCandidate(ctx, setupAt + 12 * HOUR_MS, setupAt + 36 * HOUR_MS);
    inj.subjectId = sub.id;
    inj.startsAt = sub.periodEndMs;
    inj.window = { from: sub.periodEndMs + 3 * DAY_MS, to: sub.periodEndMs + 4 * DAY_MS };
    sub.hold = 'unpaid';
    sub.collectionMethod = 'send_invoice';
    w.emit('customer.subscription.updated', setupAt, subscriptionObject(sub), { collection_method: 'charge_automatically', days_until_due: null });
  });
}
