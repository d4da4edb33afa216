import { AppError } from '../shared/app-error.js';
import type { Store } from '../store/store.js';
import type { IncidentQuery, IncidentStatus } from '../store/detector-store.js';
import { toIncidentView, type IncidentView } from './incident-view.js';

export interface AnomalyFilters {
  status?: string | undefined;
  detector?: string | undefined;
  severity?: string | undefined;
  customer?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved', 'false_positive'];
const SEVERITIES = ['info', 'warning', 'critical'];

/** Parses API filters into a store query; every bad filter is reported together. */
export function parseAnomalyFilters(filters: AnomalyFilters, maxLimit = 500): IncidentQuery {
  const problems: string[] = [];
  const limit = filters.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) problems.push(`limit must be 1 to ${maxLimit}`);
  const statuses = filters.status?.split(',').map((s) => s.trim()) as IncidentStatus[] | undefined;
  if (statuses?.some((s) => !STATUSES.includes(s))) problems.push(`status must be among ${STATUSES.join(', ')}`);
  if (filters.severity !== undefined && !SEVERITIES.includes(filters.severity)) problems.push(`severity must be one of ${SEVERITIES.join(', ')}`);
  const since = parseTimeMs('since', filters.since, problems);
  const until = parseTimeMs('until', filters.until, problems);
  let before: IncidentQuery['before'];
  if (filters.cursor !== undefined) {
    const m = /^(\d{1,16}):([A-Za-z0-9_]{1,64})$/.exec(Buffer.from(filters.cursor, 'base64url').toString('utf8'));
    if (m) before = { firstTriggeredAt: Number(m[1]), id: m[2]! };
    else problems.push('cursor is not valid');
  }
  if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });
  return {
    ...(statuses ? { statuses } : {}),
    ...(filters.detector !== undefined ? { detector: filters.detector } : {}),
    ...(filters.severity !== undefined ? { severity: filters.severity } : {}),
    ...(filters.customer !== undefined ? { subjectId: filters.customer } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(before ? { before } : {}),
    limit,
  };
}

export async function listAnomalies(store: Store, tenantId: string, filters: AnomalyFilters): Promise<{ data: IncidentView[]; nextCursor: string | null }> {
  const query = parseAnomalyFilters(filters);
  const rows = await store.detectors.listIncidents(tenantId, { ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toIncidentView),
    nextCursor: rows.length > query.limit && last ? Buffer.from(`${last.firstTriggeredAt}:${last.id}`).toString('base64url') : null,
  };
}

/** ISO 8601 with an offset, or unix seconds; returned as epoch milliseconds. */
export function parseTimeMs(name: string, raw: string | undefined, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  if (/^\d{1,12}$/.test(raw)) return Number(raw) * 1000;
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw)) {
    const ms = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
    if (!Number.isNaN(ms)) return ms;
  }
  problems.push(`${name} must be unix seconds, a date (YYYY-MM-DD, UTC) or an ISO 8601 time with an offset`);
  return undefined;
}
