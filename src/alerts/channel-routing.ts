import { SEVERITY_RANK, type Severity } from '../detectors/detector.js';
import type { AlertChannelRecord } from '../store/alert-store.js';
import type { NotificationRecord } from '../store/detector-store.js';
import { ALERT_CHANNEL_FAILING } from './channel-health.js';

/**
 * Whether a channel takes a notification. Routing filters (minimum severity, detectors, resolves)
 * describe which billing anomalies a channel wants. The channel-failing incident is about the
 * alerting itself: it ignores the detector filter (a tenant filtering on refunds still needs to
 * know its Slack is down) and never goes to the channel it is about.
 */
export function channelWants(channel: AlertChannelRecord, notification: Pick<NotificationRecord, 'detector' | 'kind' | 'severity'>, subjectId: string): boolean {
  if (!channel.enabled) return false;
  if (notification.kind === 'resolve' && !channel.sendResolved) return false;
  const rank = SEVERITY_RANK[notification.severity as Severity] ?? SEVERITY_RANK.info;
  if (rank < (SEVERITY_RANK[channel.minSeverity as Severity] ?? SEVERITY_RANK.info)) return false;
  if (notification.detector === ALERT_CHANNEL_FAILING) return subjectId !== channel.id;
  return channel.detectors === null || channel.detectors.includes(notification.detector);
}
