import type { MappingAggregation } from '../store/sync-store.js';
import { pushableSeconds } from '../stripe/meter-summary-window.js';

const MICRO = 1_000_000n;
const DAY_S = 86_400;
/** Stripe takes event timestamps from the past 35 days up to 5 minutes ahead; we stay inside with margins. */
export const STRIPE_MAX_AGE_S = 35 * DAY_S;
const AGE_MARGIN_S = 600;
const FUTURE_ALLOWANCE_S = 240;
/** Stripe cancels events only within 24 h of receiving them; an hour of margin for clocks and queues. */
export const CANCEL_WINDOW_MS = 23 * 3_600_000;

/** An accepted, uncancelled event of this state that Stripe still lets us cancel, newest first. */
export interface CancellableEvent {
  identifier: string;
  valueMicro: bigint;
}

export interface PlanInput {
  aggregation: MappingAggregation;
  /** The local counter's value (sum, max or last), full precision; null without a counter. */
  counterMicro: bigint | null;
  acceptedMicro: bigint | null;
  cancellable: CancellableEvent[];
  periodStart: number;
  periodEnd: number;
  now: number;
}

export type Plan =
  | { kind: 'done' }
  | { kind: 'too_old'; reason: string }
  | { kind: 'not_yet'; at: number }
  | { kind: 'event'; valueMicro: bigint; totalMicro: bigint; ts: number }
  | { kind: 'cancel'; identifier: string; valueMicro: bigint; totalMicro: bigint };

/** Stripe meter values are whole numbers: the pushable part of a quantity, truncated toward zero. */
export function wholeUnits(micro: bigint): bigint {
  return (micro / MICRO) * MICRO;
}

/** The target Stripe should hold: null when nothing is to be sent (a max/last counter never pushed and still empty). */
export function pushTarget(aggregation: MappingAggregation, counterMicro: bigint | null, acceptedMicro: bigint | null): bigint | null {
  if (aggregation === 'sum') return wholeUnits(counterMicro ?? 0n);
  if (counterMicro === null) return acceptedMicro === null ? null : 0n;
  return wholeUnits(counterMicro);
}

/**
 * The next step that brings Stripe to the local value, one operation at a time:
 * - sum, up: one event with the difference.
 * - sum, down: cancel the newest accepted event still inside Stripe's 24 h cancel window (the
 *   difference, if any, is pushed by the next step); with nothing cancellable, one negative event,
 *   Stripe's documented correction for older usage.
 * - max/last: one event with the current value, whichever the direction.
 * Event timestamps fall inside the period's whole minutes (meter-summary-window.ts): now, or the last
 * second of its last whole minute once it has ended.
 */
export function planNextOp(input: PlanInput): Plan {
  const target = pushTarget(input.aggregation, input.counterMicro, input.acceptedMicro);
  const accepted = input.aggregation === 'sum' ? (input.acceptedMicro ?? 0n) : input.acceptedMicro;
  if (target === null || target === accepted) return { kind: 'done' };

  if (input.aggregation === 'sum' && accepted !== null && target < accepted) {
    const newest = input.cancellable.find((e) => e.valueMicro > 0n);
    if (newest) return { kind: 'cancel', identifier: newest.identifier, valueMicro: newest.valueMicro, totalMicro: accepted - newest.valueMicro };
  }

  const nowS = Math.floor(input.now / 1000);
  // Inside the period's whole minutes: Stripe summarises by minute, and reconciliation asks for exactly these.
  const { first, last } = pushableSeconds(input.periodStart, input.periodEnd);
  const ts = Math.min(Math.max(nowS, first), last);
  if (ts > nowS + FUTURE_ALLOWANCE_S) return { kind: 'not_yet', at: (first - FUTURE_ALLOWANCE_S) * 1000 };
  if (ts < nowS - STRIPE_MAX_AGE_S + AGE_MARGIN_S) {
    return {
      kind: 'too_old',
      reason: `the period ended ${new Date(input.periodEnd).toISOString()}: Stripe accepts meter events only from the past 35 days, so this change cannot be pushed; correct the invoice in Stripe instead`,
    };
  }
  const value = input.aggregation === 'sum' ? target - (accepted ?? 0n) : target;
  return { kind: 'event', valueMicro: value, totalMicro: target, ts };
}
