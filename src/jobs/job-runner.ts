import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { BillingEventInput, Store } from '../store/store.js';
import type { JobProgress, JobRecord, JobUpdate } from '../store/job-store.js';
import { StoreUnavailableError } from '../store/store-unavailable-error.js';
import { RetryableJobError, retryDelayMs } from './retryable-job-error.js';

/** What one step of a job produced; nothing is written until the runner commits it with the cursor. */
export interface JobStepResult {
  events: BillingEventInput[];
  cursor: Record<string, unknown>;
  done: boolean;
}

export interface JobHandler {
  readonly kind: string;
  /** One unit of work (one page of a source), read-only: throw RetryableJobError for passing failures. */
  step(job: JobRecord): Promise<JobStepResult>;
}

export interface JobRunnerOptions {
  /** How long a claim holds without a commit; must exceed one step (a Stripe call's timeout). */
  leaseMs: number;
  /** Failed attempts of one step before the job fails. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Jobs worked at once per process (each lane holds one job). */
  lanes: number;
  random?: () => number;
  /** After each committed step, with the number of items stored by it (metrics). */
  onCommitted?: (job: JobRecord, stored: number) => void;
}

export interface WorkOptions {
  /** Steps before returning (the lease is kept: the next run continues the same job). */
  maxSteps?: number;
  /** Only this job. */
  jobId?: string;
}

type StepOutcome = 'more' | 'finished' | 'waiting' | 'lost';

/**
 * Works durable jobs under database leases. Each step's output and the job's new cursor and
 * progress are committed in one transaction fenced on the lease, so after a crash or a lost lease
 * the job resumes from its last committed cursor: a step is repeated at worst, never skipped, and
 * repeated events are deduplicated by the store. Waiting for a retry is a persisted `runAfter` on
 * the job, measured with the injected clock, so no process sleeps through a backoff.
 */
