import { CompiledQuery, Migrator, sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations/index.js';
import { StoreUnavailableError } from './store-unavailable-error.js';
import { KyselyDetectorStore } from './kysely-detector-store.js';
import type { DetectorStore } from './detector-store.js';
import { KyselyAlertStore } from './kysely-alert-store.js';
import type { AlertStore } from './alert-store.js';
import { KyselyMeteringStore, type SnapshotOpener } from './kysely-metering-store.js';
import type { MeteringStore } from './metering-store.js';
import { KyselyPricingStore } from './kysely-pricing-store.js';
import type { PricingStore } from './pricing-store.js';
import { KyselyJobStore } from './kysely-job-store.js';
import type { JobStore } from './job-store.js';
import { KyselyReconciliationStore } from './kysely-reconciliation-store.js';
import type { ReconciliationStore } from './reconciliation-store.js';
import { KyselySyncStore } from './kysely-sync-store.js';
import type { SyncStore } from './sync-store.js';
import {
  FEED_START,
  type ApiKeyRecord,
  type BillingEventInput,
  type BillingEventKey,
  type BillingEventQuery,
  type BillingEventRecord,
  type FeedBatch,
  type FeedPosition,
  type MigrationStatus,
  type Scope,
  type Store,
  type StoreDialect,
  type TenantPatch,
  type TenantRecord,
} from './store.js';

export interface KyselyStoreOptions {
  dialect: StoreDialect;
  /** Called for every failed store operation (metrics, logs); must not throw. */
  onError?: (operation: string, error: unknown) => void;
  /** Extra teardown after the Kysely instance is destroyed. */
  afterClose?: () => Promise<void>;
  /** SQLite: a second, read-only connection for snapshot reads that must not block the writer. */
  openSnapshot?: SnapshotOpener;
  /** SQLite: webhook rows are written on their own thread (see sqlite/event-writer-thread.ts). */
  eventWriter?: { insert(rows: unknown[][]): Promise<boolean[]> };
  /** SQLite: the write turn the event writer takes (sqlite/write-turn.ts), for other writing threads. */
  writeTurn?: SharedArrayBuffer;
}

/**
 * The Store implementation shared by both adapters: the queries are portable SQL through Kysely.
 * Where the databases really differ (the feed's visibility rule, column types in migrations) the
 * difference is keyed on `dialect` right where it matters.
 */
export class KyselyStore implements Store {
  readonly dialect: StoreDialect;
  private readonly onError: (operation: string, error: unknown) => void;
  private closed = false;
  readonly detectors: DetectorStore;
  readonly alerts: AlertStore;
  readonly metering: MeteringStore;
  readonly pricing: PricingStore;
  readonly jobs: JobStore;
  readonly reconciliation: ReconciliationStore;
  readonly sync: SyncStore;
  /** SQLite with an event writer thread: the write turn another writing thread should join. */
  readonly writeTurn: SharedArrayBuffer | undefined;

  constructor(
    readonly db: Kysely<Database>,
    private readonly options: KyselyStoreOptions,
  ) {
    this.dialect = options.dialect;
    this.writeTurn = options.writeTurn;
    this.onError = options.onError ?? (() => {});
    this.detectors = new KyselyDetectorStore(db, (operation, fn) => this.guard(operation, fn), this.dialect);
    this.alerts = new KyselyAlertStore(db, (operation, fn) => this.guard(operation, fn));
    this.metering = new KyselyMeteringStore(db, this.dialect, (operation, fn) => this.guard(operation, fn), options.openSnapshot);
    this.pricing = new KyselyPricingStore(db, (operation, fn) => this.guard(operation, fn));
    this.jobs = new KyselyJobStore(db, this.dialect, (operation, fn) => this.guard(operation, fn), eventToRow);
    this.reconciliation = new KyselyReconciliationStore(db, (operation, fn) => this.guard(operation, fn));
    this.sync = new KyselySyncStore(db, this.dialect, (operation, fn) => this.guard(operation, fn));
  }

  private async guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      if (this.closed) throw new Error('store is closed');
      return await fn();
    } catch (error) {
      this.onError(operation, error);
      throw new StoreUnavailableError(operation, error);
    }
  }

  private migrator(): Migrator {
    return new Migrator({ db: this.db, provider: migrationProvider(this.dialect) });
  }

  migrate(): Promise<string[]> {
    return this.guard('migrate', async () => {
      const { error, results } = await this.migrator().migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    });
  }

  migrationStatus(): Promise<MigrationStatus> {
    return this.guard('migrationStatus', async () => {
      const all = await this.migrator().getMigrations();
      return {
        applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
        pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
      };
    });
  }

  ping(): Promise<void> {
    return this.guard('ping', async () => {
      await sql`select 1`.execute(this.db);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
    await this.options.afterClose?.();
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.guard('getMeta', async () => {
      const row = await this.db.selectFrom('mw_meta').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    });
  }

  putMetaIfAbsent(key: string, value: string): Promise<boolean> {
    return this.guard('putMetaIfAbsent', async () => {
      const rows = await this.db
        .insertInto('mw_meta')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .execute();
      return rows.length === 1;
    });
  }

  insertTenant(tenant: TenantRecord): Promise<boolean> {
    return this.guard('insertTenant', async () => {
      const rows = await this.db
        .insertInto('tenants')
        .values(tenantToRow(tenant))
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .execute();
      return rows.length === 1;
    });
  }

  getTenant(id: string): Promise<TenantRecord | undefined> {
    return this.guard('getTenant', async () => {
      const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row && rowToTenant(row);
    });
  }

  getTenantByName(name: string): Promise<TenantRecord | undefined> {
    return this.guard('getTenantByName', async () => {
      const row = await this.db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
      return row && rowToTenant(row);
    });
  }

  getTenantByWebhookTokenHash(hash: string): Promise<TenantRecord | undefined> {
    return this.guard('getTenantByWebhookTokenHash', async () => {
      const row = await this.db.selectFrom('tenants').selectAll().where('webhook_token_hash', '=', hash).executeTakeFirst();
      return row && rowToTenant(row);
    });
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.guard('listTenants', async () => {
      const rows = await this.db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(rowToTenant);
    });
  }

  updateTenant(id: string, patch: TenantPatch, now: number): Promise<TenantRecord | undefined> {
    return this.guard('updateTenant', async () => {
      const values: Partial<Database['tenants']> = { updated_at: now };
      if (patch.webhookTokenHash !== undefined) values.webhook_token_hash = patch.webhookTokenHash;
      if (patch.webhookTokenEnc !== undefined) values.webhook_token_enc = patch.webhookTokenEnc;
      if (patch.webhookSecretsEnc !== undefined) values.webhook_secrets_enc = patch.webhookSecretsEnc;
      if (patch.stripeApiKeyEnc !== undefined) values.stripe_api_key_enc = patch.stripeApiKeyEnc;
      if (patch.stripeTestApiKeyEnc !== undefined) values.stripe_test_api_key_enc = patch.stripeTestApiKeyEnc;
      const row = await this.db.updateTable('tenants').set(values).where('id', '=', id).returningAll().executeTakeFirst();
      return row && rowToTenant(row);
    });
  }

  insertApiKey(key: ApiKeyRecord): Promise<void> {
    return this.guard('insertApiKey', async () => {
      await this.db
        .insertInto('api_keys')
        .values({
          id: key.id,
          tenant_id: key.tenantId,
          name: key.name,
          prefix: key.prefix,
          key_hash: key.keyHash,
          scopes: key.scopes.join(' '),
          created_at: key.createdAt,
          revoked_at: key.revokedAt,
        })
        .execute();
    });
  }

  getApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.guard('getApiKeyByHash', async () => {
      const row = await this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
      return row && rowToApiKey(row);
    });
  }

  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.guard('listApiKeys', async () => {
      const rows = await this.db
        .selectFrom('api_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(rowToApiKey);
    });
  }

  revokeApiKey(tenantId: string, id: string, now: number): Promise<boolean> {
    return this.guard('revokeApiKey', async () => {
      const result = await this.db
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  insertBillingEvents(events: BillingEventInput[]): Promise<boolean[]> {
    return this.guard('insertBillingEvents', async () => {
      if (events.length === 0) return [];
      const inserted = new Set<string>();
      const key = (tenantId: string, eventId: string) => `${tenantId}\u0000${eventId}`;
      if (this.dialect === 'postgres') {
        // One multi-row statement, rows sorted by key: concurrent writers then take their row
        // locks in the same order and cannot deadlock.
        const sorted = [...events].sort((a, b) => compareKeys(key(a.tenantId, a.eventId), key(b.tenantId, b.eventId)));
        const params: unknown[] = [];
        const tuples = sorted.map((e) => {
          const values = eventValues(e);
          const start = params.length;
          params.push(...values);
          return `(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`;
        });
        const result = await this.db.executeQuery<{ tenant_id: string; event_id: string }>(
          CompiledQuery.raw(`${INSERT_EVENT_SQL} values ${tuples.join(', ')} on conflict (tenant_id, event_id) do nothing returning tenant_id, event_id`, params),
        );
        for (const row of result.rows) inserted.add(key(row.tenant_id, row.event_id));
      } else if (this.options.eventWriter) {
        // Positional answers: within a batch the first occurrence of a key is the one stored.
        return this.options.eventWriter.insert(events.map(eventValues));
      } else {
        // One transaction, one cached prepared statement: the commit is shared by the whole batch.
        const placeholders = `(${EVENT_COLUMNS.map(() => '?').join(', ')})`;
        await this.db.transaction().execute(async (trx) => {
          for (const e of events) {
            const result = await trx.executeQuery<{ seq: number }>(
              CompiledQuery.raw(`${INSERT_EVENT_SQL} values ${placeholders} on conflict (tenant_id, event_id) do nothing returning seq`, eventValues(e)),
            );
            if (result.rows.length === 1) inserted.add(key(e.tenantId, e.eventId));
          }
        });
      }
      // The first occurrence of a key in the batch is the one that was stored.
      return events.map((e) => inserted.delete(key(e.tenantId, e.eventId)));
    });
  }

  /** Planner statistics upkeep: SQLite needs `PRAGMA optimize` now and then; PostgreSQL autovacuums. */
  maintain(): Promise<void> {
    return this.guard('maintain', async () => {
      if (this.dialect === 'sqlite') await sql`pragma optimize`.execute(this.db);
    });
  }

  insertBillingEvent(event: BillingEventInput): Promise<{ inserted: boolean }> {
    return this.guard('insertBillingEvent', async () => {
      const rows = await this.db
        .insertInto('billing_events')
        .values(eventToRow(event))
        .onConflict((oc) => oc.columns(['tenant_id', 'event_id']).doNothing())
        .returning('seq')
        .execute();
      return { inserted: rows.length === 1 };
    });
  }

  getBillingEvent(tenantId: string, eventId: string): Promise<BillingEventRecord | undefined> {
    return this.guard('getBillingEvent', async () => {
      const row = await this.db
        .selectFrom('billing_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('event_id', '=', eventId)
        .executeTakeFirst();
      return row && rowToEvent(row);
    });
  }

  /**
   * Newest first by (created, seq). Filters on type, customer or related object use `event_keys`,
   * which the detector feed fills; the feed's tail, not indexed yet, is scanned from billing_events
   * past the highest indexed seq, so a filtered read never misses a stored event.
   */
  listBillingEvents(tenantId: string, query: BillingEventQuery): Promise<BillingEventRecord[]> {
    return this.guard('listBillingEvents', async () => {
      const keyed = (query.types !== undefined && query.types.length > 0) || query.customer !== undefined || query.refId !== undefined || query.objectId !== undefined;
      if (!keyed) return (await this.eventsQuery(tenantId, query, undefined).execute()).map(rowToEvent);

      const indexed = await this.keyedQuery(tenantId, query).selectAll('e').execute();
      if (query.indexedOnly) return indexed.map(rowToEvent);
      const top = await this.db.selectFrom('event_keys').select((eb) => eb.fn.max<number>('seq').as('seq')).where('tenant_id', '=', tenantId).executeTakeFirst();
      const tail = await this.tailQuery(tenantId, query, Number(top?.seq ?? 0)).execute();
      const rows = [...indexed, ...tail].sort((a, b) => Number(b.created) - Number(a.created) || Number(b.seq) - Number(a.seq));
      const seen = new Set<number>();
      return rows
        .filter((r) => !seen.has(Number(r.seq)) && seen.add(Number(r.seq)))
        .slice(0, query.limit)
        .map(rowToEvent);
    });
  }

  listBillingEventKeys(tenantId: string, query: BillingEventQuery & { types: string[] }): Promise<BillingEventKey[]> {
    return this.guard('listBillingEventKeys', async () => {
      const rows = await this.keyedQuery(tenantId, query).select(KEY_COLUMNS).execute();
      return rows.map(rowToEventKey);
    });
  }

  /** Indexed events (through `event_keys`), newest first; the caller picks the columns. */
  private keyedQuery(tenantId: string, query: BillingEventQuery) {
    const keys = this.db.selectFrom('event_keys as k').innerJoin('billing_events as e', 'e.seq', 'k.seq').where('k.tenant_id', '=', tenantId);
    return filterEvents(keys, query, KEYED_FILTER_COLUMNS).orderBy('k.created', 'desc').orderBy('k.seq', 'desc').limit(query.limit);
  }

  /**
   * The feed's unindexed tail: rows past `afterSeq`, walked by seq (the primary key) so the planner
   * never scans a whole time range to find a few new rows; filters are applied row by row.
   */
  private tailQuery(tenantId: string, query: BillingEventQuery, afterSeq: number) {
    return filterEvents(this.db.selectFrom('billing_events').selectAll().where('seq', '>', afterSeq).where('tenant_id', '=', tenantId), query, TABLE_FILTER_COLUMNS)
      .orderBy('seq', 'desc')
      .limit(Math.max(query.limit, 10_000));
  }

  /** The plain query on billing_events, newest first. */
  private eventsQuery(tenantId: string, query: BillingEventQuery, afterSeq: number | undefined) {
    let q = this.db.selectFrom('billing_events').selectAll().where('tenant_id', '=', tenantId);
    if (afterSeq !== undefined) q = q.where('seq', '>', afterSeq);
    return filterEvents(q, query, TABLE_FILTER_COLUMNS).orderBy('created', 'desc').orderBy('seq', 'desc').limit(query.limit);
  }

  readFeed(after: FeedPosition, limit: number): Promise<FeedBatch> {
    return this.guard('readFeed', async () => {
      const rows = await (await this.feedQuery(after)).selectAll().limit(limit).execute();
      const last = rows[rows.length - 1];
      return {
        events: rows.map(rowToEvent),
        positions: rows.map((r) => ({ tx: Number(r.tx_id), seq: Number(r.seq) })),
        position: last ? { tx: Number(last.tx_id), seq: Number(last.seq) } : after,
        scanned: rows.length,
      };
    });
  }

  readFeedOfTypes(after: FeedPosition, limit: number, types: readonly string[]): Promise<FeedBatch> {
    return this.guard('readFeedOfTypes', async () => {
      // Positions and types first (no payloads), then the full rows of the matching ones.
      const keys = await (await this.feedQuery(after)).select(['seq', 'tx_id', 'type']).limit(limit).execute();
      const last = keys[keys.length - 1];
      const wanted = new Set(types);
      const matching = keys.filter((k) => wanted.has(k.type));
      const rows = matching.length === 0 ? [] : await this.db.selectFrom('billing_events').selectAll().where('seq', 'in', matching.map((k) => k.seq)).execute();
      rows.sort((a, b) => (Number(a.tx_id) - Number(b.tx_id)) || (Number(a.seq) - Number(b.seq)));
      return {
        events: rows.map(rowToEvent),
        positions: rows.map((r) => ({ tx: Number(r.tx_id), seq: Number(r.seq) })),
        position: last ? { tx: Number(last.tx_id), seq: Number(last.seq) } : after,
        scanned: keys.length,
      };
    });
  }

  /** The feed after `after`, in feed order, without a select list. */
  private async feedQuery(after: FeedPosition) {
    const q = this.db.selectFrom('billing_events');
    if (this.dialect === 'postgres') {
      // Only rows whose writing transaction is older than every transaction still running in
      // this database: one that took a lower seq but commits later must not be jumped over.
      return q
        .where((eb) => eb.or([eb('tx_id', '>', after.tx), eb.and([eb('tx_id', '=', after.tx), eb('seq', '>', after.seq)])]))
        .where('tx_id', '<', await this.feedHorizon())
        .orderBy('tx_id')
        .orderBy('seq');
    }
    // One writer at a time: commit order is seq order, and tx_id is always 0.
    return q.where('seq', '>', after.seq).orderBy('seq');
  }

  /**
   * The oldest transaction id still running in THIS database (or the next id to be assigned).
   * The cluster-wide `pg_snapshot_xmin` would also wait for unrelated databases on a shared server.
   * It is computed in its own statement, before the read: a transaction seen running here is either
   * still running during the read (its rows are held back by the horizon) or finished before it (its
   * rows are visible to the read's newer snapshot), so no row is ever passed over.
   */
  private async feedHorizon(): Promise<number> {
    const { rows } = await sql<{ horizon: string }>`
      select coalesce(
        (select min(x::text::bigint) from pg_snapshot_xip(pg_current_snapshot()) as x
          where (x::text::bigint % 4294967296) in (
            select backend_xid::text::bigint from pg_stat_activity
            where datname = current_database() and backend_xid is not null)),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint) as horizon`.execute(this.db);
    return Number(rows[0]!.horizon);
  }

  getFeedCursor(consumer: string): Promise<FeedPosition> {
    return this.guard('getFeedCursor', async () => {
      const row = await this.db.selectFrom('feed_cursors').select(['tx_id', 'seq']).where('consumer', '=', consumer).executeTakeFirst();
      return row ? { tx: Number(row.tx_id), seq: Number(row.seq) } : FEED_START;
    });
  }

  saveFeedCursor(consumer: string, position: FeedPosition, now: number): Promise<void> {
    return this.guard('saveFeedCursor', async () => {
      await this.db
        .insertInto('feed_cursors')
        .values({ consumer, tx_id: position.tx, seq: position.seq, updated_at: now })
        .onConflict((oc) => oc.column('consumer').doUpdateSet({ tx_id: position.tx, seq: position.seq, updated_at: now }))
        .execute();
    });
  }
}

function tenantToRow(t: TenantRecord): Database['tenants'] {
  return {
    id: t.id,
    name: t.name,
    webhook_token_hash: t.webhookTokenHash,
    webhook_token_enc: t.webhookTokenEnc,
    webhook_secrets_enc: t.webhookSecretsEnc,
    stripe_api_key_enc: t.stripeApiKeyEnc,
    stripe_test_api_key_enc: t.stripeTestApiKeyEnc,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

function rowToTenant(r: Selectable<Database['tenants']>): TenantRecord {
  return {
    id: r.id,
    name: r.name,
    webhookTokenHash: r.webhook_token_hash,
    webhookTokenEnc: r.webhook_token_enc,
    webhookSecretsEnc: r.webhook_secrets_enc,
    stripeApiKeyEnc: r.stripe_api_key_enc,
    stripeTestApiKeyEnc: r.stripe_test_api_key_enc,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function rowToApiKey(r: Selectable<Database['api_keys']>): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    prefix: r.prefix,
    keyHash: r.key_hash,
    scopes: r.scopes.split(' ').filter((s) => s.length > 0) as Scope[],
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

function eventToRow(e: BillingEventInput) {
  return {
    tenant_id: e.tenantId,
    event_id: e.eventId,
    type: e.type,
    created: e.created,
    livemode: e.livemode ? 1 : 0,
    api_version: e.apiVersion,
    account: e.account,
    object_type: e.objectType,
    object_id: e.objectId,
    customer: e.customer,
    amount: e.amount,
    currency: e.currency,
    status: e.status,
    ref_id: e.refId,
    source: e.source,
    received_at: e.receivedAt,
    payload: e.payload,
  };
}

/** The columns billing-event filters apply to: billing_events itself, or its event_keys index (alias k) joined to it (alias e). */
interface EventFilterColumns {
  type: string;
  customer: string;
  refId: string;
  objectId: string;
  amount: string;
  currency: string;
  flagged: string;
  created: string;
  seq: string;
}
const TABLE_FILTER_COLUMNS: EventFilterColumns = {
  type: 'type',
  customer: 'customer',
  refId: 'ref_id',
  objectId: 'object_id',
  amount: 'amount',
  currency: 'currency',
  flagged: 'flagged',
  created: 'created',
  seq: 'seq',
};
const KEYED_FILTER_COLUMNS: EventFilterColumns = {
  type: 'k.type',
  customer: 'k.customer',
  refId: 'k.ref_id',
  objectId: 'k.object_id',
  amount: 'e.amount',
  currency: 'e.currency',
  flagged: 'e.flagged',
  created: 'k.created',
  seq: 'k.seq',
};

/**
 * The filters of a billing-event query, newest-first cursor included, on either source: the indexed
 * read and the scan of the unindexed tail must select the same events.
 */
function filterEvents<Q extends { where: (...args: any[]) => Q }>(q: Q, query: BillingEventQuery, c: EventFilterColumns): Q {
  if (query.types && query.types.length > 0) q = q.where(c.type, 'in', query.types);
  if (query.customer !== undefined) q = q.where(c.customer, '=', query.customer);
  if (query.refId !== undefined) q = q.where(c.refId, '=', query.refId);
  if (query.objectId !== undefined) q = q.where(c.objectId, '=', query.objectId);
  if (query.amount !== undefined) q = q.where(c.amount, '=', query.amount);
  if (query.currency !== undefined) q = q.where(c.currency, '=', query.currency);
  if (query.flagged !== undefined) q = q.where(c.flagged, '=', query.flagged ? 1 : 0);
  if (query.since !== undefined) q = q.where(c.created, '>=', query.since);
  if (query.until !== undefined) q = q.where(c.created, '<', query.until);
  const before = query.before;
  if (before) {
    q = q.where((eb: ExpressionBuilder<any, any>) => eb.or([eb(c.created, '<', before.created), eb.and([eb(c.created, '=', before.created), eb(c.seq, '<', before.seq)])]));
  }
  return q;
}

const EVENT_COLUMNS = [
  'tenant_id',
  'event_id',
  'type',
  'created',
  'livemode',
  'api_version',
  'account',
  'object_type',
  'object_id',
  'customer',
  'amount',
  'currency',
  'status',
  'ref_id',
  'source',
  'received_at',
  'payload',
] as const;
const INSERT_EVENT_SQL = `insert into billing_events (${EVENT_COLUMNS.join(', ')})`;

/** One row, conflicts skipped: what the SQLite event writer thread prepares. */
export const INSERT_ONE_EVENT_SQL = `${INSERT_EVENT_SQL} values (${EVENT_COLUMNS.map(() => '?').join(', ')}) on conflict (tenant_id, event_id) do nothing`;

function eventValues(e: BillingEventInput): unknown[] {
  const row = eventToRow(e);
  return EVENT_COLUMNS.map((c) => row[c]);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const KEY_COLUMNS = [
  'e.seq', 'e.tenant_id', 'e.event_id', 'e.type', 'e.created', 'e.livemode', 'e.api_version', 'e.account', 'e.object_type', 'e.object_id',
  'e.customer', 'e.amount', 'e.currency', 'e.status', 'e.ref_id', 'e.source', 'e.anomaly_score', 'e.flagged', 'e.received_at',
] as const;

function rowToEventKey(r: Omit<Selectable<Database['billing_events']>, 'payload' | 'tx_id'>): BillingEventKey {
  return {
    seq: Number(r.seq),
    tenantId: r.tenant_id,
    eventId: r.event_id,
    type: r.type,
    created: Number(r.created),
    livemode: Number(r.livemode) === 1,
    apiVersion: r.api_version,
    account: r.account,
    objectType: r.object_type,
    objectId: r.object_id,
    customer: r.customer,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    status: r.status,
    refId: r.ref_id,
    source: r.source as BillingEventRecord['source'],
    anomalyScore: Number(r.anomaly_score),
    flagged: Number(r.flagged) === 1,
    receivedAt: Number(r.received_at),
  };
}

function rowToEvent(r: Selectable<Database['billing_events']>): BillingEventRecord {
  return { ...rowToEventKey(r), payload: r.payload };
}
