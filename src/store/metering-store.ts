/**
 * Persistence for usage metering; part of `Store` as `store.metering`. Quantities are integer
 * micro-units (quantity × 10^6) as BigInt: they exceed 2^53, so they never pass through a JS number.
 * Every read and write takes the tenant id explicitly.
 */

export type UsageSource = 'api' | 'import';

/** One usage event as written to the ledger; immutable once stored. */
export interface LedgerEventInput {
  tenantId: string;
  idempotencyKey: string;
  metric: string;
  customerRef: string;
  resourceId: string | null;
  /** Event time, UTC epoch milliseconds. */
  ts: number;
  quantityMicro: bigint;
  /** The event's `meta` object as JSON text. */
  meta: string | null;
  /** Fingerprint of the counted content, to tell a duplicate from a conflicting reuse of a key. */
  contentHash: string;
  /** The billing period the event was assigned to when it arrived: [periodStart, periodEnd). */
  periodStart: number;
  periodEnd: number;
  /** Arrived after its period's lateness window: stored, not counted, one pending adjustment. */
  late: boolean;
  source: UsageSource;
  receivedAt: number;
}

export type LedgerEventRecord = LedgerEventInput;

export type LedgerWriteOutcome =
  | { status: 'inserted'; adjustmentId: string | null }
  | { status: 'duplicate' }
  /** The key holds different content; `storedContentHash` is what is stored under it. */
  | { status: 'conflict'; storedContentHash: string };

export interface CounterKey {
  tenantId: string;
  metric: string;
  customerRef: string;
  periodStart: number;
}

/** What a counter holds; `undefined` where a fold has nothing (no events, no adjustments). */
export interface CounterValue {
  sumMicro: bigint;
  maxMicro: bigint | null;
  lastMicro: bigint | null;
  lastTs: number | null;
  lastKey: string | null;
  eventCount: number;
}

export interface CounterRecord extends CounterKey, CounterValue {
  periodEnd: number;
  updatedAt: number;
}

export interface RollupKey {
  tenantId: string;
  metric: string;
  customerRef: string;
  hourStart: number;
}

export interface RollupValue {
  sumMicro: bigint;
  eventCount: number;
  lateSumMicro: bigint;
  lateCount: number;
}

export type RollupRecord = RollupKey & RollupValue;

export type AdjustmentKind = 'late_event' | 'manual' | 'revert';
export type AdjustmentStatus = 'pending' | 'approved' | 'rejected';

export interface AdjustmentRecord {
  id: string;
  tenantId: string;
  metric: string;
  customerRef: string;
  periodStart: number;
  periodEnd: number;
  kind: AdjustmentKind;
  status: AdjustmentStatus;
  /** Signed micro-units added to the counter's sum once approved. */
  deltaMicro: bigint;
  /** late_event: the ledger event it stands for. */
  eventKey: string | null;
  eventTs: number | null;
  /** revert: the adjustment it cancels. */
  parentId: string | null;
  /** Set on an approved adjustment once it has been reverted: the revert's id. */
  revertedBy: string | null;
  reason: string | null;
  createdAt: number;
  createdBy: string;
  decidedAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export interface AdjustmentQuery {
  statuses?: AdjustmentStatus[];
  kinds?: AdjustmentKind[];
  metric?: string;
  customerRef?: string;
  /** Continue after (createdAt, id), newest first. */
  before?: { createdAt: number; id: string };
  limit: number;
}

/** Events of one counter aggregated by SQL: merged into a fold like single events. */
export interface EventAggregate {
  count: number;
  sumMicro: bigint;
  maxMicro: bigint | null;
  last: { ts: number; key: string; quantityMicro: bigint } | null;
}

/**
 * The fold of one counter (implemented by `metering/fold-ledger.ts`): what `refoldCounter` writes.
 * Keeping the rule in one place means replay, repair, reverts and the tests agree by construction.
 */
export interface CounterFold {
  addEvents(aggregate: EventAggregate): void;
  /** Every approved adjustment of the counter, reverts and their parents together. */
  addAdjustments(adjustments: AdjustmentRecord[]): void;
  result(): CounterValue | undefined;
}

export interface MeteringCustomerRecord {
  tenantId: string;
  customerRef: string;
  stripeCustomerId: string | null;
  /** The same customer in the tenant's test-mode account, where shadow pushes go (sync). */
  stripeTestCustomerId: string | null;
  /** Epoch ms of a period boundary; periods repeat monthly from it. */
  billingAnchor: number | null;
  /** IANA zone the anchor (or the calendar month) is read in; null = UTC. */
  timezone: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ImportStatus = 'running' | 'completed' | 'failed';

export interface ImportRecord {
  id: string;
  tenantId: string;
  status: ImportStatus;
  format: 'jsonl' | 'csv';
  sourceName: string | null;
  records: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  late: number;
  bytesRead: number;
  /** Rejection and conflict reasons: code → count and the first examples. */
  reasons: ImportReasons;
  error: string | null;
  createdBy: string;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export type ImportReasons = Record<string, { count: number; examples: { record: number; message: string }[] }>;

export type ImportProgress = Pick<ImportRecord, 'status' | 'records' | 'accepted' | 'duplicates' | 'conflicts' | 'rejected' | 'late' | 'bytesRead' | 'reasons' | 'error' | 'finishedAt'>;

export interface EventQuery {
  metric?: string;
  customerRef?: string;
  /** Inclusive lower / exclusive upper bound on event time (ms). */
  since?: number;
  until?: number;
  /** Continue after this (ts, key), newest first. */
  before?: { ts: number; key: string };
  limit: number;
  /**
   * With a metric or customer filter, read at most this many ledger rows (newest first) per call;
   * `scannedTo` then says where to continue, so a rare customer never costs a full scan.
   */
  scanLimit: number;
}

export interface EventPage {
  events: LedgerEventRecord[];
  /** Set when the scan budget ran out before `limit` matches: continue after this position. */
  scannedTo: { ts: number; key: string } | null;
}

export interface ScanQuery {
  /** [fromTs, toTs) on event time, ascending by (ts, key). */
  fromTs: number;
  toTs: number;
  metric?: string;
  customerRef?: string;
  after?: { ts: number; key: string };
  limit: number;
}

export interface CounterScope {
  metric?: string;
  customerRef?: string;
  /** Counters whose period overlaps [overlapsFrom, overlapsTo). */
  overlapsFrom?: number;
  overlapsTo?: number;
  /** Continue after this key, in (periodStart, metric, customerRef) order. */
  after?: { periodStart: number; metric: string; customerRef: string };
  limit: number;
}

export interface RollupScope {
  metric?: string;
  customerRef?: string;
  fromHour: number;
  toHour: number;
}

/** Reads that must agree with each other: one database snapshot (see `MeteringStore.snapshot`). */
export interface MeteringReader {
  scanEvents(tenantId: string, query: ScanQuery): Promise<LedgerEventRecord[]>;
  listCounters(tenantId: string, scope: CounterScope): Promise<CounterRecord[]>;
  listRollups(tenantId: string, scope: RollupScope): Promise<RollupRecord[]>;
  /** Approved adjustments of the counters in scope (all periods overlapping it). */
  listApprovedAdjustments(tenantId: string, scope: Omit<CounterScope, 'after' | 'limit'>): Promise<AdjustmentRecord[]>;
  countPendingAdjustments(tenantId: string, scope: Omit<CounterScope, 'after' | 'limit'>): Promise<number>;
  /** The longest period any counter of the tenant has, in ms (0 without counters). */
  longestPeriodMs(tenantId: string): Promise<number>;
}

export interface MeteringStore {
  /**
   * Writes a batch in ONE transaction: the ledger rows that are new, and for those only the counter
   * and rollup increments and the pending adjustments of late events. Keys must be unique within
   * the batch (per tenant). Durable when the promise resolves; one outcome per input, in order.
   */
  writeEvents(events: LedgerEventInput[], options: { now: number; newAdjustmentId: () => string }): Promise<LedgerWriteOutcome[]>;