export class JobRunner {
  private readonly handlers: Map<string, JobHandler>;
  private readonly holder = `jobs-${randomBytes(6).toString('hex')}`;
  private readonly random: () => number;
  private running: Promise<unknown> | undefined;
  private stopping = false;
  /** Jobs whose lease a lane kept when its run ended, by owner; given up on stop. */
  private readonly held = new Map<string, JobRecord>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    handlers: JobHandler[],
    private readonly options: JobRunnerOptions,
  ) {
    this.handlers = new Map(handlers.map((h) => [h.kind, h]));
    this.random = options.random ?? Math.random;
  }

  /** Starts the lanes in the background unless they are running (the background loop calls this each tick). */
  kick(): void {
    if (this.running || this.stopping) return;
    const lanes = Array.from({ length: this.options.lanes }, (_, lane) =>
      this.work({ maxSteps: 100 }, lane).catch((error: unknown) => this.logger.error({ err: error }, 'job run failed')),
    );
    this.running = Promise.all(lanes).finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when the background run (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Finishes the step under way, gives the lease up (another replica continues at once) and waits. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    for (const [owner, job] of this.held) await this.release(job, owner);
    this.held.clear();
  }

  /**
   * Claims due jobs and works them, step by step, until none is due, `maxSteps` were done, or the
   * runner stops. Returns the number of steps. Tests and the CLI call it directly.
   */
  async work(options: WorkOptions = {}, lane = 0): Promise<number> {
    const owner = `${this.holder}-${lane}`;
    const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
    let steps = 0;
    while (steps < maxSteps && !this.stopping) {
      const now = this.clock.now();
      const claim = { now, owner, leaseUntil: now + this.options.leaseMs, kinds: [...this.handlers.keys()] };
      // A lane continues the job it kept before taking another, so it never sits on two leases.
      const kept = this.held.get(owner);
      this.held.delete(owner);
      const keptId = kept && (options.jobId === undefined || options.jobId === kept.id) ? kept.id : undefined;
      let job = (keptId !== undefined ? await this.store.jobs.claimJob({ ...claim, jobId: keptId }) : undefined)
        ?? (await this.store.jobs.claimJob({ ...claim, ...(options.jobId !== undefined ? { jobId: options.jobId } : {}) }));
      if (!job) break;
      let outcome: StepOutcome = 'more';
      while (outcome === 'more' && steps < maxSteps && !this.stopping) {
        [outcome, job] = await this.step(job, owner);
        steps += 1;
      }
      if (outcome === 'more') {
        // Kept between runs (the next run of this lane continues it) unless the runner is stopping.
        if (this.stopping) await this.release(job, owner);
        else this.held.set(owner, job);
      }
    }
    return steps;
  }

  private async step(job: JobRecord, owner: string): Promise<[StepOutcome, JobRecord]> {
    let result: JobStepResult;
    try {
      result = await this.handlers.get(job.kind)!.step(job);
    } catch (error) {
      return this.failedAttempt(job, owner, error);
    }
    const advanced = await this.store.jobs.advanceJob(job.tenantId, job.id, owner, result.events, (inserted) => {
      const now = this.clock.now();
      const update: JobUpdate = {
        progress: nextProgress(job.progress, result.events, inserted),
        cursor: result.cursor,
        attempts: 0,
        error: null,
        leaseExpiresAt: now + this.options.leaseMs,
        updatedAt: now,
      };
      if (result.done) Object.assign(update, { status: 'succeeded', finishedAt: now });
      return update;
    });
    if (!advanced.held) return ['lost', job];
    this.options.onCommitted?.(advanced.job, advanced.inserted.filter(Boolean).length);
    return [result.done ? 'finished' : 'more', advanced.job];
  }

  private async failedAttempt(job: JobRecord, owner: string, error: unknown): Promise<[StepOutcome, JobRecord]> {
    const now = this.clock.now();
    const retryable = error instanceof RetryableJobError || error instanceof StoreUnavailableError;
    const attempts = job.attempts + 1;
    const message = error instanceof Error ? error.message : String(error);
    let update: JobUpdate;
    let outcome: StepOutcome;
    if (!retryable || attempts >= this.options.maxAttempts) {
      const reason = retryable ? `gave up after ${attempts} failed attempts: ${message}` : message;
      update = { status: 'failed', error: reason, attempts, finishedAt: now, updatedAt: now };
      outcome = 'finished';
      this.logger.warn({ jobId: job.id, tenantId: job.tenantId, kind: job.kind, err: error }, 'job failed');
    } else {
      const delay = retryDelayMs(attempts, error instanceof RetryableJobError ? error.retryAfterMs : undefined, this.options, this.random);
      // The lease is given up while waiting: whichever replica is free when the time comes retries.
      update = {
        attempts,
        error: `attempt ${attempts} of ${this.options.maxAttempts} failed, retrying at ${new Date(now + delay).toISOString()}: ${message}`,
        runAfter: now + delay,
        progress: { ...job.progress, retries: job.progress.retries + 1 },
        leaseExpiresAt: null,
        updatedAt: now,
      };
      outcome = 'waiting';
    }
    const advanced = await this.store.jobs.advanceJob(job.tenantId, job.id, owner, [], () => update);
    return advanced.held ? [outcome, advanced.job] : ['lost', job];
  }

  private async release(job: JobRecord, owner: string): Promise<void> {
    await this.store.jobs.advanceJob(job.tenantId, job.id, owner, [], () => ({ leaseExpiresAt: null, updatedAt: this.clock.now() }));
  }
}

function nextProgress(p: JobProgress, events: BillingEventInput[], inserted: boolean[]): JobProgress {
  const stored = inserted.filter(Boolean).length;
  let newest = p.newestCreated;
  let oldest = p.oldestCreated;
  for (const e of events) {
    if (newest === null || e.created > newest) newest = e.created;
    if (oldest === null || e.created < oldest) oldest = e.created;
  }
  return {
    ...p,
    processed: p.processed + events.length,
    stored: p.stored + stored,
    duplicates: p.duplicates + events.length - stored,
    pages: p.pages + 1,
    newestCreated: newest,
    oldestCreated: oldest,
  };
}
