import { describe, expect, it } from 'vitest';
import { ExactNumber, parseJsonExact, stringifyJsonExact } from '../../src/metering/exact-json.js';
import { parseEventTime } from '../../src/metering/event-time.js';
import { contentHash, deriveIdempotencyKey } from '../../src/metering/idempotency-key.js';
import { IngestBatcher } from '../../src/metering/ingest-batcher.js';
import { periodContaining, type PeriodRule } from '../../src/metering/period.js';
import { decimalTextToMicro, formatMicro, quantityToMicro } from '../../src/metering/quantity.js';
import { readRecords, type InputRecord } from '../../src/metering/record-reader.js';
import { instantOf } from '../../src/shared/zoned-time.js';
import type { LedgerEventInput, LedgerWriteOutcome } from '../../src/store/metering-store.js';
import { utc } from './metering-harness.js';

describe('quantities are exact micro-units', () => {
  it('accepts JSON numbers with up to 6 decimals, exactly', () => {
    expect(quantityToMicro(5)).toBe(5_000_000n);
    expect(quantityToMicro(0)).toBe(0n);
    expect(quantityToMicro(0.1)).toBe(100_000n);
    expect(quantityToMicro(0.000001)).toBe(1n);
    expect(quantityToMicro(1e-6)).toBe(1n);
    expect(quantityToMicro(2.5e3)).toBe(2_500_000_000n);
    expect(quantityToMicro(1_000_000_000_000)).toBe(1_000_000_000_000_000_000n);
    // Above 2^53 micro-units, still exact.
    expect(quantityToMicro(123_456_789_012)).toBe(123_456_789_012_000_000n);
    expect(quantityToMicro(new ExactNumber('123456789012.345678'))).toBe(123_456_789_012_345_678n);
    expect(quantityToMicro(new ExactNumber('1.50000000000000000'))).toBe(1_500_000n);
  });

  it('refuses strings, negatives, too many decimals, too large, non-numbers', () => {
    for (const bad of ['5', -1, 0.0000001, 1e13, 1_000_000_000_001, true, null, {}, [], new ExactNumber('0.10000000000000001'), new ExactNumber('12345678901234567890')]) {
      expect(typeof quantityToMicro(bad), String(bad)).toBe('object');
    }
    expect(quantityToMicro('5')).toEqual({ problem: 'quantity must be a JSON number, not a string' });
    expect(quantityToMicro(-1)).toEqual({ problem: 'quantity must not be negative' });
    expect(quantityToMicro(-2.5, { allowNegative: true })).toBe(-2_500_000n);
  });

  it('formats back as exact decimal text', () => {
    expect(formatMicro(5_000_000n)).toBe('5');
    expect(formatMicro(250_000n)).toBe('0.25');
    expect(formatMicro(123_456_789_012_345_678n)).toBe('123456789012.345678');
    expect(formatMicro(-1_500_000n)).toBe('-1.5');
    expect(decimalTextToMicro('0.1')).toBe(100_000n);
    // 0.1 + 0.2 in micro-units is exactly 0.3.
    expect(formatMicro((quantityToMicro(0.1) as bigint) + (quantityToMicro(0.2) as bigint))).toBe('0.3');
  });
});

describe('exact JSON', () => {
  it('hands numbers longer than a double as their literal, and only those', () => {
    const { value, exact } = parseJsonExact('{"q":123456789012.345678,"s":"12345678901234567890","n":1.5,"a":[12345678901234567890]}');
    expect(exact).toBe(true);
    const v = value as { q: ExactNumber; s: string; n: number; a: ExactNumber[] };
    expect(v.q).toBeInstanceOf(ExactNumber);
    expect(v.q.literal).toBe('123456789012.345678');
    expect(v.s).toBe('12345678901234567890');
    expect(v.n).toBe(1.5);
    expect(stringifyJsonExact(v, exact)).toBe('{"q":123456789012.345678,"s":"12345678901234567890","n":1.5,"a":[12345678901234567890]}');
    expect(parseJsonExact('{"q":5,"ts":"2025-01-01T00:00:00.000Z"}')).toEqual({ value: { q: 5, ts: '2025-01-01T00:00:00.000Z' }, exact: false });
    expect(() => parseJsonExact('{"q": 01234567890123456789}')).toThrow(SyntaxError);
    expect(() => parseJsonExact('{"q":')).toThrow(SyntaxError);
    // An escaped quote inside a string does not end it.
    expect(parseJsonExact('{"s":"a\\"12345678901234567890","q":1}').value).toEqual({ s: 'a"12345678901234567890', q: 1 });
  });
});

