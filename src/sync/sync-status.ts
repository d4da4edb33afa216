import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { PushStateRecord, PushStatus, SyncMode } from '../store/sync-store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { formatMicro } from '../metering/quantity.js';
import { accountKey } from './account-keys.js';
import { pushTarget } from './push-plan.js';
import { eventNameOf } from './target-refresh.js';

export interface StatusQuery {
  mappingId?: string | undefined;
  customerRef?: string | undefined;
  mode?: SyncMode | undefined;
  status?: PushStatus | undefined;
  limit: number;
}

export interface ModeSummary {
  items: Partial<Record<PushStatus, number>>;
  /** Age of the oldest change Stripe does not hold yet. */
  maxLagSeconds: number;
  stripeCalls: number;
  operations: number;
  /** Usage events counted by the counters this mode pushes. */
  eventsCovered: number;
  /** Stripe calls per million usage events: pushes follow customers × intervals, not events. */
  callsPerMillionEvents: number | null;
}

export interface ItemView {
  customerRef: string;
  stripeCustomerId: string;
  mode: SyncMode;
  meterEventName: string;
  periodStart: string;
  periodEnd: string;
  status: PushStatus;
  /** What Stripe has accepted for this customer and period. */
  pushed: string;
  /** What Stripe should hold now (whole units of the local counter). */
  target: string;
  /** The local counter, full precision (Stripe takes whole numbers; the fraction waits). */
  local: string;
  lagSeconds: number;
  pending: { kind: string; identifier: string; value: string; since: string; uncertain: boolean } | null;
  lastPushedAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  attempts: number;
}

/** `GET /v1/sync/status`: per mapping and customer period, what Stripe holds against the local counters. */
export class SyncStatusService {
  constructor(
    private readonly store: Store,
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async status(tenantId: string, query: StatusQuery) {
    const now = this.clock.now();
    const [mappings, states, summaryRows, calls, covered] = await Promise.all([
      this.store.sync.listMappings(tenantId),
      this.store.sync.listStates(tenantId, query),
      this.store.sync.summary(tenantId),
      this.store.sync.callStats(tenantId),
      this.store.sync.coveredEvents(tenantId),
    ]);
    const summary = {} as Record<SyncMode, ModeSummary>;
    for (const mode of ['live', 'shadow'] as const) {
      const rows = summaryRows.filter((r) => r.mode === mode);
      const oldest = Math.min(...rows.filter((r) => r.status !== 'ok' && r.oldestDirtySince !== null).map((r) => r.oldestDirtySince!));
      summary[mode] = {
        items: Object.fromEntries(rows.map((r) => [r.status, r.items])),
        maxLagSeconds: Number.isFinite(oldest) ? Math.max(0, (now - oldest) / 1000) : 0,
        stripeCalls: calls[mode].calls,
        operations: calls[mode].operations,
        eventsCovered: covered[mode],
        callsPerMillionEvents: covered[mode] > 0 ? Math.round((calls[mode].calls / covered[mode]) * 1e6 * 10) / 10 : null,
      };
    }
    const views = [];
    for (const m of mappings) {
      if (query.mappingId !== undefined && m.id !== query.mappingId) continue;
      let shadowWarning: string | null = null;
      if (m.shadowEnabled) {
        const key = await accountKey(this.tenants, tenantId, 'shadow');
        if ('missing' in key) shadowWarning = key.missing;
      }
      views.push({
        mappingId: m.id,
        metric: m.metric,
        aggregation: m.aggregation,
        meterEventName: m.meterEventName,
        enabled: m.enabled,
        shadow: { enabled: m.shadowEnabled, meterEventName: m.shadowEnabled ? eventNameOf(m, 'shadow') : null, active: m.enabled && m.shadowEnabled && shadowWarning === null, warning: shadowWarning },
        items: states.filter((s) => s.mappingId === m.id).map((s) => itemView(s, m.aggregation, now)),
      });
    }
    return { generatedAt: new Date(now).toISOString(), summary, mappings: views };
  }
}

function itemView(s: PushStateRecord & { currentMicro: bigint | null }, aggregation: 'sum' | 'max' | 'last', now: number): ItemView {
  const target = s.status === 'detached' ? s.acceptedMicro : pushTarget(aggregation, s.currentMicro, s.acceptedMicro);
  const settled = s.status === 'ok' || s.status === 'detached';
  return {
    customerRef: s.customerRef,
    stripeCustomerId: s.stripeCustomerId,
    mode: s.mode,
    meterEventName: s.eventName,
    periodStart: new Date(s.periodStart).toISOString(),
    periodEnd: new Date(s.periodEnd).toISOString(),
    status: s.status,
    pushed: formatMicro(s.acceptedMicro ?? 0n),
    target: formatMicro(target ?? 0n),
    local: formatMicro(s.currentMicro ?? 0n),
    lagSeconds: !settled && s.dirtySince !== null ? Math.max(0, (now - s.dirtySince) / 1000) : 0,
    pending: s.pending && { kind: s.pending.kind, identifier: s.pending.identifier, value: formatMicro(s.pending.valueMicro), since: new Date(s.pending.since).toISOString(), uncertain: s.pending.uncertain },
    lastPushedAt: s.lastPushedAt === null ? null : new Date(s.lastPushedAt).toISOString(),
    lastError: s.lastError,
    consecutiveFailures: s.consecutiveFailures,
    attempts: s.attempts,
  };
}
