import type { Kysely, Migration } from 'kysely';

/**
 * Price plans for cost projections: per tenant a default plan (metric → price config) and
 * per-customer overrides. One table; the tenant default is the row with `customer_ref = ''` (API
 * customer refs are never empty, and a primary-key column cannot be NULL on PostgreSQL), so one
 * index seek on (tenant, customer_ref in ('', ref)) finds both halves of a customer's plan.
 */
export function pricingMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('metric_prices')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('aggregation', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        // The canonical config (compilePrice's output) as JSON text: decimals are strings, so exact.
        .addColumn('price_config', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('stripe_price_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('metric_prices_pk', ['tenant_id', 'customer_ref', 'metric'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('metric_prices').ifExists().execute();
    },
  };
}
