import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { Metrics } from '../ops/metrics.js';
import { createStripeClientFactory, type StripeClientFactory } from '../stripe/stripe-client.js';
import { BackfillIntake } from '../webhooks/backfill-intake.js';
import type { BackgroundTask } from '../jobs/background-loop.js';
import { every } from '../jobs/every.js';
import { JobRunner } from '../jobs/job-runner.js';
import { JobService } from '../jobs/job-service.js';
import { BackfillService } from './backfill-service.js';
import { GapfillScheduler } from './gapfill-scheduler.js';
import { BACKFILL_KIND, GAPFILL_KIND, StripeEventsHandler } from './stripe-events-handler.js';

export interface BackfillDeps {
  config: Config;
  store: Store;
  tenants: TenantService;
  ids: IdGenerator;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  stripe?: StripeClientFactory;
  random?: () => number;
}

export interface Backfill {
  service: BackfillService;
  jobs: JobService;
  runner: JobRunner;
  gapfill: GapfillScheduler;
  /** Background-loop tasks: the job runner every tick (not awaited), gap-fill scheduling, pruning. */
  tasks: BackgroundTask[];
  stop(): Promise<void>;
}

const GAPFILL_GRACE_MS = 10 * 60_000;
const JOB_RETENTION_MS = 30 * 86_400_000;

/** Stripe history backfill, gap-fill and the durable job runner that works both. */
export function createBackfill(deps: BackfillDeps): Backfill {
  const { config, store, clock } = deps;
  const stripe = deps.stripe ?? createStripeClientFactory(config.stripe);
  const intake = new BackfillIntake(store, clock);
  const handlers = [BACKFILL_KIND, GAPFILL_KIND].map((kind) => new StripeEventsHandler(kind, deps.tenants, stripe, intake, clock));
  const gapfillEvents = deps.metrics
    ? new Counter({
        name: 'meterwatch_gapfill_events_total',
        help: 'Stripe events found by gap-fill that had not arrived by webhook (stored as backfill)',
        labelNames: ['tenant'],
        registers: [deps.metrics.registry],
      })
    : undefined;
  const runner = new JobRunner(store, clock, deps.logger, handlers, {
    // A claim outlives one Stripe call at its timeout plus the commit, so only a dead worker's lease expires.
    leaseMs: 2 * config.stripe.timeoutMs + 60_000,
    maxAttempts: config.backfill.maxAttempts,
    baseDelayMs: 2_000,
    maxDelayMs: 5 * 60_000,
    lanes: 2,
    ...(deps.random ? { random: deps.random } : {}),
    onCommitted: (job, stored) => {
      if (job.kind === GAPFILL_KIND && stored > 0) gapfillEvents?.inc({ tenant: deps.metrics!.tenantLabel(job.tenantId) }, stored);
    },
  });
  const gapfill = new GapfillScheduler(store, deps.ids, clock, {
    intervalMs: config.backfill.gapfillIntervalMs,
    lookbackMs: config.backfill.gapfillLookbackMs,
    graceMs: GAPFILL_GRACE_MS,
  });
  const now = () => clock.now();
  const tasks: BackgroundTask[] = [
    // Not awaited: a slow Stripe page must not hold the loop (its heartbeat is the readiness check).
    { name: 'jobs', run: async () => runner.kick() },
    every(3_600_000, now, { name: 'jobs-prune', run: async () => void (await store.jobs.pruneJobs(clock.now() - JOB_RETENTION_MS)) }),
  ];
  if (config.backfill.gapfillIntervalMs > 0) {
    tasks.push(every(Math.min(60_000, config.backfill.gapfillIntervalMs), now, { name: 'stripe-gapfill', run: async () => void (await gapfill.run()) }));
  }
  return {
    service: new BackfillService(store, deps.tenants, deps.ids, clock),
    jobs: new JobService(store.jobs, clock),
    runner,
    gapfill,
    tasks,
    async stop() {
      await runner.stop();
      await gapfill.stop();
    },
  };
}
