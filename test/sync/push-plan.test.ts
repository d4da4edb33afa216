import { describe, expect, it } from 'vitest';
import { CANCEL_WINDOW_MS, planNextOp, pushTarget, wholeUnits, type PlanInput } from '../../src/sync/push-plan.js';
import { pushIdentifier } from '../../src/sync/push-identifier.js';
import { incompatibility, type MeterInfo } from '../../src/sync/meter-compatibility.js';
import { AccountBackoff, itemBackoffMs } from '../../src/sync/account-backoff.js';

/** The pure rules of the push (no store): planning, identifiers, meter compatibility, backoff. */
const M = 1_000_000n;
const NOV = { periodStart: Date.UTC(2026, 10, 1), periodEnd: Date.UTC(2026, 11, 1) };
const NOW = Date.UTC(2026, 10, 20, 12);
const base: PlanInput = { aggregation: 'sum', counterMicro: null, acceptedMicro: null, cancellable: [], ...NOV, now: NOW };

describe('push plan', () => {
  it('sum: whole units only, the difference only, nothing when equal', () => {
    expect(wholeUnits(7_500_000n)).toBe(7n * M);
    expect(wholeUnits(-2_500_000n)).toBe(-2n * M);
    expect(planNextOp({ ...base, counterMicro: 7_500_000n })).toEqual({ kind: 'event', valueMicro: 7n * M, totalMicro: 7n * M, ts: NOW / 1000 });
    expect(planNextOp({ ...base, counterMicro: 7_900_000n, acceptedMicro: 7n * M })).toEqual({ kind: 'done' });
    expect(planNextOp({ ...base, counterMicro: 12n * M, acceptedMicro: 7n * M })).toMatchObject({ kind: 'event', valueMicro: 5n * M, totalMicro: 12n * M });
    expect(planNextOp({ ...base, counterMicro: null, acceptedMicro: null })).toEqual({ kind: 'done' });
  });

  it('sum down: cancel the newest positive event first, else a negative event', () => {
    const cancellable = [
      { identifier: 'neg', valueMicro: -1n * M },
      { identifier: 'b', valueMicro: 5n * M },
      { identifier: 'a', valueMicro: 10n * M },
    ];
    expect(planNextOp({ ...base, counterMicro: 12n * M, acceptedMicro: 15n * M, cancellable })).toEqual({ kind: 'cancel', identifier: 'b', valueMicro: 5n * M, totalMicro: 10n * M });
    expect(planNextOp({ ...base, counterMicro: 12n * M, acceptedMicro: 15n * M })).toMatchObject({ kind: 'event', valueMicro: -3n * M, totalMicro: 12n * M });
  });

  it('max/last: the current value, up or down; an emptied counter sends 0 once', () => {
    expect(planNextOp({ ...base, aggregation: 'max', counterMicro: 9n * M, acceptedMicro: 12n * M })).toMatchObject({ kind: 'event', valueMicro: 9n * M, totalMicro: 9n * M });
    expect(planNextOp({ ...base, aggregation: 'last', counterMicro: null, acceptedMicro: 4n * M })).toMatchObject({ kind: 'event', valueMicro: 0n, totalMicro: 0n });
    expect(planNextOp({ ...base, aggregation: 'last', counterMicro: null, acceptedMicro: null })).toEqual({ kind: 'done' });
    expect(pushTarget('last', null, null)).toBeNull();
  });

  it('timestamps: inside the period, never too far ahead, never beyond 35 days', () => {
    const october = { periodStart: Date.UTC(2026, 9, 1), periodEnd: Date.UTC(2026, 10, 1) };
    expect(planNextOp({ ...base, ...october, counterMicro: M })).toMatchObject({ kind: 'event', ts: Date.UTC(2026, 10, 1) / 1000 - 1 });
    const september = { periodStart: Date.UTC(2026, 8, 1), periodEnd: Date.UTC(2026, 9, 1) };
    expect(planNextOp({ ...base, ...september, counterMicro: M })).toMatchObject({ kind: 'too_old', reason: expect.stringMatching(/35 days/) });
    // A decrease of a too-old period can still cancel an event sent within 24 h.
    expect(planNextOp({ ...base, ...september, counterMicro: 0n, acceptedMicro: M, cancellable: [{ identifier: 'x', valueMicro: M }] })).toMatchObject({ kind: 'cancel' });
    const december = { periodStart: Date.UTC(2026, 11, 1), periodEnd: Date.UTC(2027, 0, 1) };
    expect(planNextOp({ ...base, ...december, counterMicro: M })).toEqual({ kind: 'not_yet', at: Date.UTC(2026, 11, 1) - 240_000 });
    expect(CANCEL_WINDOW_MS).toBeLessThan(24 * 3_600_000);
  });

  it('identifiers: deterministic, ≤ 100 characters, different per step, mode, customer and total', () => {
    const key = { tenantId: 't', mappingId: 'm', mode: 'live' as const, eventName: 'api_calls', customerRef: 'c', periodStart: NOV.periodStart, stripeCustomerId: 'cus_1' };
    const id = pushIdentifier(key, 3, 7n * M);
    expect(id).toBe(pushIdentifier({ ...key }, 3, 7n * M));
    expect(id.length).toBeLessThanOrEqual(100);
    const others = [pushIdentifier(key, 4, 7n * M), pushIdentifier(key, 3, 8n * M), pushIdentifier({ ...key, mode: 'shadow' }, 3, 7n * M), pushIdentifier({ ...key, customerRef: 'd' }, 3, 7n * M)];
    expect(new Set([id, ...others]).size).toBe(5);
  });
});

