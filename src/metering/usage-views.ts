import type { AdjustmentRecord, CounterRecord, ImportRecord, LedgerEventRecord } from '../store/metering-store.js';
import { parseJsonExact } from './exact-json.js';
import { formatMicro } from './quantity.js';

/** API shapes. Quantities are exact decimal strings ("12.5"), times ISO 8601 UTC. */
const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export interface EventView {
  tenantId: string;
  idempotencyKey: string;
  metric: string;
  customerRef: string;
  resourceId: string | null;
  quantity: string;
  ts: string;
  meta: Record<string, unknown> | null;
  period: { start: string; end: string };
  late: boolean;
  source: string;
  receivedAt: string;
}

export function toEventView(e: LedgerEventRecord): EventView {
  return {
    tenantId: e.tenantId,
    idempotencyKey: e.idempotencyKey,
    metric: e.metric,
    customerRef: e.customerRef,
    resourceId: e.resourceId,
    quantity: formatMicro(e.quantityMicro),
    ts: iso(e.ts),
    // Stored as received; long numbers come back as ExactNumber: serialise with stringifyJsonExact.
    meta: e.meta === null ? null : (parseJsonExact(e.meta).value as Record<string, unknown>),
    period: { start: iso(e.periodStart), end: iso(e.periodEnd) },
    late: e.late,
    source: e.source,
    receivedAt: iso(e.receivedAt),
  };
}

export interface CounterView {
  metric: string;
  sum: string;
  max: string | null;
  last: string | null;
  lastTs: string | null;
  count: number;
  updatedAt: string;
}

export function toCounterView(c: CounterRecord): CounterView {
  return {
    metric: c.metric,
    sum: formatMicro(c.sumMicro),
    max: c.maxMicro === null ? null : formatMicro(c.maxMicro),
    last: c.lastMicro === null ? null : formatMicro(c.lastMicro),
    lastTs: isoOrNull(c.lastTs),
    count: c.eventCount,
    updatedAt: iso(c.updatedAt),
  };
}

export interface AdjustmentView {
  id: string;
  tenantId: string;
  kind: string;
  status: string;
  metric: string;
  customerRef: string;
  period: { start: string; end: string };
  delta: string;
  event: { idempotencyKey: string; ts: string } | null;
  parentId: string | null;
  revertedBy: string | null;
  reason: string | null;
  createdAt: string;
  createdBy: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export function toAdjustmentView(a: AdjustmentRecord): AdjustmentView {
  return {
    id: a.id,
    tenantId: a.tenantId,
    kind: a.kind,
    status: a.status,
    metric: a.metric,
    customerRef: a.customerRef,
    period: { start: iso(a.periodStart), end: iso(a.periodEnd) },
    delta: formatMicro(a.deltaMicro),
    event: a.eventKey !== null && a.eventTs !== null ? { idempotencyKey: a.eventKey, ts: iso(a.eventTs) } : null,
    parentId: a.parentId,
    revertedBy: a.revertedBy,
    reason: a.reason,
    createdAt: iso(a.createdAt),
    createdBy: a.createdBy,
    decidedAt: isoOrNull(a.decidedAt),
    decidedBy: a.decidedBy,
    decisionReason: a.decisionReason,
  };
}

export interface ImportView {
  operationId: string;
  tenantId: string;
  status: string;
  format: string;
  sourceName: string | null;
  records: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  late: number;
  bytesRead: number;
  reasons: ImportRecord['reasons'];
  error: string | null;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export function toImportView(o: ImportRecord): ImportView {
  return {
    operationId: o.id,
    tenantId: o.tenantId,
    status: o.status,
    format: o.format,
    sourceName: o.sourceName,
    records: o.records,
    accepted: o.accepted,
    duplicates: o.duplicates,
    conflicts: o.conflicts,
    rejected: o.rejected,
    late: o.late,
    bytesRead: o.bytesRead,
    reasons: o.reasons,
    error: o.error,
    startedAt: iso(o.startedAt),
    updatedAt: iso(o.updatedAt),
    finishedAt: isoOrNull(o.finishedAt),
  };
}
