import type { CorrectionRecord, ParityCheckRecord, ReconcileResultRecord, ReconcileRunRecord } from '../store/reconciliation-store.js';
import { formatPpm } from './drift.js';
import { microToDecimal } from './stripe-value.js';

const iso = (ms: number) => new Date(ms).toISOString();
const dec = (v: bigint | null) => (v === null ? null : microToDecimal(v));

export function runView(r: ReconcileRunRecord) {
  return {
    id: r.id,
    trigger: r.trigger,
    status: r.status,
    checked: r.checked,
    drifted: r.drifted,
    failed: r.failed,
    error: r.error,
    startedAt: iso(r.startedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
  };
}

export function resultView(r: ReconcileResultRecord) {
  return {
    mappingId: r.mappingId,
    metric: r.metric,
    aggregation: r.aggregation,
    meterId: r.meterId,
    customerRef: r.customerRef,
    stripeCustomerId: r.stripeCustomerId,
    periodStart: iso(r.periodStart),
    periodEnd: iso(r.periodEnd),
    local: microToDecimal(r.localMicro),
    stripe: dec(r.stripeMicro),
    drift: r.driftPpm === null ? null : formatPpm(r.driftPpm),
    driftPpm: r.driftPpm,
    status: r.status,
    error: r.error,
    runId: r.runId,
    checkedAt: iso(r.checkedAt),
  };
}

export function correctionView(c: CorrectionRecord) {
  return {
    id: c.id,
    mappingId: c.mappingId,
    customerRef: c.customerRef,
    stripeCustomerId: c.stripeCustomerId,
    periodStart: iso(c.periodStart),
    periodEnd: iso(c.periodEnd),
    local: microToDecimal(c.localMicro),
    stripe: microToDecimal(c.stripeMicro),
    delta: microToDecimal(c.deltaMicro),
    action: c.action,
    status: c.status,
    seenRuns: c.seenRuns,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    decision: c.decidedAt === null ? null : { at: iso(c.decidedAt), by: c.decidedBy, reason: c.decisionReason },
  };
}

export function parityView(p: ParityCheckRecord) {
  return {
    invoiceId: p.invoiceId,
    lineId: p.lineId,
    eventId: p.eventId,
    customerRef: p.customerRef,
    stripeCustomerId: p.stripeCustomerId,
    mappingId: p.mappingId,
    metric: p.metric,
    priceId: p.priceId,
    periodStart: iso(p.periodStart),
    periodEnd: iso(p.periodEnd),
    invoiceQuantity: microToDecimal(p.invoiceMicro),
    local: dec(p.localMicro),
    drift: p.driftPpm === null ? null : formatPpm(p.driftPpm),
    status: p.status,
    detail: p.detail,
    checkedAt: iso(p.checkedAt),
  };
}

/** The configured epsilon, as a percentage string. */
export function epsilonView(epsilonPpm: number): string {
  return formatPpm(epsilonPpm);
}

const CSV_COLUMNS = ['period_start', 'period_end', 'mapping_id', 'metric', 'aggregation', 'meter_id', 'customer_ref', 'stripe_customer_id', 'local', 'stripe', 'drift_percent', 'status', 'error', 'checked_at'];

/** RFC 4180; text cells a spreadsheet would run as a formula get a leading quote (numbers are ours and stay as they are). */
export function resultsToCsv(results: ReconcileResultRecord[]): string {
  const text = (v: string | null) => {
    if (v === null) return '';
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of results) {
    lines.push(
      [
        iso(r.periodStart),
        iso(r.periodEnd),
        text(r.mappingId),
        text(r.metric),
        r.aggregation,
        text(r.meterId),
        text(r.customerRef),
        text(r.stripeCustomerId),
        microToDecimal(r.localMicro),
        dec(r.stripeMicro) ?? '',
        r.driftPpm === null ? '' : formatPpm(r.driftPpm).replace('%', ''),
        r.status,
        text(r.error),
        iso(r.checkedAt),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
