import type { Logger } from 'pino';
import type { FeedPosition } from '../store/store.js';
import type { FromWorker, ToWorker } from './detector-worker-protocol.js';

export interface RunnerPorts {
  /** One batch: a short one while requests are in flight (`loaded`), a longer, cheaper one when idle. */
  drainOneBatch(loaded: boolean): Promise<number>;
  runSchedule(): Promise<boolean>;
  /** Releases the schedule lease (DetectorEngine.stop). */
  releaseLease(): Promise<void>;
  evaluatedUpTo(): Promise<FeedPosition>;
  settingsChanged(tenantId: string): void;
  /** Requests in flight on the request thread right now. */
  busy(): boolean;
  beat(): void;
  post(message: FromWorker): void;
  logger: Logger;
}

export interface RunnerOptions {
  /** Work per 250 ms while requests are in flight (1–250). */
  budgetMs: number;
  idlePollMs: number;
  scheduleIntervalMs: number;
}

/** Even idle and behind, a slice ends this often, so the heartbeat and the metrics stay current. */
const MAX_SLICE_MS = 1_000;
/** Under load, work comes in slices this long at most, each followed by its share of rest. */
const LOADED_SLICE_MS = 25;
const PERIOD_MS = 250;

/**
 * The detector worker's loop: drain the feed in slices, run the schedule, answer drain requests.
 * On two cores the worker competes with the request thread for CPU and, on SQLite, for the one
 * write lock; so while requests are in flight it works `budgetMs` per 250 ms (short slices with rest
 * between them), and at full speed when none are. Stopping happens at a batch boundary.
 */
export class DetectorRunner {
  private stopping = false;
  private readonly pendingDrains: number[] = [];
  private wake: (() => void) | undefined;
  private readonly sliceMs: number;
  private readonly restMs: number;

  constructor(
    private readonly ports: RunnerPorts,
    private readonly options: RunnerOptions,
  ) {
    const budget = Math.min(Math.max(options.budgetMs, 1), PERIOD_MS);
    this.sliceMs = Math.min(budget, LOADED_SLICE_MS);
    this.restMs = (this.sliceMs * (PERIOD_MS - budget)) / budget;
  }

  handle(message: ToWorker): void {
    if (message.type === 'drain') this.pendingDrains.push(message.id);
    else if (message.type === 'stop') this.stopping = true;
    else if (message.type === 'settings-changed') this.ports.settingsChanged(message.tenantId);
    this.wake?.();
  }

  async run(): Promise<void> {
    let nextSchedule = 0;
    let failures = 0;
    while (!this.stopping) {
      this.ports.beat();
      try {
        if (Date.now() >= nextSchedule) {
          nextSchedule = Date.now() + this.options.scheduleIntervalMs;
          this.ports.post({ type: 'schedule', acquired: await this.ports.runSchedule() });
        }
        // Only requests that arrived before this slice began are answered by its reaching the end.
        const answering = this.pendingDrains.splice(0);
        const { processed, empty } = await this.slice();
        if (processed > 0) this.ports.post({ type: 'processed', events: processed });
        if (empty && answering.length > 0) {
          const position = await this.ports.evaluatedUpTo();
          for (const id of answering) this.ports.post({ type: 'drained', id, position });
        } else this.pendingDrains.unshift(...answering);
        failures = 0;
        if (empty) await this.rest(this.pendingDrains.length > 0 ? 0 : this.options.idlePollMs);
        else if (this.ports.busy() && this.restMs > 0) await this.rest(this.restMs);
      } catch (error) {
        // The store is down or a query failed: nothing moved past it (the cursors are durable), so
        // wait and try again rather than die; a real crash is the host's to restart.
        failures += 1;
        this.ports.logger.error({ err: error, failures }, 'detector worker step failed');
        await this.rest(Math.min(30_000, 500 * 2 ** failures));
      }
    }
    await this.ports.releaseLease().catch((error) => this.ports.logger.warn({ err: error }, 'could not release the detector schedule lease'));
  }

  private async slice(): Promise<{ processed: number; empty: boolean }> {
    const started = performance.now();
    let processed = 0;
    while (!this.stopping) {
      let n = await this.ports.drainOneBatch(this.ports.busy());
      // A step may return 0 without the feed being empty (it caught up an interrupted evaluation,
      // or another replica moved the cursor): one more look before calling the feed empty.
      if (n === 0) n = await this.ports.drainOneBatch(this.ports.busy());
      if (n === 0) return { processed, empty: true };
      processed += n;
      const elapsed = performance.now() - started;
      if (elapsed >= MAX_SLICE_MS || (elapsed >= this.sliceMs && this.ports.busy())) break;
    }
    return { processed, empty: false };
  }

  private rest(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}
