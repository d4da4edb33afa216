import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import { notFound } from '../shared/app-error.js';
import type { Store } from '../store/store.js';
import type { AlertChannelPatch, AlertChannelRecord, AlertChannelType } from '../store/alert-store.js';
import type { TestAlert } from './alert-message.js';
import {
  channelNotFound,
  emailNotConfigured,
  invalidChannel,
  notAWebhookChannel,
  targetRefused,
  tooManyChannels,
} from './alert-errors.js';
import type { ChannelHealth } from './channel-health.js';
import type { ChannelSender } from './channel-sender.js';
import type { ChannelTarget, ChannelTargets } from './channel-target.js';
import { toChannelView, type AlertChannelView } from './channel-view.js';
import { OutboundError, parseTargetUrl, resolveTarget, type Resolver } from './outbound-http.js';
import { generateWebhookSecret } from './standard-webhooks.js';

export const CHANNEL_TYPES: readonly AlertChannelType[] = ['slack', 'discord', 'email', 'webhook', 'pagerduty'];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const MAX_CHANNELS_PER_TENANT = 50;
const MAX_RECIPIENTS = 10;
const EMAIL = /^[^\s@<>()[\],;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** PagerDuty integration (routing) keys are 32 characters. */
const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;
const DEFAULT_OVERLAP_HOURS = 24;
/** A DNS check at create time must not hold the request long; the send-time check is the one that counts. */
const CREATE_DNS_TIMEOUT_MS = 2_000;

export interface ChannelInput {
  type: AlertChannelType;
  name: string;
  url?: string | undefined;
  to?: string[] | undefined;
  routingKey?: string | undefined;
  minSeverity?: string | undefined;
  detectors?: string[] | null | undefined;
  sendResolved?: boolean | undefined;
  sendDigests?: boolean | undefined;
}

export type ChannelUpdate = Partial<Omit<ChannelInput, 'type'>> & { enabled?: boolean | undefined };

export interface ChannelOptions {
  allowPrivateTargets: boolean;
  emailConfigured: boolean;
  /** Detector names a channel may filter on. */
  detectorNames: readonly string[];
  resolve?: Resolver;
}

export interface TestResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

/**
 * Alert channels of a tenant: validation (including the SSRF pre-check of URLs), encryption of the
 * target, masking in views, the webhook signing secret (shown once, rotated with an overlap), and
 * the test message. Deleting or disabling a channel cancels its queued deliveries.
 */
export class AlertChannelService {
  constructor(
    private readonly store: Store,
    private readonly targets: ChannelTargets,
    private readonly sender: ChannelSender,
    private readonly health: ChannelHealth,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: ChannelOptions,
  ) {}

  async create(tenantId: string, input: ChannelInput): Promise<AlertChannelView & { secret?: string }> {
    if (!(await this.store.getTenant(tenantId))) throw notFound('Tenant');
    const problems: string[] = [];
    const name = this.checkName(input.name, problems);
    const target = this.checkTarget(input.type, input, problems);
    const routing = this.checkRouting(input.type, input, problems);
    if (problems.length > 0) throw invalidChannel(problems);
    if (input.type === 'email' && !this.options.emailConfigured) throw emailNotConfigured();
    if (target.url !== undefined) await this.checkReachable(target.url);
    if ((await this.store.alerts.listChannels(tenantId)).length >= MAX_CHANNELS_PER_TENANT) throw tooManyChannels(MAX_CHANNELS_PER_TENANT);

    const now = this.clock.now();
    const id = this.ids.next('ach');
    let secret: string | undefined;
    if (input.type === 'webhook') {
      secret = generateWebhookSecret();
      target.secrets = [{ secret, expiresAt: null }];
    }
    const record: AlertChannelRecord = {
      id,
      tenantId,
      type: input.type,
      name,
      configEnc: this.targets.seal(tenantId, id, target),
      minSeverity: routing.minSeverity ?? 'info',
      detectors: routing.detectors ?? null,
      sendResolved: routing.sendResolved ?? true,
      sendDigests: routing.sendDigests ?? input.type !== 'pagerduty',
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
      failingSince: null,
      blockedUntil: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.alerts.insertChannel(record);
    const view = toChannelView(record, target, now);
    return secret === undefined ? view : { ...view, secret };
  }

  async list(tenantId: string): Promise<AlertChannelView[]> {
    const now = this.clock.now();
    return (await this.store.alerts.listChannels(tenantId)).map((c) => toChannelView(c, this.targets.open(c), now));
  }

  async get(tenantId: string, id: string): Promise<AlertChannelView> {
    const channel = await this.require(tenantId, id);
    return toChannelView(channel, this.targets.open(channel), this.clock.now());
  }

  async update(tenantId: string, id: string, input: ChannelUpdate): Promise<AlertChannelView> {
    const channel = await this.require(tenantId, id);
    const current = this.targets.open(channel);
    const problems: string[] = [];
    const patch: AlertChannelPatch = { updatedAt: this.clock.now() };
    if (input.name !== undefined) patch.name = this.checkName(input.name, problems);
    const targetChanged = input.url !== undefined || input.to !== undefined || input.routingKey !== undefined;
    let target = current;
    if (targetChanged) {
      const merged = { url: input.url ?? current.url, to: input.to ?? current.to, routingKey: input.routingKey ?? current.routingKey };
      target = { ...this.checkTarget(channel.type, merged, problems), ...(current.secrets ? { secrets: current.secrets } : {}) };
    }
    Object.assign(patch, this.checkRouting(channel.type, input, problems));
    if (problems.length > 0) throw invalidChannel(problems);
    if (input.url !== undefined && target.url !== undefined) await this.checkReachable(target.url);
    if (targetChanged) patch.configEnc = this.targets.seal(tenantId, id, target);

    const now = patch.updatedAt;
    if (input.enabled === true && !channel.enabled) {
      Object.assign(patch, { enabled: true, disabledReason: null, consecutiveFailures: 0, failingSince: null, blockedUntil: null });
    } else if (input.enabled === false && channel.enabled) {
      Object.assign(patch, { enabled: false, disabledReason: 'disabled by a user' });
    } else if (targetChanged) {
      // A new URL or key deserves a prompt first attempt, not the old endpoint's backoff.
      patch.blockedUntil = null;
    }
    const updated = await this.store.alerts.updateChannel(tenantId, id, patch);
    if (!updated) throw channelNotFound();
    if (input.enabled === false && channel.enabled) {
      await this.store.alerts.cancelChannelDeliveries(tenantId, id, 'channel disabled by a user', now);
      await this.health.clear(tenantId, id, 'the channel was disabled');
    }
    if (input.enabled === true && !channel.enabled) await this.health.clear(tenantId, id, 'the channel was re-enabled');
    return toChannelView(updated, target, now);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.store.alerts.deleteChannel(tenantId, id, this.clock.now()))) throw channelNotFound();
    await this.health.clear(tenantId, id, 'the channel was deleted');
  }

  /** A new signing secret (shown once); the previous one keeps signing for the overlap, so receivers can switch without a gap. */
  async rotateSecret(tenantId: string, id: string, overlapHours = DEFAULT_OVERLAP_HOURS): Promise<AlertChannelView & { secret: string }> {
    const channel = await this.require(tenantId, id);
    if (channel.type !== 'webhook') throw notAWebhookChannel();
    const now = this.clock.now();
    const target = this.targets.open(channel);
    const secret = generateWebhookSecret();
    const previous = (target.secrets ?? []).find((s) => s.expiresAt === null);
    target.secrets = [{ secret, expiresAt: null }, ...(previous && overlapHours > 0 ? [{ secret: previous.secret, expiresAt: now + overlapHours * 3_600_000 }] : [])];
    const updated = await this.store.alerts.updateChannel(tenantId, id, { configEnc: this.targets.seal(tenantId, id, target), updatedAt: now });
    if (!updated) throw channelNotFound();
    return { ...toChannelView(updated, target, now), secret };
  }

  /** Sends a test message now, outside the outbox (no retry), and says what the endpoint answered. */
  async test(tenantId: string, id: string): Promise<TestResult> {
    const channel = await this.require(tenantId, id);
    const target = this.targets.open(channel);
    const message: TestAlert = { kind: 'test', tenantId, channelId: id, channelName: channel.name, sentAt: new Date(this.clock.now()).toISOString() };
    const outcome = await this.sender.send(channel, target, message, this.ids.next('tst'));
    switch (outcome.kind) {
      case 'delivered':
        return { delivered: true, statusCode: outcome.statusCode, error: null };
      case 'aborted':
        return { delivered: false, statusCode: null, error: 'interrupted' };
      default:
        return { delivered: false, statusCode: outcome.statusCode, error: outcome.error };
    }
  }

  private async require(tenantId: string, id: string): Promise<AlertChannelRecord> {
    const channel = await this.store.alerts.getChannel(tenantId, id);
    if (!channel) throw channelNotFound();
    return channel;
  }

  private checkName(raw: string, problems: string[]): string {
    const name = raw.trim();
    // eslint-disable-next-line no-control-regex
    if (name.length < 1 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) problems.push('name must be 1 to 100 characters without control characters');
    return name;
  }

  private checkTarget(type: AlertChannelType, input: Pick<ChannelInput, 'url' | 'to' | 'routingKey'>, problems: string[]): ChannelTarget {
    const target: ChannelTarget = {};
    const takesUrl = type === 'slack' || type === 'discord' || type === 'webhook' || type === 'pagerduty';
    if (input.url !== undefined) {
      if (!takesUrl) problems.push(`${type} channels take no url`);
      else if (input.url.length > 2048) problems.push('url must be at most 2048 characters');
      else {
        try {
          parseTargetUrl(input.url);
          target.url = input.url;
        } catch (error) {
          problems.push(`url: ${(error as Error).message}`);
        }
      }
    } else if (type !== 'pagerduty' && takesUrl) problems.push(`${type} channels need a url`);

    if (input.to !== undefined) {
      if (type !== 'email') problems.push(`${type} channels take no "to" addresses`);
      else {
        const to = [...new Set(input.to.map((a) => a.trim()))];
        if (to.length < 1 || to.length > MAX_RECIPIENTS) problems.push(`to must list 1 to ${MAX_RECIPIENTS} addresses`);
        const bad = to.filter((a) => a.length > 254 || !EMAIL.test(a));
        if (bad.length > 0) problems.push(`to has invalid addresses: ${bad.slice(0, 3).map((a) => JSON.stringify(a.slice(0, 80))).join(', ')}`);
        target.to = to;
      }
    } else if (type === 'email') problems.push('email channels need "to" addresses');

    if (input.routingKey !== undefined) {
      if (type !== 'pagerduty') problems.push(`${type} channels take no routingKey`);
      else if (!ROUTING_KEY.test(input.routingKey)) problems.push('routingKey must be a 32-character PagerDuty integration key');
      else target.routingKey = input.routingKey;
    } else if (type === 'pagerduty') problems.push('pagerduty channels need a routingKey');
    return target;
  }

  private checkRouting(type: AlertChannelType, input: Omit<ChannelUpdate, 'enabled'>, problems: string[]): Pick<AlertChannelPatch, 'minSeverity' | 'detectors' | 'sendResolved' | 'sendDigests'> {
    const out: Pick<AlertChannelPatch, 'minSeverity' | 'detectors' | 'sendResolved' | 'sendDigests'> = {};
    if (input.minSeverity !== undefined) {
      if (!(SEVERITIES as readonly string[]).includes(input.minSeverity)) problems.push(`minSeverity must be one of ${SEVERITIES.join(', ')}`);
      else out.minSeverity = input.minSeverity;
    }
    if (input.detectors !== undefined) {
      if (input.detectors === null) out.detectors = null;
      else {
        const unknown = input.detectors.filter((d) => !this.options.detectorNames.includes(d));
        if (unknown.length > 0) problems.push(`detectors has unknown names: ${unknown.slice(0, 5).join(', ')}`);
        out.detectors = [...new Set(input.detectors)];
      }
    }
    if (input.sendResolved !== undefined) out.sendResolved = input.sendResolved;
    if (input.sendDigests !== undefined) {
      if (type === 'pagerduty' && input.sendDigests) problems.push('pagerduty channels do not take digests (they page people)');
      out.sendDigests = input.sendDigests;
    }
    return out;
  }

  /**
   * The SSRF pre-check, so a tenant hears "refused" now rather than from a failing channel later.
   * It refuses IP literals and names resolving to forbidden ranges; a name that does not resolve
   * yet is accepted. Every send checks again: DNS can change after this.
   */
  private async checkReachable(url: string): Promise<void> {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), CREATE_DNS_TIMEOUT_MS).unref());
    try {
      await Promise.race([
        resolveTarget(parseTargetUrl(url), { allowPrivate: this.options.allowPrivateTargets, ...(this.options.resolve ? { resolve: this.options.resolve } : {}) }),
        timeout,
      ]);
    } catch (error) {
      if (error instanceof OutboundError && error.reason === 'refused') throw targetRefused(error.message.replace(/^target refused: /, ''));
    }
  }
}
