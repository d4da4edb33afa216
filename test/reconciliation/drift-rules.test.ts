import { describe, expect, it } from 'vitest';
import { formatPpm, measureDrift } from '../../src/reconciliation/drift.js';
import { microFromDecimal, microFromNumber, microToDecimal } from '../../src/reconciliation/stripe-value.js';
import { pushableSeconds, summaryWindow } from '../../src/stripe/meter-summary-window.js';
import { periodRange } from '../../src/reconciliation/period-query.js';
import { usageLines } from '../../src/reconciliation/invoice-lines.js';

const u = (units: string) => microFromDecimal(units);
const EPS = 5_000; // 0.5 %

describe('drift = |local − stripe| / max(|stripe|, 1 unit) against epsilon', () => {
  it('follows the issue’s cases exactly', () => {
    expect(measureDrift(u('100'), u('100.4'), EPS)).toEqual({ ppm: 3985, drifted: false });
    expect(measureDrift(u('101'), u('100'), EPS)).toEqual({ ppm: 10_000, drifted: true });
    expect(measureDrift(u('100'), u('101'), EPS).drifted).toBe(true);
    expect(measureDrift(u('5'), u('0'), EPS)).toEqual({ ppm: 5_000_000, drifted: true });
    expect(measureDrift(u('0'), u('0'), EPS)).toEqual({ ppm: 0, drifted: false });
  });

  it('is inclusive at epsilon and never goes through a float', () => {
    expect(measureDrift(u('100.5'), u('100'), EPS)).toEqual({ ppm: 5_000, drifted: false });
    expect(measureDrift(u('100.500001'), u('100'), EPS).drifted).toBe(true);
    // 10^12 units with a one-micro difference: a float would lose it.
    expect(measureDrift(u('1000000000000.000001'), u('1000000000000'), 0).drifted).toBe(true);
    // Below one unit, the floor of 1 unit applies: 0.001 vs 0 is 0.1 %.
    expect(measureDrift(u('0.001'), u('0'), EPS)).toEqual({ ppm: 1_000, drifted: false });
  });

  it('formats ppm as a percentage', () => {
    expect(formatPpm(5_000)).toBe('0.5%');
    expect(formatPpm(3985)).toBe('0.3985%');
    expect(formatPpm(1_000_000)).toBe('100%');
  });
});

describe('Stripe values to micro-units', () => {
  it('reads numbers through their decimal form, not by float multiplication', () => {
    expect(microFromNumber(100.4)).toBe(100_400_000n);
    expect(microFromNumber(0.1 + 0.2)).toBe(300_000n);
    expect(microFromNumber(1e-7)).toBe(0n);
    expect(microFromNumber(5e-7)).toBe(1n);
    expect(microFromNumber(1.5e21)).toBe(1_500_000_000_000_000_000_000_000_000n);
    expect(microFromNumber(-2.25)).toBe(-2_250_000n);
    expect(microFromDecimal('12.3456789')).toBe(12_345_679n);
    expect(microToDecimal(100_400_000n)).toBe('100.4');
    expect(microToDecimal(-1n)).toBe('-0.000001');
  });
});

describe('summary windows are the whole minutes inside the period', () => {
  it('keeps aligned periods as they are and shrinks unaligned ones to whole minutes', () => {
    expect(summaryWindow(Date.UTC(2026, 10, 1, 0, 0, 0), Date.UTC(2026, 11, 1))).toEqual({ startTime: Date.UTC(2026, 10, 1) / 1000, endTime: Date.UTC(2026, 11, 1) / 1000 });
    expect(summaryWindow(Date.UTC(2026, 10, 1, 12, 34, 56), Date.UTC(2026, 11, 1, 12, 34, 56))).toEqual({
      startTime: Date.UTC(2026, 10, 1, 12, 35) / 1000,
      endTime: Date.UTC(2026, 11, 1, 12, 34) / 1000,
    });
  });
  it('never lets two consecutive periods share a minute', () => {
    const boundary = Date.UTC(2026, 11, 1, 12, 34, 56);
    const before = summaryWindow(Date.UTC(2026, 10, 1, 12, 34, 56), boundary);
    const after = summaryWindow(boundary, Date.UTC(2027, 0, 1, 12, 34, 56));
    expect(before.endTime).toBeLessThanOrEqual(after.startTime);
    expect(pushableSeconds(boundary, Date.UTC(2027, 0, 1, 12, 34, 56)).first).toBe(after.startTime);
  });
});

describe('?period= of the report', () => {
  const now = Date.UTC(2026, 10, 25, 15);
  it('accepts current, YYYY-MM, an instant, or since/until', () => {
    expect(periodRange({ period: 'current' }, now)).toEqual({ from: now, to: now + 1 });
    expect(periodRange({ period: '2026-10' }, now)).toEqual({ from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) });
    expect(periodRange({ period: '2026-10-15' }, now)).toEqual({ from: Date.UTC(2026, 9, 15), to: Date.UTC(2026, 9, 15) + 1 });
    expect(periodRange({ since: '2026-10-01', until: '2026-11-01' }, now)).toEqual({ from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) });
    expect(periodRange({}, now)).toEqual({});
  });
  it('refuses nonsense with every reason', () => {
    expect(() => periodRange({ period: '2026-13' }, now)).toThrow(/month/);
    expect(() => periodRange({ period: 'last week' }, now)).toThrow(/period must be/);
    expect(() => periodRange({ period: 'current', since: '2026-10-01' }, now)).toThrow(/either period or since/);
    expect(() => periodRange({ since: '2026-11-01', until: '2026-10-01' }, now)).toThrow(/after since/);
  });
});

describe('invoice usage lines', () => {
  it('reads the current API shape and the legacy embedded price, and leaves prorations out', () => {
    const lines = usageLines({
      lines: {
        data: [
          { id: 'il_1', quantity: 1500, quantity_decimal: '1500.25', period: { start: 1_700_000_000, end: 1_702_592_000 }, pricing: { type: 'price_details', price_details: { price: 'price_m' } }, parent: { type: 'subscription_item_details', subscription_item_details: { proration: false } } },
          { id: 'il_2', quantity: 3, period: { start: 1_700_000_000, end: 1_702_592_000 }, price: { id: 'price_legacy', recurring: { usage_type: 'metered', meter: 'mtr_1' } } },
          { id: 'il_3', quantity: 1, period: { start: 1_700_000_000, end: 1_702_592_000 }, price: { id: 'price_seat', recurring: { usage_type: 'licensed' } } },
          { id: 'il_4', quantity: 2, proration: true, period: { start: 1, end: 2 }, price: { id: 'p' } },
          { id: 'il_5', period: { start: 1, end: 2 } },
        ],
      },
    });
    expect(lines).toEqual([
      { lineId: 'il_1', priceId: 'price_m', embeddedMeterId: null, metered: undefined, quantityMicro: 1_500_250_000n, periodStart: 1_700_000_000_000, periodEnd: 1_702_592_000_000 },
      { lineId: 'il_2', priceId: 'price_legacy', embeddedMeterId: 'mtr_1', metered: true, quantityMicro: 3_000_000n, periodStart: 1_700_000_000_000, periodEnd: 1_702_592_000_000 },
      { lineId: 'il_3', priceId: 'price_seat', embeddedMeterId: null, metered: false, quantityMicro: 1_000_000n, periodStart: 1_700_000_000_000, periodEnd: 1_702_592_000_000 },
    ]);
  });
});
