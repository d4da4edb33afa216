import { describe, expect, it } from 'vitest';
import { compilePrice, parseQuantity, priceLine } from '../../src/pricing/index.js';
import { pricingErrorOf } from '../support/pricing-error-of.js';

const tiers = [
  { upTo: 100, unitPrice: '1' },
  { upTo: null, unitPrice: '0.5' },
];

describe('price config validation', () => {
  it('accepts "tiered" as an alias of graduated and normalises the config', () => {
    const price = compilePrice({ model: 'tiered', currency: 'USD', tiers: [{ upTo: '100', unitPrice: 1 }, { upTo: 'inf', unitPrice: '0.50' }] });
    expect(price.model).toBe('graduated');
    expect(price.currency).toBe('usd');
    expect(price.config).toEqual({
      model: 'graduated',
      currency: 'usd',
      tiers: [
        { upTo: '100', unitPrice: '1' },
        { upTo: null, unitPrice: '0.5' },
      ],
    });
  });

  it('reports shape errors with a path and code INVALID_CONFIG', () => {
    const unknownModel = pricingErrorOf(() => compilePrice({ model: 'stairstep', currency: 'usd' }));
    expect(unknownModel.code).toBe('INVALID_CONFIG');
    expect(unknownModel.message).toMatch(/model/);
    const typo = pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '1', unit_price: '2' }));
    expect(typo.code).toBe('INVALID_CONFIG');
    expect(pricingErrorOf(() => compilePrice(null)).code).toBe('INVALID_CONFIG');
    expect(pricingErrorOf(() => compilePrice({ model: 'graduated', currency: 'usd', tiers: [] })).code).toBe('INVALID_CONFIG');
  });

  it('requires the fields of each model and refuses fields that do not apply', () => {
    expect(pricingErrorOf(() => compilePrice({ model: 'graduated', currency: 'usd' }))).toMatchObject({ code: 'INVALID_CONFIG', path: 'tiers' });
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd' }))).toMatchObject({ code: 'INVALID_CONFIG', path: 'unitPrice' });
    expect(pricingErrorOf(() => compilePrice({ model: 'package', currency: 'usd', unitPrice: '1' }))).toMatchObject({ path: 'packageSize' });
    expect(pricingErrorOf(() => compilePrice({ model: 'flat', currency: 'usd' }))).toMatchObject({ path: 'flatFee' });
    expect(pricingErrorOf(() => compilePrice({ model: 'graduated', currency: 'usd', tiers, unitPrice: '1' }))).toMatchObject({
      code: 'INVALID_CONFIG',
      path: 'unitPrice',
    });
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '1', tiers }))).toMatchObject({ path: 'tiers' });
  });

  it('checks tier bounds', () => {
    const notIncreasing = pricingErrorOf(() =>
      compilePrice({ model: 'volume', currency: 'usd', tiers: [{ upTo: 100, unitPrice: '1' }, { upTo: 100, unitPrice: '1' }, { upTo: null, unitPrice: '1' }] }),
    );
    expect(notIncreasing).toMatchObject({ code: 'INVALID_TIERS', path: 'tiers[1].upTo' });
    expect(pricingErrorOf(() => compilePrice({ model: 'volume', currency: 'usd', tiers: [{ upTo: 100, unitPrice: '1' }] }))).toMatchObject({
      code: 'INVALID_TIERS',
      path: 'tiers[0].upTo',
    });
    expect(
      pricingErrorOf(() => compilePrice({ model: 'volume', currency: 'usd', tiers: [{ upTo: null, unitPrice: '1' }, { upTo: null, unitPrice: '1' }] })),
    ).toMatchObject({ code: 'INVALID_TIERS' });
    expect(pricingErrorOf(() => compilePrice({ model: 'volume', currency: 'usd', tiers: [{ upTo: 0, unitPrice: '1' }, { upTo: null, unitPrice: '1' }] })).code).toBe(
      'INVALID_TIERS',
    );
    expect(pricingErrorOf(() => compilePrice({ model: 'volume', currency: 'usd', tiers: [{ upTo: '1.0000001', unitPrice: '1' }, { upTo: null, unitPrice: '1' }] })).code).toBe(
      'INVALID_QUANTITY',
    );
  });

  it('checks prices and amounts', () => {
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '-1' }))).toMatchObject({ code: 'INVALID_PRICE', path: 'unitPrice' });
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: 'abc' })).code).toBe('INVALID_CONFIG');
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: Number.NaN })).code).toBe('INVALID_CONFIG');
    expect(
      pricingErrorOf(() => compilePrice({ model: 'graduated', currency: 'usd', tiers: [{ upTo: 1, unitPrice: '1', flatFee: '-5' }, { upTo: null, unitPrice: '1' }] })),
    ).toMatchObject({ code: 'INVALID_AMOUNT', path: 'tiers[0].flatFee' });
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '1', minimumCharge: '10', maximumCharge: '5' })).code).toBe(
      'INVALID_CONFIG',
    );
    expect(pricingErrorOf(() => compilePrice({ model: 'package', currency: 'usd', unitPrice: '1', packageSize: 0 })).code).toBe('INVALID_CONFIG');
    expect(pricingErrorOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '1', includedUnits: -1 })).code).toBe('INVALID_QUANTITY');
  });
});

describe('quantities', () => {
  it('accepts non-negative decimals with up to 6 places, as strings or numbers', () => {
    expect(parseQuantity('150.5').toString()).toBe('150.5');
    expect(parseQuantity(150.5).toString()).toBe('150.5');
    expect(parseQuantity('0.000001').toString()).toBe('0.000001');
    expect(parseQuantity('1.50000000').toString()).toBe('1.5'); // trailing zeros are not precision
    expect(parseQuantity(Number.MAX_SAFE_INTEGER).toString()).toBe('9007199254740991');
    expect(parseQuantity('123456789012345678901234').toString()).toBe('123456789012345678901234');
    expect(parseQuantity(10n).toString()).toBe('10');
  });

  it('rejects negative, non-finite, unsafe, over-precise and non-numeric quantities', () => {
    for (const bad of [-1, '-0.5', Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, '0.0000001', 0.1 + 0.2, 'ten', '', null, {}]) {
      expect(pricingErrorOf(() => parseQuantity(bad)).code, String(bad)).toBe('INVALID_QUANTITY');
    }
  });

  it('priceLine validates the quantity too', () => {
    const price = compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '1' });
    expect(pricingErrorOf(() => priceLine(price, -3)).code).toBe('INVALID_QUANTITY');
  });

  it('PricingError is a typed Error', () => {
    const error = pricingErrorOf(() => parseQuantity(-1));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PricingError');
    expect(error.message).toMatch(/must not be negative/);
  });
});
