import { AppError } from '../shared/app-error.js';
import type { LedgerEventInput, LedgerWriteOutcome } from '../store/metering-store.js';

/** An outcome seen by one submitter: the store's, or one decided inside the commit group. */
export type BatchOutcome = LedgerWriteOutcome;

export interface BatcherOptions {
  /** Events per transaction; a request is never split, so a group may exceed it by one request. */
  maxGroupEvents: number;
  /** Concurrent group transactions (1 on SQLite: one writer; a few on PostgreSQL). */
  maxInFlight: number;
  /**
   * With a group already in flight, another starts only once this many events wait; fewer wait for
   * the group in flight and join the next one. A small group costs about as much as a large one
   * (the statements and the commit are per group), so small requests gain from larger groups, and
   * large ones from groups in parallel. Measured on PostgreSQL, 32 connections (docs/BENCHMARKS.md):
   * 1-event requests 3,298 → 3,963 events/s with one group in flight instead of four, 100-event
   * requests 32,173 → 22,826: hence a threshold rather than a smaller `maxInFlight`. Default 0.
   */
  parallelGroupMinEvents?: number;
  /** Events waiting beyond this are refused (429): memory stays bounded under overload. */
  maxQueuedEvents: number;
}

export interface BatcherObserver {
  groupCommitted(requests: number, events: number, seconds: number): void;
  queueDepth(events: number): void;
}

type Write = (events: LedgerEventInput[]) => Promise<LedgerWriteOutcome[]>;

interface Pending {
  events: LedgerEventInput[];
  resolve: (outcomes: BatchOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Requests arriving while a transaction runs wait in a queue; the next transaction
 * takes all of them (up to `maxGroupEvents`), so one durable write serves many small requests.
 * There is no timer: the flush runs on `setImmediate`, after the event loop has read every request
 * that arrived meanwhile. Each request gets its own outcomes, only after the commit.
 *
 * Keys repeated inside a group are written once; the other occurrences become duplicates (same
 * content) or conflicts. If a group's transaction fails, its requests are retried one by one, so
 * a single bad request cannot fail the others.
 */
export class IngestBatcher {
  private readonly queue: Pending[] = [];
  private queuedEvents = 0;
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: Write,
    private readonly options: BatcherOptions,
    private readonly observer?: BatcherObserver,
  ) {}

  submit(events: LedgerEventInput[]): Promise<BatchOutcome[]> {
    if (events.length === 0) return Promise.resolve([]);
    if (this.queuedEvents + events.length > this.options.maxQueuedEvents && this.queuedEvents > 0) {
      return Promise.reject(new AppError('rate_limited', 'The ingest queue is full; retry shortly', { retryAfterSeconds: 1 }));
    }
    return new Promise<BatchOutcome[]>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queuedEvents += events.length;
      this.observer?.queueDepth(this.queuedEvents);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      if (this.inFlight > 0 && this.queuedEvents < (this.options.parallelGroupMinEvents ?? 0)) return;
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (group.length === 0 || size + this.queue[0]!.events.length <= this.options.maxGroupEvents)) {
        const next = this.queue.shift()!;
        group.push(next);
        size += next.events.length;
      }
      this.queuedEvents -= size;
      this.observer?.queueDepth(this.queuedEvents);
      this.inFlight += 1;
      void this.commit(group, size).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  private async commit(group: Pending[], size: number): Promise<void> {
    const started = performance.now();
    try {
      const outcomes = await this.writeGroup(group.map((p) => p.events));
      this.observer?.groupCommitted(group.length, size, (performance.now() - started) / 1000);
      group.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // Isolate the failure: each request alone (the failed transaction wrote nothing).
      for (const p of group) {
        try {
          const [outcomes] = await this.writeGroup([p.events]);
          p.resolve(outcomes!);
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  /** Writes several requests' events as one batch; returns the outcomes per request. */
  private async writeGroup(requests: LedgerEventInput[][]): Promise<BatchOutcome[][]> {
    const unique: LedgerEventInput[] = [];
    const firstIndex = new Map<string, number>();
    /** Per request, per event: index into `unique` and whether it is the first occurrence. */
    const refs: { at: number; first: boolean }[][] = [];
    for (const events of requests) {
      const row: { at: number; first: boolean }[] = [];
      for (const e of events) {
        const id = `${e.tenantId}\u0000${e.idempotencyKey}`;
        const seen = firstIndex.get(id);
        if (seen === undefined) {
          firstIndex.set(id, unique.length);
          row.push({ at: unique.length, first: true });
          unique.push(e);
        } else row.push({ at: seen, first: false });
      }
      refs.push(row);
    }
    const written = await this.write(unique);
    return requests.map((events, r) =>
      events.map((e, i) => {
        const ref = refs[r]![i]!;
        const outcome = written[ref.at]!;
        if (ref.first) return outcome;
        // A repeat inside the group: compare with what is now stored under the key.
        const first = unique[ref.at]!;
        const storedHash = outcome.status === 'conflict' ? outcome.storedContentHash : first.contentHash;
        return storedHash === e.contentHash ? { status: 'duplicate' } : { status: 'conflict', storedContentHash: storedHash };
      }),
    );
  }
}
