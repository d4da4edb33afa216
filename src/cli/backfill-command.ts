import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import { createBackfill, type Backfill } from '../backfill/create-backfill.js';
import { BACKFILL_KIND } from '../backfill/stripe-events-handler.js';
import type { JobView } from '../jobs/job-view.js';
import { createLogger } from '../ops/create-logger.js';
import { AppError } from '../shared/app-error.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import { DEFAULT_TENANT_ID } from '../tenants/tenant-service.js';
import { backfillProgressLine, describeBackfill } from './backfill-progress.js';
import { CliExit, type CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

interface BackfillOptions {
  tenant: string;
  since: string;
  until?: string;
  types?: string;
  job?: string;
  json?: boolean;
}

/**
 * `meterwatch backfill`: queues the same job as `POST /v1/backfill` and works it in this process,
 * page by page, with a progress bar. If a server replica holds the job, it follows the job instead.
 * Ctrl-C stops after the current page; the job keeps its cursor for `--job` (or a server) to resume.
 */
export function registerBackfillCommand(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  program
    .command('backfill')
    .description("backfill a tenant's Stripe events through the Events API with its key (resumable, progress bar); exit 1 unless the job succeeds")
    .option('--tenant <tenant>', 'tenant id or name', DEFAULT_TENANT_ID)
    .option('--since <time>', 'how far back: a duration (30d, 12h, 90m), ISO 8601, or unix seconds', '30d')
    .option('--until <time>', 'up to (exclusive); default now')
    .option('--types <types>', 'only these Stripe event types, comma-separated (at most 20)')
    .option('--job <id>', 'resume or follow this job instead of starting one')
    .option('--json', 'print the finished job as JSON')
    .action(async (opts: BackfillOptions) => {
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const view = await withCliServices(io, overrides(), async ({ config, store, tenants }) => {
          const tenantId = await tenants.resolveId(opts.tenant);
          const logger = createLogger(config.logLevel === 'info' ? 'error' : config.logLevel);
          const backfill = createBackfill({ config, store, tenants, ids: createIdGenerator(systemClock), clock: systemClock, logger });
          let job: JobView;
          if (opts.job !== undefined) job = await backfill.jobs.get(tenantId, opts.job);
          else {
            const active = await store.jobs.activeJob(tenantId, BACKFILL_KIND);
            if (active) throw new AppError('conflict', `A backfill of tenant ${tenantId} is already queued or running: ${active.id}; follow or resume it with: meterwatch backfill --tenant ${opts.tenant} --job ${active.id}`);
            job = await backfill.service.start(tenantId, { since: opts.since, until: opts.until, types: opts.types }, 'cli');
            io.err(`Backfill ${job.id} queued for tenant ${tenantId}`);
          }
          return runToEnd(backfill, job, io, interrupt.signal);
        });
        io.out(opts.json ? JSON.stringify(view, null, 2) : describeBackfill(view));
        if (view.status === 'queued' || view.status === 'running') {
          io.err(`Interrupted: ${view.id} keeps its cursor; resume with \`meterwatch backfill --tenant ${opts.tenant} --job ${view.id}\` (a running server also picks it up)`);
          throw new CliExit(130);
        }
        if (view.status !== 'succeeded') throw new CliExit(1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

const finished = (v: JobView) => v.status !== 'queued' && v.status !== 'running';

/** Works the job here one page at a time; while another process holds it or a retry waits, polls it. */
async function runToEnd(backfill: Backfill, start: JobView, io: CliIo, interrupted: AbortSignal): Promise<JobView> {
  let view = start;
  io.progress?.(backfillProgressLine(view), finished(view));
  while (!finished(view)) {
    const steps = await backfill.runner.work({ jobId: view.id, maxSteps: 1 });
    view = await backfill.jobs.get(view.tenantId, view.id);
    io.progress?.(backfillProgressLine(view), finished(view));
    if (finished(view)) break;
    if (interrupted.aborted) {
      // Gives the lease up, so a server (or the next run) continues at once.
      await backfill.runner.stop();
      io.progress?.(backfillProgressLine(view), true);
      break;
    }
    if (steps === 0) {
      const due = view.nextAttemptAt ? Date.parse(view.nextAttemptAt) - Date.now() : 1_000;
      await pause(Math.max(50, Math.min(1_000, due)), interrupted);
    }
  }
  return view;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
