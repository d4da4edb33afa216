import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { newJob } from '../jobs/new-job.js';
import { toJobView, type JobView } from '../jobs/job-view.js';
import { backfillActive, stripeKeyMissing } from './backfill-errors.js';
import { parseBackfillParams, type BackfillInput } from './backfill-params.js';
import { BACKFILL_KIND } from './stripe-events-handler.js';

/**
 * `POST /v1/backfill` and `meterwatch backfill`: queues a durable job that pages through the
 * tenant's Stripe events (see README.md). One backfill per tenant at a time; the tenant must have
 * an API key, checked here so the caller hears it at once rather than from a failed job.
 */
export class BackfillService {
  constructor(
    private readonly store: Store,
    private readonly tenants: TenantService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async start(tenantId: string, input: BackfillInput, actor: string): Promise<JobView> {
    const now = this.clock.now();
    const params = parseBackfillParams(input, now);
    if ((await this.tenants.stripeApiKey(tenantId)) === undefined) throw stripeKeyMissing(tenantId);
    const job = newJob({ id: this.ids.next('job'), tenantId, kind: BACKFILL_KIND, params: { ...params }, createdBy: actor, now });
    if (!(await this.store.jobs.insertJob(job))) {
      const active = await this.store.jobs.activeJob(tenantId, BACKFILL_KIND);
      throw backfillActive(active?.id ?? 'unknown');
    }
    return toJobView(job);
  }
}
