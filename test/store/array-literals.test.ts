import { describe, expect, it } from 'vitest';
import { columnLiterals } from '../../src/store/postgres/array-literals.js';

describe('columnLiterals (PostgreSQL unnest parameters)', () => {
  it('turns row-major parameters into one literal per column, quoting every string', () => {
    const rows = [
      ['a', 1, 10n, null, true],
      ['', -2, -3n, 'x', false],
    ];
    expect(columnLiterals(rows.flat(), 5)).toEqual(['{"a",""}', '{1,-2}', '{10,-3}', '{NULL,"x"}', '{t,f}']);
  });

  it('escapes only the two characters special inside quotes; NULL, commas and braces stay text', () => {
    expect(columnLiterals(['say "hi"', 'back\\slash', 'NULL', '{a,b}', ' pad '], 1)).toEqual([
      '{"say \\"hi\\"","back\\\\slash","NULL","{a,b}"," pad "}',
    ]);
  });

  it('refuses what it cannot send exactly', () => {
    expect(() => columnLiterals([Number.NaN], 1)).toThrow(/NaN/);
    expect(() => columnLiterals([{}], 1)).toThrow(/object/);
  });
});
