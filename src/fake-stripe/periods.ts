/** Billing periods, UTC. A monthly period keeps the anchor's day of month, clamped to short months. */
export type Interval = 'day' | 'week' | 'month' | 'year';

export function addIntervals(anchor: number, interval: Interval, count: number, n: number): number {
  if (interval === 'day') return anchor + n * count * 86_400;
  if (interval === 'week') return anchor + n * count * 7 * 86_400;
  const d = new Date(anchor * 1000);
  const months = (interval === 'year' ? 12 : 1) * count * n;
  const targetMonth = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(targetMonth / 12);
  const month = ((targetMonth % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/**
 * The period containing `now`: before a future anchor, the first (short) period runs from the start
 * date to the anchor; after it, whole intervals counted from the anchor.
 */
export function periodAt(now: number, startDate: number, anchor: number, interval: Interval, count: number): { start: number; end: number } {
  if (now < anchor) return { start: startDate, end: anchor };
  let n = 0;
  if (interval === 'day' || interval === 'week') {
    const size = (interval === 'day' ? 1 : 7) * count * 86_400;
    n = Math.floor((now - anchor) / size);
  } else {
    while (addIntervals(anchor, interval, count, n + 1) <= now) n += 1;
  }
  return { start: addIntervals(anchor, interval, count, n), end: addIntervals(anchor, interval, count, n + 1) };
}
