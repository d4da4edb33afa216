import { describe, expect, it } from 'vitest';
import {
  compilePrice,
  currencyExponent,
  formatMinor,
  isZeroDecimalCurrency,
  priceLine,
  PricingError,
  STRIPE_ZERO_DECIMAL_CURRENCIES,
  type PriceConfig,
} from '../../src/pricing/index.js';

function amountMinor(config: PriceConfig, quantity: string | number): bigint {
  return priceLine(compilePrice(config), quantity).amountMinor;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof PricingError) return error.code;
    throw error;
  }
  return undefined;
}

describe('currency exponents', () => {
  it('knows JPY 0, USD 2, KWD 3 (any case)', () => {
    expect(currencyExponent('jpy')).toBe(0);
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('kwd')).toBe(3);
    expect(currencyExponent('bhd')).toBe(3);
    expect(currencyExponent('eur')).toBe(2);
  });

  it("treats all of Stripe's zero-decimal currencies as zero-decimal", () => {
    expect(STRIPE_ZERO_DECIMAL_CURRENCIES).toHaveLength(16);
    for (const code of STRIPE_ZERO_DECIMAL_CURRENCIES) expect(isZeroDecimalCurrency(code), code).toBe(true);
    // ISO 4217 says MGA has 2 decimals and ISK 0; Stripe's API says the opposite, and Stripe wins here.
    expect(currencyExponent('mga')).toBe(0);
    expect(currencyExponent('isk')).toBe(2);
  });

  it('rejects unknown or malformed codes instead of guessing 2 decimals', () => {
    expect(codeOf(() => currencyExponent('xyz'))).toBe('UNKNOWN_CURRENCY');
    expect(codeOf(() => currencyExponent('us'))).toBe('UNKNOWN_CURRENCY');
    expect(codeOf(() => compilePrice({ model: 'flat', currency: 'abc', flatFee: '1' }))).toBe('UNKNOWN_CURRENCY');
  });
});

describe('formatting (locale-independent)', () => {
  it('groups thousands and pads the minor digits', () => {
    expect(formatMinor(112000n, 'usd')).toBe('1,120.00 USD');
    expect(formatMinor(0n, 'usd')).toBe('0.00 USD');
    expect(formatMinor(5n, 'usd')).toBe('0.05 USD');
    expect(formatMinor(-12345n, 'eur')).toBe('-123.45 EUR');
    expect(formatMinor(123456789012n, 'usd')).toBe('1,234,567,890.12 USD');
    expect(formatMinor(1500n, 'jpy')).toBe('1,500 JPY');
    expect(formatMinor(1234n, 'kwd')).toBe('1.234 KWD');
    expect(formatMinor(1234567n, 'KWD')).toBe('1,234.567 KWD');
  });
});

describe('pricing in zero- and three-decimal currencies', () => {
  it('JPY: unit prices may be fractional yen; lines round to whole yen', () => {
    // 1,500 × 0.5 JPY = 750 JPY; 3 × 0.5 = 1.5 → 2 JPY (half-up)
    expect(amountMinor({ model: 'per_unit', currency: 'jpy', unitPrice: '0.5' }, 1500)).toBe(750n);
    expect(amountMinor({ model: 'per_unit', currency: 'jpy', unitPrice: '0.5' }, 3)).toBe(2n);
    // graduated: 100 × 10 + 50 × 8 = 1,400 JPY
    const jpyTiers: PriceConfig = {
      model: 'graduated',
      currency: 'JPY',
      tiers: [
        { upTo: 100, unitPrice: '10' },
        { upTo: null, unitPrice: '8' },
      ],
    };
    expect(amountMinor(jpyTiers, 150)).toBe(1400n);
  });

  it('KWD: three decimals', () => {
    // 3 × 0.3335 KWD = 1.0005 KWD = 1000.5 fils → 1001 fils = "1.001 KWD"
    expect(amountMinor({ model: 'per_unit', currency: 'kwd', unitPrice: '0.3335' }, 3)).toBe(1001n);
    // flat fees may use all three decimals
    expect(amountMinor({ model: 'flat', currency: 'kwd', flatFee: '1.234' }, 1)).toBe(1234n);
  });

  it('fixed amounts must be whole minor units of the currency', () => {
    expect(codeOf(() => compilePrice({ model: 'flat', currency: 'jpy', flatFee: '10.5' }))).toBe('INVALID_AMOUNT');
    expect(codeOf(() => compilePrice({ model: 'flat', currency: 'usd', flatFee: '1.005' }))).toBe('INVALID_AMOUNT');
    expect(codeOf(() => compilePrice({ model: 'flat', currency: 'kwd', flatFee: '1.2345' }))).toBe('INVALID_AMOUNT');
    expect(codeOf(() => compilePrice({ model: 'per_unit', currency: 'jpy', unitPrice: '1', minimumCharge: '0.5' }))).toBe(
      'INVALID_AMOUNT',
    );
  });

  it('unit prices allow 12 decimals beyond the minor unit (Stripe unit_amount_decimal precision)', () => {
    expect(() => compilePrice({ model: 'per_unit', currency: 'jpy', unitPrice: '0.000000000001' })).not.toThrow();
    expect(codeOf(() => compilePrice({ model: 'per_unit', currency: 'jpy', unitPrice: '0.0000000000001' }))).toBe('INVALID_PRICE');
    expect(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '0.00000000000001' })).not.toThrow();
    expect(codeOf(() => compilePrice({ model: 'per_unit', currency: 'usd', unitPrice: '0.000000000000001' }))).toBe('INVALID_PRICE');
    expect(() => compilePrice({ model: 'per_unit', currency: 'kwd', unitPrice: '0.000000000000001' })).not.toThrow();
  });
});
