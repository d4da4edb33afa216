import { AppError } from '../shared/app-error.js';
import { listPage } from '../shared/list-page.js';
import type { BillingEventRecord, Store } from '../store/store.js';

export interface BillingEventFilters {
  type?: string | undefined;
  customer?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
  includePayload?: boolean | undefined;
  flagged?: boolean | undefined;
}

export interface BillingEventView {
  id: string;
  type: string;
  created: string;
  livemode: boolean;
  apiVersion: string | null;
  account: string | null;
  object: { type: string | null; id: string | null };
  customer: string | null;
  amount: number | null;
  currency: string | null;
  status: string | null;
  source: string;
  receivedAt: string;
  /** Set by the detectors on events that are evidence of an anomaly (0–100). */
  anomalyScore: number;
  flagged: boolean;
  payload?: unknown;
}

export interface BillingEventPage {
  data: BillingEventView[];
  nextCursor: string | null;
}

const MAX_LIMIT = 500;

/** Newest first by Stripe's `created`, with an opaque cursor that survives concurrent inserts. */
export async function listBillingEvents(store: Store, tenantId: string, filters: BillingEventFilters): Promise<BillingEventPage> {
  const problems: string[] = [];
  const limit = filters.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) problems.push(`limit must be 1 to ${MAX_LIMIT}`);
  const since = parseTime('since', filters.since, problems);
  const until = parseTime('until', filters.until, problems);
  const before = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor, problems);
  const types = filters.type?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });

  const rows = await store.listBillingEvents(tenantId, {
    ...(types ? { types } : {}),
    ...(filters.customer !== undefined ? { customer: filters.customer } : {}),
    ...(filters.flagged !== undefined ? { flagged: filters.flagged } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(before ? { before } : {}),
    limit: limit + 1,
  });
  const { page, nextCursor } = listPage(rows, limit, encodeCursor);
  return { data: page.map((r) => toView(r, filters.includePayload === true)), nextCursor };
}

/** ISO 8601 with an offset, or unix seconds; returned as unix seconds (Stripe's `created` unit). */
function parseTime(name: string, raw: string | undefined, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  if (/^\d{1,12}$/.test(raw)) return Number(raw);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) {
    const ms = Date.parse(raw);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  problems.push(`${name} must be unix seconds or an ISO 8601 time with an offset`);
  return undefined;
}

function encodeCursor(r: BillingEventRecord): string {
  return Buffer.from(`${r.created}:${r.seq}`).toString('base64url');
}

function decodeCursor(cursor: string, problems: string[]): { created: number; seq: number } | undefined {
  const m = /^(\d{1,12}):(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) {
    problems.push('cursor is not valid');
    return undefined;
  }
  return { created: Number(m[1]), seq: Number(m[2]) };
}

function toView(r: BillingEventRecord, includePayload: boolean): BillingEventView {
  const view: BillingEventView = {
    id: r.eventId,
    type: r.type,
    created: new Date(r.created * 1000).toISOString(),
    livemode: r.livemode,
    apiVersion: r.apiVersion,
    account: r.account,
    object: { type: r.objectType, id: r.objectId },
    customer: r.customer,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    source: r.source,
    receivedAt: new Date(r.receivedAt).toISOString(),
    anomalyScore: r.anomalyScore,
    flagged: r.flagged,
  };
  if (includePayload) view.payload = JSON.parse(r.payload);
  return view;
}
