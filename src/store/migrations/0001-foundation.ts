import { sql, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../store.js';

/** Tenants, API keys, billing events and the durable feed cursors. */
export function foundationMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mw_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('webhook_token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('webhook_token_enc', 'text', (c) => c.notNull())
        .addColumn('webhook_secrets_enc', 'text')
        .addColumn('stripe_api_key_enc', 'text')
        .addColumn('stripe_test_api_key_enc', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'created_at']).execute();

      let events = db.schema.createTable('billing_events');
      events =
        dialect === 'postgres'
          ? events
              .addColumn('seq', 'bigserial', (c) => c.primaryKey())
              // The writing transaction's id: the feed reads only rows whose transaction is older
              // than every transaction still running, so a slow commit is never skipped.
              .addColumn('tx_id', 'bigint', (c) => c.notNull().defaultTo(sql`(pg_current_xact_id()::text::bigint)`))
          : events
              .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
              .addColumn('tx_id', 'integer', (c) => c.notNull().defaultTo(0));
      await events
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('api_version', 'text')
        .addColumn('account', 'text')
        .addColumn('object_type', 'text')
        .addColumn('object_id', 'text')
        .addColumn('customer', 'text')
        .addColumn('amount', 'bigint')
        .addColumn('currency', 'text')
        .addColumn('status', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addUniqueConstraint('billing_events_tenant_event', ['tenant_id', 'event_id'])
        .execute();
      await db.schema.createIndex('billing_events_tenant_created').on('billing_events').columns(['tenant_id', 'created', 'seq']).execute();
      // Lookups by type, customer or related object go through `event_keys` (0002), which the
      // detector feed fills: every index here is paid on the webhook hot path.
      // SQLite's feed reads by seq (its primary key); PostgreSQL's by (tx_id, seq).
      if (dialect === 'postgres') await db.schema.createIndex('billing_events_feed').on('billing_events').columns(['tx_id', 'seq']).execute();

      await db.schema
        .createTable('feed_cursors')
        .addColumn('consumer', 'text', (c) => c.primaryKey())
        .addColumn('tx_id', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['feed_cursors', 'billing_events', 'api_keys', 'tenants', 'mw_meta']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
