import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { AlertChannelRecord, AlertDeliveryRecord } from '../store/alert-store.js';
import { buildIncidentAlert } from './alert-message.js';
import { channelWants } from './channel-routing.js';
import { newDelivery } from './new-delivery.js';

const BATCH = 100;

/**
 * Turns incident notifications (durable rows written by the incident service) into outbox
 * deliveries, one per matching channel, from the background loop — never inside a request.
 * Each notification's deliveries and its `fanned_out_at` marker are written in one transaction,
 * and the outbox's unique (tenant, source, channel) key absorbs a second replica doing the same
 * notification at the same moment: every (notification, channel) pair is delivered once.
 * The message is snapshotted here, so retries send what was true when the alert was raised.
 */
export class NotificationFanout {
  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly publicUrl: string,
  ) {}

  /** Fans out pending notifications (at most `maxBatches` × 100); returns the deliveries created. */
  async run(maxBatches = 10): Promise<number> {
    let created = 0;
    for (let b = 0; b < maxBatches; b++) {
      const batch = await this.store.alerts.listPendingNotifications(BATCH);
      if (batch.length === 0) break;
      const channelsByTenant = new Map<string, AlertChannelRecord[]>();
      for (const notification of batch) {
        let channels = channelsByTenant.get(notification.tenantId);
        if (!channels) {
          channels = await this.store.alerts.listChannels(notification.tenantId);
          channelsByTenant.set(notification.tenantId, channels);
        }
        const incident = await this.store.detectors.getIncident(notification.tenantId, notification.incidentId);
        const now = this.clock.now();
        const deliveries: AlertDeliveryRecord[] = [];
        if (incident) {
          const message = buildIncidentAlert(notification, incident, this.publicUrl);
          for (const channel of channels) {
            if (!channelWants(channel, notification, incident.subjectId)) continue;
            deliveries.push(
              newDelivery(this.ids, now, { tenantId: notification.tenantId, channelId: channel.id, sourceKey: `ntf:${notification.id}`, kind: 'incident', incidentId: incident.id, message }),
            );
          }
        }
        created += await this.store.alerts.fanOutNotification(notification.tenantId, notification.id, deliveries, now);
      }
      if (batch.length < BATCH) break;
    }
    return created;
  }
}
