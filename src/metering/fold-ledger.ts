import type {
  AdjustmentRecord,
  CounterFold,
  CounterKey,
  CounterRecord,
  CounterValue,
  EventAggregate,
  MeteringReader,
  MeteringStore,
  RollupKey,
  RollupRecord,
  RollupValue,
} from '../store/metering-store.js';
import { addToRollup, HOUR_MS, rollupId } from '../store/add-to-rollup.js';

/**
 * THE definition of a counter, as a fold over the ledger:
 *
 *   sum   = Σ quantity of its period's on-time events + Σ delta of its approved adjustments
 *           (a late event's adjustment adds its quantity, a manual one its delta, a revert the negative)
 *   count = on-time events + approved late-event adjustments − approved reverts of those
 *   max   = largest quantity among on-time events and approved, unreverted late-event adjustments
 *   last  = quantity of the latest (ts, key) among the same events
 *
 * A counter exists once it has an on-time event or an approved adjustment. The ingest upserts, the
 * adjustment paths and `refoldCounter` all implement this; `foldLedger` recomputes it from the
 * ledger and compares — replay runs it, and the tests run it after every scenario.
 */
export class LedgerCounterFold implements CounterFold {
  private touched = false;
  private sum = 0n;
  private count = 0;
  private max: bigint | null = null;
  private last: { ts: number; key: string; quantityMicro: bigint } | null = null;

  addEvent(ts: number, key: string, quantityMicro: bigint): void {
    this.addEvents({ count: 1, sumMicro: quantityMicro, maxMicro: quantityMicro, last: { ts, key, quantityMicro } });
  }

  addEvents(aggregate: EventAggregate): void {
    if (aggregate.count === 0) return;
    this.touched = true;
    this.sum += aggregate.sumMicro;
    this.count += aggregate.count;
    if (aggregate.maxMicro !== null && (this.max === null || aggregate.maxMicro > this.max)) this.max = aggregate.maxMicro;
    const l = aggregate.last;
    if (l && (this.last === null || l.ts > this.last.ts || (l.ts === this.last.ts && l.key > this.last.key))) this.last = l;
  }

  addAdjustments(adjustments: AdjustmentRecord[]): void {
    const byId = new Map(adjustments.map((a) => [a.id, a]));
    for (const a of adjustments) {
      if (a.status !== 'approved') continue;
      this.touched = true;
      this.sum += a.deltaMicro;
      if (a.kind === 'late_event') {
        this.count += 1;
        if (a.revertedBy === null && a.eventTs !== null && a.eventKey !== null) {
          if (this.max === null || a.deltaMicro > this.max) this.max = a.deltaMicro;
          if (this.last === null || a.eventTs > this.last.ts || (a.eventTs === this.last.ts && a.eventKey > this.last.key)) {
            this.last = { ts: a.eventTs, key: a.eventKey, quantityMicro: a.deltaMicro };
          }
        }
      } else if (a.kind === 'revert' && a.parentId !== null && byId.get(a.parentId)?.kind === 'late_event') {
        this.count -= 1;
      }
    }
  }

  result(): CounterValue | undefined {
    if (!this.touched) return undefined;
    return {
      sumMicro: this.sum,
      maxMicro: this.max,
      lastMicro: this.last?.quantityMicro ?? null,
      lastTs: this.last?.ts ?? null,
      lastKey: this.last?.key ?? null,
      eventCount: this.count,
    };
  }
}

export interface LedgerScope {
  /** Counters whose period overlaps [since, until); rollups of the hours overlapping it. */
  since?: number;
  until?: number;
  metric?: string;
  customerRef?: string;
}

export type LedgerDifference =
  | { kind: 'counter'; key: CounterKey; periodEnd: number; stored: CounterValue | null; folded: CounterValue | null }
  | { kind: 'rollup'; key: RollupKey; stored: RollupValue | null; folded: RollupValue | null };

export interface LedgerFold {
  countersChecked: number;
  rollupsChecked: number;
  eventsRead: number;
  /** The first `maxDifferences` differences; `differenceCount` counts them all. */
  differences: LedgerDifference[];
  differenceCount: number;
  pendingAdjustments: number;
}

export interface FoldOptions {
  maxDifferences?: number;
  /** Events per read; bounded memory whatever the ledger size. */
  pageSize?: number;
  /** Stops early (throws) when the scope holds more counters than this. */
  maxCounters?: number;
}

const DAY_MS = 86_400_000;
/** When no counter tells the longest period: a year covers every subscription interval Stripe has. */
const DEFAULT_LOOKBACK_MS = 366 * DAY_MS;

/**
 * Re-folds the ledger for a scope inside one database snapshot and compares every counter and hourly
 * rollup with what is stored. Reads the ledger once, in time order, a day at a time: memory holds the
 * counters in scope and one day of rollups, never the events.
 */
export async function foldLedger(store: MeteringStore, tenantId: string, scope: LedgerScope, options: FoldOptions = {}): Promise<LedgerFold> {
  return store.snapshot((reader) => foldInSnapshot(reader, tenantId, scope, options));
}

