import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The detectors' hot reads answered from `event_keys` alone. A `billing_events` row is about one page
 * (the raw JSON), so every row a detector touched through the join cost a page read, out of SQLite's
 * small page cache (a customer's failures of the last minutes are spread over the whole table).
 * `event_keys` now also holds the event id, amount and currency (backfilled from `billing_events`),
 * and the per-customer index covers what the per-customer detectors read (failure clusters,
 * duplicate charges), so those reads are one contiguous index range; so does the per-type index
 * (failure-rate payments, evidence). Both replace the narrower indexes of 0002, which are their prefixes.
 */
export function eventKeysCoverMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('event_keys').addColumn('event_id', 'text').execute();
      await db.schema.alterTable('event_keys').addColumn('amount', 'bigint').execute();
      await db.schema.alterTable('event_keys').addColumn('currency', 'text').execute();
      // UPDATE … FROM: the same statement on PostgreSQL and SQLite (≥ 3.33).
      await sql`update event_keys set event_id = e.event_id, amount = e.amount, currency = e.currency from billing_events as e where e.seq = event_keys.seq`.execute(db);
      await db.schema
        .createIndex('event_keys_customer_cover')
        .on('event_keys')
        .columns(['tenant_id', 'customer', 'type', 'created', 'seq', 'amount', 'currency', 'event_id', 'object_id', 'ref_id'])
        .execute();
      await db.schema.dropIndex('event_keys_customer').execute();
      // The per-type index covers the same columns: without statistics, SQLite would otherwise scan the
      // whole covering per-customer index for a read by type and time (it needs no table lookups)
      // rather than seek the narrow per-type index and look rows up. Rows arrive in time order, so
      // this index is appended to, not written at random.
      await db.schema
        .createIndex('event_keys_type_cover')
        .on('event_keys')
        .columns(['tenant_id', 'type', 'created', 'seq', 'customer', 'amount', 'currency', 'event_id', 'object_id', 'ref_id'])
        .execute();
      await db.schema.dropIndex('event_keys_type').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('event_keys_type').on('event_keys').columns(['tenant_id', 'type', 'created']).execute();
      await db.schema.dropIndex('event_keys_type_cover').execute();
      await db.schema.createIndex('event_keys_customer').on('event_keys').columns(['tenant_id', 'customer', 'type', 'created']).execute();
      await db.schema.dropIndex('event_keys_customer_cover').execute();
      for (const column of ['currency', 'amount', 'event_id']) await db.schema.alterTable('event_keys').dropColumn(column).execute();
    },
  };
}
