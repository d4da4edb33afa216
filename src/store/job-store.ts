/**
 * Persistence for durable background jobs; part of `Store` as `store.jobs`. A job is claimed under a
 * lease (owner + expiry); every write of a running job is fenced on its owner, so a worker whose
 * lease was taken over (or whose job was cancelled) can no longer move it.
 */
import type { BillingEventInput } from './store.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const UNFINISHED_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];

export interface JobProgress {
  /** Items read from the source (Stripe events listed). */
  processed: number;
  /** Items stored now (not there before). */
  stored: number;
  /** Items already stored (by a webhook, or an earlier run). */
  duplicates: number;
  pages: number;
  /** Stripe `created` (epoch seconds) of the newest and oldest item seen. */
  newestCreated: number | null;
  oldestCreated: number | null;
  /** Failed attempts retried so far, over the whole job. */
  retries: number;
}

export const EMPTY_PROGRESS: JobProgress = { processed: 0, stored: 0, duplicates: 0, pages: 0, newestCreated: null, oldestCreated: null, retries: 0 };

export interface JobRecord {
  id: string;
  tenantId: string;
  kind: string;
  status: JobStatus;
  params: Record<string, unknown>;
  progress: JobProgress;
  /** Where the next step continues; null before the first step. */
  cursor: Record<string, unknown> | null;
  error: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** Consecutive failed attempts of the current step (0 after a success). */
  attempts: number;
  /** Not claimed before this time (backoff after a failure). */
  runAfter: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What a lease holder writes; a finished status also clears the lease and the active key. */
export interface JobUpdate {
  status?: JobStatus;
  progress?: JobProgress;
  cursor?: Record<string, unknown> | null;
  error?: string | null;
  attempts?: number;
  runAfter?: number;
  /** Renews the lease until then; null gives it up (the job stays claimable by anyone). */
  leaseExpiresAt?: number | null;
  finishedAt?: number | null;
  updatedAt: number;
}

export interface JobClaim {
  now: number;
  owner: string;
  leaseUntil: number;
  kinds?: string[];
  /** Only this job (the CLI works the job it started). */
  jobId?: string;
}

export type JobAdvance = { held: true; inserted: boolean[]; job: JobRecord } | { held: false };

export interface JobQuery {
  kind?: string;
  status?: JobStatus;
  /** Continue after this job (newest first). */
  before?: { createdAt: number; id: string };
  limit: number;
}

export interface JobStore {
  /** False when the tenant already has an unfinished job of this kind. */
  insertJob(job: JobRecord): Promise<boolean>;
  getJob(tenantId: string, id: string): Promise<JobRecord | undefined>;
  /** The tenant's unfinished job of this kind, if any. */
  activeJob(tenantId: string, kind: string): Promise<JobRecord | undefined>;
  /** The tenant's most recent job of this kind, finished or not. */
  latestJob(tenantId: string, kind: string): Promise<JobRecord | undefined>;
  listJobs(tenantId: string, query: JobQuery): Promise<JobRecord[]>;
  /**
   * Claims one due job across tenants: queued or running, `runAfter` reached, lease free, expired
   * or already ours; oldest first. PostgreSQL picks with `FOR UPDATE SKIP LOCKED` and every store
   * takes it by compare-and-set, so two workers never hold one job.
   */
  claimJob(claim: JobClaim): Promise<JobRecord | undefined>;
  /**
   * One step's results in ONE transaction, fenced on `owner` and status `running`: the billing
   * events (deduplicated by (tenant, event id)), then the job update made from what was stored
   * (`inserted[i]` tells whether events[i] was stored now). When the fence fails nothing is written.
   */
  advanceJob(tenantId: string, id: string, owner: string, events: BillingEventInput[], update: (inserted: boolean[]) => JobUpdate): Promise<JobAdvance>;
  /** Cancels an unfinished job; undefined when absent, the job as it is when already finished. */
  cancelJob(tenantId: string, id: string, now: number): Promise<JobRecord | undefined>;
  /** Deletes finished jobs that finished before `beforeMs`; returns how many. */
  pruneJobs(beforeMs: number): Promise<number>;
}
