import type { IncidentRecord } from '../store/detector-store.js';

export interface IncidentView {
  id: string;
  tenantId: string;
  detector: string;
  subject: { type: string; id: string };
  status: string;
  severity: string;
  historical: boolean;
  summary: string;
  figures: Record<string, string | number>;
  evidence: { eventIds: string[] };
  firstTriggeredAt: string;
  lastTriggeredAt: string;
  openedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolution: { actor: string; reason: string | null } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toIncidentView(i: IncidentRecord): IncidentView {
  return {
    id: i.id,
    tenantId: i.tenantId,
    detector: i.detector,
    subject: { type: i.subjectType, id: i.subjectId },
    status: i.status,
    severity: i.severity,
    historical: i.historical,
    summary: i.summary,
    figures: i.figures,
    evidence: { eventIds: i.evidence },
    firstTriggeredAt: iso(i.firstTriggeredAt),
    lastTriggeredAt: iso(i.lastTriggeredAt),
    openedAt: iso(i.openedAt),
    updatedAt: iso(i.updatedAt),
    acknowledgedAt: i.acknowledgedAt === null ? null : iso(i.acknowledgedAt),
    acknowledgedBy: i.acknowledgedBy,
    resolvedAt: i.resolvedAt === null ? null : iso(i.resolvedAt),
    resolution: i.resolutionActor === null ? null : { actor: i.resolutionActor, reason: i.resolutionReason },
  };
}

const CSV_COLUMNS = ['id', 'detector', 'subject_type', 'subject_id', 'status', 'severity', 'historical', 'first_triggered_at', 'last_triggered_at', 'resolved_at', 'summary', 'evidence_event_ids'];

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with a quote. */
export function incidentsToCsv(incidents: IncidentRecord[]): string {
  const cell = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const i of incidents) {
    lines.push(
      [
        i.id,
        i.detector,
        i.subjectType,
        i.subjectId,
        i.status,
        i.severity,
        String(i.historical),
        iso(i.firstTriggeredAt),
        iso(i.lastTriggeredAt),
        i.resolvedAt === null ? '' : iso(i.resolvedAt),
        i.summary,
        i.evidence.join(' '),
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
