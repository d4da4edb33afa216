import type { IncidentRecord, NotificationRecord } from '../store/detector-store.js';
import type { DigestContent } from './digest-content.js';

/**
 * What a delivery carries, snapshotted when the delivery is created: retries and restarts render
 * the same bytes (the Standard Webhooks body, the email) even if the incident changed meanwhile.
 * Every string in it may come from Stripe data or a tenant's input: renderers escape all of it.
 */
export type AlertAction = 'open' | 'escalate' | 'resolve';

export interface IncidentAlert {
  kind: 'incident';
  action: AlertAction;
  notificationId: string;
  tenantId: string;
  /** When the notification was recorded (ISO 8601). */
  occurredAt: string;
  incident: {
    id: string;
    detector: string;
    severity: string;
    status: string;
    summary: string;
    subject: { type: string; id: string };
    figures: Record<string, string | number>;
    firstTriggeredAt: string;
    openedAt: string;
    resolvedAt: string | null;
    resolutionReason: string | null;
    /** The incident in the API. */
    url: string;
  };
}

export interface DigestAlert {
  kind: 'digest';
  digestId: string;
  digest: DigestContent;
}

export interface TestAlert {
  kind: 'test';
  tenantId: string;
  channelId: string;
  channelName: string;
  sentAt: string;
}

export type AlertMessage = IncidentAlert | DigestAlert | TestAlert;

const iso = (ms: number) => new Date(ms).toISOString();

export function incidentUrl(publicUrl: string, incidentId: string): string {
  return `${publicUrl}/v1/anomalies/${encodeURIComponent(incidentId)}`;
}

export function buildIncidentAlert(notification: NotificationRecord, incident: IncidentRecord, publicUrl: string): IncidentAlert {
  return {
    kind: 'incident',
    action: notification.kind,
    notificationId: notification.id,
    tenantId: notification.tenantId,
    occurredAt: iso(notification.createdAt),
    incident: {
      id: incident.id,
      detector: incident.detector,
      // The severity the notification was raised with (an escalation's new level), not a later one.
      severity: notification.severity,
      status: notification.kind === 'resolve' ? 'resolved' : incident.status === 'resolved' || incident.status === 'false_positive' ? 'open' : incident.status,
      summary: incident.summary,
      subject: { type: incident.subjectType, id: incident.subjectId },
      figures: incident.figures,
      firstTriggeredAt: iso(incident.firstTriggeredAt),
      openedAt: iso(incident.openedAt),
      resolvedAt: notification.kind === 'resolve' && incident.resolvedAt !== null ? iso(incident.resolvedAt) : null,
      resolutionReason: notification.kind === 'resolve' ? incident.resolutionReason : null,
      url: incidentUrl(publicUrl, incident.id),
    },
  };
}

export const SEVERITY_LABEL: Record<string, string> = { info: 'Info', warning: 'Warning', critical: 'Critical' };

/** A one-line title, e.g. "Critical: refund_surge opened". */
export function alertTitle(message: AlertMessage): string {
  switch (message.kind) {
    case 'incident': {
      const verb = message.action === 'open' ? 'opened' : message.action === 'escalate' ? 'escalated' : 'resolved';
      const level = message.action === 'resolve' ? 'Resolved' : (SEVERITY_LABEL[message.incident.severity] ?? message.incident.severity);
      return `${level}: ${message.incident.detector} ${verb}`;
    }
    case 'digest':
      return `Meterwatch ${message.digest.period.frequency} digest`;
    case 'test':
      return 'Meterwatch test message';
  }
}
