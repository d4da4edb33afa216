import { describe, expect, it } from 'vitest';
import { Decimal, PricingError, plainDecimalString } from '../../src/pricing/index.js';
import { SeededRandom } from './seeded-random.js';

const d = (text: string) => Decimal.parse(text);

describe('Decimal parse / format', () => {
  it('round-trips plain decimal text canonically', () => {
    expect(d('0').toString()).toBe('0');
    expect(d('150.50').toString()).toBe('150.5');
    expect(d('-0.050').toString()).toBe('-0.05');
    expect(d('+7').toString()).toBe('7');
    expect(d('000123.4500').toString()).toBe('123.45');
    expect(d('0.000000000001').toString()).toBe('0.000000000001');
    expect(d('123456789012345678901234567890.123456789').toString()).toBe('123456789012345678901234567890.123456789');
  });

  it('rejects anything that is not a plain decimal', () => {
    for (const bad of ['', ' 1', '1 ', '1.', '.5', '1e3', 'NaN', 'Infinity', '0x10', '1,5', '--1', '1.2.3']) {
      expect(() => d(bad), bad).toThrow(PricingError);
    }
    expect(() => d('1'.repeat(101))).toThrow(/longer than 100/);
  });

  it('reads JS numbers as the literal they print as', () => {
    expect(Decimal.fromNumber(0.1).toString()).toBe('0.1');
    expect(Decimal.fromNumber(0.008).toString()).toBe('0.008');
    expect(Decimal.fromNumber(1e-7).toString()).toBe('0.0000001');
    expect(Decimal.fromNumber(1e21).toString()).toBe('1000000000000000000000');
    // Float arithmetic done before we see the number is visible, not hidden:
    expect(Decimal.fromNumber(0.1 + 0.2).toString()).toBe('0.30000000000000004');
    expect(() => Decimal.fromNumber(Number.NaN)).toThrow(PricingError);
    expect(() => Decimal.fromNumber(Number.POSITIVE_INFINITY)).toThrow(PricingError);
  });

  it('expands exponent notation digit by digit', () => {
    expect(plainDecimalString('1e-7')).toBe('0.0000001');
    expect(plainDecimalString('2.5E+3')).toBe('2500');
    expect(plainDecimalString('-1.23e1')).toBe('-12.3');
    expect(plainDecimalString('123.456e-2')).toBe('1.23456');
    expect(plainDecimalString('0.5e1')).toBe('5');
    expect(plainDecimalString('12')).toBe('12');
    expect(() => plainDecimalString('1e999999')).toThrow(PricingError);
    expect(() => plainDecimalString('e5')).toThrow(PricingError);
  });

  it('formats with a fixed number of places, rounding half-up', () => {
    expect(d('1120').toFixed(2)).toBe('1120.00');
    expect(d('0.005').toFixed(2)).toBe('0.01');
    expect(d('0.0049').toFixed(2)).toBe('0.00');
    expect(d('-0.005').toFixed(2)).toBe('-0.01');
    expect(d('12.3').toFixed(0)).toBe('12');
  });
});

