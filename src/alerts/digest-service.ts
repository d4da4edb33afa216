import type { Logger } from 'pino';
import { notFound } from '../shared/app-error.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { AlertChannelRecord, DigestFrequency, DigestSettingsRecord } from '../store/alert-store.js';
import type { DigestAlert } from './alert-message.js';
import { invalidDigestSettings } from './alert-errors.js';
import { buildDigest } from './build-digest.js';
import type { DigestContent } from './digest-content.js';
import { latestPeriod, type DigestSchedule } from './digest-period.js';
import { newDelivery } from './new-delivery.js';
import { isValidTimeZone } from '../shared/zoned-time.js';

export const DIGEST_FREQUENCIES: readonly DigestFrequency[] = ['hourly', 'daily', 'weekly', 'off'];

/**
 * A period's digest is built this long after it ends: events are filed by Stripe time, and those
 * created just before the boundary are still arriving (and being aggregated) for a moment.
 */
export const DIGEST_GRACE_MS = 5 * 60_000;

export interface DigestSettingsView {
  frequency: DigestFrequency;
  hour: number;
  weekday: number;
  timeZone: string;
  skipEmpty: boolean;
}

/** Hourly by default, as in the brief; daily and weekly at 09:00 (Monday) UTC until a tenant says otherwise. */
export const DEFAULT_DIGEST_SETTINGS: DigestSettingsView = { frequency: 'hourly', hour: 9, weekday: 1, timeZone: 'UTC', skipEmpty: true };

/**
 * Periodic digests per tenant. The schedule runs on the background loop: for each tenant with a
 * channel that takes digests, the latest complete period is built once — the `alert_digests` row
 * (unique per tenant, frequency and period start) and its deliveries are written in one
 * transaction, so replicas and restarts never send a period twice. An empty digest is recorded as
 * skipped when the tenant asked to skip them.
 */
export class DigestService {
  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly publicUrl: string,
  ) {}

  async settings(tenantId: string): Promise<DigestSettingsView> {
    const s = await this.store.alerts.getDigestSettings(tenantId);
    return s ? { frequency: s.frequency, hour: s.hour, weekday: s.weekday, timeZone: s.timeZone, skipEmpty: s.skipEmpty } : { ...DEFAULT_DIGEST_SETTINGS };
  }

  /** The settings as the API shows them; an unknown tenant (admin naming one) is a 404. */
  async settingsOf(tenantId: string): Promise<DigestSettingsView> {
    await this.requireTenant(tenantId);
    return this.settings(tenantId);
  }

  async updateSettings(tenantId: string, patch: Partial<DigestSettingsView>): Promise<DigestSettingsView> {
    await this.requireTenant(tenantId);
    const next = { ...(await this.settings(tenantId)), ...patch };
    const problems: string[] = [];
    if (!DIGEST_FREQUENCIES.includes(next.frequency)) problems.push(`frequency must be one of ${DIGEST_FREQUENCIES.join(', ')}`);
    if (!Number.isInteger(next.hour) || next.hour < 0 || next.hour > 23) problems.push('hour must be 0 to 23');
    if (!Number.isInteger(next.weekday) || next.weekday < 1 || next.weekday > 7) problems.push('weekday must be 1 (Monday) to 7 (Sunday)');
    if (!isValidTimeZone(next.timeZone)) problems.push(`timeZone must be an IANA time zone such as Europe/Paris, got "${next.timeZone.slice(0, 64)}"`);
    if (problems.length > 0) throw invalidDigestSettings(problems);
    const record: DigestSettingsRecord = { tenantId, ...next, updatedAt: this.clock.now() };
    await this.store.alerts.putDigestSettings(record);
    return next;
  }

  /** The latest complete period's digest as of `until` (default now), for `GET /v1/digest`; nothing is sent. */
  async preview(tenantId: string, frequency?: Exclude<DigestFrequency, 'off'>, until?: number): Promise<DigestContent> {
    await this.requireTenant(tenantId);
    const s = await this.settings(tenantId);
    const schedule: DigestSchedule = { frequency: frequency ?? (s.frequency === 'off' ? 'daily' : s.frequency), hour: s.hour, weekday: s.weekday, timeZone: s.timeZone };
    return buildDigest(this.store, tenantId, latestPeriod(schedule, until ?? this.clock.now()), this.publicUrl);
  }

  /** Builds and queues every digest that is due; returns how many were queued for sending. */
  async runDue(): Promise<number> {
    const now = this.clock.now();
    const byTenant = new Map<string, AlertChannelRecord[]>();
    for (const channel of await this.store.alerts.listDigestChannels()) {
      const list = byTenant.get(channel.tenantId);
      if (list) list.push(channel);
      else byTenant.set(channel.tenantId, [channel]);
    }
    let queued = 0;
    for (const [tenantId, channels] of byTenant) {
      try {
        if (await this.runTenant(tenantId, channels, now)) queued += 1;
      } catch (error) {
        this.logger.error({ err: error, tenantId }, 'digest failed');
      }
    }
    return queued;
  }

  private async requireTenant(tenantId: string): Promise<void> {
    if (!(await this.store.getTenant(tenantId))) throw notFound('Tenant');
  }

  private async runTenant(tenantId: string, channels: AlertChannelRecord[], now: number): Promise<boolean> {
    const s = await this.settings(tenantId);
    if (s.frequency === 'off') return false;
    const period = latestPeriod({ frequency: s.frequency, hour: s.hour, weekday: s.weekday, timeZone: s.timeZone }, now - DIGEST_GRACE_MS);
    if (await this.store.alerts.hasDigest(tenantId, s.frequency, period.start)) return false;
    const content = await buildDigest(this.store, tenantId, period, this.publicUrl);
    const id = this.ids.next('dig');
    const record = { id, tenantId, frequency: s.frequency, periodStart: period.start, periodEnd: period.end, createdAt: now };
    if (content.empty && s.skipEmpty) {
      await this.store.alerts.recordDigest({ ...record, outcome: 'empty' }, []);
      return false;
    }
    const message: DigestAlert = { kind: 'digest', digestId: id, digest: content };
    const deliveries = channels.map((channel) => newDelivery(this.ids, now, { tenantId, channelId: channel.id, sourceKey: `dig:${id}`, kind: 'digest', incidentId: null, message }));
    return this.store.alerts.recordDigest({ ...record, outcome: 'sent' }, deliveries);
  }
}
