import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../ops/metrics.js';
import type { RequestLoad } from '../ops/request-load.js';
import { letWorkersSizeTheirHeaps } from '../ops/worker-heap-limits.js';
import { workerEntry } from '../ops/worker-entry.js';
import type { FeedPosition } from '../store/store.js';
import { WAL_CHECKPOINT_SETTINGS } from '../store/sqlite/wal-checkpointer.js';
import { releaseWriteTurnHeldBy, turnHolderOf } from '../store/sqlite/write-turn.js';
import type { DetectorWorkerData, FromWorker, ToWorker } from './detector-worker-protocol.js';

export interface DetectorThreadOptions {
  database: Config['database'];
  logLevel: Config['logLevel'];
  detectors: Config['detectors'];
  load: RequestLoad;
  metrics: Metrics;
  logger: Logger;
  /** SQLite: the main store's write turn (KyselyStore.writeTurn), joined by the worker's connection. */
  writeTurn?: SharedArrayBuffer | undefined;
  /** SQLite: the worker runs the WAL checkpoints (the store was opened with `hostedCheckpoints`). */
  hostCheckpoints?: boolean;
  /** Time between the worker's checkpoint ticks (WAL_CHECKPOINT_SETTINGS.intervalMs by default). */
  checkpointIntervalMs?: number;
  /**
   * Events per batch while requests are in flight. Each batch's aggregation is one write
   * transaction that the webhook writer thread waits behind (up to ~10 ms at 256), but a small batch
   * costs far more per event (bench/tools/detector-lock-hold.ts: ~500 µs at 32, ~120 at 256), and
   * under a burst that CPU is taken from intake. The request thread itself never waits on it.
   */
  loadedBatchSize?: number;
  /** Events per batch when idle: larger batches cost less CPU per event (see bench/tools/detector-lock-hold.ts). */
  idleBatchSize?: number;
  idlePollMs?: number;
  scheduleIntervalMs?: number;
  /** First restart delay after a crash; doubles per crash in a row, up to `maxRestartDelayMs`. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A heartbeat older than this makes the replica unready. */
  staleAfterMs?: number;
  /** Wall clock for the heartbeat (the worker beats with the system clock). */
  now?: () => number;
}

/**
 * The worker's V8 heap. The young generation is what a busy isolate keeps resident (its semi-spaces
 * fill between scavenges): 6 MB instead of the default ~16 MB keeps ~10 MB off the process RSS for a
 * few more, cheap scavenges. The old generation limit is a ceiling, not a size (V8 grows it with the
 * live data); it is generous so a large query does not kill the worker into a restart loop.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 6 };
/** A worker that ran this long before dying counts as healthy: the restart delay starts over. */
const HEALTHY_RUN_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * The request thread's handle on the detector worker thread (detector-worker.ts): starts it,
 * restarts it with backoff when it dies, bridges its counters into this thread's metrics, exposes
 * its heartbeat for readiness, and stops it gracefully (batch boundary, lease released, connection
 * closed) before the store closes. The in-flight request count is shared memory, not messages.
 *
 * Events: `ready` (a worker thread is up), `exit` (code), `schedule` (acquired), `processed` (events).
 */
export class DetectorThread extends EventEmitter {
  private worker: Worker | undefined;
  private readonly heartbeatBuffer = new SharedArrayBuffer(8);
  private readonly lastBeat = new BigInt64Array(this.heartbeatBuffer, 0, 1);
  private started = false;
  private stopping = false;
  private crashes = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextDrainId = 1;
  private readonly drains = new Map<number, { resolve: (p: FeedPosition) => void; reject: (e: Error) => void }>();
  private readonly now: () => number;
  private everReady = false;

  constructor(private readonly options: DetectorThreadOptions) {
    super();
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.spawn();
  }

