import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/app-error.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { Severity } from '../detectors/detector.js';
import type { Store } from '../store/store.js';
import type { AlertChannelRecord } from '../store/alert-store.js';
import { backoffMs } from './retry-policy.js';

/** The alerts' own incident, raised through the incident service so it shows in the anomalies API. */
export const ALERT_CHANNEL_FAILING = 'alert_channel_failing';
/** Consecutive failed attempts (429s excluded) after which a channel is marked failing. */
export const FAILING_AFTER = 5;

export const failingIncidentKey = (channelId: string) => `${ALERT_CHANNEL_FAILING}|alert_channel|${channelId}`;

/**
 * A channel's health, kept on the channel row and shared by every worker: failures back the whole
 * channel off (so a dead endpoint is probed, not hammered, whatever its queue length) and, after
 * `FAILING_AFTER` in a row, mark it failing and raise an `alert_channel_failing` incident, which the
 * fan-out delivers on the tenant's OTHER channels. A success clears the state and resolves the
 * incident; a 410 disables the channel and raises the incident as critical.
 */
export class ChannelHealth {
  constructor(
    private readonly store: Store,
    private readonly incidents: IncidentService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
    private readonly failingAfter = FAILING_AFTER,
  ) {}

  async succeeded(channel: AlertChannelRecord): Promise<void> {
    const { recovered } = await this.store.alerts.recordChannelSuccess(channel.tenantId, channel.id, this.clock.now());
    if (recovered) await this.clear(channel.tenantId, channel.id, 'the channel delivered again');
  }

  /** Records a failed attempt; returns until when the channel is backed off. */
  async failed(channel: AlertChannelRecord, failure: { error: string; rateLimited: boolean; retryAfterMs?: number }): Promise<number> {
    const now = this.clock.now();
    const wait = failure.retryAfterMs ?? backoffMs(failure.rateLimited ? 1 : channel.consecutiveFailures + 1, this.random);
    const blockedUntil = now + wait;
    const { channel: updated, becameFailing } = await this.store.alerts.recordChannelFailure(
      channel.tenantId,
      channel.id,
      { error: failure.error, counts: !failure.rateLimited, blockedUntil, failingAfter: this.failingAfter },
      now,
    );
    if (becameFailing && updated) {
      await this.raise(updated, 'warning', `Alert channel "${updated.name}" (${updated.type}) is failing: ${updated.consecutiveFailures} deliveries in a row failed; last error: ${failure.error}`);
    }
    return blockedUntil;
  }

  /** The endpoint answered 410 Gone: it will never accept again, so stop sending until someone fixes it. */
  async gone(channel: AlertChannelRecord, error: string): Promise<void> {
    const now = this.clock.now();
    const updated = await this.store.alerts.updateChannel(channel.tenantId, channel.id, {
      enabled: false,
      disabledReason: `the endpoint answered 410 Gone (${error}); fix the URL and re-enable the channel`,
      lastError: error,
      updatedAt: now,
    });
    await this.store.alerts.cancelChannelDeliveries(channel.tenantId, channel.id, 'channel disabled: its endpoint answered 410 Gone', now);
    if (updated) await this.raise(updated, 'critical', `Alert channel "${updated.name}" (${updated.type}) was disabled: its endpoint answered 410 Gone`);
  }

  /** Resolves the channel's failing incident, if one is open (channel recovered, re-enabled, disabled or deleted). */
  async clear(tenantId: string, channelId: string, reason: string): Promise<void> {
    const active = await this.store.detectors.getActiveIncident(tenantId, failingIncidentKey(channelId));
    if (!active) return;
    try {
      await this.incidents.resolve(tenantId, active.id, 'system', reason);
    } catch (error) {
      // Someone resolved it between the read and now: the outcome is the one wanted.
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
    }
  }

  private async raise(channel: AlertChannelRecord, severity: Severity, summary: string): Promise<void> {
    this.logger.warn({ tenantId: channel.tenantId, channelId: channel.id, severity }, 'alert channel failing');
    await this.incidents.applyTrigger(
      channel.tenantId,
      ALERT_CHANNEL_FAILING,
      {
        subjectType: 'alert_channel',
        subjectId: channel.id,
        severity,
        summary,
        figures: { channel: channel.name, type: channel.type, consecutiveFailures: channel.consecutiveFailures, lastError: channel.lastError ?? '' },
        eventIds: [],
        at: this.clock.now(),
      },
      false,
    );
  }
}
