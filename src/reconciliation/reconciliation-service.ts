import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { CounterRecord } from '../store/metering-store.js';
import type { CorrectionRecord, ReconcileResultRecord, ReconcileRunRecord } from '../store/reconciliation-store.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { Trigger } from '../detectors/detector.js';
import { AppError } from '../shared/app-error.js';
import { formatPpm, measureDrift } from './drift.js';
import { pushedValue, type MappingDirectory, type ReconcileMapping } from './mapping-directory.js';
import type { StripeMeterReader } from './stripe-meter-reader.js';
import { microToDecimal } from './stripe-value.js';
import { correctionDecided, correctionNotApplicable, correctionNotFound, stripeKeyMissing } from './reconciliation-errors.js';

export const USAGE_DRIFT = 'usage_drift';

export interface ReconcileOptions {
  /** Drift above this many parts per million is reported (5,000 = 0.5 %). */
  epsilonPpm: number;
  /** Default scope: periods that overlap the last this-many ms (Stripe accepts events 35 days back). */
  lookbackMs: number;
}

export interface ReconcileScope {
  trigger: ReconcileRunRecord['trigger'];
  /** Periods overlapping [from, to); default: the lookback up to now. */
  from?: number;
  to?: number;
  mappingId?: string;
  customerRef?: string;
}

export interface ReconcileReport {
  run: ReconcileRunRecord;
  results: ReconcileResultRecord[];
  /** Proposals opened or refreshed by this run. */
  corrections: CorrectionRecord[];
}

interface TenantKeys {
  stripeApiKey(tenantId: string, mode?: 'live' | 'test'): Promise<string | undefined>;
}

const PAGE = 500;

/**
 * Compares, per mapping, customer and period, what Meterwatch counted with what Stripe's meter
 * event summaries hold. A drift above epsilon becomes a report row, a `usage_drift` incident for the
 * customer and ONE proposed correction per (mapping, customer, period) however many runs see it;
 * a later clean run resolves both. Live mode only: shadow pushes go to a test account whose totals
 * say nothing about what customers are billed.
 */
export class ReconciliationService {
  constructor(
    private readonly store: Store,
    private readonly tenants: TenantKeys,
    private readonly mappings: MappingDirectory,
    private readonly stripe: StripeMeterReader,
    private readonly incidents: IncidentService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly options: ReconcileOptions,
  ) {}

  async run(tenantId: string, scope: ReconcileScope): Promise<ReconcileReport> {
    const apiKey = await this.tenants.stripeApiKey(tenantId, 'live');
    if (!apiKey) throw stripeKeyMissing();
    const now = this.clock.now();
    const run: ReconcileRunRecord = {
      id: this.ids.next('rec'),
      tenantId,
      trigger: scope.trigger,
      status: 'running',
      checked: 0,
      drifted: 0,
      failed: 0,
      error: null,
      startedAt: now,
      finishedAt: null,
    };
    await this.store.reconciliation.insertRun(run);
    const results: ReconcileResultRecord[] = [];
    const corrections: CorrectionRecord[] = [];
    try {
      const mappings = (await this.mappings.list(tenantId)).filter((m) => scope.mappingId === undefined || m.id === scope.mappingId);
      for (const mapping of mappings) {
        for (const result of await this.reconcileMapping(apiKey, mapping, run, scope, now)) {
          results.push(result);
          if (result.status === 'drift') corrections.push(await this.propose(result, now));
          else if (result.status === 'ok') await this.store.reconciliation.resolveOpenCorrection(tenantId, result.mappingId, result.customerRef, result.periodStart, now);
        }
      }
      // Only a run over everything may resolve: a narrower one has not looked at the other mappings or periods.
      const complete = scope.mappingId === undefined && scope.from === undefined && scope.to === undefined;
      await this.updateIncidents(tenantId, results, complete);
      Object.assign(run, {
        status: 'completed',
        checked: results.length,
        drifted: results.filter((r) => r.status === 'drift').length,
        failed: results.filter((r) => r.status === 'error').length,
        finishedAt: this.clock.now(),
      });
    } catch (error) {
      Object.assign(run, { status: 'failed', error: safeMessage(error), checked: results.length, finishedAt: this.clock.now() });
      await this.store.reconciliation.finishRun(tenantId, run.id, run);
      throw error;
    }
    await this.store.reconciliation.finishRun(tenantId, run.id, run);
    return { run, results, corrections };
  }

