import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { CounterRecord } from '../store/metering-store.js';
import type { JournalEvent, MappingRecord, PendingOp, PushStateRecord, StatePatch, SyncMode } from '../store/sync-store.js';
import { formatMicro } from '../metering/quantity.js';
import { AccountBackoff, itemBackoffMs, runPool } from './account-backoff.js';
import type { CycleReport } from './cycle-report.js';
import { pushIdentifier } from './push-identifier.js';
import { CANCEL_WINDOW_MS, planNextOp, pushTarget } from './push-plan.js';
import type { CallOutcome, OutgoingEvent, StripeMeterGateway } from './stripe-meter-gateway.js';
import type { SyncMetrics } from './sync-metrics.js';

/** Operations one item may take in a cycle (cancels, then the remainder): bounded, the rest waits a cycle. */
const MAX_ROUNDS = 4;
/** Stripe's limit per meter event stream request. */
const STREAM_BATCH = 100;

export interface PushContext {
  store: Store;
  gateway: StripeMeterGateway;
  clock: Clock;
  logger: Logger;
  metrics: SyncMetrics;
  backoff: AccountBackoff;
  transport: 'v1' | 'v2';
  concurrency: number;
  stopping: () => boolean;
}

interface WorkItem {
  state: PushStateRecord;
  mapping: MappingRecord;
  /** The counter value read when planning (full precision), stored as the state's target when done. */
  raw: bigint | null;
  attempts: number;
  finished: boolean;
}

interface Step {
  item: WorkItem;
  op: PendingOp;
  succeeded: boolean;
}

/**
 * One Stripe account's (tenant × mode) claimed items for one cycle. Each round plans at most one
 * operation per item, records it as the item's pending intent, sends them (v1: one request each,
 * `concurrency` at a time; v2: streams of ≤ 100), then settles what Stripe accepted. An item's
 * operations never overlap (Stripe allows one concurrent call per customer and meter).
 */
export class AccountPush {
  private readonly account: string;
  /** Stripe calls made and operations Stripe accepted, for the call statistics. */
  calls = 0;
  operations = 0;

  constructor(
    private readonly ctx: PushContext,
    private readonly tenantId: string,
    private readonly mode: SyncMode,
    private readonly apiKey: string,
    private readonly token: string,
    private readonly report: CycleReport,
  ) {
    this.account = `${tenantId}|${mode}`;
  }

  async run(states: PushStateRecord[], mappings: Map<string, MappingRecord>): Promise<void> {
    const items: WorkItem[] = [];
    for (const state of states) {
      const mapping = mappings.get(state.mappingId);
      // The mapping was disabled since the state became due: leave what Stripe holds alone.
      if (!mapping) await this.ctx.store.sync.updateClaimed(state.id, this.token, { due: false, releaseClaim: true }, this.ctx.clock.now());
      else items.push({ state, mapping, raw: state.targetMicro, attempts: 0, finished: false });
    }
    let active = items;
    for (let round = 0; round < MAX_ROUNDS && active.length > 0 && !this.ctx.stopping(); round++) {
      const steps: Step[] = [];
      for (const item of active) {
        const op = await this.prepare(item);
        if (op) steps.push({ item, op, succeeded: false });
      }
      if (steps.length === 0) break;
      await this.send(steps);
      active = steps.filter((s) => s.succeeded && !s.item.finished).map((s) => s.item);
    }
    // Out of rounds (or stopping): still due, for the next cycle; a pending intent stays for whoever comes next.
    for (const item of items) if (!item.finished) await this.finish(item, { due: true, nextAttemptAt: this.ctx.clock.now() + 1 });
  }

