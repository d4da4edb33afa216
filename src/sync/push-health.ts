import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/app-error.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { Store } from '../store/store.js';
import type { MappingRecord, SyncMode } from '../store/sync-store.js';
import type { SyncMetrics } from './sync-metrics.js';

export const USAGE_PUSH_FAILING = 'usage_push_failing';

export const failingSubject = (mappingId: string, mode: SyncMode) => (mode === 'live' ? mappingId : `${mappingId}:shadow`);

/**
 * After each cycle: a mapping (per mode) with an item that failed `failingAfter` attempts in a row
 * (each item is tried at most once per cycle, so: that many failing cycles) opens or refreshes a
 * `usage_push_failing` incident; once none of its items is failing, the incident resolves. The
 * state is read from the database, so it is the same whichever replica pushed. Also sets the lag gauge.
 */
export class PushHealth {
  constructor(
    private readonly store: Store,
    private readonly incidents: IncidentService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: SyncMetrics,
    private readonly failingAfter: number,
  ) {}

  async afterCycle(mappings: MappingRecord[]): Promise<void> {
    const now = this.clock.now();
    const enabled = new Map(mappings.map((m) => [m.id, m]));
    const failing = new Set<string>();
    for (const f of await this.store.sync.failingMappings()) {
      const mapping = enabled.get(f.mappingId);
      if (!mapping || mapping.tenantId !== f.tenantId) continue;
      const subject = failingSubject(f.mappingId, f.mode);
      failing.add(`${f.tenantId}|${subject}`);
      if (f.maxFailures < this.failingAfter) continue;
      await this.incidents.applyTrigger(
        f.tenantId,
        USAGE_PUSH_FAILING,
        {
          subjectType: 'usage_mapping',
          subjectId: subject,
          severity: f.mode === 'live' ? 'warning' : 'info',
          summary: `Usage of "${mapping.metric}" is not reaching Stripe meter "${f.mode === 'live' ? mapping.meterEventName : (mapping.shadowEventName ?? mapping.meterEventName)}"${f.mode === 'shadow' ? ' (shadow, test mode)' : ''}: ${f.failingItems} customer period(s) failing, up to ${f.maxFailures} attempts in a row; last error: ${f.lastError ?? 'unknown'}`,
          figures: { mappingId: f.mappingId, mode: f.mode, failingItems: f.failingItems, consecutiveFailures: f.maxFailures, lastError: f.lastError ?? '' },
          eventIds: [],
          at: now,
        },
        false,
      );
    }
    for (const tenantId of new Set(mappings.map((m) => m.tenantId))) {
      for (const incident of await this.store.detectors.listActiveIncidents(tenantId)) {
        if (incident.detector !== USAGE_PUSH_FAILING || failing.has(`${tenantId}|${incident.subjectId}`)) continue;
        await this.resolve(tenantId, incident.id, 'pushes to Stripe succeed again');
      }
    }
    const oldest = await this.store.sync.oldestDue();
    for (const mode of ['live', 'shadow'] as const) this.metrics.lag.set({ mode }, oldest[mode] === null ? 0 : Math.max(0, (now - oldest[mode]!) / 1000));
  }

  /** A disabled mapping's incidents close: nothing is pushed for it any more. */
  async clearMapping(tenantId: string, mappingId: string): Promise<void> {
    for (const mode of ['live', 'shadow'] as const) {
      const active = await this.store.detectors.getActiveIncident(tenantId, `${USAGE_PUSH_FAILING}|usage_mapping|${failingSubject(mappingId, mode)}`);
      if (active) await this.resolve(tenantId, active.id, 'the mapping was disabled');
    }
  }

  private async resolve(tenantId: string, id: string, reason: string): Promise<void> {
    try {
      await this.incidents.resolve(tenantId, id, 'system', reason);
      this.logger.info({ tenantId, incidentId: id }, `${USAGE_PUSH_FAILING} resolved: ${reason}`);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
    }
  }
}