describe('Decimal arithmetic', () => {
  it('adds, subtracts and multiplies exactly across scales', () => {
    expect(d('0.1').add(d('0.2')).toString()).toBe('0.3');
    expect(d('1.005').sub(d('0.005')).toString()).toBe('1');
    expect(d('150.5').mul(d('0.80')).toString()).toBe('120.4');
    expect(d('-2.5').mul(d('0.4')).toString()).toBe('-1');
    expect(d('0.000001').mul(d('0.000000000001')).toString()).toBe('0.000000000000000001');
  });

  it('compares by value, not by scale', () => {
    expect(d('1.50').cmp(d('1.5'))).toBe(0);
    expect(d('1.5').eq(d('1.500000'))).toBe(true);
    expect(d('0.999999').lt(d('1'))).toBe(true);
    expect(d('-1').lt(d('0'))).toBe(true);
    expect(Decimal.max(d('2'), d('10')).toString()).toBe('10');
    expect(Decimal.min(d('2'), d('10')).toString()).toBe('2');
  });

  it('rounds to a scale in every mode', () => {
    const cases: [string, string, string, string, string, string][] = [
      // value,  half-up, down,  up,    floor, ceil
      ['1.5', '2', '1', '2', '1', '2'],
      ['1.4999', '1', '1', '2', '1', '2'],
      ['-1.5', '-2', '-1', '-2', '-2', '-1'],
      ['-1.4', '-1', '-1', '-2', '-2', '-1'],
      ['2', '2', '2', '2', '2', '2'],
    ];
    for (const [value, halfUp, down, up, floor, ceil] of cases) {
      expect(d(value).roundToScale(0, 'half-up').toString(), value).toBe(halfUp);
      expect(d(value).roundToScale(0, 'down').toString(), value).toBe(down);
      expect(d(value).roundToScale(0, 'up').toString(), value).toBe(up);
      expect(d(value).roundToScale(0, 'floor').toString(), value).toBe(floor);
      expect(d(value).roundToScale(0, 'ceil').toString(), value).toBe(ceil);
    }
    expect(d('1.2345').roundToScale(3).toString()).toBe('1.235');
    expect(d('7').roundToScale(3).scale).toBe(3);
  });

  it('divides to a chosen scale', () => {
    expect(d('1001').div(d('1000'), 0, 'ceil').toString()).toBe('2');
    expect(d('1001').div(d('1000'), 0, 'floor').toString()).toBe('1');
    expect(d('2').div(d('3'), 6, 'half-up').toString()).toBe('0.666667');
    expect(d('1').div(d('-8'), 2, 'half-up').toString()).toBe('-0.13');
    expect(() => d('1').div(d('0'), 2, 'half-up')).toThrow(/division by zero/);
  });

  it('shifts the decimal point exactly', () => {
    expect(d('0.80').shift(2).toString()).toBe('80');
    expect(d('0.05').shift(-2).toString()).toBe('0.0005');
    expect(d('12').shift(3).toString()).toBe('12000');
    expect(d('1.234').shift(3).toBigInt()).toBe(1234n);
    expect(() => d('1.5').toBigInt()).toThrow(PricingError);
  });
});

describe('Decimal: no floating-point drift', () => {
  it('adds 0.01 one million times to exactly 10000 (a double drifts)', () => {
    const cent = d('0.01');
    let exact = Decimal.ZERO;
    let float = 0;
    for (let i = 0; i < 1_000_000; i++) {
      exact = exact.add(cent);
      float += 0.01;
    }
    expect(exact.toString()).toBe('10000');
    expect(float).not.toBe(10000); // 10000.000000171856: why money never touches floats
  });

  it('sums one million random small decimals exactly (seeded, checked against integer micro-units)', () => {
    const random = new SeededRandom(20240101);
    let exact = Decimal.ZERO;
    let microUnits = 0n;
    for (let i = 0; i < 1_000_000; i++) {
      const text = random.decimalString(9, 6);
      exact = exact.add(d(text));
      microUnits += BigInt(text.replace('.', ''));
    }
    expect(exact.eq(Decimal.fromUnits(microUnits, 6))).toBe(true);
  });

  it('agrees with a BigInt reference on random products and sums (seeded)', () => {
    const random = new SeededRandom(7);
    for (let i = 0; i < 5_000; i++) {
      const a = random.decimalString(1_000_000, random.int(0, 12));
      const b = random.decimalString(1_000, random.int(0, 6));
      const [aUnits, aScale] = [BigInt(a.replace('.', '')), a.includes('.') ? a.length - a.indexOf('.') - 1 : 0];
      const [bUnits, bScale] = [BigInt(b.replace('.', '')), b.includes('.') ? b.length - b.indexOf('.') - 1 : 0];
      const product = d(a).mul(d(b));
      expect(product.eq(Decimal.fromUnits(aUnits * bUnits, aScale + bScale))).toBe(true);
      const scale = Math.max(aScale, bScale);
      const sum = aUnits * 10n ** BigInt(scale - aScale) + bUnits * 10n ** BigInt(scale - bScale);
      expect(d(a).add(d(b)).eq(Decimal.fromUnits(sum, scale))).toBe(true);
    }
  });
});
