import { describe, expect, it } from 'vitest';
import { diffResults, parseExpected, parseScenario, PricingError, runScenario } from '../../src/pricing/index.js';

const YAML_SCENARIO = `
name: brief example
simulation:
  customerId: test
  periodStart: 2024-01-01
  periodEnd: 2024-02-01
  taxRate: 8.25
  usageItems:
    - metric: api_calls
      quantity: 25000
      priceConfig:
        model: tiered
        currency: USD
        tiers:
          - { upTo: 10000, unitPrice: 0.01 }
          - { upTo: 50000, unitPrice: 0.008 }
          - { upTo: .inf, unitPrice: 0.005 }
expected:
  totals:
    - currency: usd
      subtotal: { minor: 22000, formatted: "220.00 USD" }
      tax: { minor: 1815 }
      total: { minor: 23815, formatted: "238.15 USD" }
`;

const JSON_SCENARIO = JSON.stringify({
  customerId: 'cus_1',
  periodStart: '2024-01-01',
  periodEnd: '2024-02-01',
  usageItems: [{ metric: 'gb', quantity: 150.5, priceConfig: { model: 'graduated', currency: 'usd', tiers: [{ upTo: 100, unitPrice: 1 }, { upTo: 1000, unitPrice: 0.8 }, { upTo: null, unitPrice: 0.6 }] } }],
});

describe('parseScenario', () => {
  it('reads a wrapped YAML scenario with its expected result', () => {
    const scenario = parseScenario(YAML_SCENARIO, 'brief.yaml');
    expect(scenario.name).toBe('brief example');
    const result = runScenario(scenario);
    // 220.00 × 8.25 % = 18.15
    expect(diffResults(result, scenario.expected)).toEqual([]);
  });

  it('reads a bare JSON simulation input', () => {
    const scenario = parseScenario(JSON_SCENARIO, 'scenario.json');
    expect(runScenario(scenario).totals[0]?.total.formatted).toBe('140.40 USD');
  });

  it('keeps decimal literals exact in YAML and JSON (no float round-trip)', () => {
    const yaml = parseScenario('customerId: c\nperiodStart: 2024-01-01\nperiodEnd: 2024-02-01\nusageItems:\n  - {metric: m, quantity: 1, priceConfig: {model: per_unit, currency: usd, unitPrice: 12345.00000000000001}}\n', 's.yml');
    expect(yaml.simulation.usageItems[0]?.priceConfig?.unitPrice).toBe('12345.00000000000001');
    const json = parseScenario('{"customerId":"c","periodStart":"2024-01-01","periodEnd":"2024-02-01","usageItems":[{"metric":"m","quantity":3,"priceConfig":{"model":"per_unit","currency":"usd","unitPrice":12345.00000000000001}}]}', 's.json');
    expect(json.simulation.usageItems[0]?.priceConfig?.unitPrice).toBe('12345.00000000000001');
    // The exact line is 37035.00000000000003 USD = 3703500.000000000003 cents.
    expect(runScenario(json).lines[0]?.exactAmountMinor).toBe('3703500.000000000003');
  });

  it('tells JSON from YAML by extension, and tries both otherwise', () => {
    expect(() => parseScenario('customerId: x', 'x.json')).toThrow(/not valid JSON/);
    expect(parseScenario(JSON_SCENARIO, 'scenario.txt').simulation.customerId).toBe('cus_1');
    expect(parseScenario('customerId: y\nusageItems: []', 'scenario').simulation.customerId).toBe('y');
  });

  it('rejects what is not a scenario', () => {
    const codeOf = (text: string, name: string) => {
      try {
        parseScenario(text, name);
      } catch (error) {
        return (error as PricingError).code;
      }
      return undefined;
    };
    expect(codeOf('[1, 2]', 'a.json')).toBe('INVALID_SCENARIO');
    expect(codeOf('a: [1', 'a.yaml')).toBe('INVALID_SCENARIO');
    expect(codeOf('a: 1\na: 2', 'a.yaml')).toBe('INVALID_SCENARIO'); // duplicate keys
    expect(codeOf('{"simulation": {}, "expect": {}}', 'a.json')).toBe('INVALID_SCENARIO'); // typo of "expected"
  });

  it('runScenario reports simulation errors under "simulation"', () => {
    const scenario = parseScenario('simulation:\n  customerId: c\n  periodStart: 2024-01-01\n  periodEnd: 2024-02-01\n  usageItems:\n    - {metric: m, quantity: -1, priceConfig: {model: flat, currency: usd, flatFee: 1}}\n', 'bad.yaml');
    expect(() => runScenario(scenario)).toThrow(PricingError);
    try {
      runScenario(scenario);
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_QUANTITY', path: 'simulation.usageItems[0].quantity' });
    }
  });
});

describe('diffResults', () => {
  const actual = runScenario(parseScenario(JSON_SCENARIO, 'scenario.json'));

  it('is empty when the expected fields match (expected may be partial)', () => {
    expect(diffResults(actual, { totals: [{ currency: 'usd', total: { minor: 14040 } }] })).toEqual([]);
    expect(diffResults(actual, actual)).toEqual([]);
  });

  it('lists each difference with its path', () => {
    const expected = parseExpected(
      JSON.stringify({
        lines: [{ amount: { minor: 14041, formatted: '140.41 USD' }, tiers: [{ quantity: '100' }] }],
        totals: [{ currency: 'eur' }],
      }),
      'expected.json',
    );
    expect(diffResults(actual, expected)).toEqual([
      'lines[0].amount.minor: expected 14041, got 14040',
      'lines[0].amount.formatted: expected "140.41 USD", got "140.40 USD"',
      'lines[0].tiers: expected 1 item(s), got 2',
      'totals[0].currency: expected "eur", got "usd"',
    ]);
  });

  it('reports missing fields and type mismatches', () => {
    expect(diffResults({ a: 1 }, { b: 2 })).toEqual(['b: expected 2, but it is missing']);
    expect(diffResults({ a: 1 }, { a: { b: 1 } })).toEqual(['a: expected an object, got 1']);
    expect(diffResults({ a: 1 }, { a: [1] })).toEqual(['a: expected a list, got 1']);
    expect(diffResults({ a: null }, { a: 0 })).toEqual(['a: expected 0, got null']);
  });

  it('treats 112000 and "112000" as equal (files quote numbers differently)', () => {
    expect(diffResults({ minor: 112000, quantity: '150.5' }, { minor: '112000', quantity: 150.5 })).toEqual([]);
    expect(diffResults({ minor: 112000 }, { minor: '112000.0' })).toEqual(['minor: expected "112000.0", got 112000']);
  });
});
