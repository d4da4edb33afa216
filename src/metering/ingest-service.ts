import type { Clock } from '../shared/clock.js';
import type { Metrics } from '../ops/metrics.js';
import type { LedgerEventInput, UsageSource } from '../store/metering-store.js';
import type { IngestBatcher } from './ingest-batcher.js';
import type { PeriodResolver } from './period-resolver.js';
import { isRejection, prepareEvent, type PreparedEvent, type PrepareLimits, type RejectionCode } from './prepare-event.js';

export interface IngestLimits extends PrepareLimits {
  latenessMs: number;
}

export type EventResult =
  | { index: number; status: 'accepted'; idempotencyKey: string; late?: true; adjustmentId?: string }
  | { index: number; status: 'duplicate'; idempotencyKey: string }
  | { index: number; status: 'conflict'; idempotencyKey: string; code: 'idempotency_conflict'; reason: string }
  | { index: number; status: 'rejected'; code: RejectionCode; reason: string };

export interface IngestOutcome {
  results: EventResult[];
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  late: number;
}

export interface IngestOptions {
  source: UsageSource;
  /** The body held numbers too long for a double (see exact-json.ts). */
  exact: boolean;
}

const CONFLICT_REASON = 'this idempotency key was already used for an event with different content; the stored event is unchanged';

/**
 * The ingest pipeline shared by the API, the backfill endpoint and `meterwatch import`:
 * validate each event → assign its billing period → one group-committed write → per-event results.
 * Nothing is acknowledged before the write is durable.
 */
export class IngestService {
  constructor(
    private readonly batcher: IngestBatcher,
    private readonly periods: PeriodResolver,
    private readonly clock: Clock,
    private readonly limits: IngestLimits,
    private readonly metrics?: Metrics,
  ) {}

  async ingest(tenantId: string, rawEvents: readonly unknown[], options: IngestOptions): Promise<IngestOutcome> {
    const now = this.clock.now();
    const results: EventResult[] = new Array(rawEvents.length);
    const prepared: PreparedEvent[] = [];
    const positions: number[] = [];
    let rejected = 0;
    for (let i = 0; i < rawEvents.length; i++) {
      const p = prepareEvent(rawEvents[i], tenantId, now, this.limits, options.exact, options.source);
      if (isRejection(p)) {
        results[i] = { index: i, status: 'rejected', code: p.code, reason: p.reason };
        rejected += 1;
      } else {
        prepared.push(p);
        positions.push(i);
      }
    }

    let accepted = 0;
    let duplicates = 0;
    let conflicts = 0;
    let late = 0;
    if (prepared.length > 0) {
      await this.periods.load(tenantId, customersOf(prepared));
      const rows: LedgerEventInput[] = prepared;
      for (const row of rows) {
        const period = this.periods.periodOf(tenantId, row.customerRef, row.ts);
        row.periodStart = period.start;
        row.periodEnd = period.end;
        // Arrival time decides lateness: the closed period is final once its window has passed.
        row.late = now > period.end + this.limits.latenessMs;
      }
      const outcomes = await this.batcher.submit(rows);
      for (let j = 0; j < rows.length; j++) {
        const index = positions[j]!;
        const row = rows[j]!;
        const o = outcomes[j]!;
        if (o.status === 'inserted') {
          accepted += 1;
          if (o.adjustmentId !== null) {
            late += 1;
            results[index] = { index, status: 'accepted', idempotencyKey: row.idempotencyKey, late: true, adjustmentId: o.adjustmentId };
          } else results[index] = { index, status: 'accepted', idempotencyKey: row.idempotencyKey };
        } else if (o.status === 'duplicate') {
          duplicates += 1;
          results[index] = { index, status: 'duplicate', idempotencyKey: row.idempotencyKey };
        } else {
          conflicts += 1;
          results[index] = { index, status: 'conflict', idempotencyKey: row.idempotencyKey, code: 'idempotency_conflict', reason: CONFLICT_REASON };
        }
      }
    }
    this.count(tenantId, options.source, { accepted, duplicate: duplicates, conflict: conflicts, rejected, late });
    return { results, accepted, duplicates, conflicts, rejected, late };
  }

  private count(tenantId: string, source: UsageSource, outcomes: Record<string, number>): void {
    const metrics = this.metrics;
    if (!metrics) return;
    const tenant = metrics.tenantLabel(tenantId);
    for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) metrics.usageEvents.inc({ outcome, source, tenant }, n);
  }
}

function customersOf(events: PreparedEvent[]): Set<string> {
  const refs = new Set<string>();
  for (const e of events) refs.add(e.customerRef);
  return refs;
}
