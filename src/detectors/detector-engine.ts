import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { Store, FeedPosition, BillingEventRecord } from '../store/store.js';
import type { AggregationBatch } from '../store/detector-store.js';
import type { DetectorContext, DetectorEvent, Trigger } from './detector.js';
import type { DetectorSettings, EffectiveDetector } from './detector-settings.js';
import type { IncidentService } from './incident-service.js';
import { TenantDetectorData } from './detector-data.js';
import { factsOf, toDetectorEvent } from './event-facts.js';
import { BUCKET_RETENTION_MS } from './metrics.js';
import { StoreUnavailableError } from '../store/store-unavailable-error.js';

export const AGGREGATE_CURSOR = 'detectors.aggregate';
export const EVALUATE_CURSOR = 'detectors.evaluate';
const SCHEDULE_LEASE = 'detectors.schedule';

export interface EngineOptions {
  /** Events whose Stripe time is older than this when processed open `historical` incidents. */
  liveHorizonMs: number;
  batchSize: number;
}

const after = (a: FeedPosition, b: FeedPosition) => a.tx > b.tx || (a.tx === b.tx && a.seq > b.seq);

/**
 * Runs the detectors over the stored event feed, in two steps with two durable cursors:
 * 1. aggregate: the batch's bucket counts, refund and subscription facts are written in ONE
 *    transaction with the move of the aggregate cursor (compare-and-set), so each event is counted
 *    exactly once across crashes and replicas;
 * 2. evaluate: detectors turn the batch into triggers, applied as idempotent incident updates; then
 *    the evaluate cursor follows. After a crash between the two, the gap is evaluated again, which
 *    is harmless because applying a trigger twice changes nothing.
 * Scheduled evaluation (absence detectors, auto-resolve) runs under a database lease so only one
 * replica evaluates each tick.
 */
export class DetectorEngine {
  private readonly holder = `engine-${randomBytes(6).toString('hex')}`;

  constructor(
    private readonly store: Store,
    private readonly settings: DetectorSettings,
    private readonly incidents: IncidentService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: EngineOptions,
    private readonly onDetectorError: (detector: string) => void = () => {},
  ) {}

  /**
   * Processes the feed until it is empty, or until `maxBatches` run out, or `budgetMs` is spent
   * while `busy()` says requests are waiting; returns the events processed. Between batches it
   * yields to the event loop, so under a burst the webhook and ingest requests keep their turn and
   * the detectors catch up behind them; when nothing waits, they run on.
   */
  async drain(maxBatches = 1_000, budgetMs = Number.POSITIVE_INFINITY, busy: () => boolean = () => true): Promise<number> {
    const started = performance.now();
    let processed = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await this.step();
      if (n === 0) break;
      processed += n;
      if (performance.now() - started >= budgetMs && busy()) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return processed;
  }

  private async step(): Promise<number> {
    const aggregated = await this.store.getFeedCursor(AGGREGATE_CURSOR);
    const evaluated = await this.store.getFeedCursor(EVALUATE_CURSOR);
    if (after(aggregated, evaluated)) {
      // Catch up on evaluation that a crash interrupted, never past what was aggregated.
      const batch = await this.store.readFeed(evaluated, this.options.batchSize);
      const beyond = batch.positions.findIndex((p) => after(p, aggregated));
      const n = beyond === -1 ? batch.events.length : beyond;
      if (n === 0) {
        await this.store.saveFeedCursor(EVALUATE_CURSOR, aggregated, this.clock.now());
        return 0;
      }
      await this.evaluate(batch.events.slice(0, n));
      await this.store.saveFeedCursor(EVALUATE_CURSOR, batch.positions[n - 1]!, this.clock.now());
      return n;
    }

    const batch = await this.store.readFeed(aggregated, this.options.batchSize);
    if (batch.events.length === 0) return 0;
    const detectorEvents = batch.events.map(toDetectorEvent);
    const aggregation: AggregationBatch = {
      consumer: AGGREGATE_CURSOR,
      from: aggregated,
      to: batch.position,
      keys: batch.events.map((e) => ({
        tenantId: e.tenantId,
        seq: e.seq,
        eventId: e.eventId,
        type: e.type,
        created: e.created,
        customer: e.customer,
        objectId: e.objectId,
        refId: e.refId,
        amount: e.amount,
        currency: e.currency,
      })),
      buckets: [],
      refunds: [],
      subscriptions: [],
    };
    for (const event of detectorEvents) {
      const facts = factsOf(event);
      aggregation.buckets.push(...facts.buckets);
      aggregation.refunds.push(...facts.refunds);
      if (facts.subscription) aggregation.subscriptions.push(facts.subscription);
    }
    if (!(await this.store.detectors.applyAggregation(aggregation, this.clock.now()))) {
      this.logger.debug('another process advanced the detector feed; skipping this batch');
      return 0;
    }
    await this.evaluate(batch.events, detectorEvents);
    await this.store.saveFeedCursor(EVALUATE_CURSOR, batch.position, this.clock.now());
    return batch.events.length;
  }

