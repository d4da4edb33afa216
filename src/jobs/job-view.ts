import type { JobRecord, JobStatus } from '../store/job-store.js';

export interface JobView {
  id: string;
  tenantId: string;
  kind: string;
  status: JobStatus;
  /** As given when the job was created (backfill: `since`/`until` in unix seconds, `types`). */
  params: Record<string, unknown>;
  progress: {
    processed: number;
    stored: number;
    duplicates: number;
    pages: number;
    retries: number;
    newestCreated: string | null;
    oldestCreated: string | null;
  };
  /** Where the job continues after a restart (backfill: Stripe's `starting_after`). */
  cursor: Record<string, unknown> | null;
  /** Why it failed; while running, the last failed attempt being retried. */
  error: string | null;
  attempts: number;
  /** Set while a retry waits. */
  nextAttemptAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const isoSeconds = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());

export function toJobView(j: JobRecord): JobView {
  const waiting = (j.status === 'queued' || j.status === 'running') && j.attempts > 0;
  return {
    id: j.id,
    tenantId: j.tenantId,
    kind: j.kind,
    status: j.status,
    params: j.params,
    progress: {
      processed: j.progress.processed,
      stored: j.progress.stored,
      duplicates: j.progress.duplicates,
      pages: j.progress.pages,
      retries: j.progress.retries,
      newestCreated: isoSeconds(j.progress.newestCreated),
      oldestCreated: isoSeconds(j.progress.oldestCreated),
    },
    cursor: j.cursor,
    error: j.error,
    attempts: j.attempts,
    nextAttemptAt: waiting ? iso(j.runAfter) : null,
    createdBy: j.createdBy,
    createdAt: iso(j.createdAt)!,
    updatedAt: iso(j.updatedAt)!,
    startedAt: iso(j.startedAt),
    finishedAt: iso(j.finishedAt),
  };
}