describe('event time', () => {
  it('is ISO 8601 with an offset or epoch ms, normalised to UTC ms', () => {
    expect(parseEventTime('2025-01-01T00:00:00Z')).toBe(utc(2025, 1, 1));
    expect(parseEventTime('2025-01-01T01:00:00+01:00')).toBe(utc(2025, 1, 1));
    expect(parseEventTime('2024-12-31T19:00:00-05:00')).toBe(utc(2025, 1, 1));
    expect(parseEventTime('2025-01-01T00:00:00.123456Z')).toBe(utc(2025, 1, 1, 0, 0, 0, 123));
    expect(parseEventTime(utc(2025, 1, 1))).toBe(utc(2025, 1, 1));
    for (const bad of ['2025-01-01', '2025-01-01T00:00:00', '2025-02-30T00:00:00Z', '2025-01-01T24:00:00Z', 'yesterday', 1735689600, 1.5, '1735689600000', null]) {
      expect(typeof parseEventTime(bad), String(bad)).toBe('object');
    }
    expect(parseEventTime(1735689600)).toEqual({ problem: 'ts is before 2000-01-01 (epoch seconds sent as milliseconds?)' });
  });
});

describe('idempotency keys', () => {
  it('derive the same key for the same instant written with different offsets (must hold 2)', () => {
    const a = deriveIdempotencyKey('t1', 'api_calls', 'cus_1', null, parseEventTime('2025-01-01T00:00:00Z') as number);
    const b = deriveIdempotencyKey('t1', 'api_calls', 'cus_1', null, parseEventTime('2025-01-01T01:00:00+01:00') as number);
    expect(a).toBe(b);
    expect(a).toMatch(/^d_[0-9a-v]{9}[A-Za-z0-9_-]{22}$/);
  });

  it('differ by tenant, metric, customer, resource and millisecond, and sort by time', () => {
    const base = deriveIdempotencyKey('t1', 'm', 'c', null, 1_735_689_600_000);
    for (const other of [
      deriveIdempotencyKey('t2', 'm', 'c', null, 1_735_689_600_000),
      deriveIdempotencyKey('t1', 'm2', 'c', null, 1_735_689_600_000),
      deriveIdempotencyKey('t1', 'm', 'c2', null, 1_735_689_600_000),
      deriveIdempotencyKey('t1', 'm', 'c', 'r1', 1_735_689_600_000),
      deriveIdempotencyKey('t1', 'm', 'c', null, 1_735_689_600_001),
    ]) {
      expect(other).not.toBe(base);
    }
    const keys = [3, 1, 2].map((d) => deriveIdempotencyKey('t', 'm', 'c', null, 1_735_689_600_000 + d * 86_400_000));
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[0]]);
    expect(contentHash('k', 'm', 'c', null, 1, 5n)).not.toBe(contentHash('k', 'm', 'c', null, 1, 6n));
    expect(contentHash('k', 'm', 'c', null, 1, 5n)).not.toBe(contentHash('k', 'm2', 'c', null, 1, 5n));
    // A derived-format key already fixes everything but the quantity.
    expect(contentHash(base, 'm', 'c', null, 1, 5n)).toBe('q5');
  });
});

