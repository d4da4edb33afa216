import type { IdGenerator } from '../shared/ids.js';
import type { AlertDeliveryRecord, DeliveryKind } from '../store/alert-store.js';
import type { AlertMessage } from './alert-message.js';
import { RETRY_WINDOW_MS } from './retry-policy.js';

/** A fresh outbox row: due now, retried until `RETRY_WINDOW_MS` from now. */
export function newDelivery(
  ids: IdGenerator,
  now: number,
  input: { tenantId: string; channelId: string; sourceKey: string; kind: DeliveryKind; incidentId: string | null; message: AlertMessage },
): AlertDeliveryRecord {
  return {
    id: ids.next('adl'),
    tenantId: input.tenantId,
    channelId: input.channelId,
    sourceKey: input.sourceKey,
    kind: input.kind,
    incidentId: input.incidentId,
    message: JSON.stringify(input.message),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    leaseToken: null,
    expiresAt: now + RETRY_WINDOW_MS,
    lastError: null,
    lastStatusCode: null,
    createdAt: now,
    updatedAt: now,
    deliveredAt: null,
  };
}
