/**
 * Persistence for the Stripe sync (delta push); part of `Store` as `store.sync`. Quantities are
 * integer micro-units as BigInt, like metering. Every tenant-owned read or write names its tenant,
 * except the cross-tenant work queue (`claimDue`, `failingMappings`), which returns the tenant with
 * each row.
 */

export type SyncMode = 'live' | 'shadow';
export type MappingAggregation = 'sum' | 'max' | 'last';

export interface MappingRecord {
  id: string;
  tenantId: string;
  metric: string;
  aggregation: MappingAggregation;
  meterEventName: string;
  meterId: string | null;
  valueKey: string;
  customerKey: string;
  shadowEnabled: boolean;
  /** The test account's meter event name; null = the same as the live one. */
  shadowEventName: string | null;
  shadowMeterId: string | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type MappingPatch = Partial<Pick<MappingRecord, 'meterEventName' | 'meterId' | 'valueKey' | 'customerKey' | 'shadowEnabled' | 'shadowEventName' | 'shadowMeterId' | 'enabled'>> & {
  updatedAt: number;
};

/**
 * due: waiting to be pushed · ok: Stripe holds the target · failing: the last attempt failed (retried
 * with backoff) · too_old: the period is beyond Stripe's 35-day window · needs_review: the outcome
 * of a sent event is unknown and can no longer be retried safely · detached: the customer now maps
 * to another Stripe customer (what was pushed stays there) · no_key: the account's key is missing ·
 * not_yet: the period starts in the future.
 */
export type PushStatus = 'due' | 'ok' | 'failing' | 'too_old' | 'needs_review' | 'detached' | 'no_key' | 'not_yet';

/** The one operation in flight for a push state (write-ahead: recorded before it is sent). */
export interface PendingOp {
  kind: 'event' | 'cancel';
  /** event: its identifier; cancel: the identifier of the event being cancelled. */
  identifier: string;
  /** event: the value sent (a delta for sum meters, the value for last meters); cancel: the cancelled event's value. */
  valueMicro: bigint;
  /** What Stripe holds for this state once the operation is accepted. */
  totalMicro: bigint;
  /** event: its timestamp, epoch seconds. */
  ts: number;
  /** When it was first sent (ms); Stripe dedupes identifiers for 24 h from its receipt, which is later. */
  since: number;
  /** An attempt ended without an answer (timeout, dropped connection, 5xx): Stripe may hold it. */
  uncertain: boolean;
}

export interface PushStateKey {
  tenantId: string;
  mappingId: string;
  mode: SyncMode;
  eventName: string;
  customerRef: string;
  periodStart: number;
  stripeCustomerId: string;
}

export interface PushStateRecord extends PushStateKey {
  id: string;
  periodEnd: number;
  /** The local counter value (full precision) when last read; null when there is no counter. */
  targetMicro: bigint | null;
  /** What Stripe has accepted: the running total (sum) or the last value sent (last); null before the first push. */
  acceptedMicro: bigint | null;
  /** Operations settled so far; part of every identifier, so a total reached twice gets two identifiers. */
  seq: number;
  pending: PendingOp | null;
  status: PushStatus;
  due: boolean;
  nextAttemptAt: number;
  claimToken: string | null;
  claimedUntil: number | null;
  /** Since when the target differs from what Stripe holds (push lag). */
  dirtySince: number | null;
  lastPushedAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  /** Stripe calls made for this state. */
  attempts: number;
  createdAt: number;
  updatedAt: number;
}

/** A counter whose value differs from what its push state last saw (or that has no state yet). */
export interface TargetCandidate {
  customerRef: string;
  periodStart: number;
  periodEnd: number;
  stripeCustomerId: string;
  valueMicro: bigint | null;
  stateId: string | null;
}

export interface TargetQuery {
  mappingId: string;
  mode: SyncMode;
  eventName: string;
  metric: string;
  aggregation: MappingAggregation;
  /** Only periods ending after this (ms). */
  periodEndAfter: number;
}

export interface JournalEvent {
  tenantId: string;
  mode: SyncMode;
  identifier: string;
  stateId: string;
  mappingId: string;
  customerRef: string;
  periodStart: number;
  eventName: string;
  stripeCustomerId: string;
  valueMicro: bigint;
  totalMicro: bigint;
  ts: number;
  firstSentAt: number;
  acceptedAt: number | null;
  cancelledAt: number | null;
  cancelRefusedAt: number | null;
}

export interface StatePatch {
  status?: PushStatus;
  due?: boolean;
  nextAttemptAt?: number;
  targetMicro?: bigint | null;
  dirtySince?: number | null;
  lastError?: string | null;
  /** A number sets it; 'increment' adds one. */
  consecutiveFailures?: number | 'increment';
  attemptsAdd?: number;
  pendingUncertain?: boolean;
  releaseClaim?: boolean;
}

export interface StateQuery {
  mappingId?: string;
  customerRef?: string;
  mode?: SyncMode;
  status?: PushStatus;
  limit: number;
}

export interface FailingMapping {
  tenantId: string;
  mappingId: string;
  mode: SyncMode;
  maxFailures: number;
  failingItems: number;
  /** Items waiting for an operator (needs_review). */
  reviewItems: number;
  lastError: string | null;
}

export interface SyncSummaryRow {
  mode: SyncMode;
  status: PushStatus;
  items: number;
  oldestDirtySince: number | null;
}

export interface SyncStore {
  /** False when an enabled mapping of the tenant already uses this meter event name. */
  insertMapping(mapping: MappingRecord): Promise<boolean>;
  getMapping(tenantId: string, id: string): Promise<MappingRecord | undefined>;
  listMappings(tenantId: string): Promise<MappingRecord[]>;
  /** Enabled mappings of one tenant, or of all tenants. */
  listEnabledMappings(tenantId?: string): Promise<MappingRecord[]>;
  /** 'conflict' when the change would give two enabled mappings the same meter event name. */
  updateMapping(tenantId: string, id: string, patch: MappingPatch): Promise<MappingRecord | undefined | 'conflict'>;

