import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { SqlWhere } from './sql-where.js';
import { addToRollup, HOUR_MS } from './add-to-rollup.js';
import { columnLiterals } from './postgres/array-literals.js';
import type { StoreDialect } from './store.js';
import type {
  AdjustmentQuery,
  AdjustmentRecord,
  CounterFold,
  CounterKey,
  CounterRecord,
  CounterScope,
  CounterValue,
  EventAggregate,
  EventPage,
  EventQuery,
  ImportProgress,
  ImportRecord,
  LedgerEventInput,
  LedgerEventRecord,
  LedgerWriteOutcome,
  MeteringCustomerRecord,
  MeteringReader,
  MeteringStore,
  RollupKey,
  RollupRecord,
  RollupScope,
  ScanQuery,
} from './metering-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
type Db = Kysely<Database> | Transaction<Database>;
type Row = Record<string, unknown>;

/** A second connection for snapshot reads (SQLite: WAL readers never block the writer). */
export type SnapshotOpener = () => { db: Kysely<Database>; close: () => Promise<void> };

/** Rows per multi-row statement: well under both databases' parameter limits (SQLite 32,766). */
const CHUNK = 500;
/**
 * Multi-row statements come in these row counts only, so their texts repeat and the SQLite statement
 * cache (sqlite/with-statement-cache.ts) keeps them prepared; a batch needs few statements:
 * 137 rows = 100 + 20 + 10 + 5 + 2.
 */
const SHAPES = [CHUNK, 200, 100, 50, 20, 10, 5, 2, 1];

/** [start, end) slices of `n` rows in cacheable shapes. */
function* slices(n: number): Generator<[number, number]> {
  let start = 0;
  while (start < n) {
    const left = n - start;
    const size = SHAPES.find((s) => s <= left)!;
    yield [start, start + size];
    start += size;
  }
}

const EVENT_COLUMNS = [
  'tenant_id', 'ts', 'idem_key', 'metric', 'customer_ref', 'resource_id', 'quantity_micro',
  'content_hash', 'period_start', 'period_end', 'late', 'source', 'received_at', 'meta',
] as const;

