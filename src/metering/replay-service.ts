import type { Clock } from '../shared/clock.js';
import type { MeteringStore } from '../store/metering-store.js';
import { counterValue, foldLedger, LedgerCounterFold, sameCounter, type LedgerDifference, type LedgerScope } from './fold-ledger.js';
import { invalidMeteringInput } from './metering-errors.js';
import { formatMicro } from './quantity.js';
import { parseTimeInput } from './time-input.js';
import { toAdjustmentView, type AdjustmentView } from './usage-views.js';

export interface ReplayInput {
  since?: string | number | undefined;
  until?: string | number | undefined;
  metric?: string | undefined;
  customerRef?: string | undefined;
  dryRun: boolean;
}

interface ValueView {
  sum: string;
  max: string | null;
  last: string | null;
  lastTs: string | null;
  count: number;
}

export type DifferenceView =
  | { kind: 'counter'; metric: string; customerRef: string; period: { start: string; end: string }; stored: ValueView | null; folded: ValueView | null; repaired?: ValueView | null }
  | {
      kind: 'rollup';
      metric: string;
      customerRef: string;
      hourStart: string;
      stored: RollupView | null;
      folded: RollupView | null;
      repaired?: RollupView | null;
    };

interface RollupView {
  sum: string;
  count: number;
  lateSum: string;
  lateCount: number;
}

export interface ReplayReport {
  dryRun: boolean;
  scope: { since: string | null; until: string | null; metric: string | null; customerRef: string | null };
  countersChecked: number;
  rollupsChecked: number;
  eventsRead: number;
  differenceCount: number;
  /** The first differences (all of them are repaired when dryRun is false). */
  differences: DifferenceView[];
  repaired: number;
  pendingLateEvents: { count: number; first: AdjustmentView[] };
}

const REPORTED = 1000;
/** Repairs per run; a larger mess is repaired by running again. */
const REPAIR_LIMIT = 100_000;

/**
 * Replay: re-fold the ledger for a scope, report every counter or hourly rollup that differs from
 * the fold, and the pending late events in scope. With dryRun false, each difference is repaired by
 * re-folding that one counter (its whole period, never a partial range) under its row lock.
 */
export class ReplayService {
  constructor(
    private readonly store: MeteringStore,
    private readonly clock: Clock,
  ) {}

  async replay(tenantId: string, input: ReplayInput): Promise<ReplayReport> {
    const problems: string[] = [];
    const since = parseTimeInput('since', input.since, problems);
    const until = parseTimeInput('until', input.until, problems);
    if (since !== undefined && until !== undefined && until <= since) problems.push('until must be after since');
    if (problems.length > 0) throw invalidMeteringInput(problems);
    const scope: LedgerScope = {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(input.metric !== undefined ? { metric: input.metric } : {}),
      ...(input.customerRef !== undefined ? { customerRef: input.customerRef } : {}),
    };
    const fold = await foldLedger(this.store, tenantId, scope, { maxDifferences: input.dryRun ? REPORTED : REPAIR_LIMIT });

    const views: DifferenceView[] = [];
    let repaired = 0;
    for (const [i, d] of fold.differences.entries()) {
      const view = toDifferenceView(d);
      if (!input.dryRun) {
        if (d.kind === 'counter') {
          const { after } = await this.store.refoldCounter({ ...d.key, periodEnd: d.periodEnd }, () => new LedgerCounterFold(), this.clock.now());
          if (view.kind === 'counter') view.repaired = after ? valueView(counterValue(after)) : null;
          if (!sameCounter(d.stored ?? undefined, after)) repaired += 1;
        } else {
          const { before, after } = await this.store.refoldRollup(d.key);
          if (view.kind === 'rollup') view.repaired = after ? rollupView(after) : null;
          if (JSON.stringify(before && rollupView(before)) !== JSON.stringify(after && rollupView(after))) repaired += 1;
        }
      }
      if (i < REPORTED) views.push(view);
    }

    const pending = await this.store.listAdjustments(tenantId, {
      statuses: ['pending'],
      ...(input.metric !== undefined ? { metric: input.metric } : {}),
      ...(input.customerRef !== undefined ? { customerRef: input.customerRef } : {}),
      limit: 100,
    });
    const inScope = pending.filter((a) => (since === undefined || a.periodEnd > since) && (until === undefined || a.periodStart < until));
    return {
      dryRun: input.dryRun,
      scope: {
        since: since === undefined ? null : new Date(since).toISOString(),
        until: until === undefined ? null : new Date(until).toISOString(),
        metric: input.metric ?? null,
        customerRef: input.customerRef ?? null,
      },
      countersChecked: fold.countersChecked,
      rollupsChecked: fold.rollupsChecked,
      eventsRead: fold.eventsRead,
      differenceCount: fold.differenceCount,
      differences: views,
      repaired,
      pendingLateEvents: { count: fold.pendingAdjustments, first: inScope.map(toAdjustmentView) },
    };
  }
}

function valueView(v: { sumMicro: bigint; maxMicro: bigint | null; lastMicro: bigint | null; lastTs: number | null; eventCount: number }): ValueView {
  return {
    sum: formatMicro(v.sumMicro),
    max: v.maxMicro === null ? null : formatMicro(v.maxMicro),
    last: v.lastMicro === null ? null : formatMicro(v.lastMicro),
    lastTs: v.lastTs === null ? null : new Date(v.lastTs).toISOString(),
    count: v.eventCount,
  };
}

function rollupView(r: { sumMicro: bigint; eventCount: number; lateSumMicro: bigint; lateCount: number }): RollupView {
  return { sum: formatMicro(r.sumMicro), count: r.eventCount, lateSum: formatMicro(r.lateSumMicro), lateCount: r.lateCount };
}

function toDifferenceView(d: LedgerDifference): DifferenceView {
  if (d.kind === 'counter') {
    return {
      kind: 'counter',
      metric: d.key.metric,
      customerRef: d.key.customerRef,
      period: { start: new Date(d.key.periodStart).toISOString(), end: new Date(d.periodEnd).toISOString() },
      stored: d.stored ? valueView(d.stored) : null,
      folded: d.folded ? valueView(d.folded) : null,
    };
  }
  return {
    kind: 'rollup',
    metric: d.key.metric,
    customerRef: d.key.customerRef,
    hourStart: new Date(d.key.hourStart).toISOString(),
    stored: d.stored ? rollupView(d.stored) : null,
    folded: d.folded ? rollupView(d.folded) : null,
  };
}
