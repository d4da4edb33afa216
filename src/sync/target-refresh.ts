import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { MappingRecord, PushStateRecord, SyncMode, TargetQuery } from '../store/sync-store.js';

/** The meter event name a mode pushes to. */
export function eventNameOf(mapping: MappingRecord, mode: SyncMode): string {
  return mode === 'live' ? mapping.meterEventName : (mapping.shadowEventName ?? mapping.meterEventName);
}

export function modesOf(mapping: MappingRecord): SyncMode[] {
  return mapping.shadowEnabled ? ['live', 'shadow'] : ['live'];
}

/**
 * Finds the work: counters of mapped metrics and customers (periods ending within the lookback)
 * whose value differs from what their push state last saw become due, new ones get a state.
 * Database reads only, no Stripe call. A mode whose key is missing queues nothing (its status
 * says why). States whose customer now maps to another Stripe customer are detached.
 */
export class TargetRefresh {
  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly lookbackMs: number,
  ) {}

  async run(mappings: MappingRecord[], hasKey: (tenantId: string, mode: SyncMode) => Promise<boolean>): Promise<void> {
    for (const mapping of mappings) {
      for (const mode of modesOf(mapping)) {
        if (await hasKey(mapping.tenantId, mode)) await this.refreshMode(mapping, mode);
      }
      for (const state of await this.store.sync.detachRemapped(mapping.tenantId, mapping.id, this.clock.now())) {
        this.logger.warn(
          { tenantId: state.tenantId, mappingId: state.mappingId, customerRef: state.customerRef, stripeCustomerId: state.stripeCustomerId, mode: state.mode },
          'customer now maps to another Stripe customer: what was pushed to the previous one stays there (detached)',
        );
      }
    }
  }

  private async refreshMode(mapping: MappingRecord, mode: SyncMode): Promise<void> {
    const now = this.clock.now();
    const query: TargetQuery = {
      mappingId: mapping.id,
      mode,
      eventName: eventNameOf(mapping, mode),
      metric: mapping.metric,
      aggregation: mapping.aggregation,
      periodEndAfter: now - this.lookbackMs,
    };
    const changed = await this.store.sync.findChangedTargets(mapping.tenantId, query);
    const fresh: PushStateRecord[] = [];
    const due: string[] = [];
    for (const c of changed) {
      if (c.stateId !== null) {
        due.push(c.stateId);
        continue;
      }
      fresh.push({
        id: this.ids.next('sps'),
        tenantId: mapping.tenantId,
        mappingId: mapping.id,
        mode,
        eventName: query.eventName,
        customerRef: c.customerRef,
        periodStart: c.periodStart,
        stripeCustomerId: c.stripeCustomerId,
        periodEnd: c.periodEnd,
        targetMicro: null,
        acceptedMicro: null,
        seq: 0,
        pending: null,
        status: 'due',
        due: true,
        nextAttemptAt: now,
        claimToken: null,
        claimedUntil: null,
        dirtySince: now,
        lastPushedAt: null,
        lastError: null,
        consecutiveFailures: 0,
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      });
    }
    due.push(...(await this.store.sync.findVanishedTargets(mapping.tenantId, query)));
    if (fresh.length > 0) await this.store.sync.insertStates(fresh);
    if (due.length > 0) await this.store.sync.markDue(mapping.tenantId, due, now);
  }
}