  /** Mapped customers' counters whose value differs from their push state's target, or without a state (or detached / no_key). */
  findChangedTargets(tenantId: string, query: TargetQuery): Promise<TargetCandidate[]>;
  /** Push states (not due, not detached) whose counter no longer exists. */
  findVanishedTargets(tenantId: string, query: TargetQuery): Promise<string[]>;
  /** Marks detached the states whose customer no longer maps to their Stripe customer; returns them. */
  detachRemapped(tenantId: string, mappingId: string, now: number): Promise<PushStateRecord[]>;
  /** Inserts new states (a state that already exists is left alone). */
  insertStates(states: PushStateRecord[]): Promise<void>;
  /** due = 1, status due, dirty since now (unless already dirty). */
  markDue(tenantId: string, ids: string[], now: number): Promise<void>;
  /** Due states whose time has come and that nobody holds: claimed for `token` until `claimedUntil`. */
  claimDue(query: { now: number; limit: number; claimedUntil: number; token: string; tenantId?: string }): Promise<PushStateRecord[]>;

  /**
   * Records the intent (and, for an event, its journal row) if the state is still held by `token`,
   * at `expectSeq`, with nothing pending: the compare-and-set that makes one step one operation.
   */
  beginOp(id: string, token: string, expectSeq: number, op: PendingOp, journal: JournalEvent | null, now: number): Promise<boolean>;
  /** Stripe accepted the pending operation `identifier`: total, seq + 1, journal updated, failures cleared. */
  settleOp(tenantId: string, id: string, kind: PendingOp['kind'], identifier: string, now: number): Promise<boolean>;
  /** Stripe refused the pending operation for sure: forget it (an event's journal row goes; a refused cancel is remembered). */
  dropPending(tenantId: string, id: string, kind: PendingOp['kind'], identifier: string, now: number): Promise<boolean>;
  /** Changes a state this holder claimed; false when the claim was lost. */
  updateClaimed(id: string, token: string, patch: StatePatch, now: number): Promise<boolean>;
  getState(tenantId: string, id: string): Promise<PushStateRecord | undefined>;
  /** needs_review → due again (after an operator settled or dropped its pending operation); false when it was not in review. */
  reopenState(tenantId: string, id: string, now: number): Promise<boolean>;
  /** States with the counter's current value (by the mapping's aggregation; null without a counter). */
  listStates(tenantId: string, query: StateQuery): Promise<(PushStateRecord & { currentMicro: bigint | null })[]>;

  /** Accepted, uncancelled events of a state first sent at or after `since`, newest first. */
  recentEvents(tenantId: string, stateId: string, since: number): Promise<JournalEvent[]>;
  listJournal(tenantId: string, query: { mode?: SyncMode; limit: number }): Promise<JournalEvent[]>;
  /** Deletes accepted journal rows first sent before `before` (run every cycle, so each call removes little); returns how many. */
  pruneJournal(before: number): Promise<number>;

  /** (tenant, mapping, mode) with at least one state failing, across tenants. */
  failingMappings(): Promise<FailingMapping[]>;
  summary(tenantId: string): Promise<SyncSummaryRow[]>;
  /** Usage events counted by the counters that live push states cover, per mode. */
  coveredEvents(tenantId: string): Promise<Record<SyncMode, number>>;
  addCalls(tenantId: string, mode: SyncMode, calls: number, operations: number, now: number): Promise<void>;
  callStats(tenantId: string): Promise<Record<SyncMode, { calls: number; operations: number }>>;
  /** The oldest dirty time among due states, per mode, across tenants (the lag gauge). */
  oldestDue(): Promise<Record<SyncMode, number | null>>;

  /**
   * An operator applied a reconciliation correction: what Stripe holds is `acceptedMicro`, not what
   * this state remembered. Sets it, starts a new identifier sequence and makes the state due, so the
   * next cycle pushes (or cancels) the difference. 'busy' while an operation is in flight or claimed.
   */
  realignAccepted(key: { tenantId: string; mappingId: string; customerRef: string; periodStart: number; stripeCustomerId: string }, acceptedMicro: bigint, now: number): Promise<'realigned' | 'busy' | 'missing'>;
}