describe('meter compatibility', () => {
  const meter = (formula: string, extra: Partial<MeterInfo> = {}): MeterInfo => ({ id: 'mtr_1', eventName: 'e', formula, status: 'active', customerKey: 'stripe_customer_id', valueKey: 'value', eventTimeWindow: null, ...extra });
  it('sum only to sum; max and last only to last; never count, inactive or pre-aggregated', () => {
    expect(incompatibility('sum', meter('sum'))).toBeUndefined();
    expect(incompatibility('max', meter('last'))).toBeUndefined();
    expect(incompatibility('last', meter('last'))).toBeUndefined();
    expect(incompatibility('sum', meter('last'))).toMatch(/deltas/);
    expect(incompatibility('max', meter('sum'))).toMatch(/add every pushed value up/);
    expect(incompatibility('last', meter('count'))).toMatch(/counts events/);
    expect(incompatibility('sum', meter('sum', { status: 'inactive' }))).toMatch(/inactive/);
    expect(incompatibility('sum', meter('sum', { eventTimeWindow: 'day' }))).toMatch(/pre-aggregated per day/);
  });
});

describe('backoff', () => {
  it('429 pauses the account for Retry-After; server errors pause it after three in a row; accounts are separate', () => {
    const backoff = new AccountBackoff();
    expect(backoff.failed('a', { kind: 'rate_limited', message: '', uncertain: false, retryAfterMs: 5_000 }, 0)).toBe(5_000);
    expect(backoff.blockedUntil('a', 1_000)).toBe(5_000);
    expect(backoff.blockedUntil('b', 1_000)).toBeUndefined();
    const e500 = { kind: 'retryable' as const, message: '', uncertain: true };
    expect(backoff.failed('b', e500, 0)).toBeUndefined();
    expect(backoff.failed('b', e500, 0)).toBeUndefined();
    expect(backoff.failed('b', e500, 0)).toBe(1_000);
    backoff.succeeded('b');
    expect(backoff.failed('b', e500, 10_000)).toBeUndefined();
    expect([1, 2, 3, 20].map(itemBackoffMs)).toEqual([1_000, 2_000, 4_000, 15 * 60_000]);
  });
});
