import { describe, expect, it } from 'vitest';
import { latestPeriod } from '../../src/alerts/digest-period.js';
import { isValidTimeZone, zonedTimeToUtc } from '../../src/shared/zoned-time.js';

const utc = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('digest periods', () => {
  it('hourly: the last full local hour, also in a half-hour zone', () => {
    const p = latestPeriod({ frequency: 'hourly', hour: 9, weekday: 1, timeZone: 'UTC' }, utc('2026-11-20T12:34:56.789Z'));
    expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-20T11:00:00.000Z', '2026-11-20T12:00:00.000Z']);
    expect(p.label).toBe('2026-11-20 11:00 – 2026-11-20 12:00 (UTC)');
    // Kolkata is UTC+05:30: local hours start at :30 UTC.
    const k = latestPeriod({ frequency: 'hourly', hour: 0, weekday: 1, timeZone: 'Asia/Kolkata' }, utc('2026-11-20T12:10:00Z'));
    expect([iso(k.start), iso(k.end)]).toEqual(['2026-11-20T10:30:00.000Z', '2026-11-20T11:30:00.000Z']);
  });

  it('daily: 24 local hours ending at the configured hour, 23 or 25 across DST', () => {
    const ny = { frequency: 'daily' as const, hour: 9, weekday: 1, timeZone: 'America/New_York' };
    // 2026-11-20 09:00 EST is 14:00 UTC.
    const before = latestPeriod(ny, utc('2026-11-20T13:59:59Z'));
    expect([iso(before.start), iso(before.end)]).toEqual(['2026-11-18T14:00:00.000Z', '2026-11-19T14:00:00.000Z']);
    const at = latestPeriod(ny, utc('2026-11-20T14:00:00Z'));
    expect([iso(at.start), iso(at.end)]).toEqual(['2026-11-19T14:00:00.000Z', '2026-11-20T14:00:00.000Z']);
    expect(at.label).toBe('2026-11-19 09:00 – 2026-11-20 09:00 (America/New_York)');
    // DST ended on 2026-11-01 in New York: the day before lasted 25 hours.
    const fallBack = latestPeriod(ny, utc('2026-11-01T15:00:00Z'));
    expect([iso(fallBack.start), iso(fallBack.end)]).toEqual(['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z']);
    expect(fallBack.end - fallBack.start).toBe(25 * 3_600_000);
    // Spring forward (2026-03-08): a 23-hour day.
    const spring = latestPeriod(ny, utc('2026-03-08T14:00:00Z'));
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
  });

  it('weekly: the week ending on the configured weekday and hour', () => {
    const paris = { frequency: 'weekly' as const, hour: 8, weekday: 1, timeZone: 'Europe/Paris' };
    // Friday 2026-11-20; the last Monday 08:00 Paris (UTC+1) was 2026-11-16 07:00 UTC.
    const p = latestPeriod(paris, utc('2026-11-20T12:00:00Z'));
    expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-09T07:00:00.000Z', '2026-11-16T07:00:00.000Z']);
    // On Monday before 08:00 it is still the week before.
    const early = latestPeriod(paris, utc('2026-11-16T06:59:00Z'));
    expect(iso(early.end)).toBe('2026-11-09T07:00:00.000Z');
    const onTime = latestPeriod(paris, utc('2026-11-16T07:00:00Z'));
    expect(iso(onTime.end)).toBe('2026-11-16T07:00:00.000Z');
  });

  it('converts local wall time to UTC and validates zone names', () => {
    expect(iso(zonedTimeToUtc({ year: 2026, month: 7, day: 1 }, 9, 'Europe/Paris'))).toBe('2026-07-01T07:00:00.000Z');
    expect(iso(zonedTimeToUtc({ year: 2026, month: 1, day: 1 }, 9, 'Europe/Paris'))).toBe('2026-01-01T08:00:00.000Z');
    expect(isValidTimeZone('Asia/Tokyo')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
