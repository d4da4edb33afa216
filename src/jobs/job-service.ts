import { AppError } from '../shared/app-error.js';
import type { Clock } from '../shared/clock.js';
import { encodeCreatedAtCursor } from '../shared/created-at-cursor.js';
import { listPage } from '../shared/list-page.js';
import type { JobStatus, JobStore } from '../store/job-store.js';
import { toJobView, type JobView } from './job-view.js';

export interface JobListFilters {
  kind?: string | undefined;
  status?: JobStatus | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

const MAX_LIMIT = 200;

export const jobNotFound = () => new AppError('not_found', 'Job not found');

/** Reading and cancelling jobs: `GET /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`. */
export class JobService {
  constructor(
    private readonly jobs: JobStore,
    private readonly clock: Clock,
  ) {}

  async get(tenantId: string, id: string): Promise<JobView> {
    const job = await this.jobs.getJob(tenantId, id);
    if (!job) throw jobNotFound();
    return toJobView(job);
  }

  /** Newest first, with an opaque cursor. */
  async list(tenantId: string, filters: JobListFilters): Promise<{ data: JobView[]; nextCursor: string | null }> {
    const limit = filters.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new AppError('validation_failed', `limit must be 1 to ${MAX_LIMIT}`);
    const before = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
    const rows = await this.jobs.listJobs(tenantId, {
      ...(filters.kind !== undefined ? { kind: filters.kind } : {}),
      ...(filters.status !== undefined ? { status: filters.status } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const { page, nextCursor } = listPage(rows, limit, encodeCreatedAtCursor);
    return { data: page.map(toJobView), nextCursor };
  }

  /** Stops a queued or running job after its current step; a finished job is returned unchanged. */
  async cancel(tenantId: string, id: string): Promise<JobView> {
    const job = await this.jobs.cancelJob(tenantId, id, this.clock.now());
    if (!job) throw jobNotFound();
    return toJobView(job);
  }
}

/**
 * The cursor `encodeCreatedAtCursor` makes. Not decodeCreatedAtCursor: this one has always taken at
 * most 15 digits and failed on its own, so the same cursors are refused with the same error.
 */
function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const m = /^(\d{1,15}):([A-Za-z0-9_]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new AppError('validation_failed', 'cursor is not valid');
  return { createdAt: Number(m[1]), id: m[2]! };
}
