import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Stripe sync (issue 6, delta push): metric → meter mappings, the per (tenant, mapping, mode, meter,
 * customer, period, Stripe customer) push state, the journal of meter events sent, and call counts.
 *
 * - `sync_push_state` is both the durable memory of what Stripe accepted and the work queue: `due`
 *   rows are claimed by replicas (`claim_token`, `claimed_until`; `FOR UPDATE SKIP LOCKED` on
 *   PostgreSQL). The `pending_*` columns are the write-ahead intent of the one operation in flight:
 *   whoever claims the row next re-sends exactly that operation (same identifier) before planning a
 *   new one, so two replicas or a restart can never send two different deltas for the same step.
 * - Quantities are integer micro-units in 64-bit columns, read through `cast(… as text)`.
 */
export function syncMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      // Shadow pushes go to the test-mode account, where the customer has another id.
      await db.schema.alterTable('metering_customers').addColumn('stripe_test_customer_id', 'text').execute();
      await db.schema
        .createTable('sync_mappings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('aggregation', 'text', (c) => c.notNull())
        .addColumn('meter_event_name', 'text', (c) => c.notNull())
        .addColumn('meter_id', 'text')
        .addColumn('value_key', 'text', (c) => c.notNull())
        .addColumn('customer_key', 'text', (c) => c.notNull())
        .addColumn('shadow_enabled', 'integer', (c) => c.notNull())
        .addColumn('shadow_event_name', 'text')
        .addColumn('shadow_meter_id', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sync_mappings_tenant').on('sync_mappings').columns(['tenant_id', 'created_at', 'id']).execute();
      // One enabled mapping per meter: two would add their totals into the same Stripe meter.
      await db.schema
        .createIndex('sync_mappings_meter')
        .unique()
        .on('sync_mappings')
        .columns(['tenant_id', 'meter_event_name'])
        .where(sql.ref('enabled'), '=', 1)
        .execute();

      await db.schema
        .createTable('sync_push_state')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('mapping_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('event_name', 'text', (c) => c.notNull())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
        .addColumn('period_end', 'bigint', (c) => c.notNull())
        .addColumn('target_micro', 'bigint')
        .addColumn('accepted_micro', 'bigint')
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('pending_kind', 'text')
        .addColumn('pending_identifier', 'text')
        .addColumn('pending_value_micro', 'bigint')
        .addColumn('pending_total_micro', 'bigint')
        .addColumn('pending_ts', 'bigint')
        .addColumn('pending_since', 'bigint')
        .addColumn('pending_uncertain', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('due', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('claim_token', 'text')
        .addColumn('claimed_until', 'bigint')
        .addColumn('dirty_since', 'bigint')
        .addColumn('last_pushed_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('sync_push_state_key', ['tenant_id', 'mapping_id', 'mode', 'event_name', 'customer_ref', 'period_start', 'stripe_customer_id'])
        .execute();
      // The claim reads due rows in due-time order across tenants.
      await db.schema.createIndex('sync_push_state_due').on('sync_push_state').columns(['due', 'next_attempt_at']).execute();
      await db.schema.createIndex('sync_push_state_customer').on('sync_push_state').columns(['tenant_id', 'customer_ref', 'period_start']).execute();

      await db.schema
        .createTable('sync_push_events')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('state_id', 'text', (c) => c.notNull())
        .addColumn('mapping_id', 'text', (c) => c.notNull())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('event_name', 'text', (c) => c.notNull())
        .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
        .addColumn('value_micro', 'bigint', (c) => c.notNull())
        .addColumn('total_micro', 'bigint', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('first_sent_at', 'bigint', (c) => c.notNull())
        .addColumn('accepted_at', 'bigint')
        .addColumn('cancelled_at', 'bigint')
        .addColumn('cancel_refused_at', 'bigint')
        .addPrimaryKeyConstraint('sync_push_events_pk', ['tenant_id', 'mode', 'identifier'])
        .execute();
      await db.schema.createIndex('sync_push_events_state').on('sync_push_events').columns(['state_id', 'first_sent_at']).execute();

      await db.schema
        .createTable('sync_call_stats')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('calls', 'bigint', (c) => c.notNull())
        .addColumn('operations', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sync_call_stats_pk', ['tenant_id', 'mode'])
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['sync_call_stats', 'sync_push_events', 'sync_push_state', 'sync_mappings']) await db.schema.dropTable(t).ifExists().execute();
      await db.schema.alterTable('metering_customers').dropColumn('stripe_test_customer_id').execute();
    },
  };
}