/** PostgreSQL takes each batch as one array per column (`unnest`): one short statement whatever the size. */
const EVENT_TYPES = ['text', 'bigint', 'text', 'text', 'text', 'text', 'bigint', 'text', 'bigint', 'bigint', 'integer', 'text', 'bigint', 'text'];
const COUNTER_TYPES = ['text', 'bigint', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'bigint', 'bigint'];
const ROLLUP_TYPES = ['text', 'bigint', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint'];

function unnestSelect(columns: readonly string[], types: string[]): string {
  // WITH ORDINALITY + ORDER BY: rows are written (and row locks taken) in the order given.
  const list = columns.join(',');
  return `select ${list} from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(',')}) with ordinality as u(${list}, n) order by n`;
}

/** See insertEventsPostgres; `$15` is the batch size. */
const EVENT_INSERT_POSTGRES = `with ins as (insert into usage_events (${EVENT_COLUMNS.join(',')}) ${unnestSelect(EVENT_COLUMNS, EVENT_TYPES)} on conflict do nothing returning tenant_id, idem_key),
  counted as (select count(*)::int as n from ins)
  select n, (select json_agg(json_build_array(tenant_id, idem_key)) from ins where counted.n <> $${EVENT_COLUMNS.length + 1}::int) as keys from counted`;

const EVENT_SELECT =
  'tenant_id, ts, idem_key, metric, customer_ref, resource_id, cast(quantity_micro as text) as quantity_micro, content_hash, period_start, period_end, late, source, received_at, meta';

const COUNTER_SELECT =
  'tenant_id, period_start, metric, customer_ref, period_end, cast(sum_micro as text) as sum_micro, cast(max_micro as text) as max_micro, cast(last_micro as text) as last_micro, last_ts, last_key, event_count, updated_at';

const ROLLUP_SELECT =
  'tenant_id, hour_start, metric, customer_ref, cast(sum_micro as text) as sum_micro, event_count, cast(late_sum_micro as text) as late_sum_micro, late_count';

const ADJUSTMENT_SELECT =
  'id, tenant_id, metric, customer_ref, period_start, period_end, kind, status, cast(delta_micro as text) as delta_micro, event_key, event_ts, parent_id, reverted_by, reason, created_at, created_by, decided_at, decided_by, decision_reason';

const ADJUSTMENT_COLUMNS = [
  'id', 'tenant_id', 'metric', 'customer_ref', 'period_start', 'period_end', 'kind', 'status', 'delta_micro', 'event_key',
  'event_ts', 'parent_id', 'reverted_by', 'reason', 'created_at', 'created_by', 'decided_at', 'decided_by', 'decision_reason',
] as const;

/**
 * Counter increments merge like the fold: sums and counts add, max keeps the larger, last keeps the
 * value of the latest (ts, key). An increment without events (a manual adjustment) carries NULL
 * max/last and leaves them alone. SET expressions read the row as it was before the update.
 */
const COUNTER_UPSERT_TAIL = `on conflict (tenant_id, period_start, metric, customer_ref) do update set
  sum_micro = usage_counters.sum_micro + excluded.sum_micro,
  max_micro = case when usage_counters.max_micro is null or excluded.max_micro > usage_counters.max_micro then excluded.max_micro else usage_counters.max_micro end,
  last_micro = case when usage_counters.last_ts is null or (excluded.last_ts, excluded.last_key) > (usage_counters.last_ts, usage_counters.last_key) then excluded.last_micro else usage_counters.last_micro end,
  last_key = case when usage_counters.last_ts is null or (excluded.last_ts, excluded.last_key) > (usage_counters.last_ts, usage_counters.last_key) then excluded.last_key else usage_counters.last_key end,
  last_ts = case when usage_counters.last_ts is null or (excluded.last_ts, excluded.last_key) > (usage_counters.last_ts, usage_counters.last_key) then excluded.last_ts else usage_counters.last_ts end,
  event_count = usage_counters.event_count + excluded.event_count,
  updated_at = excluded.updated_at`;

const COUNTER_COLUMNS = ['tenant_id', 'period_start', 'metric', 'customer_ref', 'period_end', 'sum_micro', 'max_micro', 'last_micro', 'last_ts', 'last_key', 'event_count', 'updated_at'] as const;

const ROLLUP_UPSERT_TAIL = `on conflict (tenant_id, hour_start, metric, customer_ref) do update set
  sum_micro = usage_rollups.sum_micro + excluded.sum_micro,
  event_count = usage_rollups.event_count + excluded.event_count,
  late_sum_micro = usage_rollups.late_sum_micro + excluded.late_sum_micro,
  late_count = usage_rollups.late_count + excluded.late_count`;

const ROLLUP_COLUMNS = ['tenant_id', 'hour_start', 'metric', 'customer_ref', 'sum_micro', 'event_count', 'late_sum_micro', 'late_count'] as const;

/** An aggregate table the ingest upserts into: its multi-row statement kind, row width, and PostgreSQL unnest statement. */
interface UpsertTable {
  kind: 'counters' | 'rollups';
  width: number;
  unnest: string;
}

const COUNTER_UPSERT: UpsertTable = {
  kind: 'counters',
  width: COUNTER_COLUMNS.length,
  unnest: `insert into usage_counters (${COUNTER_COLUMNS.join(',')}) ${unnestSelect(COUNTER_COLUMNS, COUNTER_TYPES)} ${COUNTER_UPSERT_TAIL}`,
};

const ROLLUP_UPSERT: UpsertTable = {
  kind: 'rollups',
  width: ROLLUP_COLUMNS.length,
  unnest: `insert into usage_rollups (${ROLLUP_COLUMNS.join(',')}) ${unnestSelect(ROLLUP_COLUMNS, ROLLUP_TYPES)} ${ROLLUP_UPSERT_TAIL}`,
};

/** Writes one row's parameters into `into` from index `at`, in its table's column order. */
type RowWriter<T> = (item: T, into: unknown[], at: number) => void;

/** Row-major parameters of items [from, to): one array, no per-row arrays (the ingest path runs this per batch). */
function rowParams<T>(items: readonly T[], from: number, to: number, width: number, write: RowWriter<T>): unknown[] {
  const params: unknown[] = new Array((to - from) * width);
  for (let i = from, at = 0; i < to; i++, at += width) write(items[i]!, params, at);
  return params;
}

/** One counter row, by its primary key; parameters from `counterKeyParams`. */
const COUNTER_KEY_WHERE = 'tenant_id = ? and period_start = ? and metric = ? and customer_ref = ?';
const counterKeyParams = (key: CounterKey): unknown[] => [key.tenantId, key.periodStart, key.metric, key.customerRef];

/** One rollup row, by its primary key; parameters from `rollupKeyParams`. */
const ROLLUP_KEY_WHERE = 'tenant_id = ? and hour_start = ? and metric = ? and customer_ref = ?';
const rollupKeyParams = (key: RollupKey): unknown[] => [key.tenantId, key.hourStart, key.metric, key.customerRef];

const CUSTOMER_COLUMNS = 'tenant_id, customer_ref, stripe_customer_id, stripe_test_customer_id, billing_anchor, timezone, created_at, updated_at';

/** A single adjustment; unlike the batch insert of late events, a clash is an error here. */
const ADJUSTMENT_INSERT = `insert into usage_adjustments (${ADJUSTMENT_COLUMNS.join(',')}) values (${ADJUSTMENT_COLUMNS.map(() => '?').join(',')})`;

/** The ledger's keyset order: pages of events continue from a (ts, idem_key) position. */
const EVENT_ORDER = ['ts', 'idem_key'] as const;

/** A counter increment (or a whole counter when written from a fold). */
interface CounterDelta extends CounterKey, CounterValue {
  periodEnd: number;
}

/**
 * The metering half of the Kysely store. The ingest write is hand-built multi-row SQL executed
 * through Kysely (`CompiledQuery.raw`): the query builder's per-parameter work and a statement per
 * row both cost more than the insert itself at 100,000+ events per second.
 */
export class KyselyMeteringStore implements MeteringStore {
  private readonly placeholderCache = new Map<string, string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly guard: Guard,
    private readonly openSnapshot?: SnapshotOpener,
  ) {}

  // ---- plumbing -------------------------------------------------------------------------------

  /** SQL is written with `?`; PostgreSQL wants `$1…$n`. Generated texts repeat, so they are cached. */
  private text(sqlText: string): string {
    if (this.dialect === 'sqlite') return sqlText;
    let out = this.placeholderCache.get(sqlText);
    if (out === undefined) {
      let n = 0;
      out = sqlText.replace(/\?/g, () => `$${++n}`);
      if (this.placeholderCache.size > 2_000) this.placeholderCache.clear();
      this.placeholderCache.set(sqlText, out);
    }
    return out;
  }

  private async run<R extends Row = Row>(db: Db, sqlText: string, params: readonly unknown[]): Promise<R[]> {
    const result = await db.executeQuery<R>(CompiledQuery.raw(this.text(sqlText), params as unknown[]));
    return result.rows;
  }

  /** PostgreSQL text already numbered `$1…$n`. */
  private async runRaw<R extends Row = Row>(db: Db, sqlText: string, params: unknown[]): Promise<R[]> {
    const result = await db.executeQuery<R>(CompiledQuery.raw(sqlText, params));
    return result.rows;
  }

  /** A statement without result rows; returns the rows it changed. */
  private async exec(db: Db, sqlText: string, params: readonly unknown[] = []): Promise<number> {
    const result = await db.executeQuery(CompiledQuery.raw(this.text(sqlText), params as unknown[]));
    return Number(result.numAffectedRows ?? 0);
  }

  /** better-sqlite3 binds BigInt as a 64-bit integer; pg wants the decimal text. */
  private micro(value: bigint | null): bigint | string | null {
    if (value === null) return null;
    return this.dialect === 'sqlite' ? value : value.toString();
  }

  /**
   * SQLite has no statistics on a young database and then prefers scanning a WITHOUT ROWID table's
   * primary key over a secondary index: (tenant, idem_key IN …) became a scan of the tenant's whole
   * ledger. The few queries that need a secondary index name it (PostgreSQL plans from statistics).
   */
  private using(index: string): string {
    return this.dialect === 'sqlite' ? ` indexed by ${index}` : '';
  }

  private forUpdate(): string {
    return this.dialect === 'postgres' ? ' for update' : '';
  }

  private static values(rows: number, columns: number): string {
    const tuple = `(${new Array(columns).fill('?').join(',')})`;
    return new Array(rows).fill(tuple).join(',');
  }

  /**
   * Multi-row statement texts, built once per shape: the same string object comes back each time,
   * so neither building it nor the statement cache's lookup (hashing up to ~15 KB) repeats.
   */
  private readonly statements = new Map<string, string>();

  private multiRow(kind: 'events' | 'events-returning' | 'counters' | 'rollups' | 'adjustments', rows: number): string {
    const id = `${kind}:${rows}`;
    let text = this.statements.get(id);
    if (text === undefined) {
      const values = (columns: number) => KyselyMeteringStore.values(rows, columns);
      switch (kind) {
        case 'events':
        case 'events-returning':
          text = `insert into usage_events (${EVENT_COLUMNS.join(',')}) values ${values(EVENT_COLUMNS.length)} on conflict do nothing${kind === 'events-returning' ? ' returning tenant_id, idem_key' : ''}`;
          break;
        case 'counters':
          text = `insert into usage_counters (${COUNTER_COLUMNS.join(',')}) values ${values(COUNTER_COLUMNS.length)} ${COUNTER_UPSERT_TAIL}`;
          break;
        case 'rollups':
          text = `insert into usage_rollups (${ROLLUP_COLUMNS.join(',')}) values ${values(ROLLUP_COLUMNS.length)} ${ROLLUP_UPSERT_TAIL}`;
          break;
        case 'adjustments':
          text = `insert into usage_adjustments (${ADJUSTMENT_COLUMNS.join(',')}) values ${values(ADJUSTMENT_COLUMNS.length)} on conflict do nothing`;
          break;
      }
      this.statements.set(id, text);
    }
    return text;
  }

  // ---- ingest -----------------------------------------------------------------------------------

  writeEvents(events: LedgerEventInput[], options: { now: number; newAdjustmentId: () => string }): Promise<LedgerWriteOutcome[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.guard('writeEvents', () => this.db.transaction().execute((trx) => this.writeEventsIn(trx, events, options)));
  }

  private async writeEventsIn(trx: Transaction<Database>, events: LedgerEventInput[], options: { now: number; newAdjustmentId: () => string }): Promise<LedgerWriteOutcome[]> {
    // Sorted by key: concurrent multi-row inserts and upserts on PostgreSQL then take row locks in
    // the same order and cannot deadlock. (Ledger locks are all taken before any counter lock.)
    const order = events.map((_, i) => i).sort((a, b) => compareKeys(events[a]!, events[b]!));
    const inserted = this.dialect === 'postgres' ? await this.insertEventsPostgres(trx, events, order) : await this.insertEventsSqlite(trx, events, order);

    const outcomes: LedgerWriteOutcome[] = new Array(events.length);
    const existing: number[] = [];
    const counters = new Map<string, CounterDelta>();
    const rollups = new Map<string, RollupRecord>();
    const adjustments: AdjustmentRecord[] = [];
    for (const i of order) {
      const e = events[i]!;
      if (inserted[i] !== 1) {
        existing.push(i);
        continue;
      }
      addToRollup(rollups, e);
      if (e.late) {
        const adjustment = lateEventAdjustment(e, options.newAdjustmentId(), options.now);
        adjustments.push(adjustment);
        outcomes[i] = { status: 'inserted', adjustmentId: adjustment.id };
      } else {
        addToCounter(counters, e);
        outcomes[i] = { status: 'inserted', adjustmentId: null };
      }
    }

    if (existing.length > 0) await this.classifyExisting(trx, events, existing, outcomes);
    await this.upsertCounters(trx, [...counters.values()].sort(compareCounterKeys), options.now);
    await this.upsertRollups(trx, [...rollups.values()].sort(compareRollupKeys));
    if (adjustments.length > 0) await this.insertAdjustments(trx, adjustments);
    return outcomes;
  }

  private eventParams(events: LedgerEventInput[], slice: number[]): unknown[] {
    const params: unknown[] = new Array(slice.length * EVENT_COLUMNS.length);
    let p = 0;
    for (const i of slice) {
      const e = events[i]!;
      params[p++] = e.tenantId;
      params[p++] = e.ts;
      params[p++] = e.idempotencyKey;
      params[p++] = e.metric;
      params[p++] = e.customerRef;
      params[p++] = e.resourceId;
      params[p++] = this.micro(e.quantityMicro);
      params[p++] = e.contentHash;
      params[p++] = e.periodStart;
      params[p++] = e.periodEnd;
      params[p++] = e.late ? 1 : 0;
      params[p++] = e.source;
      params[p++] = e.receivedAt;
      params[p++] = e.meta;
    }
    return params;
  }

  /**
   * The whole batch in one statement. RETURNING says which rows are new, but 2,500 returned rows
   * cost the backend and the driver more than the answer is worth when all of them are new (the
   * usual case): the statement returns one row, the count, and the keys only when some row was
   * already stored.
   */
  private async insertEventsPostgres(trx: Transaction<Database>, events: LedgerEventInput[], order: number[]): Promise<Uint8Array> {
    const inserted = new Uint8Array(events.length);
    const params: unknown[] = columnLiterals(this.eventParams(events, order), EVENT_COLUMNS.length);
    params.push(order.length);
    const [answer] = await this.runRaw<{ n: number; keys: [string, string][] | null }>(trx, EVENT_INSERT_POSTGRES, params);
    if (answer!.n === order.length) inserted.fill(1);
    else if (answer!.keys) markInserted(events, order, answer!.keys.map(([tenant_id, idem_key]) => ({ tenant_id, idem_key })), inserted);
    return inserted;
  }

  /**
   * RETURNING costs about a third of the insert on SQLite. With one writer, the number of rows the
   * inserts changed is a sufficient answer when it equals the batch: all new (the usual case). Only
   * a batch holding known keys is rolled back to the savepoint and inserted again with RETURNING.
   */
  private async insertEventsSqlite(trx: Transaction<Database>, events: LedgerEventInput[], order: number[]): Promise<Uint8Array> {
    const inserted = new Uint8Array(events.length);
    const statement = (rows: number, returning: boolean) => this.multiRow(returning ? 'events-returning' : 'events', rows);
    await this.exec(trx, 'savepoint mw_events');
    let changed = 0;
    for (const [from, to] of slices(order.length)) changed += await this.exec(trx, statement(to - from, false), this.eventParams(events, order.slice(from, to)));
    if (changed === order.length) {
      await this.exec(trx, 'release mw_events');
      inserted.fill(1);
      return inserted;
    }
    await this.exec(trx, 'rollback to mw_events');
    await this.exec(trx, 'release mw_events');
    for (const [from, to] of slices(order.length)) {
      const slice = order.slice(from, to);
      markInserted(events, slice, await this.run(trx, statement(slice.length, true), this.eventParams(events, slice)), inserted);
    }
    return inserted;
  }

  /** Rows that were already stored: the same content is a duplicate, different content a conflict. */
  private async classifyExisting(trx: Transaction<Database>, events: LedgerEventInput[], indexes: number[], outcomes: LedgerWriteOutcome[]): Promise<void> {
    const byTenant = new Map<string, number[]>();
    for (const i of indexes) {
      const t = events[i]!.tenantId;
      const list = byTenant.get(t);
      if (list) list.push(i);
      else byTenant.set(t, [i]);
    }
    for (const [tenantId, list] of byTenant) {
      const hashes = new Map<string, string>();
      for (const [from, to] of slices(list.length)) {
        const keys = list.slice(from, to).map((i) => events[i]!.idempotencyKey);
        const rows = await this.run<{ idem_key: string; content_hash: string }>(
          trx,
          `select idem_key, content_hash from usage_events${this.using('usage_events_key')} where tenant_id = ? and idem_key in (${keys.map(() => '?').join(',')})`,
          [tenantId, ...keys],
        );
        for (const r of rows) hashes.set(r.idem_key, r.content_hash);
      }
      for (const i of list) {
        const e = events[i]!;
        const stored = hashes.get(e.idempotencyKey);
        // Not found means a concurrent transaction inserted and then rolled back between our insert
        // and this read: impossible under our locking, so refuse loudly rather than guess.
        if (stored === undefined) throw new Error(`usage event ${e.idempotencyKey} neither inserted nor found`);
        outcomes[i] = stored === e.contentHash ? { status: 'duplicate' } : { status: 'conflict', storedContentHash: stored };
      }
    }
  }

  /** PostgreSQL: the whole list in one unnest statement. SQLite: multi-row statements of cacheable shapes. */
  private async upsertRows<T>(db: Db, table: UpsertTable, items: readonly T[], write: RowWriter<T>): Promise<void> {
    if (items.length === 0) return;
    if (this.dialect === 'postgres') {
      await this.runRaw(db, table.unnest, columnLiterals(rowParams(items, 0, items.length, table.width, write), table.width));
      return;
    }
    for (const [from, to] of slices(items.length)) await this.run(db, this.multiRow(table.kind, to - from), rowParams(items, from, to, table.width, write));
  }

  private upsertCounters(db: Db, deltas: CounterDelta[], now: number): Promise<void> {
    return this.upsertRows(db, COUNTER_UPSERT, deltas, (c, into, at) => {
      into[at] = c.tenantId;
      into[at + 1] = c.periodStart;
      into[at + 2] = c.metric;
      into[at + 3] = c.customerRef;
      into[at + 4] = c.periodEnd;
      into[at + 5] = this.micro(c.sumMicro);
      into[at + 6] = this.micro(c.maxMicro);
      into[at + 7] = this.micro(c.lastMicro);
      into[at + 8] = c.lastTs;
      into[at + 9] = c.lastKey;
      into[at + 10] = c.eventCount;
      into[at + 11] = now;
    });
  }

  private upsertRollups(db: Db, rollups: RollupRecord[]): Promise<void> {
    return this.upsertRows(db, ROLLUP_UPSERT, rollups, (r, into, at) => {
      into[at] = r.tenantId;
      into[at + 1] = r.hourStart;
      into[at + 2] = r.metric;
      into[at + 3] = r.customerRef;
      into[at + 4] = this.micro(r.sumMicro);
      into[at + 5] = r.eventCount;
      into[at + 6] = this.micro(r.lateSumMicro);
      into[at + 7] = r.lateCount;
    });
  }

  private async insertAdjustments(db: Db, adjustments: AdjustmentRecord[]): Promise<void> {
    for (const [from, to] of slices(adjustments.length)) {
      const slice = adjustments.slice(from, to);
      const params: unknown[] = [];
      for (const a of slice) params.push(...this.adjustmentParams(a));
      await this.run(db, this.multiRow('adjustments', slice.length), params);
    }
  }

  private adjustmentParams(a: AdjustmentRecord): unknown[] {
    return [
      a.id, a.tenantId, a.metric, a.customerRef, a.periodStart, a.periodEnd, a.kind, a.status, this.micro(a.deltaMicro), a.eventKey,
      a.eventTs, a.parentId, a.revertedBy, a.reason, a.createdAt, a.createdBy, a.decidedAt, a.decidedBy, a.decisionReason,
    ];
  }

  // ---- queries ----------------------------------------------------------------------------------

  listEvents(tenantId: string, query: EventQuery): Promise<EventPage> {
    return this.guard('listEvents', async () => {
      const where = SqlWhere.of('tenant_id = ?', tenantId)
        .andIfSet('ts >= ?', query.since)
        .andIfSet('ts < ?', query.until)
        .andBeyond(EVENT_ORDER, query.before && [query.before.ts, query.before.key], 'desc');
      const filtered = query.metric !== undefined || query.customerRef !== undefined;
      let boundary: { ts: number; key: string } | null = null;
      if (filtered) {
        // The scan budget: the position `scanLimit` rows down the time index bounds the filtered read.
        const rows = await this.run<{ ts: number; idem_key: string }>(
          this.db,
          `select ts, idem_key from usage_events where ${where} order by ts desc, idem_key desc limit 1 offset ?`,
          [...where.params, query.scanLimit],
        );
        const b = rows[0];
        if (b) boundary = { ts: Number(b.ts), key: b.idem_key };
      }
      const filters = where
        .copy()
        .andIfSet('metric = ?', query.metric)
        .andIfSet('customer_ref = ?', query.customerRef)
        .andBeyond(EVENT_ORDER, boundary ? [boundary.ts, boundary.key] : undefined, 'asc', true);
      const rows = await this.run(this.db, `select ${EVENT_SELECT} from usage_events where ${filters} order by ts desc, idem_key desc limit ?`, [...filters.params, query.limit]);
      const events = rows.map(rowToEvent);
      // The boundary row itself was read (>=), so continuing strictly after it loses nothing.
      return { events, scannedTo: boundary && events.length < query.limit ? boundary : null };
    });
  }

  getCounters(tenantId: string, query: { customerRef: string; periodStart: number; metric?: string }): Promise<CounterRecord[]> {
    return this.guard('getCounters', async () => {
      const where = SqlWhere.of('tenant_id = ? and customer_ref = ? and period_start = ?', tenantId, query.customerRef, query.periodStart).andIfSet('metric = ?', query.metric);
      const rows = await this.run(this.db, `select ${COUNTER_SELECT} from usage_counters${this.using('usage_counters_customer')} where ${where} order by metric`, where.params);
      return rows.map(rowToCounter);
    });
  }

  listRollups(tenantId: string, scope: RollupScope & { customerRef: string; metric: string }): Promise<RollupRecord[]> {
    return this.guard('listRollups', async () => {
      const rows = await this.run(
        this.db,
        `select ${ROLLUP_SELECT} from usage_rollups${this.using('usage_rollups_series')} where tenant_id = ? and customer_ref = ? and metric = ? and hour_start >= ? and hour_start < ? order by hour_start`,
        [tenantId, scope.customerRef, scope.metric, scope.fromHour, scope.toHour],
      );
      return rows.map(rowToRollup);
    });
  }

  snapshot<T>(fn: (reader: MeteringReader) => Promise<T>): Promise<T> {
    return this.guard('snapshot', async () => {
      const read = (trx: Transaction<Database>) => fn(new KyselyMeteringReader(trx, (db, t, p) => this.run(db, t, p)));
      if (this.dialect === 'postgres') return this.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(read);
      const opened = this.openSnapshot?.();
      if (!opened) return this.db.transaction().execute(read);
      try {
        return await opened.db.transaction().execute(read);
      } finally {
        await opened.close();
      }
    });
  }

  // ---- repair -----------------------------------------------------------------------------------

  refoldCounter(key: CounterKey & { periodEnd: number }, fold: () => CounterFold, now: number) {
    return this.guard('refoldCounter', () => this.db.transaction().execute((trx) => this.refoldCounterIn(trx, key, fold, now)));
  }

  private async selectCounterForUpdate(trx: Transaction<Database>, keyParams: unknown[]): Promise<CounterRecord | undefined> {
    const [row] = await this.run(trx, `select ${COUNTER_SELECT} from usage_counters where ${COUNTER_KEY_WHERE}${this.forUpdate()}`, keyParams);
    return row ? rowToCounter(row) : undefined;
  }

  private async lockCounter(trx: Transaction<Database>, key: CounterKey & { periodEnd: number }, now: number): Promise<CounterRecord | undefined> {
    const keyParams = counterKeyParams(key);
    const before = await this.selectCounterForUpdate(trx, keyParams);
    if (before) return before;
    // No row to lock: create an empty one (a writer on SQLite from here on), then lock it. A
    // concurrent ingest creating it first makes our insert wait for its commit, then do nothing.
    await this.run(
      trx,
      `insert into usage_counters (${COUNTER_COLUMNS.join(',')}) values (?,?,?,?,?,?,null,null,null,null,0,?) on conflict do nothing`,
      [...keyParams, key.periodEnd, this.micro(0n), now],
    );
    const row = await this.selectCounterForUpdate(trx, keyParams);
    // An empty placeholder we just made is "no counter" to the caller.
    return row && row.eventCount === 0 && row.sumMicro === 0n && row.lastTs === null ? undefined : row;
  }

  private async refoldCounterIn(trx: Transaction<Database>, key: CounterKey & { periodEnd: number }, newFold: () => CounterFold, now: number) {
    const before = await this.lockCounter(trx, key, now);
    const periodEnd = Math.max(key.periodEnd, before?.periodEnd ?? 0);
    const base = [key.tenantId, key.periodStart, periodEnd, key.metric, key.customerRef, key.periodStart];
    const seriesWhere = 'tenant_id = ? and ts >= ? and ts < ? and metric = ? and customer_ref = ? and period_start = ? and late = 0';
    const [agg] = await this.run<{ n: number | string; s: string; m: string | null }>(
      trx,
      `select count(*) as n, cast(coalesce(sum(quantity_micro), 0) as text) as s, cast(max(quantity_micro) as text) as m from usage_events where ${seriesWhere}`,
      base,
    );
    const [last] = await this.run<{ ts: number; idem_key: string; q: string }>(
      trx,
      `select ts, idem_key, cast(quantity_micro as text) as q from usage_events where ${seriesWhere} order by ts desc, idem_key desc limit 1`,
      base,
    );
    const adjustments = (
      await this.run(
        trx,
        `select ${ADJUSTMENT_SELECT} from usage_adjustments where tenant_id = ? and metric = ? and customer_ref = ? and period_start = ? and status = 'approved'`,
        [key.tenantId, key.metric, key.customerRef, key.periodStart],
      )
    ).map(rowToAdjustment);
    const fold = newFold();
    const aggregate: EventAggregate = {
      count: Number(agg?.n ?? 0),
      sumMicro: BigInt(agg?.s ?? '0'),
      maxMicro: agg?.m === null || agg?.m === undefined ? null : BigInt(agg.m),
      last: last ? { ts: Number(last.ts), key: last.idem_key, quantityMicro: BigInt(last.q) } : null,
    };
    fold.addEvents(aggregate);
    fold.addAdjustments(adjustments);
    const value = fold.result();
    const keyParams = counterKeyParams(key);
    if (value === undefined) {
      await this.run(trx, `delete from usage_counters where ${COUNTER_KEY_WHERE}`, keyParams);
      return { before, after: undefined };
    }
    await this.run(
      trx,
      `update usage_counters set period_end = ?, sum_micro = ?, max_micro = ?, last_micro = ?, last_ts = ?, last_key = ?, event_count = ?, updated_at = ?
       where ${COUNTER_KEY_WHERE}`,
      [periodEnd, this.micro(value.sumMicro), this.micro(value.maxMicro), this.micro(value.lastMicro), value.lastTs, value.lastKey, value.eventCount, now, ...keyParams],
    );
    const after: CounterRecord = { ...key, periodEnd, ...value, updatedAt: now };
    return { before, after };
  }

  refoldRollup(key: RollupKey) {
    return this.guard('refoldRollup', () =>
      this.db.transaction().execute(async (trx) => {
        const keyParams = rollupKeyParams(key);
        // Lock (creating a zero row if needed) before reading the ledger, as for counters.
        await this.run(trx, `insert into usage_rollups (${ROLLUP_COLUMNS.join(',')}) values (?,?,?,?,?,0,?,0) on conflict do nothing`, [
          ...keyParams,
          this.micro(0n),
          this.micro(0n),
        ]);
        const [locked] = await this.run(trx, `select ${ROLLUP_SELECT} from usage_rollups where ${ROLLUP_KEY_WHERE}${this.forUpdate()}`, keyParams);
        const beforeRow = locked ? rowToRollup(locked) : undefined;
        const before = beforeRow && (beforeRow.eventCount > 0 || beforeRow.lateCount > 0 || beforeRow.sumMicro !== 0n || beforeRow.lateSumMicro !== 0n) ? beforeRow : undefined;
        const [agg] = await this.run<{ n: number | string; s: string; ln: number | string; ls: string }>(
          trx,
          `select coalesce(sum(case when late = 0 then 1 else 0 end), 0) as n,
                  cast(coalesce(sum(case when late = 0 then quantity_micro else 0 end), 0) as text) as s,
                  coalesce(sum(case when late = 1 then 1 else 0 end), 0) as ln,
                  cast(coalesce(sum(case when late = 1 then quantity_micro else 0 end), 0) as text) as ls
           from usage_events where tenant_id = ? and ts >= ? and ts < ? and metric = ? and customer_ref = ?`,
          [key.tenantId, key.hourStart, key.hourStart + HOUR_MS, key.metric, key.customerRef],
        );
        const value = { sumMicro: BigInt(agg?.s ?? '0'), eventCount: Number(agg?.n ?? 0), lateSumMicro: BigInt(agg?.ls ?? '0'), lateCount: Number(agg?.ln ?? 0) };
        if (value.eventCount === 0 && value.lateCount === 0) {
          await this.run(trx, `delete from usage_rollups where ${ROLLUP_KEY_WHERE}`, keyParams);
          return { before, after: undefined };
        }
        await this.run(trx, `update usage_rollups set sum_micro = ?, event_count = ?, late_sum_micro = ?, late_count = ? where ${ROLLUP_KEY_WHERE}`, [
          this.micro(value.sumMicro),
          value.eventCount,
          this.micro(value.lateSumMicro),
          value.lateCount,
          ...keyParams,
        ]);
        return { before, after: { ...key, ...value } };
      }),
    );
  }

  // ---- adjustments ------------------------------------------------------------------------------

  insertAdjustment(adjustment: AdjustmentRecord): Promise<void> {
    return this.guard('insertAdjustment', async () => {
      await this.run(this.db, ADJUSTMENT_INSERT, this.adjustmentParams(adjustment));
    });
  }

  getAdjustment(tenantId: string, id: string): Promise<AdjustmentRecord | undefined> {
    return this.guard('getAdjustment', () => this.getAdjustmentIn(this.db, tenantId, id));
  }

  private async getAdjustmentIn(db: Db, tenantId: string, id: string, lock = false): Promise<AdjustmentRecord | undefined> {
    const [row] = await this.run(db, `select ${ADJUSTMENT_SELECT} from usage_adjustments where tenant_id = ? and id = ?${lock ? this.forUpdate() : ''}`, [tenantId, id]);
    return row ? rowToAdjustment(row) : undefined;
  }

  listAdjustments(tenantId: string, query: AdjustmentQuery): Promise<AdjustmentRecord[]> {
    return this.guard('listAdjustments', async () => {
      const where = SqlWhere.of('tenant_id = ?', tenantId)
        .andIn('status', query.statuses)
        .andIn('kind', query.kinds)
        .andIfSet('metric = ?', query.metric)
        .andIfSet('customer_ref = ?', query.customerRef)
        .andBeyond(['created_at', 'id'], query.before && [query.before.createdAt, query.before.id], 'desc');
      const rows = await this.run(this.db, `select ${ADJUSTMENT_SELECT} from usage_adjustments where ${where} order by created_at desc, id desc limit ?`, [...where.params, query.limit]);
      return rows.map(rowToAdjustment);
    });
  }

  /**
   * A conditional change of one adjustment (`set` applies only while `condition` holds): the changed
   * row (`moved`), else the row as it now is, else undefined when there is no such adjustment.
   */
  private async transitionAdjustment(
    trx: Transaction<Database>,
    tenantId: string,
    id: string,
    set: string,
    setParams: unknown[],
    condition: string,
  ): Promise<{ adjustment: AdjustmentRecord; moved: boolean } | undefined> {
    const [row] = await this.run(trx, `update usage_adjustments set ${set} where tenant_id = ? and id = ? and ${condition} returning ${ADJUSTMENT_SELECT}`, [...setParams, tenantId, id]);
    if (row) return { adjustment: rowToAdjustment(row), moved: true };
    const current = await this.getAdjustmentIn(trx, tenantId, id);
    return current && { adjustment: current, moved: false };
  }

  approveAdjustment(tenantId: string, id: string, actor: string, now: number) {
    return this.guard('approveAdjustment', () =>
      this.db.transaction().execute(async (trx) => {
        // The status move is the gate: of two concurrent approvals, the second waits for the first
        // (row lock on PostgreSQL, the single writer on SQLite), then matches no row.
        const t = await this.transitionAdjustment(trx, tenantId, id, "status = 'approved', decided_at = ?, decided_by = ?", [now, actor], "status = 'pending'");
        if (!t?.moved) return t && { adjustment: t.adjustment, applied: false };
        await this.upsertCounters(trx, [adjustmentIncrement(t.adjustment)], now);
        return { adjustment: t.adjustment, applied: true };
      }),
    );
  }

  rejectAdjustment(tenantId: string, id: string, actor: string, reason: string | null, now: number) {
    return this.guard('rejectAdjustment', () =>
      this.db.transaction().execute(async (trx) => {
        const t = await this.transitionAdjustment(trx, tenantId, id, "status = 'rejected', decided_at = ?, decided_by = ?, decision_reason = ?", [now, actor, reason], "status = 'pending'");
        return t && { adjustment: t.adjustment, changed: t.moved };
      }),
    );
  }

  revertAdjustment(tenantId: string, id: string, revert: AdjustmentRecord, fold: () => CounterFold, now: number) {
    return this.guard('revertAdjustment', () =>
      this.db.transaction().execute(async (trx) => {
        const t = await this.transitionAdjustment(trx, tenantId, id, 'reverted_by = ?', [revert.id], "status = 'approved' and kind <> 'revert' and reverted_by is null");
        if (!t?.moved) return t && { parent: t.adjustment, revert: undefined };
        const parent = t.adjustment;
        await this.run(trx, ADJUSTMENT_INSERT, this.adjustmentParams(revert));
        if (parent.kind === 'late_event') {
          // The reverted event may have been the counter's max or last: only a re-fold can tell.
          await this.refoldCounterIn(trx, parent, fold, now);
        } else {
          await this.upsertCounters(trx, [adjustmentIncrement(revert)], now);
        }
        return { parent, revert };
      }),
    );
  }

  // ---- customers and imports --------------------------------------------------------------------

  putCustomer(customer: MeteringCustomerRecord): Promise<MeteringCustomerRecord> {
    return this.guard('putCustomer', async () => {
      const [row] = await this.run(
        this.db,
        `insert into metering_customers (${CUSTOMER_COLUMNS}) values (?,?,?,?,?,?,?,?)
         on conflict (tenant_id, customer_ref) do update set stripe_customer_id = excluded.stripe_customer_id, stripe_test_customer_id = excluded.stripe_test_customer_id,
           billing_anchor = excluded.billing_anchor, timezone = excluded.timezone, updated_at = excluded.updated_at
         returning ${CUSTOMER_COLUMNS}`,
        [customer.tenantId, customer.customerRef, customer.stripeCustomerId, customer.stripeTestCustomerId, customer.billingAnchor, customer.timezone, customer.createdAt, customer.updatedAt],
      );
      return rowToCustomer(row!);
    });
  }

  getCustomers(tenantId: string, customerRefs: string[]): Promise<MeteringCustomerRecord[]> {
    if (customerRefs.length === 0) return Promise.resolve([]);
    return this.guard('getCustomers', async () => {
      const out: MeteringCustomerRecord[] = [];
      for (const [from, to] of slices(customerRefs.length)) {
        const refs = customerRefs.slice(from, to);
        const rows = await this.run(
          this.db,
          `select ${CUSTOMER_COLUMNS} from metering_customers where tenant_id = ? and customer_ref in (${refs.map(() => '?').join(',')})`,
          [tenantId, ...refs],
        );
        out.push(...rows.map(rowToCustomer));
      }
      return out;
    });
  }

  insertImport(operation: ImportRecord): Promise<void> {
    return this.guard('insertImport', async () => {
      await this.db.insertInto('usage_imports').values(importToRow(operation)).execute();
    });
  }

  updateImport(tenantId: string, id: string, progress: ImportProgress, now: number): Promise<void> {
    return this.guard('updateImport', async () => {
      await this.db
        .updateTable('usage_imports')
        .set({
          status: progress.status,
          records: progress.records,
          accepted: progress.accepted,
          duplicates: progress.duplicates,
          conflicts: progress.conflicts,
          rejected: progress.rejected,
          late: progress.late,
          bytes_read: progress.bytesRead,
          reasons: JSON.stringify(progress.reasons),
          error: progress.error,
          finished_at: progress.finishedAt,
          updated_at: now,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    });
  }

  getImport(tenantId: string, id: string): Promise<ImportRecord | undefined> {
    return this.guard('getImport', async () => {
      const row = await this.db.selectFrom('usage_imports').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToImport(row);
    });
  }

  listImports(tenantId: string, query: { limit: number }): Promise<ImportRecord[]> {
    return this.guard('listImports', async () => {
      const rows = await this.db.selectFrom('usage_imports').selectAll().where('tenant_id', '=', tenantId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(rowToImport);
    });
  }
}

type Runner = <R extends Row = Row>(db: Db, sqlText: string, params: readonly unknown[]) => Promise<R[]>;

/** Snapshot reads for replay and verification; every query is tenant-scoped. */
class KyselyMeteringReader implements MeteringReader {
  constructor(
    private readonly db: Db,
    private readonly run: Runner,
  ) {}

  async scanEvents(tenantId: string, query: ScanQuery): Promise<LedgerEventRecord[]> {
    const where = SqlWhere.of('tenant_id = ? and ts >= ? and ts < ?', tenantId, query.fromTs, query.toTs)
      .andBeyond(EVENT_ORDER, query.after && [query.after.ts, query.after.key], 'asc')
      .andIfSet('metric = ?', query.metric)
      .andIfSet('customer_ref = ?', query.customerRef);
    const rows = await this.run(this.db, `select ${EVENT_SELECT} from usage_events where ${where} order by ts, idem_key limit ?`, [...where.params, query.limit]);
    return rows.map(rowToEvent);
  }

  /** Counters and adjustments of a scope: the periods overlapping [overlapsFrom, overlapsTo). */
  private scopeWhere(tenantId: string, scope: Omit<CounterScope, 'after' | 'limit'>): SqlWhere {
    return SqlWhere.of('tenant_id = ?', tenantId)
      .andIfSet('metric = ?', scope.metric)
      .andIfSet('customer_ref = ?', scope.customerRef)
      .andIfSet('period_end > ?', scope.overlapsFrom)
      .andIfSet('period_start < ?', scope.overlapsTo);
  }

  async listCounters(tenantId: string, scope: CounterScope): Promise<CounterRecord[]> {
    const where = this.scopeWhere(tenantId, scope);
    const after = scope.after;
    if (after) {
      where.and('(period_start > ? or (period_start = ? and (metric > ? or (metric = ? and customer_ref > ?))))', after.periodStart, after.periodStart, after.metric, after.metric, after.customerRef);
    }
    const rows = await this.run(this.db, `select ${COUNTER_SELECT} from usage_counters where ${where} order by period_start, metric, customer_ref limit ?`, [...where.params, scope.limit]);
    return rows.map(rowToCounter);
  }

  async listRollups(tenantId: string, scope: RollupScope): Promise<RollupRecord[]> {
    const where = SqlWhere.of('tenant_id = ? and hour_start >= ? and hour_start < ?', tenantId, scope.fromHour, scope.toHour)
      .andIfSet('metric = ?', scope.metric)
      .andIfSet('customer_ref = ?', scope.customerRef);
    const rows = await this.run(this.db, `select ${ROLLUP_SELECT} from usage_rollups where ${where} order by hour_start, metric, customer_ref`, where.params);
    return rows.map(rowToRollup);
  }

  async listApprovedAdjustments(tenantId: string, scope: Omit<CounterScope, 'after' | 'limit'>): Promise<AdjustmentRecord[]> {
    const where = this.scopeWhere(tenantId, scope);
    const rows = await this.run(this.db, `select ${ADJUSTMENT_SELECT} from usage_adjustments where ${where} and status = 'approved' order by created_at, id`, where.params);
    return rows.map(rowToAdjustment);
  }

  async countPendingAdjustments(tenantId: string, scope: Omit<CounterScope, 'after' | 'limit'>): Promise<number> {
    const where = this.scopeWhere(tenantId, scope);
    const [row] = await this.run<{ n: number | string }>(this.db, `select count(*) as n from usage_adjustments where ${where} and status = 'pending'`, where.params);
    return Number(row?.n ?? 0);
  }

  async longestPeriodMs(tenantId: string): Promise<number> {
    const [row] = await this.run<{ n: number | string | null }>(this.db, 'select max(period_end - period_start) as n from usage_counters where tenant_id = ?', [tenantId]);
    return Number(row?.n ?? 0);
  }
}

// ---- batch aggregation (pure) -------------------------------------------------------------------

/** Flags the events of `slice` that a RETURNING list says were inserted. */
function markInserted(events: LedgerEventInput[], slice: number[], rows: { tenant_id: string; idem_key: string }[], inserted: Uint8Array): void {
  if (rows.length === 0) return;
  if (rows.length === slice.length) {
    for (const i of slice) inserted[i] = 1;
    return;
  }
  const position = new Map<string, number>();
  for (const i of slice) position.set(`${events[i]!.tenantId}\u0000${events[i]!.idempotencyKey}`, i);
  for (const r of rows) {
    const i = position.get(`${r.tenant_id}\u0000${r.idem_key}`);
    if (i !== undefined) inserted[i] = 1;
  }
}

function compareKeys(a: LedgerEventInput, b: LedgerEventInput): number {
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  return a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0;
}

function compareCounterKeys(a: CounterKey, b: CounterKey): number {
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  if (a.periodStart !== b.periodStart) return a.periodStart - b.periodStart;
  if (a.metric !== b.metric) return a.metric < b.metric ? -1 : 1;
  return a.customerRef < b.customerRef ? -1 : a.customerRef > b.customerRef ? 1 : 0;
}

function compareRollupKeys(a: RollupKey, b: RollupKey): number {
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  if (a.hourStart !== b.hourStart) return a.hourStart - b.hourStart;
  if (a.metric !== b.metric) return a.metric < b.metric ? -1 : 1;
  return a.customerRef < b.customerRef ? -1 : a.customerRef > b.customerRef ? 1 : 0;
}

function addToCounter(counters: Map<string, CounterDelta>, e: LedgerEventInput): void {
  const id = `${e.tenantId}\u0000${e.periodStart}\u0000${e.metric}\u0000${e.customerRef}`;
  const c = counters.get(id);
  if (!c) {
    counters.set(id, {
      tenantId: e.tenantId,
      metric: e.metric,
      customerRef: e.customerRef,
      periodStart: e.periodStart,
      periodEnd: e.periodEnd,
      sumMicro: e.quantityMicro,
      maxMicro: e.quantityMicro,
      lastMicro: e.quantityMicro,
      lastTs: e.ts,
      lastKey: e.idempotencyKey,
      eventCount: 1,
    });
    return;
  }
  c.sumMicro += e.quantityMicro;
  c.eventCount += 1;
  if (c.maxMicro === null || e.quantityMicro > c.maxMicro) c.maxMicro = e.quantityMicro;
  if (c.lastTs === null || e.ts > c.lastTs || (e.ts === c.lastTs && e.idempotencyKey > (c.lastKey ?? ''))) {
    c.lastTs = e.ts;
    c.lastKey = e.idempotencyKey;
    c.lastMicro = e.quantityMicro;
  }
}

function lateEventAdjustment(e: LedgerEventInput, id: string, now: number): AdjustmentRecord {
  return {
    id,
    tenantId: e.tenantId,
    metric: e.metric,
    customerRef: e.customerRef,
    periodStart: e.periodStart,
    periodEnd: e.periodEnd,
    kind: 'late_event',
    status: 'pending',
    deltaMicro: e.quantityMicro,
    eventKey: e.idempotencyKey,
    eventTs: e.ts,
    parentId: null,
    revertedBy: null,
    reason: 'event arrived after the lateness window of its closed period',
    createdAt: now,
    createdBy: 'system',
    decidedAt: null,
    decidedBy: null,
    decisionReason: null,
  };
}

/** What an approved adjustment adds to its counter: a late event counts like an on-time one. */
function adjustmentIncrement(a: AdjustmentRecord): CounterDelta {
  const key = { tenantId: a.tenantId, metric: a.metric, customerRef: a.customerRef, periodStart: a.periodStart, periodEnd: a.periodEnd };
  if (a.kind === 'late_event' && a.eventTs !== null && a.eventKey !== null) {
    return { ...key, sumMicro: a.deltaMicro, maxMicro: a.deltaMicro, lastMicro: a.deltaMicro, lastTs: a.eventTs, lastKey: a.eventKey, eventCount: 1 };
  }
  return { ...key, sumMicro: a.deltaMicro, maxMicro: null, lastMicro: null, lastTs: null, lastKey: null, eventCount: 0 };
}

// ---- row mapping --------------------------------------------------------------------------------

const big = (v: unknown): bigint => BigInt(String(v));
const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(String(v)));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function rowToEvent(r: Row): LedgerEventRecord {
  return {
    tenantId: r.tenant_id as string,
    idempotencyKey: r.idem_key as string,
    metric: r.metric as string,
    customerRef: r.customer_ref as string,
    resourceId: (r.resource_id as string | null) ?? null,
    ts: Number(r.ts),
    quantityMicro: big(r.quantity_micro),
    meta: (r.meta as string | null) ?? null,
    contentHash: r.content_hash as string,
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    late: Number(r.late) === 1,
    source: r.source as LedgerEventRecord['source'],
    receivedAt: Number(r.received_at),
  };
}

function rowToCounter(r: Row): CounterRecord {
  return {
    tenantId: r.tenant_id as string,
    metric: r.metric as string,
    customerRef: r.customer_ref as string,
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    sumMicro: big(r.sum_micro),
    maxMicro: bigOrNull(r.max_micro),
    lastMicro: bigOrNull(r.last_micro),
    lastTs: numOrNull(r.last_ts),
    lastKey: (r.last_key as string | null) ?? null,
    eventCount: Number(r.event_count),
    updatedAt: Number(r.updated_at),
  };
}

function rowToRollup(r: Row): RollupRecord {
  return {
    tenantId: r.tenant_id as string,
    hourStart: Number(r.hour_start),
    metric: r.metric as string,
    customerRef: r.customer_ref as string,
    sumMicro: big(r.sum_micro),
    eventCount: Number(r.event_count),
    lateSumMicro: big(r.late_sum_micro),
    lateCount: Number(r.late_count),
  };
}

function rowToAdjustment(r: Row): AdjustmentRecord {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    metric: r.metric as string,
    customerRef: r.customer_ref as string,
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    kind: r.kind as AdjustmentRecord['kind'],
    status: r.status as AdjustmentRecord['status'],
    deltaMicro: big(r.delta_micro),
    eventKey: (r.event_key as string | null) ?? null,
    eventTs: numOrNull(r.event_ts),
    parentId: (r.parent_id as string | null) ?? null,
    revertedBy: (r.reverted_by as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    createdAt: Number(r.created_at),
    createdBy: r.created_by as string,
    decidedAt: numOrNull(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decisionReason: (r.decision_reason as string | null) ?? null,
  };
}

function rowToCustomer(r: Row): MeteringCustomerRecord {
  return {
    tenantId: r.tenant_id as string,
    customerRef: r.customer_ref as string,
    stripeCustomerId: (r.stripe_customer_id as string | null) ?? null,
    stripeTestCustomerId: (r.stripe_test_customer_id as string | null) ?? null,
    billingAnchor: numOrNull(r.billing_anchor),
    timezone: (r.timezone as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function importToRow(o: ImportRecord): Database['usage_imports'] {
  return {
    id: o.id,
    tenant_id: o.tenantId,
    status: o.status,
    format: o.format,
    source_name: o.sourceName,
    records: o.records,
    accepted: o.accepted,
    duplicates: o.duplicates,
    conflicts: o.conflicts,
    rejected: o.rejected,
    late: o.late,
    bytes_read: o.bytesRead,
    reasons: JSON.stringify(o.reasons),
    error: o.error,
    created_by: o.createdBy,
    started_at: o.startedAt,
    updated_at: o.updatedAt,
    finished_at: o.finishedAt,
  };
}

function rowToImport(r: Database['usage_imports']): ImportRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    status: r.status as ImportRecord['status'],
    format: r.format as ImportRecord['format'],
    sourceName: r.source_name,
    records: Number(r.records),
    accepted: Number(r.accepted),
    duplicates: Number(r.duplicates),
    conflicts: Number(r.conflicts),
    rejected: Number(r.rejected),
    late: Number(r.late),
    bytesRead: Number(r.bytes_read),
    reasons: JSON.parse(r.reasons) as ImportRecord['reasons'],
    error: r.error,
    createdBy: r.created_by,
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}
