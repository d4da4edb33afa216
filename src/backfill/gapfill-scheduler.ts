import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import { newJob } from '../jobs/new-job.js';
import type { BackfillParams } from './backfill-params.js';
import { GAPFILL_KIND } from './stripe-events-handler.js';

const LEASE = 'stripe.gapfill';
const LEASE_MS = 5 * 60_000;

export interface GapfillOptions {
  intervalMs: number;
  lookbackMs: number;
  /**
   * The newest stretch is left out: an event created moments ago may still be on its way as a
   * webhook, and taking it first as `backfill` would make it historical (no live alert).
   */
  graceMs: number;
}

/**
 * Queues a gap-fill job per tenant with an API key, at most once per interval: the job lists the
 * last `lookback` of the tenant's events and stores those that never arrived by webhook (the store
 * keeps webhook copies, so the job's `stored` count is exactly the missing ones). Scheduling runs
 * under a database lease, so among replicas only one queues; the interval is measured from the
 * tenant's last gap-fill job, so restarts do not reset it.
 */
export class GapfillScheduler {
  private readonly holder = `gapfill-${randomBytes(6).toString('hex')}`;

  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: GapfillOptions,
  ) {}

  /** Returns the number of jobs queued now. */
  async run(): Promise<number> {
    const now = this.clock.now();
    if (!(await this.store.detectors.tryAcquireLease(LEASE, this.holder, now, LEASE_MS))) return 0;
    let queued = 0;
    for (const tenant of await this.store.listTenants()) {
      if (tenant.stripeApiKeyEnc === null) continue;
      const last = await this.store.jobs.latestJob(tenant.id, GAPFILL_KIND);
      if (last && (last.status === 'queued' || last.status === 'running' || now - last.createdAt < this.options.intervalMs)) continue;
      const params: BackfillParams = { since: Math.floor((now - this.options.lookbackMs) / 1000), until: Math.floor((now - this.options.graceMs) / 1000), types: null };
      const job = newJob({ id: this.ids.next('job'), tenantId: tenant.id, kind: GAPFILL_KIND, params: { ...params }, createdBy: 'schedule', now });
      if (await this.store.jobs.insertJob(job)) queued += 1;
    }
    return queued;
  }

  /** On shutdown: let another replica take the schedule at once. */
  async stop(): Promise<void> {
    await this.store.detectors.releaseLease(LEASE, this.holder);
  }
}