  /**
   * An operator accepts a proposal: the sync is told what Stripe really holds, and its next cycle
   * pushes the difference (up: one event; down: cancels within Stripe's 24 h, else a negative event).
   */
  async applyCorrection(tenantId: string, id: string, actor: string, reason: string | null): Promise<CorrectionRecord> {
    const correction = await this.store.reconciliation.getCorrection(tenantId, id);
    if (!correction) throw correctionNotFound();
    if (correction.status !== 'proposed') throw correctionDecided(correction.status);
    const outcome = await this.mappings.realign(
      { tenantId, mappingId: correction.mappingId, customerRef: correction.customerRef, periodStart: correction.periodStart, stripeCustomerId: correction.stripeCustomerId },
      correction.stripeMicro,
      this.clock.now(),
    );
    if (outcome === 'busy') throw correctionNotApplicable('The sync is sending to Stripe for this customer right now; apply again in a minute');
    const decided = await this.store.reconciliation.decideCorrection(tenantId, id, {
      status: 'applied',
      actor,
      // Without a push state the sync has sent nothing for this period yet: its next cycle sends the whole total anyway.
      reason: reason ?? (outcome === 'missing' ? 'nothing pushed yet for this period: the next sync cycle sends the full total' : null),
      now: this.clock.now(),
    });
    if (!decided) throw correctionDecided('decided');
    return decided;
  }

  /** The scheduled run: every tenant that has a Stripe key and at least one mapping. */
  async runAll(): Promise<number> {
    let runs = 0;
    for (const tenant of await this.store.listTenants()) {
      if ((await this.mappings.list(tenant.id)).length === 0) continue;
      if (!(await this.tenants.stripeApiKey(tenant.id, 'live'))) continue;
      try {
        await this.run(tenant.id, { trigger: 'schedule' });
        runs += 1;
      } catch (error) {
        this.logger.warn({ err: error, tenantId: tenant.id }, 'scheduled reconciliation failed');
      }
    }
    return runs;
  }

  private async reconcileMapping(apiKey: string, mapping: ReconcileMapping, run: ReconcileRunRecord, scope: ReconcileScope, now: number): Promise<ReconcileResultRecord[]> {
    const from = scope.from ?? now - this.options.lookbackMs;
    const to = scope.to ?? now + 1;
    let meterId: string | null;
    try {
      meterId = mapping.meterId ?? (await this.stripe.meterIdForEventName(apiKey, mapping.meterEventName));
    } catch (error) {
      meterId = null;
      this.logger.warn({ err: error, mappingId: mapping.id }, 'could not look up the Stripe meter of a mapping');
    }
    const out: ReconcileResultRecord[] = [];
    for await (const page of this.counterPages(mapping.tenantId, mapping.metric, from, to, scope.customerRef)) {
      const customers = await this.store.metering.getCustomers(mapping.tenantId, [...new Set(page.map((c) => c.customerRef))]);
      const stripeIds = new Map(customers.filter((c) => c.stripeCustomerId).map((c) => [c.customerRef, c.stripeCustomerId!]));
      for (const counter of page) {
        const stripeCustomerId = stripeIds.get(counter.customerRef);
        if (!stripeCustomerId) continue; // not billed through Stripe: nothing to compare with
        const base = {
          tenantId: mapping.tenantId,
          mappingId: mapping.id,
          customerRef: counter.customerRef,
          periodStart: counter.periodStart,
          periodEnd: counter.periodEnd,
          metric: mapping.metric,
          aggregation: mapping.aggregation,
          meterId,
          stripeCustomerId,
          localMicro: pushedValue(mapping.aggregation, counter),
          runId: run.id,
          checkedAt: this.clock.now(),
        };
        let result: ReconcileResultRecord;
        if (meterId === null) {
          result = { ...base, stripeMicro: null, driftPpm: null, status: 'error', error: `no active Stripe meter for event name "${mapping.meterEventName}"` };
        } else {
          try {
            const stripeMicro = await this.stripe.periodTotal(apiKey, meterId, stripeCustomerId, counter.periodStart, counter.periodEnd);
            const drift = measureDrift(base.localMicro, stripeMicro, this.options.epsilonPpm);
            result = { ...base, stripeMicro, driftPpm: drift.ppm, status: drift.drifted ? 'drift' : 'ok', error: null };
          } catch (error) {
            result = { ...base, stripeMicro: null, driftPpm: null, status: 'error', error: safeMessage(error) };
          }
        }
        await this.store.reconciliation.putResult(result);
        out.push(result);
      }
    }
    return out;
  }

