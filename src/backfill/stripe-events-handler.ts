import type { JobHandler, JobStepResult } from '../jobs/job-runner.js';
import type { JobRecord } from '../store/job-store.js';
import type { StripeClientFactory } from '../stripe/stripe-client.js';
import type { Clock } from '../shared/clock.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { BackfillIntake } from '../webhooks/backfill-intake.js';
import type { BackfillParams } from './backfill-params.js';
import { fetchEventsPage } from './stripe-events-page.js';

/** The job kinds that read the Events API: an operator's backfill and the scheduled gap-fill. */
export const BACKFILL_KIND = 'backfill';
export const GAPFILL_KIND = 'gapfill';

/** Stripe's largest page. */
const PAGE_SIZE = 100;

export interface EventsCursor {
  /** The last (oldest) event id of the last committed page: the next page starts after it. */
  startingAfter: string | null;
}

/**
 * One step = one page of the tenant's events, newest first, read with the tenant's own key and
 * prepared as `backfill` rows. The runner stores them and the new cursor in one transaction.
 * The cursor is Stripe's `starting_after`: events created while the job runs land above the first
 * page and never shift the pages below, so a resumed job neither skips nor repeats a page.
 */
export class StripeEventsHandler implements JobHandler {
  constructor(
    readonly kind: string,
    private readonly tenants: TenantService,
    private readonly stripe: StripeClientFactory,
    private readonly intake: BackfillIntake,
    private readonly clock: Clock,
  ) {}

  async step(job: JobRecord): Promise<JobStepResult> {
    const params = job.params as unknown as BackfillParams;
    const cursor = (job.cursor ?? { startingAfter: null }) as unknown as EventsCursor;
    const apiKey = await this.tenants.stripeApiKey(job.tenantId);
    if (apiKey === undefined) throw new Error('the tenant has no Stripe API key any more (PUT /v1/tenants/{id}/stripe to set one, then start again)');
    const page = await fetchEventsPage(this.stripe(apiKey), { ...params, startingAfter: cursor.startingAfter, limit: PAGE_SIZE }, this.clock.now());
    const last = page.events[page.events.length - 1];
    const next: EventsCursor = { startingAfter: last?.id ?? cursor.startingAfter };
    return {
      events: page.events.map((event) => this.intake.prepare(job.tenantId, JSON.stringify(event))),
      cursor: next as unknown as Record<string, unknown>,
      done: !page.hasMore || page.events.length === 0,
    };
  }
}
