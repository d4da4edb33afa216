import { sql, type Kysely, type RawBuilder, type Selectable, type Updateable } from 'kysely';
import type { Database } from './schema.js';
import type { StoreDialect } from './store.js';
import type {
  FailingMapping,
  JournalEvent,
  MappingPatch,
  MappingRecord,
  PendingOp,
  PushStateRecord,
  PushStatus,
  StatePatch,
  StateQuery,
  SyncMode,
  SyncStore,
  SyncSummaryRow,
  TargetCandidate,
  TargetQuery,
} from './sync-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

const COUNTER_COLUMN = { sum: 'sum_micro', max: 'max_micro', last: 'last_micro' } as const;
/** Where shadow pushes go: the customer's test-mode id, else the live one (Stripe reports it unknown there). */
const SHADOW_CUSTOMER = sql`coalesce(k.stripe_test_customer_id, k.stripe_customer_id)`;

const text = (column: string): RawBuilder<string | null> => sql<string | null>`cast(${sql.ref(column)} as text)`;

/** Every state column, the micro ones as text (64-bit values never pass through a JS number). */
const STATE_COLUMNS = [
  'id', 'tenant_id', 'mapping_id', 'mode', 'event_name', 'customer_ref', 'period_start', 'stripe_customer_id', 'period_end',
  'seq', 'pending_kind', 'pending_identifier', 'pending_ts', 'pending_since', 'pending_uncertain', 'status', 'due', 'next_attempt_at',
  'claim_token', 'claimed_until', 'dirty_since', 'last_pushed_at', 'last_error', 'consecutive_failures', 'attempts', 'created_at', 'updated_at',
] as const;
const stateSelection = () => [
  ...STATE_COLUMNS,
  text('target_micro').as('target_micro'),
  text('accepted_micro').as('accepted_micro'),
  text('pending_value_micro').as('pending_value_micro'),
  text('pending_total_micro').as('pending_total_micro'),
];
/** The same, qualified by the alias `s` (for joins). */
const stateSelectionOf = () => [
  ...STATE_COLUMNS.map((c) => `s.${c}` as const),
  text('s.target_micro').as('target_micro'),
  text('s.accepted_micro').as('accepted_micro'),
  text('s.pending_value_micro').as('pending_value_micro'),
  text('s.pending_total_micro').as('pending_total_micro'),
];

const JOURNAL_COLUMNS = [
  'tenant_id', 'mode', 'identifier', 'state_id', 'mapping_id', 'customer_ref', 'period_start', 'event_name', 'stripe_customer_id',
  'ts', 'first_sent_at', 'accepted_at', 'cancelled_at', 'cancel_refused_at',
] as const;
const journalSelection = () => [...JOURNAL_COLUMNS, text('value_micro').as('value_micro'), text('total_micro').as('total_micro')];

/** A state row's pending-op columns once the op is settled or dropped. */
const NO_PENDING_OP = {
  pending_kind: null,
  pending_identifier: null,
  pending_value_micro: null,
  pending_total_micro: null,
  pending_ts: null,
  pending_since: null,
  pending_uncertain: 0,
} as const;

type Filterable<Q> = { where: (...args: any[]) => Q };

/** The state row while it still holds this pending op: settling or dropping an op that moved on changes nothing. */
function whilePending<Q extends Filterable<Q>>(q: Q, tenantId: string, id: string, kind: PendingOp['kind'], identifier: string): Q {
  return q.where('tenant_id', '=', tenantId).where('id', '=', id).where('pending_kind', '=', kind).where('pending_identifier', '=', identifier);
}

/** The journal row of one pushed op: identifiers are unique per tenant and mode. */
function journalEntry<Q extends Filterable<Q>>(q: Q, tenantId: string, mode: string, identifier: string): Q {
  return q.where('tenant_id', '=', tenantId).where('mode', '=', mode).where('identifier', '=', identifier);
}