  /** The operation to send for this item now, or null when it is done for this cycle. */
  private async prepare(item: WorkItem): Promise<PendingOp | null> {
    const { state, mapping } = item;
    const now = this.ctx.clock.now();
    if (state.pending) {
      // Stripe dedupes identifiers for 24 h: later, a resend of an event it may hold could count twice.
      if (state.pending.kind === 'event' && now - state.pending.since > CANCEL_WINDOW_MS) {
        if (state.pending.uncertain) {
          await this.needsReview(item, `event ${state.pending.identifier} was sent ${new Date(state.pending.since).toISOString()} without a definite answer; Stripe's 24 h duplicate window has passed, so it is not resent: check the meter's event summary, then re-enable by correcting the state`);
          return null;
        }
        await this.ctx.store.sync.dropPending(this.tenantId, state.id, 'event', state.pending.identifier, now);
        state.pending = null;
      } else {
        return state.pending;
      }
    }

    const [counter] = await this.ctx.store.metering.getCounters(this.tenantId, { customerRef: state.customerRef, periodStart: state.periodStart, metric: mapping.metric });
    item.raw = counterValue(mapping, counter);
    let cancellable: { identifier: string; valueMicro: bigint }[] = [];
    const target = pushTarget(mapping.aggregation, item.raw, state.acceptedMicro);
    if (mapping.aggregation === 'sum' && target !== null && target < (state.acceptedMicro ?? 0n)) {
      const recent = await this.ctx.store.sync.recentEvents(this.tenantId, state.id, now - CANCEL_WINDOW_MS);
      cancellable = recent.filter((e) => e.cancelRefusedAt === null).map((e) => ({ identifier: e.identifier, valueMicro: e.valueMicro }));
    }
    const plan = planNextOp({
      aggregation: mapping.aggregation,
      counterMicro: item.raw,
      acceptedMicro: state.acceptedMicro,
      cancellable,
      periodStart: state.periodStart,
      periodEnd: state.periodEnd,
      now,
    });
    switch (plan.kind) {
      case 'done':
        await this.finish(item, { status: 'ok', due: false, targetMicro: item.raw, dirtySince: null, lastError: null, consecutiveFailures: 0 });
        return null;
      case 'too_old':
        if (state.status !== 'too_old') this.ctx.logger.warn({ tenantId: this.tenantId, mappingId: mapping.id, mode: this.mode, customerRef: state.customerRef, periodStart: new Date(state.periodStart).toISOString() }, `usage change not pushed: ${plan.reason}`);
        this.ctx.metrics.failures.inc({ mode: this.mode, reason: 'too_old' });
        this.report.tooOld.push(this.problem(state, 'too_old', plan.reason));
        await this.finish(item, { status: 'too_old', due: false, targetMicro: item.raw, lastError: plan.reason });
        return null;
      case 'not_yet':
        await this.finish(item, { status: 'not_yet', due: true, nextAttemptAt: plan.at });
        return null;
    }
    const op: PendingOp = {
      kind: plan.kind,
      identifier: plan.kind === 'event' ? pushIdentifier(state, state.seq, plan.totalMicro) : plan.identifier,
      valueMicro: plan.valueMicro,
      totalMicro: plan.totalMicro,
      ts: plan.kind === 'event' ? plan.ts : 0,
      since: now,
      uncertain: false,
    };
    const journal: JournalEvent | null =
      op.kind === 'event'
        ? { ...state, stateId: state.id, identifier: op.identifier, valueMicro: op.valueMicro, totalMicro: op.totalMicro, ts: op.ts, firstSentAt: now, acceptedAt: null, cancelledAt: null, cancelRefusedAt: null }
        : null;
    if (!(await this.ctx.store.sync.beginOp(state.id, this.token, state.seq, op, journal, now))) {
      // The claim expired and another replica holds the state now: it carries on from the database.
      item.finished = true;
      return null;
    }
    state.pending = op;
    return op;
  }

  private async send(steps: Step[]): Promise<void> {
    /** Not now: the account is backing off, or the replica is stopping (the recorded intent waits for the next claim). */
    const deferIfBlocked = async (step: Step): Promise<boolean> => {
      const now = this.ctx.clock.now();
      const until = this.ctx.stopping() ? now : this.ctx.backoff.blockedUntil(this.account, now);
      if (until === undefined) return false;
      this.report.deferred += 1;
      await this.finish(step.item, { due: true, nextAttemptAt: until });
      return true;
    };
    const events = steps.filter((s) => s.op.kind === 'event');
    const cancels = steps.filter((s) => s.op.kind === 'cancel');
    const one = async (step: Step) => {
      if (await deferIfBlocked(step)) return;
      const outcome =
        step.op.kind === 'event'
          ? await this.ctx.gateway.sendEvent(this.apiKey, this.outgoing(step))
          : await this.ctx.gateway.cancelEvent(this.apiKey, step.item.state.eventName, step.op.identifier);
      await this.apply(step, outcome);
    };
    if (this.ctx.transport === 'v2') {
      const batches: Step[][] = [];
      for (let i = 0; i < events.length; i += STREAM_BATCH) batches.push(events.slice(i, i + STREAM_BATCH));
      await runPool(batches, this.ctx.concurrency, async (batch) => {
        if ((await Promise.all(batch.map(deferIfBlocked))).some(Boolean)) return;
        const outcome = await this.ctx.gateway.sendStream(this.apiKey, batch.map((s) => this.outgoing(s)));
        for (const [i, step] of batch.entries()) await this.apply(step, i === 0 ? outcome : { ...outcome, calls: 0 });
      });
      await runPool(cancels, this.ctx.concurrency, one);
    } else {
      await runPool([...cancels, ...events], this.ctx.concurrency, one);
    }
  }

  private outgoing(step: Step): OutgoingEvent {
    const { state, mapping } = step.item;
    return {
      eventName: state.eventName,
      identifier: step.op.identifier,
      customerKey: mapping.customerKey,
      stripeCustomerId: state.stripeCustomerId,
      valueKey: mapping.valueKey,
      value: step.op.valueMicro / 1_000_000n,
      ts: step.op.ts,
    };
  }

