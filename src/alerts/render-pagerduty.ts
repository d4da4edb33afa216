import type { AlertMessage } from './alert-message.js';
import { singleLine, truncate } from './escape-text.js';

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
 * One PagerDuty alert per Meterwatch incident: the dedup key is stable per (tenant, incident), so
 * an escalation updates the same alert and a resolve closes it. Digests are not sent to PagerDuty.
 */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: 'critical' | 'error' | 'warning' | 'info';
        timestamp: string;
        component: string;
        group: string;
        class: string;
        custom_details: Record<string, unknown>;
      };
      links: { href: string; text: string }[];
      client: string;
    }
  | { routing_key: string; event_action: 'resolve'; dedup_key: string };

const SEVERITY: Record<string, 'critical' | 'warning' | 'info'> = { critical: 'critical', warning: 'warning', info: 'info' };

export function pagerDutyDedupKey(tenantId: string, incidentId: string): string {
  return `meterwatch:${tenantId}:${incidentId}`;
}

/** The events for a message, in order (a test triggers then resolves, so nobody stays paged). */
export function renderPagerDuty(message: AlertMessage, routingKey: string): PagerDutyEvent[] {
  if (message.kind === 'digest') return [];
  if (message.kind === 'test') {
    const dedup = `meterwatch:${message.tenantId}:test:${message.channelId}`;
    return [
      {
        routing_key: routingKey,
        event_action: 'trigger',
        dedup_key: dedup,
        payload: {
          summary: truncate(`Meterwatch test message for channel ${singleLine(message.channelName)}`, 1024),
          source: 'meterwatch',
          severity: 'info',
          timestamp: message.sentAt,
          component: 'alerts',
          group: message.tenantId,
          class: 'test',
          custom_details: { tenant: message.tenantId, channel: message.channelName },
        },
        links: [],
        client: 'Meterwatch',
      },
      { routing_key: routingKey, event_action: 'resolve', dedup_key: dedup },
    ];
  }
  const i = message.incident;
  const dedup = pagerDutyDedupKey(message.tenantId, i.id);
  if (message.action === 'resolve') return [{ routing_key: routingKey, event_action: 'resolve', dedup_key: dedup }];
  return [
    {
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: dedup,
      payload: {
        summary: truncate(singleLine(`[${i.detector}] ${i.summary}`), 1024),
        source: `meterwatch/${message.tenantId}`,
        severity: SEVERITY[i.severity] ?? 'warning',
        timestamp: message.occurredAt,
        component: i.detector,
        group: message.tenantId,
        class: i.detector,
        custom_details: { tenant: message.tenantId, anomaly: i.id, subject: `${i.subject.type} ${i.subject.id}`, status: i.status, action: message.action, figures: i.figures },
      },
      links: [{ href: i.url, text: 'Anomaly in Meterwatch' }],
      client: 'Meterwatch',
    },
  ];
}
