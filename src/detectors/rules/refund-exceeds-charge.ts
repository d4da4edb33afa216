/**
 * refund_exceeds_charge — the refunds recorded against one charge add up to more than the charge.
 *
 * Fires (subject: the charge) when Σ amount of the charge's refund objects, in the charge's
 * currency, is greater than the charge's `amount`:
 * - Refunds come from `ctx.data.refundsForCharge(chargeId)`: one fact per refund id (from
 *   `refund.created` / `refund.updated` / `refund.failed` / `charge.refund.updated` and from the refunds
 *   listed inside `charge.refunded` charge objects), so a refund seen in several events, or a
 *   redelivered event, counts once. The cumulative `charge.amount_refunded` is NEVER summed: it is a
 *   running total, and adding it per event is the known fault of the brief's tool.
 * - `failed` and `canceled` refunds never count; `pending` / `requires_action` refunds count unless
 *   `countPending` is false (money is already committed to leave).
 * - The charge amount comes from the charge's own stored events (`charge.*` with the charge's id).
 *   When no charge event is stored yet, nothing fires: the refund may simply have arrived before its
 *   charge, so the detector also reacts to charge events and decides once both are known.
 * - Only refunds in the charge's currency are summed; amounts in different currencies are never
 *   added or compared.
 * - Two partial refunds of 400 on a 1,000 charge do not fire (800 ≤ 1,000); exactly the charge amount
 *   does not fire; 600 + 500 on 1,000 fires.
 *
 * Severity: `warning`; `critical` when the refunds reach `criticalRatio` × the charge amount
 * (default 2×). The trigger's time is the `created` of the refund that pushed the total over.
 * A per-object finding: no `stillFiring`, a human resolves it.
 */
import { Type } from '@sinclair/typebox';
import type { Detector, DetectorContext, DetectorEvent, RefundFact, Severity, Trigger } from '../detector.js';
import { compareText } from '../../shared/compare-text.js';

export interface RefundExceedsChargeConfig extends Record<string, unknown> {
  /** Count refunds still `pending` / `requires_action` (failed and canceled never count). */
  countPending: boolean;
  /** Refund total ≥ this multiple of the charge escalates to critical. */
  criticalRatio: number;
}

const REFUND_EVENT_TYPES = ['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated', 'charge.refunded'] as const;
const CHARGE_EVENT_TYPES = ['charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded'] as const;
const NEVER_COUNTED = new Set(['failed', 'canceled']);
const PENDING = new Set(['pending', 'requires_action']);
const EVIDENCE_LIMIT = 100;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const idOf = (v: unknown): string | null => (isObject(v) ? str(v.id) : str(v));
/** Stripe timestamps are seconds; tolerate facts stored in milliseconds. */
const toMs = (t: number): number => (t < 100_000_000_000 ? t * 1000 : t);

/** The charge(s) an event is about: a refund's `charge`, or the charge object itself. */
function chargeIdsOf(event: DetectorEvent): string[] {
  const o = event.object;
  if (o.object === 'charge') return str(o.id) ? [o.id as string] : [];
  if (o.object === 'refund') {
    const c = idOf(o.charge);
    return c ? [c] : [];
  }
  return [];
}

interface ChargeInfo {
  amount: number;
  currency: string;
  eventIds: string[];
}

async function chargeInfo(ctx: DetectorContext<RefundExceedsChargeConfig>, chargeId: string): Promise<ChargeInfo | undefined> {
  const events = await ctx.data.events({ objectId: chargeId, limit: 50 });
  const charges = events
    .filter((e) => e.object.object === 'charge' && str(e.object.id) === chargeId)
    .sort((a, b) => b.created - a.created || b.seq - a.seq);
  for (const e of charges) {
    const amount = int(e.object.amount);
    const currency = str(e.object.currency)?.toLowerCase();
    if (amount !== null && amount > 0 && currency) return { amount, currency, eventIds: charges.map((c) => c.eventId) };
  }
  return undefined;
}

