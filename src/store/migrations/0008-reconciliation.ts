import type { Kysely, Migration } from 'kysely';

/**
 * Reconciliation with Stripe (src/reconciliation/): the latest comparison per (tenant, mapping,
 * customer, period), each run's totals, the proposed corrections (at most one open per key, so a
 * drift seen by every hourly run is proposed once), and the invoice-parity checks. Quantities are
 * exact integer micro-units written as decimal text: report data, never summed in SQL.
 */
export function reconciliationMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('reconciliation_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('checked', 'integer', (c) => c.notNull())
        .addColumn('drifted', 'integer', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('reconciliation_runs_tenant').on('reconciliation_runs').columns(['tenant_id', 'started_at']).execute();

      await db.schema
        .createTable('reconciliation_results')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('mapping_id', 'text', (c) => c.notNull())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('period_end', 'bigint', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('aggregation', 'text', (c) => c.notNull())
        .addColumn('meter_id', 'text')
        .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
        .addColumn('local_micro', 'text', (c) => c.notNull())
        .addColumn('stripe_micro', 'text')
        .addColumn('drift_ppm', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('checked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('reconciliation_results_pk', ['tenant_id', 'mapping_id', 'customer_ref', 'period_start'])
        .execute();
      await db.schema.createIndex('reconciliation_results_period').on('reconciliation_results').columns(['tenant_id', 'period_start', 'period_end']).execute();

      await db.schema
        .createTable('reconciliation_corrections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('mapping_id', 'text', (c) => c.notNull())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('period_end', 'bigint', (c) => c.notNull())
        .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
        .addColumn('local_micro', 'text', (c) => c.notNull())
        .addColumn('stripe_micro', 'text', (c) => c.notNull())
        .addColumn('delta_micro', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        // Set while proposed, null once decided: the unique index allows one open proposal per key.
        .addColumn('open_key', 'text')
        .addColumn('seen_runs', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('decided_by', 'text')
        .addColumn('decision_reason', 'text')
        .execute();
      await db.schema.createIndex('reconciliation_corrections_open').unique().on('reconciliation_corrections').columns(['tenant_id', 'open_key']).execute();
      await db.schema.createIndex('reconciliation_corrections_tenant').on('reconciliation_corrections').columns(['tenant_id', 'created_at', 'id']).execute();

      await db.schema
        .createTable('invoice_parity_checks')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('invoice_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('customer_ref', 'text')
        .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
        .addColumn('mapping_id', 'text')
        .addColumn('metric', 'text')
        .addColumn('price_id', 'text')
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('period_end', 'bigint', (c) => c.notNull())
        .addColumn('invoice_micro', 'text', (c) => c.notNull())
        .addColumn('local_micro', 'text')
        .addColumn('drift_ppm', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('checked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('invoice_parity_checks_pk', ['tenant_id', 'invoice_id', 'line_id'])
        .execute();
      // Invoice parity finds the local customer of a Stripe invoice by its Stripe customer id.
      await db.schema.createIndex('metering_customers_stripe_id').ifNotExists().on('metering_customers').columns(['tenant_id', 'stripe_customer_id']).execute();
    },
  };
}