  private async *counterPages(tenantId: string, metric: string, from: number, to: number, customerRef: string | undefined): AsyncGenerator<CounterRecord[]> {
    let after: { periodStart: number; metric: string; customerRef: string } | undefined;
    for (;;) {
      const page = await this.store.metering.snapshot((reader) =>
        reader.listCounters(tenantId, { metric, overlapsFrom: from, overlapsTo: to, limit: PAGE, ...(customerRef ? { customerRef } : {}), ...(after ? { after } : {}) }),
      );
      if (page.length === 0) return;
      yield page;
      if (page.length < PAGE) return;
      const last = page[page.length - 1]!;
      after = { periodStart: last.periodStart, metric: last.metric, customerRef: last.customerRef };
    }
  }

  private async propose(result: ReconcileResultRecord, now: number): Promise<CorrectionRecord> {
    const stripeMicro = result.stripeMicro ?? 0n;
    const delta = result.localMicro - stripeMicro;
    const action =
      result.aggregation === 'sum'
        ? delta > 0n
          ? `send ${microToDecimal(delta)} more to Stripe for this period (the sync pushes the difference once applied)`
          : `Stripe holds ${microToDecimal(-delta)} more than Meterwatch counted: the sync cancels its own recent events where Stripe allows it; otherwise credit the customer on the invoice`
        : `send the current value ${microToDecimal(result.localMicro)} to Stripe again (last-value meter)`;
    const { correction } = await this.store.reconciliation.proposeCorrection({
      id: this.ids.next('cor'),
      tenantId: result.tenantId,
      mappingId: result.mappingId,
      customerRef: result.customerRef,
      periodStart: result.periodStart,
      periodEnd: result.periodEnd,
      stripeCustomerId: result.stripeCustomerId,
      localMicro: result.localMicro,
      stripeMicro,
      deltaMicro: delta,
      action,
      status: 'proposed',
      seenRuns: 1,
      createdAt: now,
      updatedAt: now,
      decidedAt: null,
      decidedBy: null,
      decisionReason: null,
    });
    return correction;
  }

  /** One incident per drifting customer (its worst drift); customers checked clean get theirs resolved. */
  private async updateIncidents(tenantId: string, results: ReconcileResultRecord[], mayResolve: boolean): Promise<void> {
    const worst = new Map<string, ReconcileResultRecord>();
    const clean = new Set<string>();
    for (const r of results) {
      if (r.status === 'drift') {
        const prev = worst.get(r.customerRef);
        if (!prev || (r.driftPpm ?? 0) > (prev.driftPpm ?? 0)) worst.set(r.customerRef, r);
      } else if (r.status === 'ok') clean.add(r.customerRef);
    }
    for (const [customerRef, r] of worst) {
      const drifting = results.filter((x) => x.status === 'drift' && x.customerRef === customerRef).length;
      const trigger: Trigger = {
        subjectType: 'customer',
        subjectId: customerRef,
        severity: 'warning',
        summary: `Stripe's usage for ${customerRef} (${r.metric}) differs from Meterwatch's by ${formatPpm(r.driftPpm ?? 0)}: local ${microToDecimal(r.localMicro)}, Stripe ${microToDecimal(r.stripeMicro ?? 0n)}`,
        figures: {
          metric: r.metric,
          mappingId: r.mappingId,
          stripeCustomerId: r.stripeCustomerId,
          periodStart: new Date(r.periodStart).toISOString(),
          periodEnd: new Date(r.periodEnd).toISOString(),
          local: microToDecimal(r.localMicro),
          stripe: microToDecimal(r.stripeMicro ?? 0n),
          drift: formatPpm(r.driftPpm ?? 0),
          epsilon: formatPpm(this.options.epsilonPpm),
          driftingPeriods: drifting,
        },
        eventIds: [],
        at: this.clock.now(),
      };
      await this.incidents.applyTrigger(tenantId, USAGE_DRIFT, trigger, false);
    }
    for (const customerRef of mayResolve ? clean : []) {
      if (worst.has(customerRef)) continue;
      const active = await this.store.detectors.getActiveIncident(tenantId, `${USAGE_DRIFT}|customer|${customerRef}`);
      if (!active) continue;
      try {
        await this.incidents.resolve(tenantId, active.id, 'system', 'a reconciliation found Stripe and Meterwatch in agreement');
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'conflict')) throw error;
      }
    }
  }
}

/** Stripe's error messages are safe to show (no secrets); anything else is summarised. */
function safeMessage(error: unknown): string {
  const e = error as { type?: string; message?: string; statusCode?: number };
  if (typeof e.type === 'string' && e.type.startsWith('Stripe')) return `Stripe ${e.statusCode ?? ''} ${e.message ?? e.type}`.replace(/\s+/g, ' ').trim().slice(0, 300);
  if (error instanceof AppError) return error.message;
  return 'internal error while reconciling';
}