describe('billing periods', () => {
  const calendar: PeriodRule = { kind: 'calendar', timeZone: 'UTC' };

  it('UTC calendar month, boundaries exact to the millisecond', () => {
    expect(periodContaining(calendar, utc(2025, 2, 15))).toEqual({ start: utc(2025, 2, 1), end: utc(2025, 3, 1), source: 'calendar' });
    expect(periodContaining(calendar, utc(2025, 3, 1) - 1).end).toBe(utc(2025, 3, 1));
    expect(periodContaining(calendar, utc(2025, 3, 1)).start).toBe(utc(2025, 3, 1));
    expect(periodContaining(calendar, utc(2024, 12, 31, 23, 59, 59, 999))).toMatchObject({ start: utc(2024, 12, 1), end: utc(2025, 1, 1) });
  });

  it('calendar month in a time zone, across DST', () => {
    const paris: PeriodRule = { kind: 'calendar', timeZone: 'Europe/Paris' };
    // March 2025 in Paris: starts at 1 Mar 00:00 CET (UTC+1), ends 1 Apr 00:00 CEST (UTC+2).
    expect(periodContaining(paris, utc(2025, 3, 15))).toMatchObject({ start: utc(2025, 2, 28, 23), end: utc(2025, 3, 31, 22) });
    expect(periodContaining(paris, utc(2025, 2, 28, 23, 30))).toMatchObject({ start: utc(2025, 2, 28, 23) });
    expect(periodContaining(paris, utc(2025, 2, 28, 22, 30))).toMatchObject({ end: utc(2025, 2, 28, 23) });
  });

  it('billing anchor on the 31st clamps like Stripe: Jan 31 → Feb 28 → Mar 31', () => {
    const rule: PeriodRule = { kind: 'anchor', anchor: utc(2025, 1, 31, 10), timeZone: 'UTC' };
    expect(periodContaining(rule, utc(2025, 2, 10))).toMatchObject({ start: utc(2025, 1, 31, 10), end: utc(2025, 2, 28, 10), source: 'anchor' });
    expect(periodContaining(rule, utc(2025, 3, 1))).toMatchObject({ start: utc(2025, 2, 28, 10), end: utc(2025, 3, 31, 10) });
    expect(periodContaining(rule, utc(2024, 2, 29, 11))).toMatchObject({ start: utc(2024, 2, 29, 10), end: utc(2024, 3, 31, 10) });
    // Before the anchor, the schedule extends backwards.
    expect(periodContaining(rule, utc(2024, 12, 15))).toMatchObject({ start: utc(2024, 11, 30, 10), end: utc(2024, 12, 31, 10) });
  });

  it('subscription period: steps by whole months from the known period, clamping the anchor day', () => {
    const rule: PeriodRule = { kind: 'subscription', start: utc(2025, 1, 31, 8), end: utc(2025, 2, 28, 8), subscriptionId: 'sub_1' };
    expect(periodContaining(rule, utc(2025, 2, 1))).toEqual({ start: utc(2025, 1, 31, 8), end: utc(2025, 2, 28, 8), source: 'subscription' });
    expect(periodContaining(rule, utc(2025, 3, 15))).toMatchObject({ start: utc(2025, 2, 28, 8), end: utc(2025, 3, 31, 8) });
    expect(periodContaining(rule, utc(2025, 4, 30, 9))).toMatchObject({ start: utc(2025, 4, 30, 8), end: utc(2025, 5, 31, 8) });
    expect(periodContaining(rule, utc(2025, 1, 10))).toMatchObject({ start: utc(2024, 12, 31, 8), end: utc(2025, 1, 31, 8) });
    // A clamped known period (Feb 28 → Mar 31) reveals the real anchor day.
    const clamped: PeriodRule = { kind: 'subscription', start: utc(2025, 2, 28), end: utc(2025, 3, 31), subscriptionId: 'sub_2' };
    expect(periodContaining(clamped, utc(2025, 4, 5))).toMatchObject({ start: utc(2025, 3, 31), end: utc(2025, 4, 30) });
    // Yearly and weekly intervals.
    const yearly: PeriodRule = { kind: 'subscription', start: utc(2025, 3, 10), end: utc(2026, 3, 10), subscriptionId: 'sub_3' };
    expect(periodContaining(yearly, utc(2027, 1, 1))).toMatchObject({ start: utc(2026, 3, 10), end: utc(2027, 3, 10) });
    const weekly: PeriodRule = { kind: 'subscription', start: utc(2025, 3, 3), end: utc(2025, 3, 10), subscriptionId: 'sub_4' };
    expect(periodContaining(weekly, utc(2025, 3, 20))).toMatchObject({ start: utc(2025, 3, 17), end: utc(2025, 3, 24) });
  });

  it('wall times skipped or repeated by DST resolve like Temporal "compatible"', () => {
    const ny = 'America/New_York';
    // 2025-03-09 02:30 does not exist in New York: it moves forward to 03:30 EDT.
    expect(instantOf({ year: 2025, month: 3, day: 9, hour: 2, minute: 30, second: 0, millisecond: 0 }, ny)).toBe(utc(2025, 3, 9, 7, 30));
    // 2025-11-02 01:30 happens twice: the first (EDT) is taken.
    expect(instantOf({ year: 2025, month: 11, day: 2, hour: 1, minute: 30, second: 0, millisecond: 0 }, ny)).toBe(utc(2025, 11, 2, 5, 30));
  });
});

