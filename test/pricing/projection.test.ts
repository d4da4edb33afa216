import { describe, expect, it } from 'vitest';
import { projectInvoice, projectQuantity, PricingError, type SimulationInput } from '../../src/pricing/index.js';
import { GRADUATED_USD } from '../support/price-fixtures.js';

const period = { periodStart: '2024-04-01', periodEnd: '2024-05-01' }; // 30 days

describe('projectQuantity', () => {
  it('extrapolates the usage rate linearly to the period end', () => {
    // 100 units in 10 of 30 days → 300
    expect(projectQuantity({ quantity: 100, ...period, asOf: '2024-04-11T00:00:00Z' }).toString()).toBe('300');
    // 100 units in 3 of 7 days → 233.333333(3) → 233.333333
    expect(projectQuantity({ quantity: '100', periodStart: '2024-01-01', periodEnd: '2024-01-08', asOf: '2024-01-04' }).toString()).toBe(
      '233.333333',
    );
    // Rounding is half-up at 6 decimals: 1 unit in 3 of 5 days → 1.666666(6) → 1.666667
    expect(projectQuantity({ quantity: 1, periodStart: '2024-01-01', periodEnd: '2024-01-06', asOf: '2024-01-04' }).toString()).toBe('1.666667');
  });

  it('returns the usage as is before the period starts and once it has ended', () => {
    expect(projectQuantity({ quantity: '42.5', ...period, asOf: '2024-04-01' }).toString()).toBe('42.5');
    expect(projectQuantity({ quantity: '42.5', ...period, asOf: '2024-03-01' }).toString()).toBe('42.5');
    expect(projectQuantity({ quantity: '42.5', ...period, asOf: '2024-05-01' }).toString()).toBe('42.5');
  });

  it('validates its input', () => {
    expect(() => projectQuantity({ quantity: -1, ...period, asOf: '2024-04-11' })).toThrow(PricingError);
    expect(() => projectQuantity({ quantity: 1, ...period, asOf: 'yesterday' })).toThrow(/asOf/);
  });
});

describe('projectInvoice', () => {
  it('simulates the invoice to date and at the projected end-of-period usage', () => {
    const input: SimulationInput = {
      customerId: 'cus_1',
      ...period,
      usageItems: [
        {
          metric: 'api_calls',
          quantity: 500,
          priceConfig: GRADUATED_USD,
        },
      ],
    };
    const projection = projectInvoice(input, '2024-04-11T00:00:00Z');
    // to date: 100 × 1.00 + 400 × 0.80 = 420.00; projected 1,500 units → 1,120.00
    expect(projection.toDate.totals[0]?.total.formatted).toBe('420.00 USD');
    expect(projection.projected.lines[0]?.quantity).toBe('1500');
    expect(projection.projected.totals[0]?.total.formatted).toBe('1,120.00 USD');
  });
});