  private async evaluate(records: BillingEventRecord[], parsed?: DetectorEvent[]): Promise<void> {
    const events = parsed ?? records.map(toDetectorEvent);
    const byTenant = new Map<string, DetectorEvent[]>();
    for (const e of events) {
      const list = byTenant.get(e.tenantId);
      if (list) list.push(e);
      else byTenant.set(e.tenantId, [e]);
    }
    for (const [tenantId, tenantEvents] of byTenant) {
      const effective = await this.settings.effective(tenantId);
      const now = this.clock.now();
      // Every detector runs first, then the batch's triggers are applied together: detectors read
      // events and aggregates, never incidents, so the order of the writes cannot change a decision.
      const found: { detector: string; trigger: Trigger }[] = [];
      for (const entry of effective) {
        if (!entry.enabled || !entry.detector.evaluateEvents) continue;
        const relevant = tenantEvents.filter((e) => entry.detector.eventTypes.includes(e.type));
        if (relevant.length === 0) continue;
        const triggers = await this.runDetector(tenantId, entry, now, (ctx) => entry.detector.evaluateEvents!(ctx, relevant));
        for (const trigger of triggers) found.push({ detector: entry.detector.name, trigger });
      }
      const historical = await this.historical(tenantId, found.map((f) => f.trigger), tenantEvents, now);
      await this.incidents.applyTriggers(tenantId, found.map((f, i) => ({ ...f, historical: historical[i]! })));
    }
  }

  /** Runs one detector; a detector bug yields no triggers (logged, counted), a database failure stops the step. */
  private async runDetector(
    tenantId: string,
    entry: EffectiveDetector,
    now: number,
    run: (ctx: DetectorContext<Record<string, unknown>>) => Promise<Trigger[]>,
  ): Promise<Trigger[]> {
    const ctx: DetectorContext<Record<string, unknown>> = {
      tenantId,
      config: entry.config,
      now,
      data: new TenantDetectorData(this.store, tenantId),
    };
    try {
      return await run(ctx);
    } catch (error) {
      // A database failure stops the step before the evaluate cursor moves, so the batch is
      // evaluated again later. A detector bug would fail the same way forever: it is logged and
      // counted, and the other detectors carry on rather than the whole feed stalling.
      if (error instanceof StoreUnavailableError) throw error;
      this.logger.error({ err: error, detector: entry.detector.name, tenantId }, 'detector failed');
      this.onDetectorError(entry.detector.name);
      return [];
    }
  }

  /**
   * Per trigger: live only when a deciding event arrived by webhook within the live horizon of its
   * Stripe time. The deciding events are the trigger's evidence: from the batch when there, else
   * from the store (a re-check caused by another event; up to 50 per trigger, all of the batch's
   * read at once); a trigger without evidence (schedules) is judged by its own time. Replayed or
   * backfilled history never pages anyone.
   */
  private async historical(tenantId: string, triggers: Trigger[], batchEvents: DetectorEvent[], now: number): Promise<boolean[]> {
    const horizon = now - this.options.liveHorizonMs;
    const isLive = (e: { source: string; created: number }) => e.source === 'webhook' && e.created * 1000 >= horizon;
    const inBatch = new Map(batchEvents.map((e) => [e.eventId, e]));
    const verdicts: (boolean | string[])[] = triggers.map((trigger) => {
      const ids = new Set(trigger.eventIds);
      if (ids.size === 0) return trigger.at < horizon;
      const stored: string[] = [];
      for (const id of ids) {
        const e = inBatch.get(id);
        if (!e) stored.push(id);
        else if (isLive(e)) return false;
      }
      return stored.slice(0, 50);
    });
    const lookups = verdicts.filter((v): v is string[] => Array.isArray(v)).flat();
    const live = new Set<string>();
    if (lookups.length > 0) for (const o of await this.store.detectors.eventOrigins(tenantId, lookups)) if (isLive(o)) live.add(o.eventId);
    return verdicts.map((v) => (Array.isArray(v) ? !v.some((id) => live.has(id)) : v));
  }

  /** Scheduled work at `clock.now()`: absence detectors, auto-resolve, bucket retention. */
  async runSchedule(): Promise<boolean> {
    const now = this.clock.now();
    if (!(await this.store.detectors.tryAcquireLease(SCHEDULE_LEASE, this.holder, now, 5 * 60_000))) return false;
    for (const tenant of await this.store.listTenants()) {
      const effective = await this.settings.effective(tenant.id);
      for (const entry of effective) {
        if (!entry.enabled || !entry.detector.evaluateSchedule) continue;
        const now = this.clock.now();
        const triggers = await this.runDetector(tenant.id, entry, now, (ctx) => entry.detector.evaluateSchedule!(ctx));
        const historical = await this.historical(tenant.id, triggers, [], now);
        await this.incidents.applyTriggers(tenant.id, triggers.map((trigger, i) => ({ detector: entry.detector.name, trigger, historical: historical[i]! })));
      }
      await this.autoResolve(tenant.id, effective);
    }
    await this.store.detectors.pruneBuckets(now - BUCKET_RETENTION_MS);
    return true;
  }

  /** On shutdown: let another replica take the schedule at once. */
  async stop(): Promise<void> {
    await this.store.detectors.releaseLease(SCHEDULE_LEASE, this.holder);
  }

  private async autoResolve(tenantId: string, effective: EffectiveDetector[]): Promise<void> {
    const byName = new Map(effective.map((e) => [e.detector.name, e]));
    for (const incident of await this.store.detectors.listActiveIncidents(tenantId)) {
      const entry = byName.get(incident.detector);
      if (!entry?.detector.stillFiring) continue;
      const ctx: DetectorContext<Record<string, unknown>> = {
        tenantId,
        config: entry.config,
        now: this.clock.now(),
        data: new TenantDetectorData(this.store, tenantId),
      };
      try {
        const firing = await entry.detector.stillFiring(ctx, {
          id: incident.id,
          subjectType: incident.subjectType as never,
          subjectId: incident.subjectId,
          severity: incident.severity as never,
          figures: incident.figures,
          lastTriggeredAt: incident.lastTriggeredAt,
        });
        await this.incidents.observeClear(incident, firing);
      } catch (error) {
        this.logger.error({ err: error, detector: incident.detector, tenantId }, 'stillFiring failed');
      }
    }
  }
}