describe('record reader', () => {
  async function read(chunks: (string | Buffer)[], format: 'jsonl' | 'csv', max = 1000): Promise<InputRecord[]> {
    const out: InputRecord[] = [];
    async function* input() {
      for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
    }
    for await (const r of readRecords(input(), format, max, { bytesRead: 0 })) out.push(r);
    return out;
  }

  it('splits JSONL across chunk boundaries, CRLF, blank lines, oversize lines', async () => {
    const records = await read(['{"a":1}\r\n\n{"b"', ':2}\n', 'x'.repeat(50), 'y'.repeat(60), '\n{"c":3}'], 'jsonl', 100);
    expect(records).toEqual([
      { record: 1, kind: 'line', text: '{"a":1}' },
      { record: 2, kind: 'line', text: '{"b":2}' },
      { record: 3, kind: 'too_large' },
      { record: 4, kind: 'line', text: '{"c":3}' },
    ]);
  });

  it('parses CSV with quotes, escaped quotes and line breaks inside quotes; UTF-8 split across chunks', async () => {
    const euro = Buffer.from('€');
    const tail = Buffer.from('api,cus_€');
    const chunks = ['metric,customerRef,quantity,ts,meta\n', 'api,"cus ""A""",1.5,2025-01-01T00:00:00Z,"{""k"":""a,\nb""}"\r\n', tail.subarray(0, tail.length - 2), tail.subarray(tail.length - 2)];
    const records = await read(chunks, 'csv');
    expect(records[0]).toEqual({ record: 1, kind: 'fields', fields: ['metric', 'customerRef', 'quantity', 'ts', 'meta'] });
    expect(records[1]).toEqual({ record: 2, kind: 'fields', fields: ['api', 'cus "A"', '1.5', '2025-01-01T00:00:00Z', '{"k":"a,\nb"}'] });
    expect(records[2]).toEqual({ record: 3, kind: 'fields', fields: ['api', 'cus_€'] });
    expect(euro.length).toBe(3);
    expect(await read(['a,"b', 'c'], 'csv')).toEqual([{ record: 1, kind: 'malformed', reason: 'unterminated quoted field at the end of the input' }]);
    expect(await read(['a,b"c\n'], 'csv')).toEqual([{ record: 1, kind: 'malformed', reason: 'a quote inside an unquoted field' }]);
  });
});

