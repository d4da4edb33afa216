import type { Selectable } from 'kysely';
import type { NotificationRecord } from './detector-store.js';
import type { Database } from './schema.js';

/**
 * An `incident_notifications` row: the detector store writes and lists them, the alert store fans
 * them out; both read the row the same way.
 */
export function rowToNotification(r: Selectable<Database['incident_notifications']>): NotificationRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    incidentId: r.incident_id,
    detector: r.detector,
    kind: r.kind as NotificationRecord['kind'],
    severity: r.severity,
    dedupeKey: r.dedupe_key,
    createdAt: Number(r.created_at),
  };
}