  private async apply(step: Step, outcome: CallOutcome): Promise<void> {
    const { item, op } = step;
    const { state } = item;
    const now = this.ctx.clock.now();
    this.report.calls[this.mode] += outcome.calls;
    this.calls += outcome.calls;
    item.attempts += 1;
    if (outcome.ok) {
      this.ctx.backoff.succeeded(this.account);
      this.ctx.metrics.operations.inc({ mode: this.mode, kind: op.kind, outcome: outcome.duplicate ? 'duplicate' : 'accepted' });
      if (!(await this.ctx.store.sync.settleOp(this.tenantId, state.id, op.kind, op.identifier, now))) {
        item.finished = true; // settled by someone else meanwhile
        return;
      }
      this.operations += 1;
      state.acceptedMicro = op.totalMicro;
      state.seq += 1;
      state.pending = null;
      step.succeeded = true;
      this.report.pushed.push({
        mappingId: state.mappingId,
        mode: this.mode,
        customerRef: state.customerRef,
        stripeCustomerId: state.stripeCustomerId,
        eventName: state.eventName,
        periodStart: new Date(state.periodStart).toISOString(),
        kind: op.kind,
        identifier: op.identifier,
        value: formatMicro(op.valueMicro),
        total: formatMicro(op.totalMicro),
        duplicate: outcome.duplicate,
      });
      return;
    }
    const failure = outcome.failure;
    this.ctx.metrics.operations.inc({ mode: this.mode, kind: op.kind, outcome: 'failed' });
    if (failure.kind === 'cancel_refused') {
      // An earlier attempt may have cancelled it already (then Stripe refuses the repeat as unknown).
      if (op.uncertain) {
        await this.needsReview(item, `Stripe refused to cancel ${op.identifier} (${failure.message}) after an earlier attempt ended without an answer: it may already be cancelled`);
        return;
      }
      // Outside Stripe's cancel window after all: plan again without it (a negative event next).
      await this.ctx.store.sync.dropPending(this.tenantId, state.id, 'cancel', op.identifier, now);
      state.pending = null;
      step.succeeded = true;
      return;
    }
    this.ctx.metrics.failures.inc({ mode: this.mode, reason: failure.kind });
    const pausedUntil = this.ctx.backoff.failed(this.account, failure, now);
    const uncertain = op.uncertain || failure.uncertain;
    if (failure.kind === 'rejected') {
      if (op.kind === 'event' && uncertain) {
        await this.needsReview(item, `Stripe refused event ${op.identifier} (${failure.message}) after an earlier attempt ended without an answer: it may or may not hold it`);
        return;
      }
      await this.ctx.store.sync.dropPending(this.tenantId, state.id, op.kind, op.identifier, now);
    } else if (failure.uncertain) {
      op.uncertain = true;
    }
    const nextAttemptAt = Math.max(pausedUntil ?? 0, failure.retryAfterMs !== undefined ? now + failure.retryAfterMs : 0, now + itemBackoffMs(state.consecutiveFailures + 1));
    this.report.failures.push(this.problem(state, failure.kind, failure.message));
    await this.finish(item, { status: 'failing', due: true, nextAttemptAt, lastError: failure.message, consecutiveFailures: 'increment', pendingUncertain: failure.uncertain });
  }

  private async needsReview(item: WorkItem, reason: string): Promise<void> {
    this.ctx.logger.error({ tenantId: this.tenantId, mappingId: item.mapping.id, mode: this.mode, customerRef: item.state.customerRef }, reason);
    this.ctx.metrics.failures.inc({ mode: this.mode, reason: 'needs_review' });
    this.report.failures.push(this.problem(item.state, 'needs_review', reason));
    await this.finish(item, { status: 'needs_review', due: false, lastError: reason, consecutiveFailures: 'increment' });
  }

  private async finish(item: WorkItem, patch: StatePatch): Promise<void> {
    item.finished = true;
    await this.ctx.store.sync.updateClaimed(item.state.id, this.token, { ...patch, attemptsAdd: item.attempts, releaseClaim: true }, this.ctx.clock.now());
    item.attempts = 0;
  }

  private problem(state: PushStateRecord, kind: string, error: string) {
    return { mappingId: state.mappingId, mode: this.mode, customerRef: state.customerRef, periodStart: new Date(state.periodStart).toISOString(), kind, error };
  }
}

function counterValue(mapping: MappingRecord, counter: CounterRecord | undefined): bigint | null {
  if (!counter) return null;
  if (mapping.aggregation === 'sum') return counter.sumMicro;
  return mapping.aggregation === 'max' ? counter.maxMicro : counter.lastMicro;
}