async function foldInSnapshot(reader: MeteringReader, tenantId: string, scope: LedgerScope, options: FoldOptions): Promise<LedgerFold> {
  const maxDifferences = options.maxDifferences ?? 1000;
  const pageSize = options.pageSize ?? 5000;
  const maxCounters = options.maxCounters ?? 2_000_000;
  const since = scope.since ?? Number.MIN_SAFE_INTEGER;
  const until = scope.until ?? Number.MAX_SAFE_INTEGER;
  const filters = { ...(scope.metric !== undefined ? { metric: scope.metric } : {}), ...(scope.customerRef !== undefined ? { customerRef: scope.customerRef } : {}) };
  const counterScope = { ...filters, ...(scope.since !== undefined ? { overlapsFrom: scope.since } : {}), ...(scope.until !== undefined ? { overlapsTo: scope.until } : {}) };

  const result: LedgerFold = { countersChecked: 0, rollupsChecked: 0, eventsRead: 0, differences: [], differenceCount: 0, pendingAdjustments: 0 };
  const report = (d: LedgerDifference) => {
    result.differenceCount += 1;
    if (result.differences.length < maxDifferences) result.differences.push(d);
  };

  // Stored counters in scope, and the approved adjustments that belong to them.
  const stored = new Map<string, CounterRecord>();
  for (let after: CounterRecord | undefined, page = 0; page < 100_000; page++) {
    const chunk = await reader.listCounters(tenantId, { ...counterScope, ...(after ? { after } : {}), limit: 5000 });
    for (const c of chunk) stored.set(counterId(c), c);
    if (stored.size > maxCounters) throw new Error(`more than ${maxCounters} counters in scope; narrow it (since/until, metric, customerRef)`);
    if (chunk.length < 5000) break;
    after = chunk[chunk.length - 1];
  }
  const adjustments = new Map<string, AdjustmentRecord[]>();
  for (const a of await reader.listApprovedAdjustments(tenantId, counterScope)) {
    const id = counterId(a);
    const list = adjustments.get(id);
    if (list) list.push(a);
    else adjustments.set(id, [a]);
  }
  result.pendingAdjustments = await reader.countPendingAdjustments(tenantId, counterScope);

  // Events are read from one longest period before `since`: a period overlapping the scope may start there.
  const lookback = Math.max(await reader.longestPeriodMs(tenantId), 32 * DAY_MS);
  const fromTs = scope.since === undefined ? Number.MIN_SAFE_INTEGER : scope.since - (lookback || DEFAULT_LOOKBACK_MS);
  const toTs = scope.until === undefined ? Number.MAX_SAFE_INTEGER : scope.until + lookback;

  interface Open {
    key: CounterKey;
    periodEnd: number;
    fold: LedgerCounterFold;
  }
  const open = new Map<string, Open>();
  const closeCounter = (id: string, o: Open) => {
    open.delete(id);
    const folded = foldWithAdjustments(o.fold, adjustments.get(id));
    adjustments.delete(id);
    const s = stored.get(id);
    stored.delete(id);
    result.countersChecked += 1;
    if (!sameCounter(s, folded)) report({ kind: 'counter', key: o.key, periodEnd: Math.max(o.periodEnd, s?.periodEnd ?? 0), stored: s ? counterValue(s) : null, folded: folded ?? null });
  };

  // Rollup scope: whole hours overlapping [since, until).
  const rollFrom = scope.since === undefined ? Number.MIN_SAFE_INTEGER : Math.floor(scope.since / HOUR_MS) * HOUR_MS;
  const rollTo = scope.until === undefined ? Number.MAX_SAFE_INTEGER : Math.ceil(scope.until / HOUR_MS) * HOUR_MS;

  let after: { ts: number; key: string } | undefined;
  let window: number | null = null;
  let rollups = new Map<string, RollupRecord>();
  const closeWindow = async (start: number) => {
    const from = Math.max(start, rollFrom);
    const to = Math.min(start + DAY_MS, rollTo);
    if (from < to) {
      for (const s of await reader.listRollups(tenantId, { ...filters, fromHour: from, toHour: to })) {
        const id = rollupId(s);
        const f = rollups.get(id);
        rollups.delete(id);
        result.rollupsChecked += 1;
        if (!f || !sameRollup(s, f)) report({ kind: 'rollup', key: rollupKey(s), stored: rollupValue(s), folded: f ? rollupValue(f) : null });
      }
      for (const f of rollups.values()) {
        if (f.hourStart < from || f.hourStart >= to) continue;
        result.rollupsChecked += 1;
        report({ kind: 'rollup', key: rollupKey(f), stored: null, folded: rollupValue(f) });
      }
    }
    rollups = new Map();
  };

  for (let page = 0; page < 1_000_000_000; page++) {
    const events = await reader.scanEvents(tenantId, { ...filters, fromTs, toTs, ...(after ? { after } : {}), limit: pageSize });
    for (const e of events) {
      const day = Math.floor(e.ts / DAY_MS) * DAY_MS;
      if (day !== window) {
        if (window !== null) await closeWindow(window);
        // Entire periods are now behind the scan: compare and forget them.
        for (const [id, o] of open) if (o.periodEnd <= day) closeCounter(id, o);
        // Stored rollups of days without events (before the first one, or skipped) must not exist.
        await closeSkippedDays(window === null ? rollFrom : window + DAY_MS, day);
        window = day;
      }
      result.eventsRead += 1;
      if (e.ts >= rollFrom && e.ts < rollTo) addToRollup(rollups, e);
      if (!e.late && e.periodEnd > since && e.periodStart < until) {
        const id = counterId(e);
        let o = open.get(id);
        if (!o) {
          o = { key: { tenantId, metric: e.metric, customerRef: e.customerRef, periodStart: e.periodStart }, periodEnd: e.periodEnd, fold: new LedgerCounterFold() };
          open.set(id, o);
        }
        if (e.periodEnd > o.periodEnd) o.periodEnd = e.periodEnd;
        o.fold.addEvent(e.ts, e.idempotencyKey, e.quantityMicro);
      }
    }
    if (events.length < pageSize) break;
    const last = events[events.length - 1]!;
    after = { ts: last.ts, key: last.idempotencyKey };
  }
  if (window !== null) await closeWindow(window);
  for (const [id, o] of open) closeCounter(id, o);
  // Counters with no on-time event in the ledger: only adjustments may justify them.
  for (const [id, s] of stored) {
    const folded = foldWithAdjustments(new LedgerCounterFold(), adjustments.get(id));
    adjustments.delete(id);
    result.countersChecked += 1;
    if (!sameCounter(s, folded)) report({ kind: 'counter', key: counterKey(s), periodEnd: s.periodEnd, stored: counterValue(s), folded: folded ?? null });
  }
  // Approved adjustments whose counter is missing altogether.
  for (const list of adjustments.values()) {
    const a = list[0]!;
    const folded = foldWithAdjustments(new LedgerCounterFold(), list);
    result.countersChecked += 1;
    if (folded) report({ kind: 'counter', key: counterKey(a), periodEnd: a.periodEnd, stored: null, folded });
  }
  // Hours in scope after the last event (or all of them when the scope had no events).
  await closeSkippedDays(window === null ? rollFrom : window + DAY_MS, rollTo);
  return result;

  async function closeSkippedDays(from: number, to: number): Promise<void> {
    // Only stored rows can exist there: one range read instead of one per day.
    const lo = Math.max(from, rollFrom);
    const hi = Math.min(to, rollTo);
    if (lo >= hi) return;
    // (Whole-ledger scopes use the safe-integer extremes as bounds: fine as SQL bigint parameters.)
    for (const s of await reader.listRollups(tenantId, { ...filters, fromHour: lo, toHour: hi })) {
      result.rollupsChecked += 1;
      report({ kind: 'rollup', key: rollupKey(s), stored: rollupValue(s), folded: null });
    }
  }
}

