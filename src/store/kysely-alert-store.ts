import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Database } from './schema.js';
import { rowToNotification } from './row-to-notification.js';
import type {
  AlertChannelPatch,
  AlertChannelRecord,
  AlertDeliveryRecord,
  AlertStore,
  ChannelFailure,
  DeliveryCompletion,
  DeliveryQuery,
  DigestFrequency,
  DigestRecord,
  DigestSettingsRecord,
} from './alert-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

const UNFINISHED = ['pending', 'sending'];
const FINISHED = ['delivered', 'failed', 'canceled'];

export class KyselyAlertStore implements AlertStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  insertChannel(channel: AlertChannelRecord) {
    return this.guard('insertChannel', async () => {
      await this.db.insertInto('alert_channels').values(channelToRow(channel)).execute();
    });
  }

  getChannel(tenantId: string, id: string) {
    return this.guard('getChannel', async () => {
      const row = await this.db.selectFrom('alert_channels').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToChannel(row);
    });
  }

  listChannels(tenantId: string) {
    return this.guard('listChannels', async () => {
      const rows = await this.db.selectFrom('alert_channels').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
      return rows.map(rowToChannel);
    });
  }

  updateChannel(tenantId: string, id: string, patch: AlertChannelPatch) {
    return this.guard('updateChannel', async () => {
      const values: Updateable<Database['alert_channels']> = { updated_at: patch.updatedAt };
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.configEnc !== undefined) values.config_enc = patch.configEnc;
      if (patch.minSeverity !== undefined) values.min_severity = patch.minSeverity;
      if (patch.detectors !== undefined) values.detectors = patch.detectors === null ? null : JSON.stringify(patch.detectors);
      if (patch.sendResolved !== undefined) values.send_resolved = patch.sendResolved ? 1 : 0;
      if (patch.sendDigests !== undefined) values.send_digests = patch.sendDigests ? 1 : 0;
      if (patch.enabled !== undefined) values.enabled = patch.enabled ? 1 : 0;
      if (patch.disabledReason !== undefined) values.disabled_reason = patch.disabledReason;
      if (patch.consecutiveFailures !== undefined) values.consecutive_failures = patch.consecutiveFailures;
      if (patch.failingSince !== undefined) values.failing_since = patch.failingSince;
      if (patch.blockedUntil !== undefined) values.blocked_until = patch.blockedUntil;
      if (patch.lastError !== undefined) values.last_error = patch.lastError;
      const row = await this.db.updateTable('alert_channels').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst();
      return row && rowToChannel(row);
    });
  }

  deleteChannel(tenantId: string, id: string, now: number) {
    return this.guard('deleteChannel', async () =>
      this.db.transaction().execute(async (trx) => {
        await cancelUnfinished(trx, tenantId, id, 'channel deleted', now).execute();
        const result = await trx.deleteFrom('alert_channels').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      }),
    );
  }

  cancelChannelDeliveries(tenantId: string, channelId: string, reason: string, now: number) {
    return this.guard('cancelChannelDeliveries', async () => {
      const result = await cancelUnfinished(this.db, tenantId, channelId, reason, now).executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  recordChannelSuccess(tenantId: string, id: string, now: number) {
    return this.guard('recordChannelSuccess', async () =>
      this.db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('alert_channels').select('failing_since').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        await trx
          .updateTable('alert_channels')
          .set({ consecutive_failures: 0, failing_since: null, blocked_until: null, last_success_at: now, updated_at: now })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
        return { recovered: before !== undefined && before.failing_since !== null };
      }),
    );
  }

  recordChannelFailure(tenantId: string, id: string, failure: ChannelFailure, now: number) {
    return this.guard('recordChannelFailure', async () =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('alert_channels')
          .set({
            ...(failure.counts ? { consecutive_failures: sql<number>`consecutive_failures + 1` } : {}),
            last_failure_at: now,
            last_error: failure.error,
            blocked_until: failure.blockedUntil,
            updated_at: now,
          })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
        // The transition is its own conditional update, so only one caller ever sees it.
        const became = await trx
          .updateTable('alert_channels')
          .set({ failing_since: now })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .where('failing_since', 'is', null)
          .where('enabled', '=', 1)
          .where('consecutive_failures', '>=', failure.failingAfter)
          .returning('id')
          .execute();
        const row = await trx.selectFrom('alert_channels').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        return { channel: row && rowToChannel(row), becameFailing: became.length === 1 };
      }),
    );
  }

  listPendingNotifications(limit: number) {
    return this.guard('listPendingNotifications', async () => {
      const rows = await this.db
        .selectFrom('incident_notifications')
        .selectAll()
        .where('fanned_out_at', 'is', null)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(rowToNotification);
    });
  }

  fanOutNotification(tenantId: string, notificationId: string, deliveries: AlertDeliveryRecord[], now: number) {
    return this.guard('fanOutNotification', async () =>
      this.db.transaction().execute(async (trx) => {
        let created = 0;
        // Channel order: concurrent fan-outs of one notification on PostgreSQL lock keys in one order.
        for (const d of [...deliveries].sort((a, b) => (a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0))) {
          const rows = await trx
            .insertInto('alert_deliveries')
            .values(deliveryToRow(d))
            .onConflict((oc) => oc.columns(['tenant_id', 'source_key', 'channel_id']).doNothing())
            .returning('id')
            .execute();
          created += rows.length;
        }
        await trx
          .updateTable('incident_notifications')
          .set({ fanned_out_at: now })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', notificationId)
          .where('fanned_out_at', 'is', null)
          .execute();
        return created;
      }),
    );
  }

  claimDeliveries(now: number, limit: number, leaseUntil: number, token: string) {
    return this.guard('claimDeliveries', async () => {
      const candidates = await this.db
        .selectFrom('alert_deliveries as d')
        .innerJoin('alert_channels as c', (join) => join.onRef('c.tenant_id', '=', 'd.tenant_id').onRef('c.id', '=', 'd.channel_id'))
        .select(['d.id', 'd.tenant_id', 'd.status', 'd.next_attempt_at'])
        .where('d.status', 'in', UNFINISHED)
        .where('d.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('c.blocked_until', 'is', null), eb('c.blocked_until', '<=', now)]))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('alert_deliveries as o')
                .select('o.id')
                .whereRef('o.tenant_id', '=', 'd.tenant_id')
                .whereRef('o.channel_id', '=', 'd.channel_id')
                .whereRef('o.incident_id', '=', 'd.incident_id')
                .where('o.status', 'in', UNFINISHED)
                .where((eb) => eb.or([eb('o.created_at', '<', eb.ref('d.created_at')), eb.and([eb('o.created_at', '=', eb.ref('d.created_at')), eb('o.id', '<', eb.ref('d.id'))])])),
            ),
          ),
        )
        .orderBy('d.next_attempt_at')
        .orderBy('d.id')
        .limit(limit)
        .execute();
      const claimed: AlertDeliveryRecord[] = [];
      for (const c of candidates) {
        const row = await this.db
          .updateTable('alert_deliveries')
          .set({ status: 'sending', lease_token: token, next_attempt_at: leaseUntil, updated_at: now })
          .where('tenant_id', '=', c.tenant_id)
          .where('id', '=', c.id)
          .where('status', '=', c.status)
          .where('next_attempt_at', '=', c.next_attempt_at)
          .returningAll()
          .executeTakeFirst();
        if (row) claimed.push(rowToDelivery(row));
      }
      return claimed;
    });
  }

  completeDelivery(tenantId: string, id: string, token: string, completion: DeliveryCompletion, now: number) {
    return this.guard('completeDelivery', async () => {
      const values: Updateable<Database['alert_deliveries']> = { status: completion.status, lease_token: null, updated_at: now };
      if (completion.nextAttemptAt !== undefined) values.next_attempt_at = completion.nextAttemptAt;
      if (completion.status === 'delivered') values.delivered_at = now;
      if (completion.error !== undefined) values.last_error = completion.error;
      if (completion.statusCode !== undefined) values.last_status_code = completion.statusCode;
      const result = await this.db
        .updateTable('alert_deliveries')
        .set({ ...values, ...(completion.attempted ? { attempts: sql<number>`attempts + 1` } : {}) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('lease_token', '=', token)
        .where('status', '=', 'sending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  getDelivery(tenantId: string, id: string) {
    return this.guard('getDelivery', async () => {
      const row = await this.db.selectFrom('alert_deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToDelivery(row);
    });
  }

  listDeliveries(tenantId: string, query: DeliveryQuery) {
    return this.guard('listDeliveries', async () => {
      let q = this.db.selectFrom('alert_deliveries').selectAll().where('tenant_id', '=', tenantId);
      if (query.statuses && query.statuses.length > 0) q = q.where('status', 'in', query.statuses);
      if (query.channelId !== undefined) q = q.where('channel_id', '=', query.channelId);
      if (query.incidentId !== undefined) q = q.where('incident_id', '=', query.incidentId);
      const before = query.before;
      if (before) {
        q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(rowToDelivery);
    });
  }

  requeueDelivery(tenantId: string, id: string, now: number, expiresAt: number) {
    return this.guard('requeueDelivery', async () => {
      const row = await this.db
        .updateTable('alert_deliveries')
        .set({ status: 'pending', next_attempt_at: now, expires_at: expiresAt, lease_token: null, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', 'in', ['pending', 'failed', 'canceled'])
        .returningAll()
        .executeTakeFirst();
      return row && rowToDelivery(row);
    });
  }

  getDigestSettings(tenantId: string) {
    return this.guard('getDigestSettings', async () => {
      const r = await this.db.selectFrom('alert_digest_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
      if (!r) return undefined;
      const settings: DigestSettingsRecord = {
        tenantId: r.tenant_id,
        frequency: r.frequency as DigestFrequency,
        hour: Number(r.hour),
        weekday: Number(r.weekday),
        timeZone: r.time_zone,
        skipEmpty: Number(r.skip_empty) === 1,
        updatedAt: Number(r.updated_at),
      };
      return settings;
    });
  }

  putDigestSettings(s: DigestSettingsRecord) {
    return this.guard('putDigestSettings', async () => {
      const values = { tenant_id: s.tenantId, frequency: s.frequency, hour: s.hour, weekday: s.weekday, time_zone: s.timeZone, skip_empty: s.skipEmpty ? 1 : 0, updated_at: s.updatedAt };
      await this.db
        .insertInto('alert_digest_settings')
        .values(values)
        .onConflict((oc) =>
          oc.column('tenant_id').doUpdateSet({ frequency: values.frequency, hour: values.hour, weekday: values.weekday, time_zone: values.time_zone, skip_empty: values.skip_empty, updated_at: values.updated_at }),
        )
        .execute();
    });
  }

  listDigestChannels() {
    return this.guard('listDigestChannels', async () => {
      const rows = await this.db.selectFrom('alert_channels').selectAll().where('enabled', '=', 1).where('send_digests', '=', 1).orderBy('tenant_id').orderBy('created_at').orderBy('id').execute();
      return rows.map(rowToChannel);
    });
  }

  hasDigest(tenantId: string, frequency: DigestFrequency, periodStart: number) {
    return this.guard('hasDigest', async () => {
      const row = await this.db
        .selectFrom('alert_digests')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('frequency', '=', frequency)
        .where('period_start', '=', periodStart)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  recordDigest(digest: DigestRecord, deliveries: AlertDeliveryRecord[]) {
    return this.guard('recordDigest', async () =>
      this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('alert_digests')
          .values({
            id: digest.id,
            tenant_id: digest.tenantId,
            frequency: digest.frequency,
            period_start: digest.periodStart,
            period_end: digest.periodEnd,
            outcome: digest.outcome,
            created_at: digest.createdAt,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'frequency', 'period_start']).doNothing())
          .returning('id')
          .execute();
        if (inserted.length !== 1) return false;
        for (const d of deliveries) await trx.insertInto('alert_deliveries').values(deliveryToRow(d)).execute();
        return true;
      }),
    );
  }

  eventTotals(tenantId: string, types: string[], sinceSeconds: number, untilSeconds: number) {
    return this.guard('eventTotals', async () => {
      if (types.length === 0) return [];
      const rows = await this.db
        .selectFrom('billing_events')
        .select((eb) => ['type', 'currency', eb.fn.countAll<number>().as('count'), eb.fn.coalesce(eb.fn.sum<number>('amount'), sql<number>`0`).as('amount')])
        .where('tenant_id', '=', tenantId)
        .where('type', 'in', types)
        .where('created', '>=', sinceSeconds)
        .where('created', '<', untilSeconds)
        .groupBy(['type', 'currency'])
        .orderBy('type')
        .orderBy('currency')
        .execute();
      return rows.map((r) => ({ type: r.type, currency: r.currency, count: Number(r.count), amount: Number(r.amount) }));
    });
  }

  prune(beforeMs: number) {
    return this.guard('pruneAlerts', async () => {
      const deliveries = await this.db.deleteFrom('alert_deliveries').where('created_at', '<', beforeMs).where('status', 'in', FINISHED).executeTakeFirst();
      const digests = await this.db.deleteFrom('alert_digests').where('created_at', '<', beforeMs).executeTakeFirst();
      return { deliveries: Number(deliveries.numDeletedRows), digests: Number(digests.numDeletedRows) };
    });
  }
}

/** A channel's deliveries that have not finished, canceled with the reason (the channel went away or was disabled). */
function cancelUnfinished(db: Kysely<Database>, tenantId: string, channelId: string, reason: string, now: number) {
  return db
    .updateTable('alert_deliveries')
    .set({ status: 'canceled', last_error: reason, lease_token: null, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('channel_id', '=', channelId)
    .where('status', 'in', UNFINISHED);
}

function channelToRow(c: AlertChannelRecord): Database['alert_channels'] {
  return {
    id: c.id,
    tenant_id: c.tenantId,
    type: c.type,
    name: c.name,
    config_enc: c.configEnc,
    min_severity: c.minSeverity,
    detectors: c.detectors === null ? null : JSON.stringify(c.detectors),
    send_resolved: c.sendResolved ? 1 : 0,
    send_digests: c.sendDigests ? 1 : 0,
    enabled: c.enabled ? 1 : 0,
    disabled_reason: c.disabledReason,
    consecutive_failures: c.consecutiveFailures,
    failing_since: c.failingSince,
    blocked_until: c.blockedUntil,
    last_success_at: c.lastSuccessAt,
    last_failure_at: c.lastFailureAt,
    last_error: c.lastError,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

const num = (v: number | null) => (v === null ? null : Number(v));

function rowToChannel(r: Selectable<Database['alert_channels']>): AlertChannelRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    type: r.type as AlertChannelRecord['type'],
    name: r.name,
    configEnc: r.config_enc,
    minSeverity: r.min_severity,
    detectors: r.detectors === null ? null : (JSON.parse(r.detectors) as string[]),
    sendResolved: Number(r.send_resolved) === 1,
    sendDigests: Number(r.send_digests) === 1,
    enabled: Number(r.enabled) === 1,
    disabledReason: r.disabled_reason,
    consecutiveFailures: Number(r.consecutive_failures),
    failingSince: num(r.failing_since),
    blockedUntil: num(r.blocked_until),
    lastSuccessAt: num(r.last_success_at),
    lastFailureAt: num(r.last_failure_at),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function deliveryToRow(d: AlertDeliveryRecord): Database['alert_deliveries'] {
  return {
    id: d.id,
    tenant_id: d.tenantId,
    channel_id: d.channelId,
    source_key: d.sourceKey,
    kind: d.kind,
    incident_id: d.incidentId,
    message: d.message,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    lease_token: d.leaseToken,
    expires_at: d.expiresAt,
    last_error: d.lastError,
    last_status_code: d.lastStatusCode,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    delivered_at: d.deliveredAt,
  };
}

function rowToDelivery(r: Selectable<Database['alert_deliveries']>): AlertDeliveryRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    channelId: r.channel_id,
    sourceKey: r.source_key,
    kind: r.kind as AlertDeliveryRecord['kind'],
    incidentId: r.incident_id,
    message: r.message,
    status: r.status as AlertDeliveryRecord['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    leaseToken: r.lease_token,
    expiresAt: Number(r.expires_at),
    lastError: r.last_error,
    lastStatusCode: num(r.last_status_code),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    deliveredAt: num(r.delivered_at),
  };
}
