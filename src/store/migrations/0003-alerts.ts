import type { Kysely, Migration } from 'kysely';

/**
 * Alerting: channels per tenant, the delivery outbox, digest settings and the record of sent digests.
 * `incident_notifications.fanned_out_at` is the fan-out's durable marker: a notification becomes
 * deliveries and gets its marker in one transaction. Notifications recorded before this migration
 * are marked done: no channel existed to receive them, and a new channel must not replay history.
 * The outbox's unique (tenant, source, channel) key makes every fan-out idempotent.
 */
export function alertsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('incident_notifications').addColumn('fanned_out_at', 'bigint').execute();
      await db.updateTable('incident_notifications').set((eb) => ({ fanned_out_at: eb.ref('created_at') })).execute();
      await db.schema.createIndex('incident_notifications_fanout').on('incident_notifications').columns(['fanned_out_at', 'created_at', 'id']).execute();

      await db.schema
        .createTable('alert_channels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('config_enc', 'text', (c) => c.notNull())
        .addColumn('min_severity', 'text', (c) => c.notNull())
        .addColumn('detectors', 'text')
        .addColumn('send_resolved', 'integer', (c) => c.notNull())
        .addColumn('send_digests', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
        .addColumn('failing_since', 'bigint')
        .addColumn('blocked_until', 'bigint')
        .addColumn('last_success_at', 'bigint')
        .addColumn('last_failure_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_channels_tenant').on('alert_channels').columns(['tenant_id', 'created_at', 'id']).execute();

      await db.schema
        .createTable('alert_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        // No foreign key to the channel: a deleted channel's delivery history stays readable.
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('source_key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_token', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addUniqueConstraint('alert_deliveries_source_channel', ['tenant_id', 'source_key', 'channel_id'])
        .execute();
      await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('alert_deliveries_tenant').on('alert_deliveries').columns(['tenant_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('alert_deliveries_incident_order').on('alert_deliveries').columns(['tenant_id', 'channel_id', 'incident_id', 'created_at']).execute();
      await db.schema.createIndex('alert_deliveries_created').on('alert_deliveries').columns(['created_at']).execute();

      await db.schema
        .createTable('alert_digest_settings')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
        .addColumn('frequency', 'text', (c) => c.notNull())
        .addColumn('hour', 'integer', (c) => c.notNull())
        .addColumn('weekday', 'integer', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('skip_empty', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('alert_digests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('frequency', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('period_end', 'bigint', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('alert_digests_period', ['tenant_id', 'frequency', 'period_start'])
        .execute();
      await db.schema.createIndex('alert_digests_created').on('alert_digests').columns(['created_at']).execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['alert_digests', 'alert_digest_settings', 'alert_deliveries', 'alert_channels']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
      await db.schema.dropIndex('incident_notifications_fanout').ifExists().execute();
      await db.schema.alterTable('incident_notifications').dropColumn('fanned_out_at').execute();
    },
  };
}