describe('group commit', () => {
  const event = (key: string, hash = 'h', tenantId = 't'): LedgerEventInput => ({
    tenantId,
    idempotencyKey: key,
    metric: 'm',
    customerRef: 'c',
    resourceId: null,
    ts: 1,
    quantityMicro: 1n,
    meta: null,
    contentHash: hash,
    periodStart: 0,
    periodEnd: 10,
    late: false,
    source: 'api',
    receivedAt: 1,
  });

  it('combines concurrent requests in one write; repeats inside the group are duplicates or conflicts', async () => {
    const writes: LedgerEventInput[][] = [];
    const batcher = new IngestBatcher(async (events) => {
      writes.push(events);
      return events.map((): LedgerWriteOutcome => ({ status: 'inserted', adjustmentId: null }));
    }, { maxGroupEvents: 1000, maxInFlight: 1, maxQueuedEvents: 10_000 });
    const [a, b, c] = await Promise.all([
      batcher.submit([event('k1'), event('k2')]),
      batcher.submit([event('k1'), event('k2', 'other')]),
      batcher.submit([event('k1', 'h', 'u')]),
    ]);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.map((e) => `${e.tenantId}/${e.idempotencyKey}`)).toEqual(['t/k1', 't/k2', 'u/k1']);
    expect(a!.map((o) => o.status)).toEqual(['inserted', 'inserted']);
    expect(b!.map((o) => o.status)).toEqual(['duplicate', 'conflict']);
    expect(c!.map((o) => o.status)).toEqual(['inserted']);
  });

  it('isolates a failing request: the others of its group still commit', async () => {
    const batcher = new IngestBatcher(async (events) => {
      if (events.some((e) => e.idempotencyKey === 'poison')) throw new Error('boom');
      return events.map((): LedgerWriteOutcome => ({ status: 'inserted', adjustmentId: null }));
    }, { maxGroupEvents: 1000, maxInFlight: 1, maxQueuedEvents: 10_000 });
    const results = await Promise.allSettled([batcher.submit([event('a')]), batcher.submit([event('poison')]), batcher.submit([event('b')])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('starts another group beside the one in flight only once enough events wait', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const writes: string[][] = [];
    const batcher = new IngestBatcher(async (events) => {
      writes.push(events.map((e) => e.idempotencyKey));
      await gate;
      return events.map((): LedgerWriteOutcome => ({ status: 'inserted', adjustmentId: null }));
    }, { maxGroupEvents: 1000, maxInFlight: 4, maxQueuedEvents: 10_000, parallelGroupMinEvents: 3 });
    const turn = () => new Promise((r) => setImmediate(r));
    const submitted = [batcher.submit([event('a')])];
    await turn(); // group [a] in flight
    submitted.push(batcher.submit([event('b')]), batcher.submit([event('c')]));
    await turn();
    // Two waiting events: they wait for the group in flight rather than make a second small one.
    expect(writes).toEqual([['a']]);
    submitted.push(batcher.submit([event('d')]));
    await turn();
    // Three waiting: enough for a group of their own, in parallel.
    expect(writes).toEqual([['a'], ['b', 'c', 'd']]);
    release();
    expect((await Promise.all(submitted)).map((o) => o.map((x) => x.status))).toEqual([['inserted'], ['inserted'], ['inserted'], ['inserted']]);
  });

  it('refuses work beyond the queue bound (429) instead of growing without limit', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new IngestBatcher(async (events) => {
      await gate;
      return events.map((): LedgerWriteOutcome => ({ status: 'inserted', adjustmentId: null }));
    }, { maxGroupEvents: 2, maxInFlight: 1, maxQueuedEvents: 3 });
    const first = batcher.submit([event('1'), event('2')]);
    await new Promise((r) => setImmediate(r)); // the first group is now in flight
    const queued = batcher.submit([event('3'), event('4'), event('5')]);
    await expect(batcher.submit([event('6')])).rejects.toMatchObject({ code: 'rate_limited' });
    release();
    await expect(first).resolves.toHaveLength(2);
    await expect(queued).resolves.toHaveLength(3);
  });
});
