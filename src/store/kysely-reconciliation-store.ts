import type { Kysely, Selectable } from 'kysely';
import type { Database } from './schema.js';
import type {
  CorrectionRecord,
  CorrectionStatus,
  ParityCheckRecord,
  ParityStatus,
  ReconcileResultRecord,
  ReconcileRunRecord,
  ReconciliationStore,
  ResultQuery,
} from './reconciliation-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

const num = (v: number | string | bigint): number => Number(v);
const numOrNull = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));
const big = (v: string): bigint => BigInt(v);
const bigOrNull = (v: string | null): bigint | null => (v === null ? null : BigInt(v));
/** Unambiguous whatever the refs hold (PostgreSQL text takes no NUL separator). */
const openKey = (mappingId: string, customerRef: string, periodStart: number) => JSON.stringify([mappingId, customerRef, periodStart]);

export class KyselyReconciliationStore implements ReconciliationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  insertRun(run: ReconcileRunRecord) {
    return this.guard('insertReconcileRun', async () => {
      await this.db
        .insertInto('reconciliation_runs')
        .values({
          id: run.id,
          tenant_id: run.tenantId,
          trigger: run.trigger,
          status: run.status,
          checked: run.checked,
          drifted: run.drifted,
          failed: run.failed,
          error: run.error,
          started_at: run.startedAt,
          finished_at: run.finishedAt,
        })
        .execute();
    });
  }

  finishRun(tenantId: string, id: string, patch: Pick<ReconcileRunRecord, 'status' | 'checked' | 'drifted' | 'failed' | 'error' | 'finishedAt'>) {
    return this.guard('finishReconcileRun', async () => {
      await this.db
        .updateTable('reconciliation_runs')
        .set({ status: patch.status, checked: patch.checked, drifted: patch.drifted, failed: patch.failed, error: patch.error, finished_at: patch.finishedAt })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    });
  }

  getRun(tenantId: string, id: string) {
    return this.guard('getReconcileRun', async () => {
      const row = await this.db.selectFrom('reconciliation_runs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToRun(row);
    });
  }

  listRuns(tenantId: string, limit: number) {
    return this.guard('listReconcileRuns', async () => {
      const rows = await this.db.selectFrom('reconciliation_runs').selectAll().where('tenant_id', '=', tenantId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(rowToRun);
    });
  }

  putResult(r: ReconcileResultRecord) {
    return this.guard('putReconcileResult', async () => {
      const values = {
        tenant_id: r.tenantId,
        mapping_id: r.mappingId,
        customer_ref: r.customerRef,
        period_start: r.periodStart,
        period_end: r.periodEnd,
        metric: r.metric,
        aggregation: r.aggregation,
        meter_id: r.meterId,
        stripe_customer_id: r.stripeCustomerId,
        local_micro: r.localMicro.toString(),
        stripe_micro: r.stripeMicro === null ? null : r.stripeMicro.toString(),
        drift_ppm: r.driftPpm,
        status: r.status,
        error: r.error,
        run_id: r.runId,
        checked_at: r.checkedAt,
      };
      const { tenant_id: _t, mapping_id: _m, customer_ref: _c, period_start: _p, ...changes } = values;
      await this.db
        .insertInto('reconciliation_results')
        .values(values)
        .onConflict((oc) => oc.columns(['tenant_id', 'mapping_id', 'customer_ref', 'period_start']).doUpdateSet(changes))
        .execute();
    });
  }

  listResults(tenantId: string, query: ResultQuery) {
    return this.guard('listReconcileResults', async () => {
      let q = this.db.selectFrom('reconciliation_results').selectAll().where('tenant_id', '=', tenantId);
      if (query.to !== undefined) q = q.where('period_start', '<', query.to);
      if (query.from !== undefined) q = q.where('period_end', '>', query.from);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.mappingId) q = q.where('mapping_id', '=', query.mappingId);
      if (query.customerRef) q = q.where('customer_ref', '=', query.customerRef);
      const after = query.after;
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('period_start', '<', after.periodStart),
            eb.and([eb('period_start', '=', after.periodStart), eb('mapping_id', '>', after.mappingId)]),
            eb.and([eb('period_start', '=', after.periodStart), eb('mapping_id', '=', after.mappingId), eb('customer_ref', '>', after.customerRef)]),
          ]),
        );
      }
      const rows = await q.orderBy('period_start', 'desc').orderBy('mapping_id').orderBy('customer_ref').limit(query.limit).execute();
      return rows.map(rowToResult);
    });
  }

  proposeCorrection(c: CorrectionRecord) {
    return this.guard('proposeCorrection', async () =>
      this.db.transaction().execute(async (trx) => {
        const key = openKey(c.mappingId, c.customerRef, c.periodStart);
        const inserted = await trx
          .insertInto('reconciliation_corrections')
          .values({
            id: c.id,
            tenant_id: c.tenantId,
            mapping_id: c.mappingId,
            customer_ref: c.customerRef,
            period_start: c.periodStart,
            period_end: c.periodEnd,
            stripe_customer_id: c.stripeCustomerId,
            local_micro: c.localMicro.toString(),
            stripe_micro: c.stripeMicro.toString(),
            delta_micro: c.deltaMicro.toString(),
            action: c.action,
            status: 'proposed',
            open_key: key,
            seen_runs: 1,
            created_at: c.createdAt,
            updated_at: c.updatedAt,
            decided_at: null,
            decided_by: null,
            decision_reason: null,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'open_key']).doUpdateSet((eb) => ({
              local_micro: c.localMicro.toString(),
              stripe_micro: c.stripeMicro.toString(),
              delta_micro: c.deltaMicro.toString(),
              action: c.action,
              stripe_customer_id: c.stripeCustomerId,
              seen_runs: eb('reconciliation_corrections.seen_runs', '+', 1),
              updated_at: c.updatedAt,
            })),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return { correction: rowToCorrection(inserted), created: inserted.id === c.id };
      }),
    );
  }

  resolveOpenCorrection(tenantId: string, mappingId: string, customerRef: string, periodStart: number, now: number) {
    return this.guard('resolveOpenCorrection', async () => {
      const result = await this.db
        .updateTable('reconciliation_corrections')
        .set({ status: 'resolved', open_key: null, decided_at: now, decided_by: 'system', decision_reason: 'a later reconciliation found no drift', updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('open_key', '=', openKey(mappingId, customerRef, periodStart))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  getCorrection(tenantId: string, id: string) {
    return this.guard('getCorrection', async () => {
      const row = await this.db.selectFrom('reconciliation_corrections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && rowToCorrection(row);
    });
  }

  listCorrections(tenantId: string, query: { status?: CorrectionStatus; limit: number }) {
    return this.guard('listCorrections', async () => {
      let q = this.db.selectFrom('reconciliation_corrections').selectAll().where('tenant_id', '=', tenantId);
      if (query.status) q = q.where('status', '=', query.status);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(rowToCorrection);
    });
  }

  decideCorrection(tenantId: string, id: string, decision: { status: 'applied' | 'dismissed'; actor: string; reason: string | null; now: number }) {
    return this.guard('decideCorrection', async () => {
      const row = await this.db
        .updateTable('reconciliation_corrections')
        .set({ status: decision.status, open_key: null, decided_at: decision.now, decided_by: decision.actor, decision_reason: decision.reason, updated_at: decision.now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'proposed')
        .returningAll()
        .executeTakeFirst();
      return row && rowToCorrection(row);
    });
  }

  customerRefsForStripeCustomer(tenantId: string, stripeCustomerId: string) {
    return this.guard('customerRefsForStripeCustomer', async () => {
      const rows = await this.db
        .selectFrom('metering_customers')
        .select('customer_ref')
        .where('tenant_id', '=', tenantId)
        .where('stripe_customer_id', '=', stripeCustomerId)
        .orderBy('customer_ref')
        .limit(10)
        .execute();
      return rows.map((r) => r.customer_ref);
    });
  }

  putParityCheck(p: ParityCheckRecord) {
    return this.guard('putParityCheck', async () => {
      const values = {
        tenant_id: p.tenantId,
        invoice_id: p.invoiceId,
        line_id: p.lineId,
        event_id: p.eventId,
        customer_ref: p.customerRef,
        stripe_customer_id: p.stripeCustomerId,
        mapping_id: p.mappingId,
        metric: p.metric,
        price_id: p.priceId,
        period_start: p.periodStart,
        period_end: p.periodEnd,
        invoice_micro: p.invoiceMicro.toString(),
        local_micro: p.localMicro === null ? null : p.localMicro.toString(),
        drift_ppm: p.driftPpm,
        status: p.status,
        detail: p.detail,
        checked_at: p.checkedAt,
      };
      const { tenant_id: _t, invoice_id: _i, line_id: _l, ...changes } = values;
      await this.db
        .insertInto('invoice_parity_checks')
        .values(values)
        .onConflict((oc) => oc.columns(['tenant_id', 'invoice_id', 'line_id']).doUpdateSet(changes))
        .execute();
    });
  }

  listParityChecks(tenantId: string, query: { invoiceId?: string; status?: ParityStatus; limit: number }) {
    return this.guard('listParityChecks', async () => {
      let q = this.db.selectFrom('invoice_parity_checks').selectAll().where('tenant_id', '=', tenantId);
      if (query.invoiceId) q = q.where('invoice_id', '=', query.invoiceId);
      if (query.status) q = q.where('status', '=', query.status);
      const rows = await q.orderBy('checked_at', 'desc').orderBy('invoice_id').orderBy('line_id').limit(query.limit).execute();
      return rows.map(rowToParity);
    });
  }
}

function rowToRun(r: Selectable<Database['reconciliation_runs']>): ReconcileRunRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    trigger: r.trigger as ReconcileRunRecord['trigger'],
    status: r.status as ReconcileRunRecord['status'],
    checked: num(r.checked),
    drifted: num(r.drifted),
    failed: num(r.failed),
    error: r.error,
    startedAt: num(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function rowToResult(r: Selectable<Database['reconciliation_results']>): ReconcileResultRecord {
  return {
    tenantId: r.tenant_id,
    mappingId: r.mapping_id,
    customerRef: r.customer_ref,
    periodStart: num(r.period_start),
    periodEnd: num(r.period_end),
    metric: r.metric,
    aggregation: r.aggregation,
    meterId: r.meter_id,
    stripeCustomerId: r.stripe_customer_id,
    localMicro: big(r.local_micro),
    stripeMicro: bigOrNull(r.stripe_micro),
    driftPpm: numOrNull(r.drift_ppm),
    status: r.status as ReconcileResultRecord['status'],
    error: r.error,
    runId: r.run_id,
    checkedAt: num(r.checked_at),
  };
}

function rowToCorrection(r: Selectable<Database['reconciliation_corrections']>): CorrectionRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    mappingId: r.mapping_id,
    customerRef: r.customer_ref,
    periodStart: num(r.period_start),
    periodEnd: num(r.period_end),
    stripeCustomerId: r.stripe_customer_id,
    localMicro: big(r.local_micro),
    stripeMicro: big(r.stripe_micro),
    deltaMicro: big(r.delta_micro),
    action: r.action,
    status: r.status as CorrectionStatus,
    seenRuns: num(r.seen_runs),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    decidedAt: numOrNull(r.decided_at),
    decidedBy: r.decided_by,
    decisionReason: r.decision_reason,
  };
}

function rowToParity(r: Selectable<Database['invoice_parity_checks']>): ParityCheckRecord {
  return {
    tenantId: r.tenant_id,
    invoiceId: r.invoice_id,
    lineId: r.line_id,
    eventId: r.event_id,
    customerRef: r.customer_ref,
    stripeCustomerId: r.stripe_customer_id,
    mappingId: r.mapping_id,
    metric: r.metric,
    priceId: r.price_id,
    periodStart: num(r.period_start),
    periodEnd: num(r.period_end),
    invoiceMicro: big(r.invoice_micro),
    localMicro: bigOrNull(r.local_micro),
    driftPpm: numOrNull(r.drift_ppm),
    status: r.status as ParityStatus,
    detail: r.detail,
    checkedAt: num(r.checked_at),
  };
}