export const refundExceedsCharge: Detector<RefundExceedsChargeConfig> = {
  name: 'refund_exceeds_charge',
  description: 'Refunds on a charge total more than the charge (summed per refund object, never from amount_refunded).',
  configSchema: Type.Object(
    {
      countPending: Type.Boolean(),
      criticalRatio: Type.Number({ minimum: 1, maximum: 100 }),
    },
    { additionalProperties: false },
  ),
  defaults: { countPending: true, criticalRatio: 2 },
  eventTypes: [...new Set<string>([...REFUND_EVENT_TYPES, ...CHARGE_EVENT_TYPES])],

  async evaluateEvents(ctx, events) {
    const byCharge = new Map<string, DetectorEvent[]>();
    for (const e of events) {
      for (const c of chargeIdsOf(e)) {
        const list = byCharge.get(c);
        if (list) list.push(e);
        else byCharge.set(c, [e]);
      }
    }
    const triggers: Trigger[] = [];
    const chargeIds = [...byCharge.keys()].sort();
    // One read of the refunds of every charge in the batch: most charges have none, and stop there.
    const refunds = await ctx.data.refundsForCharges(chargeIds);
    for (const chargeId of chargeIds) {
      const t = await evaluateCharge(ctx, chargeId, byCharge.get(chargeId)!, refunds.get(chargeId) ?? []);
      if (t) triggers.push(t);
    }
    return triggers;
  },
};

/** Refund ids an event carries: the refund itself, or the refunds listed in a charge object. */
function refundIdsOf(e: DetectorEvent): string[] {
  const o = e.object;
  if (o.object === 'refund') return str(o.id) ? [o.id as string] : [];
  if (o.object === 'charge' && isObject(o.refunds) && Array.isArray(o.refunds.data)) {
    return o.refunds.data.map((r) => (isObject(r) ? str(r.id) : null)).filter((x): x is string => x !== null);
  }
  return [];
}

/**
 * Decides for one charge. It only speaks when this batch carries a deciding event — a refund at or
 * after the one that crossed the charge amount, or the first events of a charge whose refunds were
 * already known — so an unrelated later event on the charge (a metadata `charge.updated`) never
 * re-opens a finding a human already resolved.
 */
async function evaluateCharge(ctx: DetectorContext<RefundExceedsChargeConfig>, chargeId: string, batch: DetectorEvent[], refunds: RefundFact[]): Promise<Trigger | undefined> {
  if (refunds.length === 0) return undefined;
  const charge = await chargeInfo(ctx, chargeId);
  if (!charge) return undefined; // unknown charge: decide when its event arrives

  const counted: RefundFact[] = [];
  let otherCurrency = 0;
  for (const r of refunds) {
    const status = r.status.toLowerCase();
    if (NEVER_COUNTED.has(status)) continue;
    if (!ctx.config.countPending && PENDING.has(status)) continue;
    if (r.currency.toLowerCase() !== charge.currency) {
      otherCurrency += 1;
      continue;
    }
    if (!Number.isSafeInteger(r.amount) || r.amount <= 0) continue;
    counted.push(r);
  }
  counted.sort((a, b) => a.created - b.created || compareText(a.refundId, b.refundId));

  let total = 0;
  let crossingIndex = -1;
  counted.forEach((r, i) => {
    total += r.amount;
    if (crossingIndex === -1 && total > charge.amount) crossingIndex = i;
  });
  const crossing = counted[crossingIndex];
  if (!crossing) return undefined;

  const batchIds = new Set(batch.map((e) => e.eventId));
  const deciding = new Set(counted.slice(crossingIndex).map((r) => r.refundId));
  const refundInBatch = batch.some((e) => refundIdsOf(e).some((id) => deciding.has(id)));
  const chargeNewlyKnown = charge.eventIds.every((id) => batchIds.has(id));
  if (!refundInBatch && !chargeNewlyKnown) return undefined;

  const severity: Severity = total >= ctx.config.criticalRatio * charge.amount ? 'critical' : 'warning';
  const refundEvents = await ctx.data.events({ refId: chargeId, types: [...REFUND_EVENT_TYPES], limit: EVIDENCE_LIMIT });
  const eventIds = [...new Set([...batchIds, ...charge.eventIds, ...refundEvents.map((e) => e.eventId)])].slice(0, EVIDENCE_LIMIT);
  const cur = charge.currency;
  return {
    subjectType: 'charge',
    subjectId: chargeId,
    severity,
    summary: `Refunds on charge ${chargeId} total ${formatMoney(total, cur)}, more than the charge's ${formatMoney(charge.amount, cur)} (${counted.length} refunds)`,
    figures: {
      currency: cur,
      chargeAmount: charge.amount,
      refundedTotal: total,
      excess: total - charge.amount,
      refundCount: counted.length,
      ignoredOtherCurrencyRefunds: otherCurrency,
      criticalRatio: ctx.config.criticalRatio,
    },
    eventIds,
    at: toMs(crossing.created),
  };
}

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