function foldWithAdjustments(fold: LedgerCounterFold, adjustments: AdjustmentRecord[] | undefined): CounterValue | undefined {
  if (adjustments) fold.addAdjustments(adjustments);
  return fold.result();
}

export function sameCounter(stored: CounterValue | undefined, folded: CounterValue | undefined): boolean {
  if (!stored || !folded) return stored === folded || (!folded && !!stored && isEmptyCounter(stored));
  return (
    stored.sumMicro === folded.sumMicro &&
    stored.eventCount === folded.eventCount &&
    stored.maxMicro === folded.maxMicro &&
    stored.lastMicro === folded.lastMicro &&
    stored.lastTs === folded.lastTs &&
    stored.lastKey === folded.lastKey
  );
}

/** A row that says nothing (all zero, no last): the same as no row. */
function isEmptyCounter(c: CounterValue): boolean {
  return c.sumMicro === 0n && c.eventCount === 0 && c.maxMicro === null && c.lastTs === null;
}

function sameRollup(a: RollupValue, b: RollupValue): boolean {
  return a.sumMicro === b.sumMicro && a.eventCount === b.eventCount && a.lateSumMicro === b.lateSumMicro && a.lateCount === b.lateCount;
}

function counterId(c: { metric: string; customerRef: string; periodStart: number }): string {
  return `${c.periodStart}\u0000${c.metric}\u0000${c.customerRef}`;
}

export function counterValue(c: CounterValue): CounterValue {
  return { sumMicro: c.sumMicro, maxMicro: c.maxMicro, lastMicro: c.lastMicro, lastTs: c.lastTs, lastKey: c.lastKey, eventCount: c.eventCount };
}

function counterKey(c: CounterKey): CounterKey {
  return { tenantId: c.tenantId, metric: c.metric, customerRef: c.customerRef, periodStart: c.periodStart };
}

function rollupKey(r: RollupKey): RollupKey {
  return { tenantId: r.tenantId, metric: r.metric, customerRef: r.customerRef, hourStart: r.hourStart };
}

function rollupValue(r: RollupValue): RollupValue {
  return { sumMicro: r.sumMicro, eventCount: r.eventCount, lateSumMicro: r.lateSumMicro, lateCount: r.lateCount };
}
