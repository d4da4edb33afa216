import type { Kysely, Migration } from 'kysely';

/**
 * Durable background jobs (Stripe backfill, gap-fill): one row per job with its parameters, its
 * cursor and its progress as JSON, and a lease (owner + expiry) held by the worker running it.
 * `active_key` is the kind while the job is unfinished and NULL after, so "one unfinished job of a
 * kind per tenant" is a plain unique index on both databases (NULLs never collide).
 */
export function jobsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('progress', 'text', (c) => c.notNull())
        .addColumn('cursor', 'text')
        .addColumn('error', 'text')
        .addColumn('active_key', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('run_after', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addUniqueConstraint('jobs_active', ['tenant_id', 'active_key'])
        .execute();
      await db.schema.createIndex('jobs_tenant_kind').on('jobs').columns(['tenant_id', 'kind', 'created_at']).execute();
      await db.schema.createIndex('jobs_tenant_created').on('jobs').columns(['tenant_id', 'created_at', 'id']).execute();
      // The claim query: unfinished jobs whose time has come.
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_after']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('jobs').ifExists().execute();
    },
  };
}
