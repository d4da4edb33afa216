import { AppError } from '../shared/app-error.js';
import type { Clock } from '../shared/clock.js';
import { decodeCreatedAtCursor, encodeCreatedAtCursor } from '../shared/created-at-cursor.js';
import { listPage } from '../shared/list-page.js';
import type { Store } from '../store/store.js';
import type { AlertDeliveryRecord, DeliveryQuery, DeliveryStatus } from '../store/alert-store.js';
import type { AlertMessage } from './alert-message.js';
import { channelDisabled, channelNotFound, deliveryNotFound, deliveryNotRetryable } from './alert-errors.js';
import { RETRY_WINDOW_MS } from './retry-policy.js';

export interface AlertDeliveryView {
  id: string;
  channelId: string;
  kind: string;
  /** open, escalate, resolve (incident notifications) or digest. */
  event: string;
  incidentId: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending) or the current one's claim ends (sending); null once finished. */
  nextAttemptAt: string | null;
  /** Retries stop at this time. */
  retryUntil: string;
  lastError: string | null;
  /** HTTP status (or SMTP reply code) of the last attempt. */
  lastStatusCode: number | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export interface DeliveryFilters {
  status?: string | undefined;
  channelId?: string | undefined;
  incidentId?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const STATUSES: DeliveryStatus[] = ['pending', 'sending', 'delivered', 'failed', 'canceled'];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDeliveryView(d: AlertDeliveryRecord): AlertDeliveryView {
  let event: string = d.kind;
  try {
    const message = JSON.parse(d.message) as AlertMessage;
    if (message.kind === 'incident') event = message.action;
  } catch {
    // The view still lists a delivery whose message is unreadable.
  }
  return {
    id: d.id,
    channelId: d.channelId,
    kind: d.kind,
    event,
    incidentId: d.incidentId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' || d.status === 'sending' ? iso(d.nextAttemptAt) : null,
    retryUntil: iso(d.expiresAt)!,
    lastError: d.lastError,
    lastStatusCode: d.lastStatusCode,
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
    deliveredAt: iso(d.deliveredAt),
  };
}

/** Reading the outbox and retrying by hand; the sending itself is `DeliveryWorker`'s. */
export class AlertDeliveryService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async list(tenantId: string, filters: DeliveryFilters): Promise<{ data: AlertDeliveryView[]; nextCursor: string | null }> {
    const problems: string[] = [];
    const limit = filters.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) problems.push('limit must be 1 to 500');
    const statuses = filters.status?.split(',').map((s) => s.trim()) as DeliveryStatus[] | undefined;
    if (statuses?.some((s) => !STATUSES.includes(s))) problems.push(`status must be among ${STATUSES.join(', ')}`);
    const before: DeliveryQuery['before'] = filters.cursor === undefined ? undefined : decodeCreatedAtCursor(filters.cursor);
    if (filters.cursor !== undefined && !before) problems.push('cursor is not valid');
    if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });
    const rows = await this.store.alerts.listDeliveries(tenantId, {
      ...(statuses ? { statuses } : {}),
      ...(filters.channelId !== undefined ? { channelId: filters.channelId } : {}),
      ...(filters.incidentId !== undefined ? { incidentId: filters.incidentId } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const { page, nextCursor } = listPage(rows, limit, encodeCreatedAtCursor);
    return { data: page.map(toDeliveryView), nextCursor };
  }

  async get(tenantId: string, id: string): Promise<AlertDeliveryView> {
    const d = await this.store.alerts.getDelivery(tenantId, id);
    if (!d) throw deliveryNotFound();
    return toDeliveryView(d);
  }

  /**
   * Makes a failed, canceled or waiting delivery due now with a fresh retry window, and lifts the
   * channel's backoff so the attempt happens on the next worker run. A delivered one is refused:
   * a success is never sent twice.
   */
  async retry(tenantId: string, id: string): Promise<AlertDeliveryView> {
    const d = await this.store.alerts.getDelivery(tenantId, id);
    if (!d) throw deliveryNotFound();
    if (d.status === 'delivered' || d.status === 'sending') throw deliveryNotRetryable(d.status);
    const channel = await this.store.alerts.getChannel(tenantId, d.channelId);
    if (!channel) throw channelNotFound();
    if (!channel.enabled) throw channelDisabled();
    const now = this.clock.now();
    const requeued = await this.store.alerts.requeueDelivery(tenantId, id, now, now + RETRY_WINDOW_MS);
    if (!requeued) {
      const current = await this.store.alerts.getDelivery(tenantId, id);
      throw deliveryNotRetryable(current?.status ?? 'gone');
    }
    await this.store.alerts.updateChannel(tenantId, channel.id, { blockedUntil: null, updatedAt: now });
    return toDeliveryView(requeued);
  }
}
