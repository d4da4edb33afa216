import type { Clock } from '../shared/clock.js';
import { decodeCreatedAtCursor, encodeCreatedAtCursor } from '../shared/created-at-cursor.js';
import { listPage } from '../shared/list-page.js';
import type { IdGenerator } from '../shared/ids.js';
import type { AdjustmentKind, AdjustmentRecord, AdjustmentStatus, MeteringStore } from '../store/metering-store.js';
import { parseEventTime } from './event-time.js';
import { LedgerCounterFold } from './fold-ledger.js';
import { CustomerRef, Metric } from './ingest-schemas.js';
import { adjustmentNotFound, adjustmentNotPending, adjustmentNotRevertable, invalidMeteringInput } from './metering-errors.js';
import type { PeriodResolver } from './period-resolver.js';
import { quantityToMicro } from './quantity.js';
import { toAdjustmentView, type AdjustmentView } from './usage-views.js';

export interface ManualAdjustmentInput {
  metric: string;
  customerRef: string;
  /** Signed quantity (JSON number, ≤ 6 decimals). */
  delta: unknown;
  /** Any instant inside the period to adjust; default now. */
  ts?: unknown;
  reason: string;
}

export interface AdjustmentFilters {
  status?: string | undefined;
  kind?: string | undefined;
  metric?: string | undefined;
  customerRef?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const STATUSES: AdjustmentStatus[] = ['pending', 'approved', 'rejected'];
const KINDS: AdjustmentKind[] = ['late_event', 'manual', 'revert'];
const METRIC = new RegExp(Metric.pattern!);
const CUSTOMER = new RegExp(CustomerRef.pattern!);

/**
 * Adjustments change a counter without touching the ledger: a late event's pending adjustment, a
 * manual correction (with a reason), or a revert. Approval applies exactly once; a revert is a new,
 * approved, negative adjustment pointing at its parent. Every decision records who and when.
 */
export class AdjustmentService {
  constructor(
    private readonly store: MeteringStore,
    private readonly periods: PeriodResolver,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: string, input: ManualAdjustmentInput, actor: string): Promise<AdjustmentView> {
    const problems: string[] = [];
    if (!METRIC.test(input.metric) || input.metric.length > 100) problems.push('metric is not valid');
    if (!CUSTOMER.test(input.customerRef) || input.customerRef.length > 255) problems.push('customerRef is not valid');
    const delta = quantityToMicro(input.delta, { allowNegative: true, what: 'delta' });
    if (typeof delta !== 'bigint') problems.push(delta.problem);
    else if (delta === 0n) problems.push('delta must not be zero');
    const now = this.clock.now();
    let ts = now;
    if (input.ts !== undefined) {
      const parsed = parseEventTime(input.ts);
      if (typeof parsed === 'number') ts = parsed;
      else problems.push(parsed.problem);
    }
    const reason = input.reason.trim();
    if (reason.length === 0) problems.push('reason is required');
    if (problems.length > 0 || typeof delta !== 'bigint') throw invalidMeteringInput(problems);

    await this.periods.load(tenantId, [input.customerRef]);
    const period = this.periods.periodOf(tenantId, input.customerRef, ts);
    const record: AdjustmentRecord = {
      id: this.ids.next('adj'),
      tenantId,
      metric: input.metric,
      customerRef: input.customerRef,
      periodStart: period.start,
      periodEnd: period.end,
      kind: 'manual',
      status: 'pending',
      deltaMicro: delta,
      eventKey: null,
      eventTs: null,
      parentId: null,
      revertedBy: null,
      reason,
      createdAt: now,
      createdBy: actor,
      decidedAt: null,
      decidedBy: null,
      decisionReason: null,
    };
    await this.store.insertAdjustment(record);
    return toAdjustmentView(record);
  }

  async get(tenantId: string, id: string): Promise<AdjustmentView> {
    const a = await this.store.getAdjustment(tenantId, id);
    if (!a) throw adjustmentNotFound();
    return toAdjustmentView(a);
  }

