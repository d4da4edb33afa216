import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Database } from './schema.js';
import type { BillingEventInput, StoreDialect } from './store.js';
import { UNFINISHED_JOB_STATUSES, type JobAdvance, type JobClaim, type JobQuery, type JobRecord, type JobStatus, type JobStore, type JobUpdate } from './job-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
type EventRow = Omit<Database['billing_events'], 'seq' | 'tx_id' | 'anomaly_score' | 'flagged'>;

const UNFINISHED = [...UNFINISHED_JOB_STATUSES];
const FINISHED: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export class KyselyJobStore implements JobStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly guard: Guard,
    /** The store's own billing-event row mapping, so both write paths store identical rows. */
    private readonly eventToRow: (event: BillingEventInput) => EventRow,
  ) {}

  insertJob(job: JobRecord) {
    return this.guard('insertJob', async () => {
      const rows = await this.db
        .insertInto('jobs')
        .values(jobToRow(job))
        .onConflict((oc) => oc.columns(['tenant_id', 'active_key']).doNothing())
        .returning('id')
        .execute();
      return rows.length === 1;
    });
  }

  getJob(tenantId: string, id: string) {
    return this.guard('getJob', async () => {
      const row = await this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToJob(row);
    });
  }

  activeJob(tenantId: string, kind: string) {
    return this.guard('activeJob', async () => {
      const row = await this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('active_key', '=', kind).executeTakeFirst();
      return row && rowToJob(row);
    });
  }

  latestJob(tenantId: string, kind: string) {
    return this.guard('latestJob', async () => {
      const row = await this.db
        .selectFrom('jobs')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && rowToJob(row);
    });
  }

  listJobs(tenantId: string, query: JobQuery) {
    return this.guard('listJobs', async () => {
      let q = this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId);
      if (query.kind !== undefined) q = q.where('kind', '=', query.kind);
      if (query.status !== undefined) q = q.where('status', '=', query.status);
      const before = query.before;
      if (before) {
        q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(rowToJob);
    });
  }

  claimJob(claim: JobClaim) {
    return this.guard('claimJob', () =>
      this.db.transaction().execute(async (trx) => {
        const { now, owner } = claim;
        let q = trx
          .selectFrom('jobs')
          .select('id')
          .where('status', 'in', UNFINISHED)
          .where('run_after', '<=', now)
          .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now), eb('lease_owner', '=', owner)]));
        if (claim.kinds) q = q.where('kind', 'in', claim.kinds.length > 0 ? claim.kinds : ['']);
        if (claim.jobId !== undefined) q = q.where('id', '=', claim.jobId);
        q = q.orderBy('run_after').orderBy('id').limit(1);
        // Another worker's row being claimed right now is skipped, not waited for.
        if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
        const candidate = await q.executeTakeFirst();
        if (!candidate) return undefined;
        const row = await trx
          .updateTable('jobs')
          .set({ status: 'running', lease_owner: owner, lease_expires_at: claim.leaseUntil, started_at: sql<number>`coalesce(started_at, ${now})`, updated_at: now })
          .where('id', '=', candidate.id)
          .where('status', 'in', UNFINISHED)
          .where('run_after', '<=', now)
          .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now), eb('lease_owner', '=', owner)]))
          .returningAll()
          .executeTakeFirst();
        return row && rowToJob(row);
      }),
    );
  }

  advanceJob(tenantId: string, id: string, owner: string, events: BillingEventInput[], update: (inserted: boolean[]) => JobUpdate) {
    return this.guard('advanceJob', () =>
      this.db.transaction().execute(async (trx): Promise<JobAdvance> => {
        // The fence first; on PostgreSQL it also locks the job row until the commit.
        const fenced = await trx
          .updateTable('jobs')
          .set({ lease_owner: owner })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .where('status', '=', 'running')
          .returning('id')
          .executeTakeFirst();
        if (!fenced) return { held: false };
        const stored = new Set<string>();
        if (events.length > 0) {
          // Sorted by key like every multi-row event insert, so concurrent writers lock rows in one order.
          const rows = events.map(this.eventToRow).sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
          const result = await trx
            .insertInto('billing_events')
            .values(rows)
            .onConflict((oc) => oc.columns(['tenant_id', 'event_id']).doNothing())
            .returning('event_id')
            .execute();
          for (const r of result) stored.add(r.event_id);
        }
        // The first occurrence of an id is the one that was stored.
        const inserted = events.map((e) => stored.delete(e.eventId));
        const row = await trx.updateTable('jobs').set(updateToRow(update(inserted))).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        return { held: true, inserted, job: rowToJob(row) };
      }),
    );
  }

  cancelJob(tenantId: string, id: string, now: number) {
    return this.guard('cancelJob', async () => {
      const row = await this.db
        .updateTable('jobs')
        .set({ status: 'cancelled', active_key: null, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', 'in', UNFINISHED)
        .returningAll()
        .executeTakeFirst();
      if (row) return rowToJob(row);
      const existing = await this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return existing && rowToJob(existing);
    });
  }

  pruneJobs(beforeMs: number) {
    return this.guard('pruneJobs', async () => {
      const result = await this.db.deleteFrom('jobs').where('status', 'in', FINISHED).where('finished_at', '<', beforeMs).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

function updateToRow(u: JobUpdate): Updateable<Database['jobs']> {
  const values: Updateable<Database['jobs']> = { updated_at: u.updatedAt };
  if (u.status !== undefined) {
    values.status = u.status;
    if (FINISHED.includes(u.status)) {
      values.active_key = null;
      values.lease_owner = null;
      values.lease_expires_at = null;
    }
  }
  if (u.progress !== undefined) values.progress = JSON.stringify(u.progress);
  if (u.cursor !== undefined) values.cursor = u.cursor === null ? null : JSON.stringify(u.cursor);
  if (u.error !== undefined) values.error = u.error;
  if (u.attempts !== undefined) values.attempts = u.attempts;
  if (u.runAfter !== undefined) values.run_after = u.runAfter;
  if (u.leaseExpiresAt !== undefined && values.lease_owner === undefined) {
    values.lease_expires_at = u.leaseExpiresAt;
    if (u.leaseExpiresAt === null) values.lease_owner = null;
  }
  if (u.finishedAt !== undefined) values.finished_at = u.finishedAt;
  return values;
}

function jobToRow(j: JobRecord): Database['jobs'] {
  return {
    id: j.id,
    tenant_id: j.tenantId,
    kind: j.kind,
    status: j.status,
    params: JSON.stringify(j.params),
    progress: JSON.stringify(j.progress),
    cursor: j.cursor === null ? null : JSON.stringify(j.cursor),
    error: j.error,
    active_key: UNFINISHED.includes(j.status) ? j.kind : null,
    lease_owner: j.leaseOwner,
    lease_expires_at: j.leaseExpiresAt,
    attempts: j.attempts,
    run_after: j.runAfter,
    created_by: j.createdBy,
    created_at: j.createdAt,
    updated_at: j.updatedAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
  };
}

function rowToJob(r: Selectable<Database['jobs']>): JobRecord {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    tenantId: r.tenant_id,
    kind: r.kind,
    status: r.status as JobStatus,
    params: JSON.parse(r.params) as Record<string, unknown>,
    progress: JSON.parse(r.progress) as JobRecord['progress'],
    cursor: r.cursor === null ? null : (JSON.parse(r.cursor) as Record<string, unknown>),
    error: r.error,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: num(r.lease_expires_at),
    attempts: Number(r.attempts),
    runAfter: Number(r.run_after),
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
  };
}
