import type { Kysely, Migration } from 'kysely';

/**
 * Detector state: one-minute aggregate buckets, refund and subscription projections, incidents,
 * their notifications, per-tenant detector settings, false-positive suppressions and leases.
 * Every table is keyed by tenant; the incidents' `active_key` (NULL once closed) makes "one active
 * incident per tenant, detector and subject" a plain unique index on both databases.
 */
export function detectorsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('billing_events').addColumn('ref_id', 'text').execute();
      await db.schema.alterTable('billing_events').addColumn('anomaly_score', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('billing_events').addColumn('flagged', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      // The lookup keys of each stored event, written by the detector feed rather than the webhook
      // request, so the hot path maintains three indexes instead of seven. Events not indexed yet
      // (the feed's tail) are found by a short scan of billing_events past the highest indexed seq.
      await db.schema
        .createTable('event_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('customer', 'text')
        .addColumn('object_id', 'text')
        .addColumn('ref_id', 'text')
        .addPrimaryKeyConstraint('event_keys_pk', ['tenant_id', 'seq'])
        .execute();
      await db.schema.createIndex('event_keys_type').on('event_keys').columns(['tenant_id', 'type', 'created']).execute();
      await db.schema.createIndex('event_keys_customer').on('event_keys').columns(['tenant_id', 'customer', 'type', 'created']).execute();
      await db.schema.createIndex('event_keys_ref').on('event_keys').columns(['tenant_id', 'ref_id', 'created']).execute();
      await db.schema.createIndex('event_keys_object').on('event_keys').columns(['tenant_id', 'object_id', 'created']).execute();

      await db.schema
        .createTable('detector_buckets')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('bucket_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('detector_buckets_pk', ['tenant_id', 'metric', 'bucket_start'])
        .execute();

      // The metrics each tenant has buckets for, so a prefix read (`refund:` → one per currency)
      // becomes a few primary-key range scans instead of a scan of every bucket of those metrics.
      await db.schema
        .createTable('detector_metrics')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('detector_metrics_pk', ['tenant_id', 'metric'])
        .execute();

      await db.schema
        .createTable('refund_facts')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('refund_id', 'text', (c) => c.notNull())
        .addColumn('charge_id', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        // Stripe time (ms) of the event the status comes from: a late older event never wins.
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('refund_facts_pk', ['tenant_id', 'refund_id'])
        .execute();
      await db.schema.createIndex('refund_facts_charge').on('refund_facts').columns(['tenant_id', 'charge_id']).execute();

      await db.schema
        .createTable('subscription_facts')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('customer', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text')
        .addColumn('period_start', 'bigint')
        .addColumn('period_end', 'bigint')
        .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull())
        .addColumn('recurring_amount', 'bigint')
        .addColumn('quantity', 'bigint', (c) => c.notNull())
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('subscription_facts_pk', ['tenant_id', 'subscription_id'])
        .execute();
      await db.schema.createIndex('subscription_facts_period').on('subscription_facts').columns(['tenant_id', 'status', 'period_end']).execute();
      await db.schema.createIndex('subscription_facts_customer').on('subscription_facts').columns(['tenant_id', 'customer']).execute();

      await db.schema
        .createTable('incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('detector', 'text', (c) => c.notNull())
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('historical', 'integer', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('figures', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('first_triggered_at', 'bigint', (c) => c.notNull())
        .addColumn('last_triggered_at', 'bigint', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('clear_since', 'bigint')
        .addColumn('acknowledged_at', 'bigint')
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', 'bigint')
        .addColumn('resolution_actor', 'text')
        .addColumn('resolution_reason', 'text')
        .addColumn('active_key', 'text')
        .addUniqueConstraint('incidents_active', ['tenant_id', 'active_key'])
        .execute();
      await db.schema.createIndex('incidents_tenant_triggered').on('incidents').columns(['tenant_id', 'first_triggered_at', 'id']).execute();
      await db.schema.createIndex('incidents_tenant_status').on('incidents').columns(['tenant_id', 'status']).execute();

      await db.schema
        .createTable('incident_notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
        .addColumn('detector', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('dedupe_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('incident_notifications_dedupe', ['tenant_id', 'dedupe_key'])
        .execute();
      await db.schema.createIndex('incident_notifications_tenant').on('incident_notifications').columns(['tenant_id', 'created_at']).execute();

      await db.schema
        .createTable('detector_settings')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('detector', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('detector_settings_pk', ['tenant_id', 'detector'])
        .execute();

      await db.schema
        .createTable('detector_suppressions')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('detector', 'text', (c) => c.notNull())
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('until', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('detector_suppressions_pk', ['tenant_id', 'detector', 'subject_type', 'subject_id'])
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['detector_metrics', 'event_keys', 'leases', 'detector_suppressions', 'detector_settings', 'incident_notifications', 'incidents', 'subscription_facts', 'refund_facts', 'detector_buckets']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