  async list(tenantId: string, filters: AdjustmentFilters): Promise<{ data: AdjustmentView[]; nextCursor: string | null }> {
    const problems: string[] = [];
    const limit = filters.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) problems.push('limit must be 1 to 500');
    const statuses = filters.status?.split(',').map((s) => s.trim()) as AdjustmentStatus[] | undefined;
    if (statuses?.some((s) => !STATUSES.includes(s))) problems.push(`status must be among ${STATUSES.join(', ')}`);
    const kinds = filters.kind?.split(',').map((s) => s.trim()) as AdjustmentKind[] | undefined;
    if (kinds?.some((k) => !KINDS.includes(k))) problems.push(`kind must be among ${KINDS.join(', ')}`);
    const before = filters.cursor === undefined ? undefined : decodeCreatedAtCursor(filters.cursor);
    if (filters.cursor !== undefined && !before) problems.push('cursor is not valid');
    if (problems.length > 0) throw invalidMeteringInput(problems);
    const rows = await this.store.listAdjustments(tenantId, {
      ...(statuses ? { statuses } : {}),
      ...(kinds ? { kinds } : {}),
      ...(filters.metric !== undefined ? { metric: filters.metric } : {}),
      ...(filters.customerRef !== undefined ? { customerRef: filters.customerRef } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const { page, nextCursor } = listPage(rows, limit, encodeCreatedAtCursor);
    return { data: page.map(toAdjustmentView), nextCursor };
  }

  /** Applies a pending adjustment; approving an approved one again is a no-op (`applied: false`). */
  async approve(tenantId: string, id: string, actor: string): Promise<AdjustmentView & { applied: boolean }> {
    const result = await this.store.approveAdjustment(tenantId, id, actor, this.clock.now());
    if (!result) throw adjustmentNotFound();
    if (!result.applied && result.adjustment.status !== 'approved') throw adjustmentNotPending(result.adjustment.status);
    return { ...toAdjustmentView(result.adjustment), applied: result.applied };
  }

  async reject(tenantId: string, id: string, actor: string, reason: string | null): Promise<AdjustmentView> {
    const result = await this.store.rejectAdjustment(tenantId, id, actor, reason, this.clock.now());
    if (!result) throw adjustmentNotFound();
    if (!result.changed && result.adjustment.status !== 'rejected') throw adjustmentNotPending(result.adjustment.status);
    return toAdjustmentView(result.adjustment);
  }

  /** Cancels an approved adjustment with an approved negative child; returns the child. */
  async revert(tenantId: string, id: string, actor: string, reason: string): Promise<AdjustmentView> {
    const parent = await this.store.getAdjustment(tenantId, id);
    if (!parent) throw adjustmentNotFound();
    if (reason.trim().length === 0) throw invalidMeteringInput(['reason is required to revert']);
    const now = this.clock.now();
    const child: AdjustmentRecord = {
      id: this.ids.next('adj'),
      tenantId,
      metric: parent.metric,
      customerRef: parent.customerRef,
      periodStart: parent.periodStart,
      periodEnd: parent.periodEnd,
      kind: 'revert',
      status: 'approved',
      deltaMicro: -parent.deltaMicro,
      eventKey: null,
      eventTs: null,
      parentId: parent.id,
      revertedBy: null,
      reason: reason.trim(),
      createdAt: now,
      createdBy: actor,
      decidedAt: now,
      decidedBy: actor,
      decisionReason: null,
    };
    const result = await this.store.revertAdjustment(tenantId, id, child, () => new LedgerCounterFold(), now);
    if (!result) throw adjustmentNotFound();
    if (!result.revert) {
      const p = result.parent;
      if (p.kind === 'revert') throw adjustmentNotRevertable('A revert cannot be reverted');
      if (p.revertedBy !== null) throw adjustmentNotRevertable(`The adjustment was already reverted by ${p.revertedBy}`);
      throw adjustmentNotRevertable(`Only approved adjustments can be reverted; this one is ${p.status}`);
    }
    return toAdjustmentView(result.revert);
  }
}
