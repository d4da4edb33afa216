import { EMPTY_PROGRESS, type JobRecord } from '../store/job-store.js';

/** A queued job, due at once. */
export function newJob(input: { id: string; tenantId: string; kind: string; params: Record<string, unknown>; createdBy: string; now: number }): JobRecord {
  return {
    id: input.id,
    tenantId: input.tenantId,
    kind: input.kind,
    status: 'queued',
    params: input.params,
    progress: { ...EMPTY_PROGRESS },
    cursor: null,
    error: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    attempts: 0,
    runAfter: input.now,
    createdBy: input.createdBy,
    createdAt: input.now,
    updatedAt: input.now,
    startedAt: null,
    finishedAt: null,
  };
}