  listEvents(tenantId: string, query: EventQuery): Promise<EventPage>;
  /** A customer's counters of one period (all metrics, or one). */
  getCounters(tenantId: string, query: { customerRef: string; periodStart: number; metric?: string }): Promise<CounterRecord[]>;
  listRollups(tenantId: string, scope: RollupScope & { customerRef: string; metric: string }): Promise<RollupRecord[]>;

  /** Reads in one consistent snapshot that never blocks writers (replay, verification). */
  snapshot<T>(fn: (reader: MeteringReader) => Promise<T>): Promise<T>;

  /**
   * Recomputes one counter from the whole period's ledger events and approved adjustments, under
   * the counter's row lock, and writes it (deletes it when the fold is empty). Concurrent ingest
   * neither loses its increments nor gets them counted twice.
   */
  refoldCounter(key: CounterKey & { periodEnd: number }, fold: () => CounterFold, now: number): Promise<{ before: CounterRecord | undefined; after: CounterRecord | undefined }>;
  /** Same for one hourly rollup. */
  refoldRollup(key: RollupKey): Promise<{ before: RollupRecord | undefined; after: RollupRecord | undefined }>;

  insertAdjustment(adjustment: AdjustmentRecord): Promise<void>;
  getAdjustment(tenantId: string, id: string): Promise<AdjustmentRecord | undefined>;
  listAdjustments(tenantId: string, query: AdjustmentQuery): Promise<AdjustmentRecord[]>;
  /**
   * pending → approved and the counter updated, in one transaction; `applied` is false when it was
   * not pending (approving twice, even concurrently, applies it once).
   */
  approveAdjustment(tenantId: string, id: string, actor: string, now: number): Promise<{ adjustment: AdjustmentRecord; applied: boolean } | undefined>;
  /** pending → rejected; `changed` is false when it was not pending. */
  rejectAdjustment(tenantId: string, id: string, actor: string, reason: string | null, now: number): Promise<{ adjustment: AdjustmentRecord; changed: boolean } | undefined>;
  /**
   * Marks an approved adjustment reverted and stores `revert` (approved, the negative delta) applied
   * to the counter, in one transaction. Returns the parent as it now is and the revert, or
   * `revert: undefined` when the parent was not revertable (not approved, already reverted, a revert).
   */
  revertAdjustment(
    tenantId: string,
    id: string,
    revert: AdjustmentRecord,
    fold: () => CounterFold,
    now: number,
  ): Promise<{ parent: AdjustmentRecord; revert: AdjustmentRecord | undefined } | undefined>;

  putCustomer(customer: MeteringCustomerRecord): Promise<MeteringCustomerRecord>;
  getCustomers(tenantId: string, customerRefs: string[]): Promise<MeteringCustomerRecord[]>;

  insertImport(operation: ImportRecord): Promise<void>;
  updateImport(tenantId: string, id: string, progress: ImportProgress, now: number): Promise<void>;
  getImport(tenantId: string, id: string): Promise<ImportRecord | undefined>;
  listImports(tenantId: string, query: { limit: number }): Promise<ImportRecord[]>;
}
