import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { AlertChannelRecord, AlertDeliveryRecord, DeliveryCompletion } from '../store/alert-store.js';
import type { AlertMessage } from './alert-message.js';
import type { ChannelHealth } from './channel-health.js';
import type { ChannelSender, SendOutcome } from './channel-sender.js';
import type { ChannelTarget, ChannelTargets } from './channel-target.js';
import { backoffMs } from './retry-policy.js';

export interface DeliveryWorkerOptions {
  /** Deliveries claimed per run. */
  batchSize: number;
  /** Channels served in parallel; one channel's deliveries go one after another, oldest first. */
  concurrency: number;
  /** How long a claim holds; must exceed the send timeout, so only a crashed worker's claims expire. */
  leaseMs: number;
  random?: () => number;
}

/**
 * Sends the outbox. Each run claims due deliveries (a compare-and-set per row, so replicas never
 * share one), groups them by channel, and sends each channel's in order; the first failure on a
 * channel backs the channel off and hands the rest of its group back untouched. Outcomes are
 * written with the claim token, so a worker whose lease expired cannot overwrite a newer claim.
 *
 * A success is recorded right after the endpoint answered; only a crash in between can repeat a
 * delivery (at least once), and the receiver can tell by the stable `webhook-id` / Message-ID /
 * PagerDuty dedup key. A delivery that was recorded as delivered is never sent again.
 */
export class DeliveryWorker {
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly targets: ChannelTargets,
    private readonly sender: ChannelSender,
    private readonly health: ChannelHealth,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: DeliveryWorkerOptions,
  ) {}

  /**
   * Starts a run in the background unless one is under way. The background loop calls this rather
   * than awaiting a run: a slow endpoint (up to the 10 s timeout) must not stall the loop, whose
   * heartbeat is the readiness check.
   */
  kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.runOnce()
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'alert delivery run failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Resolves when the background run (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Interrupts in-flight sends (their claims are released without counting an attempt) and waits. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.shutdown.abort();
    await this.running;
  }

  /** One run: claim, send, record. Returns the number of attempts made. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const token = randomBytes(12).toString('base64url');
    const claimed = await this.store.alerts.claimDeliveries(now, this.options.batchSize, now + this.options.leaseMs, token);
    if (claimed.length === 0) return 0;
    const groups = new Map<string, AlertDeliveryRecord[]>();
    for (const d of claimed) {
      const key = `${d.tenantId}\u0000${d.channelId}`;
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    }
    const queue = [...groups.values()].map((g) => g.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)));
    let attempts = 0;
    const lane = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) attempts += await this.deliverGroup(group, token);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, lane));
    return attempts;
  }

  private async deliverGroup(group: AlertDeliveryRecord[], token: string): Promise<number> {
    const first = group[0]!;
    const channel = await this.store.alerts.getChannel(first.tenantId, first.channelId);
    if (!channel || !channel.enabled) {
      const error = channel ? 'channel disabled' : 'channel deleted';
      for (const d of group) await this.complete(d, token, { status: 'canceled', attempted: false, error });
      return 0;
    }
    let target: ChannelTarget;
    try {
      target = this.targets.open(channel);
    } catch (error) {
      // A wrong key is refused at start, so this is a damaged row: keep the deliveries, retry later.
      this.logger.error({ err: error, channelId: channel.id, tenantId: channel.tenantId }, 'cannot decrypt alert channel');
      for (const d of group) await this.complete(d, token, { status: 'pending', attempted: false, nextAttemptAt: this.clock.now() + 3_600_000, error: 'cannot decrypt the channel settings' });
      return 0;
    }
    let attempts = 0;
    for (const [index, d] of group.entries()) {
      if (this.shutdown.signal.aborted) {
        await this.release(group.slice(index), token, this.clock.now());
        break;
      }
      let message: AlertMessage;
      try {
        message = JSON.parse(d.message) as AlertMessage;
      } catch {
        await this.complete(d, token, { status: 'failed', attempted: false, error: 'the stored message is unreadable' });
        continue;
      }
      const outcome = await this.sender.send(channel, target, message, d.id, this.shutdown.signal);
      if (outcome.kind !== 'aborted') attempts += 1;
      const resumeAt = await this.record(channel, d, outcome, token);
      if (outcome.kind !== 'delivered') {
        await this.release(group.slice(index + 1), token, resumeAt);
        break;
      }
    }
    return attempts;
  }

  /** Writes the attempt's outcome; returns when the channel may be tried again. */
  private async record(channel: AlertChannelRecord, d: AlertDeliveryRecord, outcome: SendOutcome, token: string): Promise<number> {
    const now = this.clock.now();
    switch (outcome.kind) {
      case 'delivered':
        await this.complete(d, token, { status: 'delivered', attempted: true, error: null, statusCode: outcome.statusCode });
        await this.health.succeeded(channel);
        return now;
      case 'aborted':
        await this.complete(d, token, { status: 'pending', attempted: false, nextAttemptAt: now });
        return now;
      case 'gone':
        await this.complete(d, token, { status: 'failed', attempted: true, error: outcome.error, statusCode: outcome.statusCode });
        await this.health.gone(channel, outcome.error);
        return now;
      case 'failed': {
        const attempts = d.attempts + 1;
        const next = now + (outcome.retryAfterMs ?? backoffMs(attempts, this.options.random));
        const giveUp = next > d.expiresAt;
        await this.complete(
          d,
          token,
          giveUp
            ? { status: 'failed', attempted: true, error: `${outcome.error} (gave up after ${attempts} attempts)`, statusCode: outcome.statusCode }
            : { status: 'pending', attempted: true, nextAttemptAt: next, error: outcome.error, statusCode: outcome.statusCode },
        );
        return this.health.failed(channel, outcome);
      }
    }
  }

  /** Hands claimed deliveries back without an attempt. */
  private async release(deliveries: AlertDeliveryRecord[], token: string, at: number): Promise<void> {
    for (const d of deliveries) await this.complete(d, token, { status: 'pending', attempted: false, nextAttemptAt: at });
  }

  private async complete(d: AlertDeliveryRecord, token: string, completion: DeliveryCompletion): Promise<void> {
    const kept = await this.store.alerts.completeDelivery(d.tenantId, d.id, token, completion, this.clock.now());
    if (!kept) this.logger.debug({ deliveryId: d.id }, 'alert delivery claim lost (lease expired, canceled or deleted)');
  }
}
