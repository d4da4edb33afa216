import type { AlertMessage } from './alert-message.js';

/**
 * The generic webhook body, in the Standard Webhooks envelope `{type, timestamp, data}`. The
 * timestamp is when the thing happened (not the attempt), so every retry sends the same bytes;
 * the attempt time is the signed `webhook-timestamp` header.
 */
export interface WebhookBody {
  type: 'incident.opened' | 'incident.escalated' | 'incident.resolved' | 'digest' | 'test';
  timestamp: string;
  data: Record<string, unknown>;
}

const TYPE = { open: 'incident.opened', escalate: 'incident.escalated', resolve: 'incident.resolved' } as const;

export function renderWebhook(message: AlertMessage): WebhookBody {
  switch (message.kind) {
    case 'incident':
      return { type: TYPE[message.action], timestamp: message.occurredAt, data: { tenantId: message.tenantId, notificationId: message.notificationId, incident: message.incident } };
    case 'digest':
      return { type: 'digest', timestamp: message.digest.period.end, data: { digestId: message.digestId, ...message.digest } };
    case 'test':
      return { type: 'test', timestamp: message.sentAt, data: { tenantId: message.tenantId, channelId: message.channelId, channelName: message.channelName } };
  }
}