  /** Resolves true once a worker thread has started (opened its store, beaten once), false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.everReady) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.once('ready', onReady);
    });
  }

  /** Has the worker process the feed up to what is stored now; resolves to the evaluate cursor. */
  drain(timeoutMs = 30_000): Promise<FeedPosition> {
    if (!this.started || this.stopping) return Promise.reject(new Error('the detector worker is not running'));
    const id = this.nextDrainId++;
    return new Promise<FeedPosition>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drains.delete(id);
        reject(new Error(`the detector worker did not drain within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.drains.delete(id);
        fn(value);
      };
      this.drains.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.send({ type: 'drain', id });
    });
  }

  settingsChanged(tenantId: string): void {
    this.send({ type: 'settings-changed', tenantId });
  }

  heartbeat(): { healthy: boolean; lastBeatAt: number | undefined } {
    const beat = Number(Atomics.load(this.lastBeat, 0));
    const lastBeatAt = beat === 0 ? undefined : beat;
    return { healthy: lastBeatAt !== undefined && this.now() - lastBeatAt <= (this.options.staleAfterMs ?? 30_000), lastBeatAt };
  }

  /** The running worker's thread id (as in its logs' `threadId`), undefined between restarts. */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Terminates the running thread as a crash would (operations, tests); it is restarted with backoff. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Graceful: the worker finishes its batch, releases the schedule lease and closes its connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    for (const { reject } of this.drains.values()) reject(new Error('the detector worker stopped'));
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.logger.warn('the detector worker did not stop in time; terminating it');
        void worker.terminate();
      }, STOP_TIMEOUT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
    });
  }

  private send(message: ToWorker): void {
    // Without a thread (restarting), drains are re-sent when the next one is ready.
    this.worker?.postMessage(message);
  }

  private spawn(): void {
    const { detectors } = this.options;
    const workerData: DetectorWorkerData = {
      database: this.options.database,
      logLevel: this.options.logLevel,
      liveHorizonMs: detectors.liveHorizonMs,
      resolveAfterMs: detectors.resolveAfterMs,
      suppressForMs: detectors.suppressForMs,
      budgetMs: detectors.budgetMs,
      threadNice: detectors.threadNice,
      loadedBatchSize: this.options.loadedBatchSize ?? 256,
      idleBatchSize: this.options.idleBatchSize ?? 256,
      idlePollMs: this.options.idlePollMs ?? 250,
      scheduleIntervalMs: this.options.scheduleIntervalMs ?? 60_000,
      load: this.options.load.buffer,
      heartbeat: this.heartbeatBuffer,
      ...(this.options.writeTurn ? { writeTurn: this.options.writeTurn } : {}),
      ...(this.options.hostCheckpoints ? { checkpoints: { ...WAL_CHECKPOINT_SETTINGS, intervalMs: this.options.checkpointIntervalMs ?? WAL_CHECKPOINT_SETTINGS.intervalMs } } : {}),
    };
    const entry = workerEntry(import.meta.url, 'detector-worker');
    letWorkersSizeTheirHeaps();
    const worker = new Worker(entry.script, { eval: entry.eval, workerData, name: 'meterwatch-detectors', resourceLimits: RESOURCE_LIMITS });
    // The HTTP server keeps the process alive; the worker alone must not.
    worker.unref();
    this.worker = worker;
    this.startedAt = this.now();
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => this.options.logger.error({ err: error }, 'detector worker failed'));
    const holder = turnHolderOf(worker.threadId);
    worker.on('exit', (code) => {
      // Dead inside a transaction or a RESTART: the write turn it held would keep every other
      // writer of the process waiting out its timeout, one after another, until a restart.
      if (this.options.writeTurn) releaseWriteTurnHeldBy(new Int32Array(this.options.writeTurn, 0, 2), holder);
      this.onExit(worker, code);
    });
  }

  private onMessage(message: FromWorker): void {
    const { metrics } = this.options;
    switch (message.type) {
      case 'ready':
        this.everReady = true;
        for (const id of this.drains.keys()) this.send({ type: 'drain', id });
        this.emit('ready');
        break;
      case 'processed':
        metrics.detectorEvents.inc(message.events);
        this.emit('processed', message.events);
        break;
      case 'drained':
        this.drains.get(message.id)?.resolve(message.position);
        break;
      case 'schedule':
        this.emit('schedule', message.acquired);
        break;
      case 'detector-error':
        metrics.detectorErrors.inc({ detector: message.detector });
        break;
      case 'store-error':
        metrics.storeErrors.inc({ operation: message.operation });
        break;
      case 'stopped':
        break;
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.emit('exit', code);
    if (this.stopping) return;
    this.crashes = this.now() - this.startedAt >= HEALTHY_RUN_MS ? 1 : this.crashes + 1;
    const delay = Math.min(this.options.maxRestartDelayMs ?? 30_000, (this.options.restartDelayMs ?? 1_000) * 2 ** (this.crashes - 1));
    this.options.metrics.detectorWorkerRestarts.inc();
    this.options.logger.error({ code, restartInMs: delay }, 'the detector worker exited; restarting it');
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawn();
    }, delay);
  }
}
