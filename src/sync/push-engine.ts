import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { MappingRecord, PushStateRecord, SyncMode } from '../store/sync-store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { accountKey, type AccountKey } from './account-keys.js';
import { AccountBackoff, runPool } from './account-backoff.js';
import { AccountPush } from './account-push.js';
import { emptyReport, type CycleReport } from './cycle-report.js';
import type { PushHealth } from './push-health.js';
import type { StripeMeterGateway } from './stripe-meter-gateway.js';
import type { SyncMetrics } from './sync-metrics.js';
import { TargetRefresh } from './target-refresh.js';

export interface PushEngineOptions {
  transport: 'v1' | 'v2';
  /** Stripe calls in flight per account. */
  concurrency: number;
  /** How far back (period end) counters are compared with what Stripe holds. */
  lookbackMs: number;
}

const REFRESH_LEASE = 'usage-sync-refresh';
const REFRESH_LEASE_MS = 5 * 60_000;
/** How long a claimed item stays with this replica if it dies mid-push. */
const CLAIM_MS = 5 * 60_000;
const CLAIM_BATCH = 500;
const ACCOUNTS_IN_PARALLEL = 8;

/**
 * One push cycle: refresh the targets (under a lease, one replica at a time; `run` for one tenant
 * refreshes that tenant itself), then claim due items in batches and push them per Stripe account,
 * accounts in parallel. Any replica may push: claims are exclusive and every step is a recorded
 * intent, so a claim lost to an expired lease is finished by whoever claims next.
 */
export class PushEngine {
  private readonly holder: string;
  private readonly backoff = new AccountBackoff();
  private readonly refresh: TargetRefresh;
  private running: Promise<unknown> | undefined;
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly tenants: TenantService,
    private readonly gateway: StripeMeterGateway,
    private readonly health: PushHealth,
    private readonly metrics: SyncMetrics,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: PushEngineOptions,
  ) {
    this.holder = ids.next('syncr');
    this.refresh = new TargetRefresh(store, ids, clock, logger, options.lookbackMs);
  }

  /** Runs one cycle (for one tenant, or all); cycles of this replica never overlap. */
  async runCycle(options: { tenantId?: string } = {}): Promise<CycleReport> {
    while (this.running) await this.running.catch(() => {});
    const cycle = this.cycle(options.tenantId);
    this.running = cycle;
    try {
      return await cycle;
    } finally {
      this.running = undefined;
    }
  }

  /** Stops after the calls in flight; the rest stays due (and claimed items return after their claim). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => {});
    await this.store.detectors.releaseLease(REFRESH_LEASE, this.holder).catch(() => {});
  }

  private async cycle(tenantId: string | undefined): Promise<CycleReport> {
    const now = this.clock.now();
    const report = emptyReport(now);
    if (this.stopping) return report;
    const mappings = await this.store.sync.listEnabledMappings(tenantId);
    const keys = new Map<string, Promise<AccountKey>>();
    const keyOf = (t: string, mode: SyncMode) => {
      let key = keys.get(`${t}|${mode}`);
      if (!key) keys.set(`${t}|${mode}`, (key = accountKey(this.tenants, t, mode)));
      return key;
    };
    if (tenantId !== undefined || (await this.store.detectors.tryAcquireLease(REFRESH_LEASE, this.holder, now, REFRESH_LEASE_MS))) {
      await this.refresh.run(mappings, async (t, mode) => 'apiKey' in (await keyOf(t, mode)));
      report.refreshed = true;
    }
    for (const m of mappings) {
      if (!m.shadowEnabled) continue;
      const key = await keyOf(m.tenantId, 'shadow');
      if ('missing' in key) report.warnings.push(`mapping ${m.id}: ${key.missing}`);
    }

    const byId = new Map(mappings.map((m) => [m.id, m]));
    const token = this.ids.next('spc');
    for (let batch = 0; batch < 200 && !this.stopping; batch++) {
      // Claims use the cycle's start time: an item put back for later in this cycle is not taken again.
      const claimed = await this.store.sync.claimDue({ now, limit: CLAIM_BATCH, claimedUntil: this.clock.now() + CLAIM_MS, token, ...(tenantId !== undefined ? { tenantId } : {}) });
      if (claimed.length === 0) break;
      report.claimed += claimed.length;
      const accounts = new Map<string, PushStateRecord[]>();
      for (const s of claimed) {
        const k = `${s.tenantId}|${s.mode}`;
        const list = accounts.get(k);
        if (list) list.push(s);
        else accounts.set(k, [s]);
      }
      await runPool([...accounts.values()], ACCOUNTS_IN_PARALLEL, async (states) => {
        const { tenantId: t, mode } = states[0]!;
        await this.pushAccount(t, mode, states, byId, await keyOf(t, mode), token, report);
      });
    }
    await this.health.afterCycle(mappings);
    if (report.pushed.length > 0 || report.failures.length > 0) {
      this.logger.info({ tenantId, pushed: report.pushed.length, failures: report.failures.length, tooOld: report.tooOld.length, calls: report.calls }, 'usage sync cycle');
    }
    return report;
  }

  private async pushAccount(
    tenantId: string,
    mode: SyncMode,
    states: PushStateRecord[],
    mappings: Map<string, MappingRecord>,
    key: AccountKey,
    token: string,
    report: CycleReport,
  ): Promise<void> {
    if ('missing' in key) {
      for (const s of states) await this.store.sync.updateClaimed(s.id, token, { status: 'no_key', due: false, lastError: key.missing, releaseClaim: true }, this.clock.now());
      return;
    }
    const push = new AccountPush(
      {
        store: this.store,
        gateway: this.gateway,
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        backoff: this.backoff,
        transport: this.options.transport,
        concurrency: this.options.concurrency,
        stopping: () => this.stopping,
      },
      tenantId,
      mode,
      key.apiKey,
      token,
      report,
    );
    await push.run(states, mappings);
    if (push.calls > 0) await this.store.sync.addCalls(tenantId, mode, push.calls, push.operations, this.clock.now());
  }
}
