import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { InvoiceSimulator, SimulationInputSchema, SimulationResultSchema, type SimulationInput } from '../../src/pricing/index.js';
import { BRIEF_TIERED_PRICE, GRADUATED_USD } from '../support/price-fixtures.js';
import { pricingErrorOf } from '../support/pricing-error-of.js';

const simulator = new InvoiceSimulator();

function input(overrides: Partial<SimulationInput> = {}): SimulationInput {
  return {
    customerId: 'cus_123',
    periodStart: '2024-01-01',
    periodEnd: '2024-02-01',
    usageItems: [{ metric: 'api_calls', quantity: 1500, priceConfig: GRADUATED_USD }],
    ...overrides,
  };
}

describe('InvoiceSimulator', () => {
  it("runs the brief's example unchanged → 220.00 USD", () => {
    const result = simulator.simulate({
      customerId: 'test',
      periodStart: '2024-01-01',
      periodEnd: '2024-02-01',
      usageItems: [
        {
          metric: 'api_calls',
          quantity: 25000,
          priceConfig: BRIEF_TIERED_PRICE,
        },
      ],
    });
    expect(result.totals).toHaveLength(1);
    expect(result.totals[0]?.total).toEqual({ minor: 22000, formatted: '220.00 USD' });
    // 10,000 × 0.01 = 100.00 and 15,000 × 0.008 = 120.00
    expect(result.lines[0]?.tiers).toEqual([
      {
        tier: 1,
        from: '0',
        upTo: '10000',
        quantity: '10000',
        unitPrice: '0.01',
        amount: { minor: 10000, formatted: '100.00 USD' },
        flatFee: { minor: 0, formatted: '0.00 USD' },
        total: { minor: 10000, formatted: '100.00 USD' },
      },
      {
        tier: 2,
        from: '10000',
        upTo: '50000',
        quantity: '15000',
        unitPrice: '0.008',
        amount: { minor: 12000, formatted: '120.00 USD' },
        flatFee: { minor: 0, formatted: '0.00 USD' },
        total: { minor: 12000, formatted: '120.00 USD' },
      },
    ]);
  });

  it('returns a line with breakdown, fees and the canonical config', () => {
    const result = simulator.simulate(
      input({
        usageItems: [
          {
            metric: 'api_calls',
            description: 'API calls',
            quantity: '1500',
            priceConfig: {
              model: 'graduated',
              currency: 'usd',
              flatFee: '25',
              tiers: [
                { upTo: 100, unitPrice: '1.00', flatFee: '10' },
                { upTo: 1000, unitPrice: '0.80', flatFee: '50' },
                { upTo: null, unitPrice: '0.60', flatFee: '100' },
              ],
            },
          },
        ],
      }),
    );
    const line = result.lines[0];
    expect(line).toMatchObject({
      metric: 'api_calls',
      description: 'API calls',
      currency: 'usd',
      model: 'graduated',
      quantity: '1500',
      billableQuantity: '1500',
      usage: { minor: 112000, formatted: '1,120.00 USD' },
      fees: { minor: 18500, formatted: '185.00 USD' }, // 25 base + 10 + 50 + 100
      adjustment: { minor: 0 },
      amount: { minor: 130500, formatted: '1,305.00 USD' },
      exactAmountMinor: '130500',
      limitApplied: null,
    });
    expect(line?.tiers.map((tier) => tier.total.minor)).toEqual([11000, 77000, 40000]);
  });

  it('keeps currencies apart: one total per currency, never summed', () => {
    const result = simulator.simulate(
      input({
        usageItems: [
          { metric: 'api_calls', quantity: 1500, priceConfig: GRADUATED_USD },
          { metric: 'storage_gb', quantity: '12.5', priceConfig: { model: 'per_unit', currency: 'eur', unitPrice: '0.023' } },
          { metric: 'seats', quantity: 3, priceConfig: { model: 'per_unit', currency: 'jpy', unitPrice: '1200' } },
          { metric: 'egress_gb', quantity: '100', priceConfig: { model: 'per_unit', currency: 'USD', unitPrice: '0.09' } },
        ],
      }),
    );
    expect(result.totals.map((total) => [total.currency, total.total.formatted])).toEqual([
      ['usd', '1,129.00 USD'], // 1,120.00 + 100 × 0.09
      ['eur', '0.29 EUR'], // 12.5 × 0.023 = 0.2875 → 0.29
      ['jpy', '3,600 JPY'], // 3 × 1,200
    ]);
  });

  it('tops the subtotal up to a commitment', () => {
    const below = simulator.simulate(input({ commitments: [{ currency: 'USD', minimumAmountMinor: 150000 }] }));
    expect(below.totals[0]).toMatchObject({
      subtotal: { minor: 112000 },
      commitment: { minimum: { minor: 150000, formatted: '1,500.00 USD' }, topUp: { minor: 38000, formatted: '380.00 USD' } },
      total: { minor: 150000 },
    });
    const above = simulator.simulate(input({ commitments: [{ currency: 'usd', minimumAmountMinor: '100000' }] }));
    expect(above.totals[0]).toMatchObject({ commitment: { topUp: { minor: 0 } }, total: { minor: 112000 } });
  });

  it('applies a commitment in a currency without usage in full', () => {
    const result = simulator.simulate(input({ commitments: [{ currency: 'eur', minimumAmountMinor: 5000 }] }));
    expect(result.totals.map((total) => [total.currency, total.total.minor])).toEqual([
      ['usd', 112000],
      ['eur', 5000],
    ]);
  });

  it('applies credits in their currency, never below zero', () => {
    const partial = simulator.simulate(input({ credits: [{ currency: 'usd', amountMinor: 30000 }, { currency: 'usd', amountMinor: 20000 }] }));
    expect(partial.totals[0]).toMatchObject({
      creditsApplied: { minor: 50000, formatted: '500.00 USD' },
      creditsRemaining: { minor: 0 },
      total: { minor: 62000, formatted: '620.00 USD' },
    });
    const excess = simulator.simulate(input({ credits: [{ currency: 'usd', amountMinor: 200000 }, { currency: 'eur', amountMinor: 999 }] }));
    expect(excess.totals[0]).toMatchObject({ creditsApplied: { minor: 112000 }, creditsRemaining: { minor: 88000 }, total: { minor: 0 } });
    expect(excess.totals[1]).toMatchObject({ currency: 'eur', creditsApplied: { minor: 0 }, creditsRemaining: { minor: 999 }, total: { minor: 0 } });
  });

  it('credits also cover the commitment top-up', () => {
    const result = simulator.simulate(
      input({ commitments: [{ currency: 'usd', minimumAmountMinor: 150000 }], credits: [{ currency: 'usd', amountMinor: 160000 }] }),
    );
    expect(result.totals[0]).toMatchObject({ creditsApplied: { minor: 150000 }, creditsRemaining: { minor: 10000 }, total: { minor: 0 } });
  });

  it('taxes the amount after commitment and credits, as a percentage, rounding half-up once', () => {
    // (1,120.00 − 500.00 credit) × 8.25 % = 51.15 → total 671.15
    const result = simulator.simulate(input({ credits: [{ currency: 'usd', amountMinor: 50000 }], taxRate: '8.25' }));
    expect(result.taxRate).toBe('8.25');
    expect(result.totals[0]).toMatchObject({
      taxable: { minor: 62000 },
      tax: { minor: 5115, formatted: '51.15 USD' },
      total: { minor: 67115, formatted: '671.15 USD' },
    });
    // 0.10 USD × 5 % = 0.5 cents → 1 cent
    const half = simulator.simulate(
      input({ usageItems: [{ metric: 'x', quantity: 1, priceConfig: { model: 'flat', currency: 'usd', flatFee: '0.10' } }], taxRate: 5 }),
    );
    expect(half.totals[0]?.tax.minor).toBe(1);
    // 140.40 × 8.25 % = 11.583 → 11.58
    const tiered = simulator.simulate(input({ usageItems: [{ metric: 'x', quantity: '150.5', priceConfig: GRADUATED_USD }], taxRate: '8.25' }));
    expect(tiered.totals[0]).toMatchObject({ subtotal: { minor: 14040 }, tax: { minor: 1158 }, total: { minor: 15198 } });
  });

  it('matches its published input and result schemas (for the API)', () => {
    const request = input({
      usageItems: [
        { metric: 'a', quantity: '150.5', priceConfig: GRADUATED_USD },
        { metric: 'b', quantity: 2500, priceConfig: { model: 'package', currency: 'eur', unitPrice: '5', packageSize: 1000, minimumCharge: '20' } },
      ],
      commitments: [{ currency: 'usd', minimumAmountMinor: 100 }],
      credits: [{ currency: 'eur', amountMinor: '100' }],
      taxRate: '20',
    });
    expect(Value.Check(SimulationInputSchema, request)).toBe(true);
    const result = simulator.simulate(request);
    expect([...Value.Errors(SimulationResultSchema, result)]).toEqual([]);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result); // plain JSON: no BigInt, no class instances
  });

  it('handles an invoice with no usage items', () => {
    const result = simulator.simulate(input({ usageItems: [] }));
    expect(result.lines).toEqual([]);
    expect(result.totals).toEqual([]);
  });

  it('does not modify its input', () => {
    const original = input({ commitments: [{ currency: 'USD', minimumAmountMinor: 1 }], credits: [{ currency: 'usd', amountMinor: 5 }] });
    const copy = structuredClone(original);
    simulator.simulate(original);
    expect(original).toEqual(copy);
  });

  it('reports bad input with a code and the path of the problem', () => {
    expect(pricingErrorOf(() => simulator.simulate(input({ periodEnd: '2023-12-31' })))).toMatchObject({ code: 'INVALID_PERIOD', path: 'periodEnd' });
    expect(pricingErrorOf(() => simulator.simulate(input({ periodStart: '2024-13-45' }))).code).toBe('INVALID_PERIOD');
    expect(pricingErrorOf(() => simulator.simulate(input({ periodStart: '2023-02-30' }))).code).toBe('INVALID_PERIOD');
    expect(pricingErrorOf(() => simulator.simulate(input({ periodStart: '2023-12-31T24:30:00Z' }))).code).toBe('INVALID_PERIOD');
    expect(pricingErrorOf(() => simulator.simulate(input({ periodStart: '2024-01-01T00:00:00' }))).code).toBe('INVALID_SIMULATION'); // no zone
    expect(
      pricingErrorOf(() =>
        simulator.simulate(
          input({
            usageItems: [
              { metric: 'ok', quantity: 1, priceConfig: GRADUATED_USD },
              { metric: 'bad', quantity: 1, priceConfig: { model: 'volume', currency: 'usd', tiers: [{ upTo: 5, unitPrice: '1' }] } },
            ],
          }),
        ),
      ),
    ).toMatchObject({ code: 'INVALID_TIERS', path: 'usageItems[1].priceConfig.tiers[0].upTo' });
    expect(pricingErrorOf(() => simulator.simulate(input({ usageItems: [{ metric: 'x', quantity: -1, priceConfig: GRADUATED_USD }] })))).toMatchObject({
      code: 'INVALID_QUANTITY',
      path: 'usageItems[0].quantity',
    });
    expect(pricingErrorOf(() => simulator.simulate(input({ usageItems: [{ metric: 'x', quantity: 1 }] }))).code).toBe('INVALID_SIMULATION');
    expect(
      pricingErrorOf(() => simulator.simulate(input({ commitments: [{ currency: 'usd', minimumAmountMinor: 1 }, { currency: 'USD', minimumAmountMinor: 2 }] }))),
    ).toMatchObject({ code: 'DUPLICATE_COMMITMENT', path: 'commitments[1].currency' });
    expect(pricingErrorOf(() => simulator.simulate(input({ credits: [{ currency: 'usd', amountMinor: -5 }] }))).code).toBe('INVALID_SIMULATION');
    expect(pricingErrorOf(() => simulator.simulate(input({ credits: [{ currency: 'usd', amountMinor: 1.5 }] }))).code).toBe('INVALID_SIMULATION');
    expect(pricingErrorOf(() => simulator.simulate(input({ taxRate: '120' }))).code).toBe('INVALID_SIMULATION');
    expect(pricingErrorOf(() => simulator.simulate({ ...input(), extra: true } as SimulationInput)).code).toBe('INVALID_SIMULATION');
  });

  it('refuses amounts beyond what a JSON number holds exactly', () => {
    const huge = simulator.simulate.bind(simulator, input({ usageItems: [{ metric: 'x', quantity: '100000000000000', priceConfig: { model: 'per_unit', currency: 'usd', unitPrice: '1000' } }] }));
    expect(pricingErrorOf(huge).code).toBe('AMOUNT_OVERFLOW');
  });
});