export class KyselySyncStore implements SyncStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly guard: Guard,
  ) {}

  insertMapping(mapping: MappingRecord) {
    return this.guard('insertMapping', async () => {
      try {
        await this.db.insertInto('sync_mappings').values(mappingToRow(mapping)).execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    });
  }

  getMapping(tenantId: string, id: string) {
    return this.guard('getMapping', async () => {
      const row = await this.db.selectFrom('sync_mappings').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToMapping(row);
    });
  }

  listMappings(tenantId: string) {
    return this.guard('listMappings', async () => {
      const rows = await this.db.selectFrom('sync_mappings').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
      return rows.map(rowToMapping);
    });
  }

  listEnabledMappings(tenantId?: string) {
    return this.guard('listEnabledMappings', async () => {
      let q = this.db.selectFrom('sync_mappings').selectAll().where('enabled', '=', 1);
      if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
      const rows = await q.orderBy('tenant_id').orderBy('created_at').orderBy('id').execute();
      return rows.map(rowToMapping);
    });
  }

  updateMapping(tenantId: string, id: string, patch: MappingPatch) {
    return this.guard('updateMapping', async () => {
      const values: Updateable<Database['sync_mappings']> = { updated_at: patch.updatedAt };
      if (patch.meterEventName !== undefined) values.meter_event_name = patch.meterEventName;
      if (patch.meterId !== undefined) values.meter_id = patch.meterId;
      if (patch.valueKey !== undefined) values.value_key = patch.valueKey;
      if (patch.customerKey !== undefined) values.customer_key = patch.customerKey;
      if (patch.shadowEnabled !== undefined) values.shadow_enabled = patch.shadowEnabled ? 1 : 0;
      if (patch.shadowEventName !== undefined) values.shadow_event_name = patch.shadowEventName;
      if (patch.shadowMeterId !== undefined) values.shadow_meter_id = patch.shadowMeterId;
      if (patch.enabled !== undefined) values.enabled = patch.enabled ? 1 : 0;
      try {
        const row = await this.db.updateTable('sync_mappings').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst();
        return row && rowToMapping(row);
      } catch (error) {
        if (isUniqueViolation(error)) return 'conflict' as const;
        throw error;
      }
    });
  }

  findChangedTargets(tenantId: string, query: TargetQuery) {
    return this.guard('findChangedTargets', async () => {
      const column = sql.ref(`c.${COUNTER_COLUMN[query.aggregation]}`);
      const customer = query.mode === 'shadow' ? SHADOW_CUSTOMER : sql`k.stripe_customer_id`;
      const result = await sql<{ customer_ref: string; period_start: number; period_end: number; stripe_customer_id: string; value_micro: string | null; state_id: string | null }>`
        select c.customer_ref, c.period_start, c.period_end, ${customer} as stripe_customer_id, cast(${column} as text) as value_micro, s.id as state_id
        from usage_counters c
        join metering_customers k on k.tenant_id = c.tenant_id and k.customer_ref = c.customer_ref
        left join sync_push_state s on s.tenant_id = c.tenant_id and s.mapping_id = ${query.mappingId} and s.mode = ${query.mode}
          and s.event_name = ${query.eventName} and s.customer_ref = c.customer_ref and s.period_start = c.period_start
          and s.stripe_customer_id = ${customer}
        where c.tenant_id = ${tenantId} and c.metric = ${query.metric} and c.period_end > ${query.periodEndAfter}
          and k.stripe_customer_id is not null
          and (s.id is null or s.status in ('detached', 'no_key') or (s.due = 0 and s.target_micro is distinct from ${column}))
        order by c.period_start, c.customer_ref`.execute(this.db);
      return result.rows.map(
        (r): TargetCandidate => ({
          customerRef: r.customer_ref,
          periodStart: Number(r.period_start),
          periodEnd: Number(r.period_end),
          stripeCustomerId: r.stripe_customer_id,
          valueMicro: r.value_micro === null ? null : BigInt(r.value_micro),
          stateId: r.state_id,
        }),
      );
    });
  }

  findVanishedTargets(tenantId: string, query: TargetQuery) {
    return this.guard('findVanishedTargets', async () => {
      const result = await sql<{ id: string }>`
        select s.id from sync_push_state s
        where s.tenant_id = ${tenantId} and s.mapping_id = ${query.mappingId} and s.mode = ${query.mode} and s.event_name = ${query.eventName}
          and s.period_end > ${query.periodEndAfter} and s.due = 0 and s.target_micro is not null and s.status not in ('detached', 'no_key')
          and not exists (select 1 from usage_counters c where c.tenant_id = s.tenant_id and c.period_start = s.period_start
            and c.metric = ${query.metric} and c.customer_ref = s.customer_ref)`.execute(this.db);
      return result.rows.map((r) => r.id);
    });
  }

  detachRemapped(tenantId: string, mappingId: string, now: number) {
    return this.guard('detachRemapped', async () => {
      const rows = await this.db
        .updateTable('sync_push_state')
        .set({ status: 'detached', due: 0, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('mapping_id', '=', mappingId)
        .where('status', '<>', 'detached')
        .where('pending_kind', 'is', null)
        .where(
          sql<boolean>`not exists (select 1 from metering_customers k where k.tenant_id = sync_push_state.tenant_id and k.customer_ref = sync_push_state.customer_ref
            and k.stripe_customer_id is not null
            and (case when sync_push_state.mode = 'shadow' then ${SHADOW_CUSTOMER} else k.stripe_customer_id end) = sync_push_state.stripe_customer_id)`,
        )
        .returning(stateSelection())
        .execute();
      return rows.map(rowToState);
    });
  }

  insertStates(states: PushStateRecord[]) {
    return this.guard('insertStates', async () => {
      for (let i = 0; i < states.length; i += 200) {
        await this.db
          .insertInto('sync_push_state')
          .values(states.slice(i, i + 200).map(stateToRow))
          .onConflict((oc) => oc.columns(['tenant_id', 'mapping_id', 'mode', 'event_name', 'customer_ref', 'period_start', 'stripe_customer_id']).doNothing())
          .execute();
      }
    });
  }

  markDue(tenantId: string, ids: string[], now: number) {
    return this.guard('markDue', async () => {
      for (let i = 0; i < ids.length; i += 500) {
        await this.db
          .updateTable('sync_push_state')
          .set((eb) => ({
            due: 1,
            status: sql<string>`case when status in ('failing', 'needs_review') then status else 'due' end`,
            dirty_since: eb.fn.coalesce('dirty_since', sql<number>`${now}`),
            updated_at: now,
          }))
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', ids.slice(i, i + 500))
          .where('status', '<>', 'needs_review')
          .execute();
      }
    });
  }

  claimDue(query: { now: number; limit: number; claimedUntil: number; token: string; tenantId?: string }) {
    return this.guard('claimDue', async () => {
      let candidates = this.db
        .selectFrom('sync_push_state')
        .select('id')
        .where('due', '=', 1)
        .where('next_attempt_at', '<=', query.now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', query.now)]));
      if (query.tenantId !== undefined) candidates = candidates.where('tenant_id', '=', query.tenantId);
      candidates = candidates.orderBy('next_attempt_at').orderBy('id').limit(query.limit);
      // PostgreSQL: replicas claiming at once skip each other's rows instead of queueing on them.
      if (this.dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
      const rows = await this.db
        .updateTable('sync_push_state')
        .set({ claim_token: query.token, claimed_until: query.claimedUntil })
        .where('id', 'in', candidates)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', query.now)]))
        .returning(stateSelection())
        .execute();
      return rows.map(rowToState).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : 1));
    });
  }

  beginOp(id: string, token: string, expectSeq: number, op: PendingOp, journal: JournalEvent | null, now: number) {
    return this.guard('beginOp', async () =>
      this.db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('sync_push_state')
          .set({
            pending_kind: op.kind,
            pending_identifier: op.identifier,
            pending_value_micro: op.valueMicro.toString(),
            pending_total_micro: op.totalMicro.toString(),
            pending_ts: op.ts,
            pending_since: op.since,
            pending_uncertain: 0,
            updated_at: now,
          })
          .where('id', '=', id)
          .where('claim_token', '=', token)
          .where('seq', '=', expectSeq)
          .where('pending_kind', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        if (journal) {
          await trx
            .insertInto('sync_push_events')
            .values(journalToRow(journal))
            .onConflict((oc) => oc.columns(['tenant_id', 'mode', 'identifier']).doNothing())
            .execute();
        }
        return true;
      }),
    );
  }

  settleOp(tenantId: string, id: string, kind: PendingOp['kind'], identifier: string, now: number) {
    return this.guard('settleOp', async () =>
      this.db.transaction().execute(async (trx) => {
        const settled = trx.updateTable('sync_push_state').set((eb) => ({
          accepted_micro: eb.ref('pending_total_micro'),
          seq: sql<number>`seq + 1`,
          ...NO_PENDING_OP,
          last_pushed_at: now,
          last_error: null,
          consecutive_failures: 0,
          updated_at: now,
        }));
        const state = await whilePending(settled, tenantId, id, kind, identifier).returning(['mode']).executeTakeFirst();
        if (!state) return false;
        const journal = journalEntry(trx.updateTable('sync_push_events'), tenantId, state.mode, identifier);
        if (kind === 'event') await journal.set({ accepted_at: now }).where('accepted_at', 'is', null).execute();
        else await journal.set({ cancelled_at: now }).where('cancelled_at', 'is', null).execute();
        return true;
      }),
    );
  }

  dropPending(tenantId: string, id: string, kind: PendingOp['kind'], identifier: string, now: number) {
    return this.guard('dropPending', async () =>
      this.db.transaction().execute(async (trx) => {
        const dropped = trx.updateTable('sync_push_state').set({ ...NO_PENDING_OP, updated_at: now });
        const state = await whilePending(dropped, tenantId, id, kind, identifier).returning(['mode']).executeTakeFirst();
        if (!state) return false;
        if (kind === 'event') await journalEntry(trx.deleteFrom('sync_push_events'), tenantId, state.mode, identifier).where('accepted_at', 'is', null).execute();
        else await journalEntry(trx.updateTable('sync_push_events').set({ cancel_refused_at: now }), tenantId, state.mode, identifier).execute();
        return true;
      }),
    );
  }

  updateClaimed(id: string, token: string, patch: StatePatch, now: number) {
    return this.guard('updateClaimed', async () => {
      const result = await this.db
        .updateTable('sync_push_state')
        .set(() => {
          const values: Record<string, unknown> = { updated_at: now };
          if (patch.status !== undefined) values.status = patch.status;
          if (patch.due !== undefined) values.due = patch.due ? 1 : 0;
          if (patch.nextAttemptAt !== undefined) values.next_attempt_at = patch.nextAttemptAt;
          if (patch.targetMicro !== undefined) values.target_micro = patch.targetMicro === null ? null : patch.targetMicro.toString();
          if (patch.dirtySince !== undefined) values.dirty_since = patch.dirtySince;
          if (patch.lastError !== undefined) values.last_error = patch.lastError;
          if (patch.consecutiveFailures === 'increment') values.consecutive_failures = sql`consecutive_failures + 1`;
          else if (patch.consecutiveFailures !== undefined) values.consecutive_failures = patch.consecutiveFailures;
          if (patch.attemptsAdd) values.attempts = sql`attempts + ${patch.attemptsAdd}`;
          if (patch.pendingUncertain) values.pending_uncertain = sql`case when pending_kind is null then 0 else 1 end`;
          if (patch.releaseClaim) {
            values.claim_token = null;
            values.claimed_until = null;
          }
          return values as Updateable<Database['sync_push_state']>;
        })
        .where('id', '=', id)
        .where('claim_token', '=', token)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  getState(tenantId: string, id: string) {
    return this.guard('getState', async () => {
      const row = await this.db.selectFrom('sync_push_state').select(stateSelection()).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToState(row);
    });
  }

  reopenState(tenantId: string, id: string, now: number) {
    return this.guard('reopenState', async () => {
      const result = await this.db
        .updateTable('sync_push_state')
        .set((eb) => ({ status: 'due', due: 1, next_attempt_at: now, consecutive_failures: 0, last_error: null, dirty_since: eb.fn.coalesce('dirty_since', sql<number>`${now}`), updated_at: now }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'needs_review')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  listStates(tenantId: string, query: StateQuery) {
    return this.guard('listStates', async () => {
      let q = this.db
        .selectFrom('sync_push_state as s')
        .innerJoin('sync_mappings as m', (join) => join.onRef('m.tenant_id', '=', 's.tenant_id').onRef('m.id', '=', 's.mapping_id'))
        .leftJoin('usage_counters as c', (join) =>
          join.onRef('c.tenant_id', '=', 's.tenant_id').onRef('c.period_start', '=', 's.period_start').onRef('c.metric', '=', 'm.metric').onRef('c.customer_ref', '=', 's.customer_ref'),
        )
        .select([
          ...stateSelectionOf(),
          sql<string | null>`cast(case m.aggregation when 'sum' then c.sum_micro when 'max' then c.max_micro else c.last_micro end as text)`.as('current_micro'),
        ])
        .where('s.tenant_id', '=', tenantId);
      if (query.mappingId !== undefined) q = q.where('s.mapping_id', '=', query.mappingId);
      if (query.customerRef !== undefined) q = q.where('s.customer_ref', '=', query.customerRef);
      if (query.mode !== undefined) q = q.where('s.mode', '=', query.mode);
      if (query.status !== undefined) q = q.where('s.status', '=', query.status);
      const rows = await q.orderBy('s.mapping_id').orderBy('s.customer_ref').orderBy('s.period_start', 'desc').orderBy('s.mode').orderBy('s.id').limit(query.limit).execute();
      return rows.map((r) => ({ ...rowToState(r), currentMicro: big(r.current_micro) }));
    });
  }

  recentEvents(tenantId: string, stateId: string, since: number) {
    return this.guard('recentEvents', async () => {
      const rows = await this.db
        .selectFrom('sync_push_events')
        .select(journalSelection())
        .where('tenant_id', '=', tenantId)
        .where('state_id', '=', stateId)
        .where('first_sent_at', '>=', since)
        .where('accepted_at', 'is not', null)
        .where('cancelled_at', 'is', null)
        .orderBy('first_sent_at', 'desc')
        .orderBy('identifier', 'desc')
        .execute();
      return rows.map(rowToJournal);
    });
  }

  listJournal(tenantId: string, query: { mode?: SyncMode; limit: number }) {
    return this.guard('listJournal', async () => {
      let q = this.db.selectFrom('sync_push_events').select(journalSelection()).where('tenant_id', '=', tenantId);
      if (query.mode !== undefined) q = q.where('mode', '=', query.mode);
      const rows = await q.orderBy('first_sent_at').orderBy('identifier').limit(query.limit).execute();
      return rows.map(rowToJournal);
    });
  }

  pruneJournal(before: number) {
    return this.guard('pruneJournal', async () => {
      const result = await this.db.deleteFrom('sync_push_events').where('first_sent_at', '<', before).where('accepted_at', 'is not', null).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  failingMappings() {
    return this.guard('failingMappings', async () => {
      const rows = await this.db
        .selectFrom('sync_push_state')
        .select((eb) => [
          'tenant_id',
          'mapping_id',
          'mode',
          eb.fn.max('consecutive_failures').as('max_failures'),
          eb.fn.countAll().as('items'),
          eb.fn.sum(sql<number>`case when status = 'needs_review' then 1 else 0 end`).as('review_items'),
          eb.fn.max('last_error').as('last_error'),
        ])
        .where((eb) => eb.or([eb('consecutive_failures', '>', 0), eb('status', '=', 'needs_review')]))
        .groupBy(['tenant_id', 'mapping_id', 'mode'])
        .execute();
      return rows.map(
        (r): FailingMapping => ({
          tenantId: r.tenant_id,
          mappingId: r.mapping_id,
          mode: r.mode as SyncMode,
          maxFailures: Number(r.max_failures),
          failingItems: Number(r.items),
          reviewItems: Number(r.review_items ?? 0),
          lastError: (r.last_error as string | null) ?? null,
        }),
      );
    });
  }

  summary(tenantId: string) {
    return this.guard('syncSummary', async () => {
      const rows = await this.db
        .selectFrom('sync_push_state')
        .select((eb) => ['mode', 'status', eb.fn.countAll().as('items'), eb.fn.min('dirty_since').as('oldest')])
        .where('tenant_id', '=', tenantId)
        .groupBy(['mode', 'status'])
        .execute();
      return rows.map(
        (r): SyncSummaryRow => ({ mode: r.mode as SyncMode, status: r.status as PushStatus, items: Number(r.items), oldestDirtySince: r.oldest === null ? null : Number(r.oldest) }),
      );
    });
  }

  coveredEvents(tenantId: string) {
    return this.guard('coveredEvents', async () => {
      const result = await sql<{ mode: string; events: number | string | null }>`
        select s.mode, sum(c.event_count) as events
        from sync_push_state s
        join sync_mappings m on m.tenant_id = s.tenant_id and m.id = s.mapping_id
        join usage_counters c on c.tenant_id = s.tenant_id and c.period_start = s.period_start and c.metric = m.metric and c.customer_ref = s.customer_ref
        where s.tenant_id = ${tenantId} and s.status <> 'detached'
        group by s.mode`.execute(this.db);
      const out: Record<SyncMode, number> = { live: 0, shadow: 0 };
      for (const r of result.rows) out[r.mode as SyncMode] = Number(r.events ?? 0);
      return out;
    });
  }

  addCalls(tenantId: string, mode: SyncMode, calls: number, operations: number, now: number) {
    return this.guard('addCalls', async () => {
      await this.db
        .insertInto('sync_call_stats')
        .values({ tenant_id: tenantId, mode, calls, operations, updated_at: now })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'mode']).doUpdateSet({
            calls: sql`sync_call_stats.calls + ${calls}`,
            operations: sql`sync_call_stats.operations + ${operations}`,
            updated_at: now,
          }),
        )
        .execute();
    });
  }

  callStats(tenantId: string) {
    return this.guard('callStats', async () => {
      const rows = await this.db.selectFrom('sync_call_stats').selectAll().where('tenant_id', '=', tenantId).execute();
      const out: Record<SyncMode, { calls: number; operations: number }> = { live: { calls: 0, operations: 0 }, shadow: { calls: 0, operations: 0 } };
      for (const r of rows) out[r.mode as SyncMode] = { calls: Number(r.calls), operations: Number(r.operations) };
      return out;
    });
  }

  oldestDue() {
    return this.guard('oldestDue', async () => {
      const rows = await this.db
        .selectFrom('sync_push_state')
        .select((eb) => ['mode', eb.fn.min('dirty_since').as('oldest')])
        .where('due', '=', 1)
        .groupBy('mode')
        .execute();
      const out: Record<SyncMode, number | null> = { live: null, shadow: null };
      for (const r of rows) out[r.mode as SyncMode] = r.oldest === null ? null : Number(r.oldest);
      return out;
    });
  }

  realignAccepted(key: { tenantId: string; mappingId: string; customerRef: string; periodStart: number; stripeCustomerId: string }, acceptedMicro: bigint, now: number) {
    return this.guard('realignAccepted', async () => {
      const where = <Q extends Filterable<Q>>(q: Q): Q =>
        q
          .where('tenant_id', '=', key.tenantId)
          .where('mapping_id', '=', key.mappingId)
          .where('mode', '=', 'live')
          .where('customer_ref', '=', key.customerRef)
          .where('period_start', '=', key.periodStart)
          .where('stripe_customer_id', '=', key.stripeCustomerId);
      const result = await where(
        this.db
          .updateTable('sync_push_state')
          .set((eb) => ({
            accepted_micro: sql<string>`${acceptedMicro.toString()}`,
            seq: eb('seq', '+', 1),
            due: 1,
            status: 'due',
            next_attempt_at: now,
            dirty_since: eb.fn.coalesce('dirty_since', sql<number>`${now}`),
            consecutive_failures: 0,
            last_error: null,
            updated_at: now,
          })),
      )
        .where('pending_kind', 'is', null)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) return 'realigned' as const;
      const exists = await where(this.db.selectFrom('sync_push_state').select('id')).executeTakeFirst();
      return exists ? ('busy' as const) : ('missing' as const);
    });
  }
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/i.test(e.message ?? '');
}

const big = (v: string | null): bigint | null => (v === null ? null : BigInt(v));

function mappingToRow(m: MappingRecord): Database['sync_mappings'] {
  return {
    id: m.id,
    tenant_id: m.tenantId,
    metric: m.metric,
    aggregation: m.aggregation,
    meter_event_name: m.meterEventName,
    meter_id: m.meterId,
    value_key: m.valueKey,
    customer_key: m.customerKey,
    shadow_enabled: m.shadowEnabled ? 1 : 0,
    shadow_event_name: m.shadowEventName,
    shadow_meter_id: m.shadowMeterId,
    enabled: m.enabled ? 1 : 0,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

function rowToMapping(r: Selectable<Database['sync_mappings']>): MappingRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    metric: r.metric,
    aggregation: r.aggregation as MappingRecord['aggregation'],
    meterEventName: r.meter_event_name,
    meterId: r.meter_id,
    valueKey: r.value_key,
    customerKey: r.customer_key,
    shadowEnabled: Number(r.shadow_enabled) === 1,
    shadowEventName: r.shadow_event_name,
    shadowMeterId: r.shadow_meter_id,
    enabled: Number(r.enabled) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function stateToRow(s: PushStateRecord): Database['sync_push_state'] {
  return {
    id: s.id,
    tenant_id: s.tenantId,
    mapping_id: s.mappingId,
    mode: s.mode,
    event_name: s.eventName,
    customer_ref: s.customerRef,
    period_start: s.periodStart,
    stripe_customer_id: s.stripeCustomerId,
    period_end: s.periodEnd,
    target_micro: s.targetMicro === null ? null : s.targetMicro.toString(),
    accepted_micro: s.acceptedMicro === null ? null : s.acceptedMicro.toString(),
    seq: s.seq,
    pending_kind: s.pending?.kind ?? null,
    pending_identifier: s.pending?.identifier ?? null,
    pending_value_micro: s.pending ? s.pending.valueMicro.toString() : null,
    pending_total_micro: s.pending ? s.pending.totalMicro.toString() : null,
    pending_ts: s.pending?.ts ?? null,
    pending_since: s.pending?.since ?? null,
    pending_uncertain: s.pending?.uncertain ? 1 : 0,
    status: s.status,
    due: s.due ? 1 : 0,
    next_attempt_at: s.nextAttemptAt,
    claim_token: s.claimToken,
    claimed_until: s.claimedUntil,
    dirty_since: s.dirtySince,
    last_pushed_at: s.lastPushedAt,
    last_error: s.lastError,
    consecutive_failures: s.consecutiveFailures,
    attempts: s.attempts,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

type StateRow = Omit<Selectable<Database['sync_push_state']>, 'target_micro' | 'accepted_micro' | 'pending_value_micro' | 'pending_total_micro'> & {
  target_micro: string | null;
  accepted_micro: string | null;
  pending_value_micro: string | null;
  pending_total_micro: string | null;
};

function rowToState(r: StateRow): PushStateRecord {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    tenantId: r.tenant_id,
    mappingId: r.mapping_id,
    mode: r.mode as SyncMode,
    eventName: r.event_name,
    customerRef: r.customer_ref,
    periodStart: Number(r.period_start),
    stripeCustomerId: r.stripe_customer_id,
    periodEnd: Number(r.period_end),
    targetMicro: big(r.target_micro),
    acceptedMicro: big(r.accepted_micro),
    seq: Number(r.seq),
    pending:
      r.pending_kind === null
        ? null
        : {
            kind: r.pending_kind as PendingOp['kind'],
            identifier: r.pending_identifier!,
            valueMicro: BigInt(r.pending_value_micro!),
            totalMicro: BigInt(r.pending_total_micro!),
            ts: Number(r.pending_ts),
            since: Number(r.pending_since),
            uncertain: Number(r.pending_uncertain) === 1,
          },
    status: r.status as PushStatus,
    due: Number(r.due) === 1,
    nextAttemptAt: Number(r.next_attempt_at),
    claimToken: r.claim_token,
    claimedUntil: num(r.claimed_until),
    dirtySince: num(r.dirty_since),
    lastPushedAt: num(r.last_pushed_at),
    lastError: r.last_error,
    consecutiveFailures: Number(r.consecutive_failures),
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function journalToRow(j: JournalEvent): Database['sync_push_events'] {
  return {
    tenant_id: j.tenantId,
    mode: j.mode,
    identifier: j.identifier,
    state_id: j.stateId,
    mapping_id: j.mappingId,
    customer_ref: j.customerRef,
    period_start: j.periodStart,
    event_name: j.eventName,
    stripe_customer_id: j.stripeCustomerId,
    value_micro: j.valueMicro.toString(),
    total_micro: j.totalMicro.toString(),
    ts: j.ts,
    first_sent_at: j.firstSentAt,
    accepted_at: j.acceptedAt,
    cancelled_at: j.cancelledAt,
    cancel_refused_at: j.cancelRefusedAt,
  };
}

type JournalRow = Omit<Selectable<Database['sync_push_events']>, 'value_micro' | 'total_micro'> & { value_micro: string | null; total_micro: string | null };

function rowToJournal(r: JournalRow): JournalEvent {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    tenantId: r.tenant_id,
    mode: r.mode as SyncMode,
    identifier: r.identifier,
    stateId: r.state_id,
    mappingId: r.mapping_id,
    customerRef: r.customer_ref,
    periodStart: Number(r.period_start),
    eventName: r.event_name,
    stripeCustomerId: r.stripe_customer_id,
    valueMicro: BigInt(r.value_micro ?? '0'),
    totalMicro: BigInt(r.total_micro ?? '0'),
    ts: Number(r.ts),
    firstSentAt: Number(r.first_sent_at),
    acceptedAt: num(r.accepted_at),
    cancelledAt: num(r.cancelled_at),
    cancelRefusedAt: num(r.cancel_refused_at),
  };
}
