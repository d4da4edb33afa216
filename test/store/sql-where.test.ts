import { describe, expect, it } from 'vitest';
import { SqlWhere } from '../../src/store/sql-where.js';

// The metering store's hand-written SQL is built with SqlWhere; these texts are the ones it ran
// before the helper existed, so a change here changes the statements (and the statement cache keys).
describe('SqlWhere', () => {
  it('joins the clauses in order and keeps the parameters in step', () => {
    const where = SqlWhere.of('tenant_id = ?', 't1').andIfSet('ts >= ?', 5).andIfSet('ts < ?', undefined).andIfSet('metric = ?', 'api');
    expect(`${where}`).toBe('tenant_id = ? and ts >= ? and metric = ?');
    expect(where.params).toEqual(['t1', 5, 'api']);
  });

  it('writes an IN list only for a non-empty list', () => {
    const where = SqlWhere.of('tenant_id = ?', 't1').andIn('status', ['pending', 'approved']).andIn('kind', []).andIn('x', undefined);
    expect(`${where}`).toBe('tenant_id = ? and status in (?,?)');
    expect(where.params).toEqual(['t1', 'pending', 'approved']);
  });

  it('writes keyset positions before, after, and from (inclusive) a row', () => {
    const cols = ['ts', 'idem_key'] as const;
    expect(`${SqlWhere.of('a').andBeyond(cols, [1, 'k'], 'desc')}`).toBe('a and (ts < ? or (ts = ? and idem_key < ?))');
    expect(`${SqlWhere.of('a').andBeyond(cols, [1, 'k'], 'asc')}`).toBe('a and (ts > ? or (ts = ? and idem_key > ?))');
    const from = SqlWhere.of('a').andBeyond(cols, [1, 'k'], 'asc', true);
    expect(`${from}`).toBe('a and (ts > ? or (ts = ? and idem_key >= ?))');
    expect(from.params).toEqual([1, 1, 'k']);
    expect(`${SqlWhere.of('a').andBeyond(cols, undefined, 'asc')}`).toBe('a');
  });

  it('copies are independent of the original', () => {
    const base = SqlWhere.of('tenant_id = ?', 't1');
    const more = base.copy().andIfSet('metric = ?', 'api');
    expect(`${base}`).toBe('tenant_id = ?');
    expect(base.params).toEqual(['t1']);
    expect(`${more}`).toBe('tenant_id = ? and metric = ?');
  });
});
