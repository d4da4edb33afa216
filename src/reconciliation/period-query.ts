import { AppError } from '../shared/app-error.js';
import { parseTimeInput } from '../metering/time-input.js';

/**
 * `?period=` of the reconciliation report: `current` (periods containing now), `YYYY-MM` (periods
 * overlapping that UTC month), or an instant (ISO 8601 / YYYY-MM-DD / epoch ms: periods containing
 * it). `since`/`until` give an explicit range instead. Returns [from, to) or nothing (everything).
 */
export function periodRange(query: { period?: string; since?: string; until?: string }, now: number): { from?: number; to?: number } {
  const problems: string[] = [];
  if (query.period !== undefined && (query.since !== undefined || query.until !== undefined)) problems.push('give either period or since/until, not both');
  let range: { from?: number; to?: number } = {};
  if (query.period === 'current') range = { from: now, to: now + 1 };
  else if (query.period !== undefined && /^\d{4}-\d{2}$/.test(query.period)) {
    const [y, m] = query.period.split('-').map(Number) as [number, number];
    if (m < 1 || m > 12) problems.push('period YYYY-MM needs a month between 01 and 12');
    else range = { from: Date.UTC(y, m - 1, 1), to: Date.UTC(y, m, 1) };
  } else if (query.period !== undefined) {
    const at = parseTimeInput('period', query.period, problems);
    if (at !== undefined) range = { from: at, to: at + 1 };
    else problems.splice(problems.length - 1, 1, 'period must be "current", YYYY-MM, or an instant (ISO 8601 with an offset, YYYY-MM-DD or epoch ms)');
  } else {
    const from = parseTimeInput('since', query.since, problems);
    const to = parseTimeInput('until', query.until, problems);
    range = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    if (from !== undefined && to !== undefined && to <= from) problems.push('until must be after since');
  }
  if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });
  return range;
}
